"""The classifier two-sample test: chance on real against real, near 1 against obvious
fakes, the same figure under the same seed, one-line errors on bad input; and the image
study's `two_sample` column, made only when the study asks."""

import math
import os

import numpy as np
import pytest

from keras_aegan.errors import UserError
from keras_aegan.evaluation import metrics
from keras_aegan.evaluation.two_sample import TwoSampleResult, two_sample_test
from keras_aegan.studies.image_columns import COLUMNS
from keras_aegan.studies.report import winners

# Images of each kind in the validity checks: 200 train the classifier, 200 are scored.
N = 400


@pytest.fixture(scope="module")
def digits28():
    """Real 28x28 digits (MNIST's bundled test release), shuffled: two disjoint sets of `N`
    and a third for the fakes."""
    from keras_aegan.data import open_source

    x, _ = open_source("mnist10k").arrays("train", limit=3 * N)
    x = x[np.random.default_rng(0).permutation(len(x))]
    return x[:N], x[N:2 * N], x[2 * N:]


@pytest.fixture(scope="module")
def real_vs_real(digits28):
    a, b, _ = digits28
    return two_sample_test(a, b, seed=0)


def test_real_against_real_is_chance(real_vs_real):
    result = real_vs_real
    assert isinstance(result, TwoSampleResult)
    assert result.n == N and result.held_out == N // 2 and result.steps > 0
    # Both held-out halves come from one distribution, so the classifier's calls are
    # independent of the truth: its accuracy is Binomial(400, 1/2) / 400, standard error
    # 0.025. Four standard errors (0.1) fail a correct test once in 15,000 runs.
    assert abs(result.accuracy - 0.5) < 0.1, result
    assert math.isclose(result.standard_error,
                        math.sqrt(result.accuracy * (1 - result.accuracy) / N), rel_tol=1e-9)
    assert math.isclose(result.accuracy, (result.spotted + result.real_passed) / 2)
    assert result.p_value > 1e-5  # four standard errors: p above 3e-5


def test_the_same_seed_gives_the_same_figure(digits28, real_vs_real):
    a, b, _ = digits28
    again = two_sample_test(a, b, seed=0)
    assert (again.accuracy, again.spotted) == (real_vs_real.accuracy, real_vs_real.spotted)


def _blurred(x):
    """A 3x3 box blur: the soft digits of an undertrained autoencoder."""
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    return np.mean([padded[:, i:i + x.shape[1], j:j + x.shape[2]]
                    for i in range(3) for j in range(3)], axis=0)


@pytest.mark.parametrize("fake", ["noise", "blurred", "constant"])
def test_obvious_fakes_are_spotted(digits28, fake):
    a, b, c = digits28
    fakes = {"noise": lambda: np.random.default_rng(1).random(c.shape, dtype="float32"),
             "blurred": lambda: _blurred(c),
             "constant": lambda: np.full_like(c, float(a.mean()))}[fake]()
    result = two_sample_test(fakes, b, seed=0)
    # Chance would be 0.5 +- 0.025; these differ from digits at a glance.
    assert result.accuracy >= 0.95 and result.spotted >= 0.9, result
    assert result.p_value < 1e-20


def test_the_larger_set_is_trimmed_to_the_smaller(digits28):
    a, b, _ = digits28
    result = two_sample_test(a[:60], b, seed=0, steps=5)
    assert (result.n, result.held_out, result.steps) == (60, 30, 5)


@pytest.mark.parametrize("samples,real,message", [
    (np.zeros((40, 8, 8, 1)), np.zeros((40, 8, 8, 3)), "cannot be compared"),
    (np.zeros((40, 8, 8)), np.zeros((40, 8, 8, 1)), r"samples must be a batch of images"),
    (np.zeros((15, 8, 8, 1)), np.zeros((40, 8, 8, 1)), "at least 10 images of each kind"),
    (np.full((40, 8, 8, 1), np.nan), np.zeros((40, 8, 8, 1)), "samples contain NaN"),
    (np.zeros((40, 8, 8, 1)), np.full((40, 8, 8, 1), 255.0), r"real images must be in \[0, 1\]"),
    ("images", np.zeros((40, 8, 8, 1)), "samples must be an array of images"),
])
def test_bad_input_is_one_line(samples, real, message):
    with pytest.raises(UserError, match=message) as error:
        two_sample_test(samples, real)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("option,message", [
    ({"held_out": 1.0}, "held_out must be"), ({"steps": 0}, "steps must be"),
    ({"seed": -1}, "seed must be")])
def test_bad_settings_are_one_line(option, message):
    x = np.zeros((40, 8, 8, 1))
    with pytest.raises(UserError, match=message):
        two_sample_test(x, x, **option)


def test_metrics_exports_it():
    assert metrics.two_sample_test is two_sample_test


# ------------------------------------------------------------------- the image study


@pytest.mark.ci
def test_image_study_makes_the_column_only_when_asked(tmp_path, digits_evaluator,
                                                      monkeypatch):
    # digits_evaluator: the test run's one digits evaluator, which the study then loads.
    from keras_aegan.studies import StudyConfig, run_study

    tests = []

    def counted(*args, **kwargs):
        tests.append(args[0].shape)
        return two_sample_test(*args, **kwargs)

    monkeypatch.setattr(metrics, "two_sample_test", counted)

    def study(**options):
        config = StudyConfig(dataset="digits", models=("pca",), eval_samples=100,
                             run_dir=str(tmp_path), name="two-sample", export=False,
                             task_options=options)
        return config, run_study(config, log=lambda _: None)

    config, asked = study(two_sample=True)
    # Two tests: the model's samples, and the floor (training images).
    assert len(tests) == 2
    row = asked["rows"][0]
    assert row["status"] == "trained" and 0 <= row["two_sample"] <= 1
    assert row["two_sample_se"] > 0 and row["scoring"]["two_sample"]["steps"] > 0
    report = open(os.path.join(config.path, "report.md")).read()
    assert "two-sample acc ↓" in report and "**two-sample acc** ↓: held-out" in report
    # The floor: training images against the same test images, beside the models (digits'
    # test images are a random fifth: chance, within four standard errors of 100 each).
    floor = asked["two_sample_floor"]
    assert floor["family"] == "reference" and abs(floor["two_sample"] - 0.5) < 0.2
    assert "| real (training images) | reference | — | — | " in report
    assert "real (training images)" not in "".join(winners(asked["summary"], COLUMNS))
    # Not asked (the default): no test at all. The row, scored with it, is rescored the
    # plain way once, which it then says (no `scoring`): a further plain rerun reuses it.
    _, plain = study()
    assert len(tests) == 2 and "two_sample_floor" not in plain
    assert plain["rows"][0]["status"] == "reused" and "scoring" not in plain["rows"][0]
    assert plain["rows"][0]["evaluate_seconds"] != row["evaluate_seconds"]


def test_image_study_option_must_be_true_or_false(tmp_path):
    from keras_aegan.studies import StudyConfig, run_study

    config = StudyConfig(dataset="digits", models=("pca",), run_dir=str(tmp_path),
                         export=False, task_options={"two_sample": "yes"})
    with pytest.raises(UserError, match="two_sample must be true or false"):
        run_study(config, log=lambda _: None)
