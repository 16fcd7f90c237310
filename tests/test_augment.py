"""Augmentation: the pipeline mixes the intended share of generated images with their
labels; the Classification Accuracy Score of real images is the real accuracy; and the
commands refuse bad input with one line and exit 2."""

import keras
import numpy as np
import pytest

from keras_aegan import cli
from keras_aegan.data import subsets
from keras_aegan.evaluation import cas
from keras_aegan.training import fixed_steps
from keras_aegan.errors import UserError


def _painted(labels, shape=(8, 8, 1)):
    """Flat images whose grey level says their label: `(label + 1) / 20`."""
    levels = (np.asarray(labels, "float32") + 1) / 20
    return np.broadcast_to(levels[:, None, None, None], (len(levels), *shape)).copy()


@pytest.mark.parametrize("share,batch", [(0.5, 32), (0.25, 20), (0.9, 10)])
def test_batches_hold_the_intended_share_of_generated_images_with_their_labels(
        digits_images, share, batch):
    x, y = digits_images
    labels = np.arange(300) % 10
    extra = _painted(labels)
    data = fixed_steps.mixed_dataset(x, y, extra, labels, share=share, batch_size=batch, seed=1)
    want = int(round(share * batch))
    for images, got in data.take(12).as_numpy_iterator():
        assert images.shape == (batch, 8, 8, 1) and got.shape == (batch,)
        flat = images.reshape(batch, -1)
        generated = np.ptp(flat, axis=1) == 0  # painted images are flat; digits are not
        assert generated.sum() == want
        # Each generated image carries the label it was drawn for.
        np.testing.assert_array_equal(np.round(flat[generated, 0] * 20 - 1), got[generated])
        # And each real image its own label.
        real_rows = {flat_row.tobytes(): label for flat_row, label in
                     zip(x.reshape(len(x), -1), y)}
        assert all(real_rows[row.tobytes()] == label
                   for row, label in zip(flat[~generated], got[~generated]))


def test_real_only_stream_and_bad_shares(digits_images):
    x, y = digits_images
    images, _ = next(fixed_steps.mixed_dataset(x, y, batch_size=16).as_numpy_iterator())
    assert images.shape[0] == 16
    with pytest.raises(UserError, match=r"share must be in \[0, 1\)"):
        fixed_steps.mixed_dataset(x, y, x, y, share=1.0)
    with pytest.raises(UserError, match="generated images and"):
        fixed_steps.mixed_dataset(x, y, x, y[:3], share=0.5)


def test_subsets_are_stratified_and_fractions_checked(digits_source):
    _, y = digits_source.arrays("train")
    index = subsets.labeled_subset(y, 0.1, seed=0)
    counts = np.bincount(y[index], minlength=10)
    assert abs(len(index) - 0.1 * len(y)) <= 10 and counts.min() >= 1
    assert not np.array_equal(index, subsets.labeled_subset(y, 0.1, seed=1))
    exact = subsets.per_class_subset(y, 10, seed=0)
    assert np.bincount(y[exact]).tolist() == [10] * 10
    for fraction in (0, -0.5, 1.5):
        with pytest.raises(UserError, match="fraction must be positive and at most 1"):
            subsets.labeled_subset(y, fraction)


def test_balanced_draws_ask_for_each_class_in_turn():
    asked = []

    def generate(z, labels):
        asked.append(np.asarray(labels))
        return _painted(labels)

    images, labels = cas.generate_balanced(generate, 4, 10, 25, batch_size=10)
    assert labels.tolist() == [i % 10 for i in range(25)]
    np.testing.assert_array_equal(np.concatenate(asked), labels)
    assert images.shape == (25, 8, 8, 1)


def test_cas_of_real_training_images_is_the_real_accuracy(digits_source):
    """A 'perfect generator' (real training images of the class asked for) scores close to
    the accuracy of the same classifier trained on real images; one that draws the wrong
    class scores far less."""
    x, y = digits_source.arrays("train")
    xt, yt = digits_source.arrays("test")
    rng = np.random.default_rng(0)
    by_class = {c: np.flatnonzero(y == c) for c in range(10)}

    def perfect(z, labels):
        return x[[rng.choice(by_class[int(c)]) for c in np.asarray(labels)]]

    images, labels = cas.generate_balanced(perfect, 4, 10, len(x), seed=0)
    steps = 150
    score = cas.classification_accuracy_score(images, labels, xt, yt, steps=steps, seed=0)
    real = cas.classification_accuracy_score(x, y, xt, yt, steps=steps, seed=0)
    assert real > 0.85
    assert abs(score - real) < 0.05, (score, real)
    wrong = cas.classification_accuracy_score(images, (labels + 1) % 10, xt, yt,
                                                  steps=50, seed=0)
    assert wrong < 0.2, wrong


def test_cas_classifier_kept_between_scores_starts_afresh_each_time(digits_source):
    """The score's classifier is reset, not rebuilt, between scores of the same shape: a
    score repeated after another one (which trained the kept network) is the same, and the
    other one's network does not carry over."""
    x, y = digits_source.arrays("train")
    xt, yt = digits_source.arrays("test")
    first = cas.classification_accuracy_score(x, y, xt, yt, steps=60, seed=0)
    cas.classification_accuracy_score(x, (y + 1) % 10, xt, yt, steps=60, seed=0)
    again = cas.classification_accuracy_score(x, y, xt, yt, steps=60, seed=0)
    assert first > 0.5
    assert again == first
    cas._LAST.clear()  # a study's warm-up (a step on blank images) changes nothing either,
    keras.utils.set_random_seed(123)  # whatever the global seed was before it
    cas.warm_up(x.shape[1:], 10, seed=0)
    assert cas.classification_accuracy_score(x, y, xt, yt, steps=60, seed=0) == first


def test_cas_needs_a_conditional_model_or_an_evaluator_to_label():
    from keras_aegan.registry import get_model_entry

    dcgan = get_model_entry("dcgan").builder((8, 8, 1), latent_dim=4, width=8)
    x = np.zeros((4, 8, 8, 1), "float32")
    with pytest.raises(UserError, match="unconditional: its samples have no class"):
        cas.cas_for_model(dcgan, x, np.zeros(4, "int32"))
    with pytest.raises(UserError, match="cannot draw a chosen class"):
        cas.conditional_samples(dcgan, 10)

    class Judge:  # labels every sample 3, as an evaluator would label them
        def predict_classes(self, images):
            return np.full(len(images), 3)

    xt = np.random.default_rng(0).random((20, 8, 8, 1)).astype("float32")
    scores = cas.cas_for_model(dcgan, xt, np.full(20, 3), label_by=Judge(), n=40,
                                   steps=5)
    assert set(scores) == {"cas_evaluator_labels"}  # marked as evaluator-labelled
    assert scores["cas_evaluator_labels"] == 1.0  # one class in, one class out


def test_conditional_model_samples_carry_their_classes():
    from keras_aegan.registry import get_model_entry

    keras.utils.set_random_seed(0)
    cgan = get_model_entry("cgan").builder((8, 8, 1), latent_dim=4, num_classes=10, width=8)
    images, labels = cas.conditional_samples(cgan, 30, seed=0)
    assert images.shape == (30, 8, 8, 1) and labels.tolist() == [i % 10 for i in range(30)]
    np.testing.assert_allclose(images[:3], keras.ops.convert_to_numpy(
        cgan.generate(np.random.default_rng(0).standard_normal((30, 4)).astype("float32")[:3],
                      labels[:3])), atol=1e-5)


@pytest.mark.parametrize("argv,message", [
    (["augment", "--fractions", "0"], "a labelled fraction must be in (0, 1], got 0"),
    (["augment", "--fractions", "0.01,1.5"], "a labelled fraction must be in (0, 1], got 1.5"),
    (["augment", "--fractions", "x"], "expected labelled fractions in (0, 1]"),
    (["augment", "--share", "1"], "expected a share in (0, 1)"),
    (["robust", "--epsilon", "1.5"], "expected an epsilon in [0, 1], got 1.5"),
    (["robust", "--epsilon", "-0.1"], "expected an epsilon in [0, 1], got -0.1"),
    (["robust", "--eval-epsilons", "0.1,2"], "expected an epsilon in [0, 1], got 2"),
])
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and message in err


@pytest.mark.parametrize("argv,message", [
    (["augment", "--generators", "dcgan"], "dcgan is an unconditional gan: augmentation needs "
                                           "a conditional generator"),
    (["augment", "--generators", "cgan,vae"], "vae is an unconditional autoencoder"),
    (["robust", "--train-attack", "fgsm", "--train-steps", "3"],
     "--train-steps is for --train-attack pgd"),
    (["robust", "--dataset", "sines"], "sines has no labels: a classifier needs them"),
    (["augment", "--dataset", "sines"], "sines has no labels: augmentation needs them"),
])
def test_bad_choices_exit_2_with_one_line(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and message in err


@pytest.mark.ci
def test_augment_command_runs_the_study_and_reuses_its_rows(tmp_path, capsys):
    import json

    out = tmp_path / "augment"
    argv = ["augment", "--dataset", "digits", "--fractions", "0.2", "--seeds", "0",
            "--generators", "cgan", "--classifier-steps", "5", "--generator-steps", "3",
            "--batch-size", "16", "--test-images", "100", "--out", str(out)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "| model | family | 20% ↑ | 20% + shifts ↑ | CAS 20% ↑ | train s |" in printed
    assert printed.strip().endswith("report.md")
    text = (out / "report.md").read_text()
    assert text.startswith("# Augmentation with generated images: augment\n")
    assert "| real | baseline |" in text and "| cgan | generator |" in text
    assert "- **CAS 20%** ↑: test accuracy of the classifier trained on the generator's " \
           "samples only." in text
    assert (out / "samples_cgan_0.2.png").exists() and (out / "report.html").exists()
    rows = {r["model"]: r for r in json.loads((out / "results.json").read_text())["rows"]}
    # Accuracies on 100 test images, each with its binomial standard error.
    for key in ("accuracy_0.2", "shifts_0.2"):
        for row in rows.values():
            assert 0.0 <= row[key] <= 1.0 and row[f"{key}_se"] == pytest.approx(
                (row[key] * (1 - row[key]) / 100) ** 0.5)
    assert "cas_0.2" in rows["cgan"] and "cas_0.2" not in rows["real"]
    assert rows["real"]["labels"] == {"0.2": rows["cgan"]["labels"]["0.2"]}
    # No model to keep, yet a rerun reuses both rows (their settings are the same).
    assert cli.main(argv) == 0
    again = json.loads((out / "results.json").read_text())["rows"]
    assert [r["status"] for r in again] == ["reused", "reused"]
    assert [r["accuracy_0.2"] for r in again] == [rows["real"]["accuracy_0.2"],
                                                  rows["cgan"]["accuracy_0.2"]]
