"""Adversarial training: a real step trains on attacks crafted on the fly, the classifier
declares itself, round-trips, and a short run is more robust than plain training."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import assert_config_round_trip, assert_save_load_equal, weights_changed

from keras_aegan import protocol
from keras_aegan.evaluation import attacks
from keras_aegan.training import adversarial_training, fixed_steps, schedules
from keras_aegan.errors import UserError

SHAPE = (8, 8, 1)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(attack="fgsm", epsilon=0.2, **options):
    keras.utils.set_random_seed(0)
    model = adversarial_training.build_adversarial_classifier(SHAPE, num_classes=10, width=8, hidden=32,
                                                attack=attack, epsilon=epsilon, seed=0,
                                                **options)
    model.compile(learning_rate=1e-2)
    return model


def test_a_real_step_trains_on_crafted_attacks(digits_images):
    x, y = digits_images[0][:32], digits_images[1][:32]
    crafted = keras.ops.convert_to_numpy(build().craft(keras.ops.convert_to_tensor(x),
                                                       keras.ops.convert_to_tensor(y)))
    assert np.abs(crafted - x).max() <= 0.2 + 1e-6 and not np.allclose(crafted, x)
    assert crafted.min() >= 0 and crafted.max() <= 1
    after = {}
    for attack in ("fgsm", "none"):
        model = build(attack)
        before = [np.array(w) for w in model.network.trainable_weights]
        history = model.fit(x, y, batch_size=32, epochs=1, verbose=0).history
        after[attack] = [np.array(w) for w in model.network.trainable_weights]
        assert weights_changed(before, after[attack])
        assert np.isfinite(history["loss"][0]) and "adversarial_accuracy" in history
    # Same weights, same batch, same seed: only what the step trained on differs.
    assert not all(np.allclose(a, b) for a, b in zip(after["fgsm"], after["none"]))


def test_pgd_training_and_epsilon_warmup_craft_within_the_budget(digits_images):
    x = keras.ops.convert_to_tensor(digits_images[0][:16])
    y = keras.ops.convert_to_tensor(digits_images[1][:16])
    model = build("pgd", epsilon=0.3, steps=3)
    crafted = keras.ops.convert_to_numpy(model.craft(x, y))
    assert np.abs(crafted - digits_images[0][:16]).max() <= 0.3 + 1e-6
    warm = build(epsilon=0.3, epsilon_warmup=10)  # step 1 of 10: budget 0.03
    assert abs(float(warm.current_epsilon()) - 0.03) < 1e-6
    crafted = keras.ops.convert_to_numpy(warm.craft(x, y))
    assert np.abs(crafted - digits_images[0][:16]).max() <= 0.03 + 1e-6


@pytest.mark.slow
def test_short_adversarial_training_is_more_robust_than_plain(digits_source):
    x, y = digits_source.arrays("train")
    xt, yt = digits_source.arrays("test", limit=300)
    scores = {}
    for attack in ("none", "fgsm"):
        model, history, seconds = adversarial_training.train_adversarial_classifier(
            x, y, attack=attack, epsilon=0.15, epochs=12, batch_size=64, learning_rate=1e-2,
            width=8, hidden=32, seed=0, epsilon_warmup=60)
        assert seconds > 0 and len(history["loss"]) == 12
        scores[attack] = (attacks.robust_accuracy(model.network, xt, yt, epsilon=0.0),
                          attacks.robust_accuracy(model.network, xt, yt, epsilon=0.15,
                                                  steps=10, step_size=0.03))
    assert scores["none"][0] > 0.85 and scores["fgsm"][0] > 0.7, scores
    # The evaluation attack (PGD-10) is stronger than the training one (FGSM).
    assert scores["fgsm"][1] > scores["none"][1] + 0.1, scores


def test_training_says_how_far_it_is(digits_images, monkeypatch):
    # `train.py robust` is otherwise silent for minutes: every training step can report.
    monkeypatch.setattr(fixed_steps, "PROGRESS_SECONDS", 0.0)
    lines = []
    model, history, _ = adversarial_training.train_adversarial_classifier(
        digits_images[0][:64], digits_images[1][:64], epochs=2, batch_size=32, width=8,
        hidden=32, log=lines.append)
    assert len(history["loss"]) == 2 and int(model.optimizer.iterations) == 4
    assert len(lines) == 4
    assert lines[-1].startswith("  fgsm_trained_classifier: step 4 of 4 (100%), ")


def test_a_long_attack_says_how_far_it_is(digits_images, monkeypatch):
    # PGD-40 on 10,000 test images takes minutes: the evaluation reports as it goes.
    monkeypatch.setattr(attacks, "PROGRESS_SECONDS", 0.0)
    lines = []
    x, y = digits_images[0][:20], digits_images[1][:20]
    rows = attacks.robustness_rows(build().network, x, y, (0.1,), pgd_steps=2,
                                   pgd_step_size=0.05, log=lines.append)
    assert len(rows) == 1
    assert lines == ["  epsilon 0.1: clean " + f"{rows[0]['clean']:.4f}, FGSM "
                     f"{rows[0]['fgsm']:.4f}", "  PGD-2 at epsilon 0.1: 20/20 images",
                     f"  epsilon 0.1: PGD-2, step 0.05, 1 random start {rows[0]['pgd']:.4f}"]


def test_declares_itself_as_a_classifier_and_round_trips(digits_images, tmp_path):
    model = build()
    model.fit(digits_images[0][:32], digits_images[1][:32], batch_size=32, epochs=1,
              verbose=0)
    spec = protocol.describe(model)
    assert spec.family == "classifier" and spec.part_names == ("classifier",)
    assert spec.part("classifier").output.shape == (10,)
    assert spec.features == ("classifier", "features") and not spec.conditional
    logits = np.asarray(spec.part("classifier").fn(digits_images[0][:3]))
    assert logits.shape == (3, 10)
    assert protocol.feature_extractor(model, spec)(digits_images[0][:3]).shape == (3, 32)
    assert_config_round_trip(model)
    loaded = assert_save_load_equal(model, digits_images[0][:4], tmp_path / "robust.keras")
    assert loaded.optimizer.iterations.numpy() == 1
    assert (loaded.epsilon, loaded.attack) == (0.2, "fgsm")


def test_triangular_schedule_rises_to_the_peak_and_falls_to_zero():
    schedule = schedules.TriangularSchedule(0.01, 100)
    values = [float(schedule(step)) for step in (0, 19, 39, 69, 99)]
    assert values[0] < values[1] < values[2] == pytest.approx(0.01)
    assert values[3] == pytest.approx(0.005) and values[4] == pytest.approx(0.0)
    assert schedules.TriangularSchedule.from_config(schedule.get_config()).total_steps == 100


@pytest.mark.parametrize("options,message", [
    ({"epsilon": 1.5}, r"epsilon must be in \[0, 1\]"),
    ({"epsilon": -0.1}, r"epsilon must be in \[0, 1\]"),
    ({"attack": "cw"}, "attack must be one of fgsm, pgd, none"),
    ({"steps": 0}, "steps must be an integer >= 1"),
])
def test_bad_options_are_user_errors(options, message):
    with pytest.raises(UserError, match=message):
        build(**options)
    with pytest.raises(UserError, match="needs class labels"):
        adversarial_training.build_adversarial_classifier(SHAPE, num_classes=None)


@pytest.mark.ci
def test_a_fresh_process_loads_a_saved_classifier(digits_images, tmp_path):
    # runner.load_model in a process that never imported keras_aegan.training.adversarial_training (the CLI's
    # `robust` command writes these files; users load them later).
    model = build()
    model.fit(digits_images[0][:32], digits_images[1][:32], batch_size=32, epochs=1,
              verbose=0)
    path = tmp_path / "robust.keras"
    model.save(path)
    code = ("import sys; from keras_aegan.training import runner; "
            "m = runner.load_model(sys.argv[1]); print(type(m).__name__, m.attack)")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == ["AdversarialClassifier", "fgsm"]


def test_the_robustness_study_scores_every_model_and_rescores_a_reused_one(tmp_path, capsys):
    import json

    from keras_aegan import cli

    out = tmp_path / "robust"
    argv = ["robust", "--dataset", "digits", "--epochs", "1", "--warmup-epochs", "0",
            "--epsilon", "0.1", "--train-steps", "2", "--test-images", "60", "--eval-steps",
            "3", "--eval-step-size", "0.05", "--out", str(out)]
    assert cli.main([*argv, "--eval-epsilons", "0.1,0.2"]) == 0
    printed = capsys.readouterr().out
    # Training and scoring say how far they are; the table comes from the study's columns.
    assert "training robust (pgd at epsilon 0.1, 1 epochs of " in printed
    assert "  epsilon 0.2: PGD-3, step 0.05, 1 random start " in printed
    assert "| model | family | clean ↑ | FGSM 0.1 ↑ | PGD 0.1 ↑ | FGSM 0.2 ↑ | PGD 0.2 ↑ |" \
        in printed
    results = json.loads((out / "results.json").read_text())
    assert results["kind"] == "robust" and results["evaluation_at_least_as_strong"]
    rows = {r["model"]: r for r in results["rows"]}
    assert rows["robust"]["training_attack"] == "pgd"
    assert rows["baseline"]["training_attack"] == "none"
    for row in rows.values():
        assert row["status"] == "trained" and row["steps"] == 15  # 1438 images / 100 a step
        assert 0 <= row["pgd_0.2"] <= 1 and 0 < row["clean_se"] < 0.07  # 60 images
    assert (out / "models" / "robust-seed0" / "model.keras").exists()
    assert (out / "adversarial.png").exists() and "PGD 0.2" in (out / "report.md").read_text()
    # A rerun reuses both models and, asked for other epsilons, only rescores them.
    assert cli.main([*argv, "--eval-epsilons", "0.3"]) == 0
    again = {r["model"]: r for r in json.loads((out / "results.json").read_text())["rows"]}
    assert {r["status"] for r in again.values()} == {"reused"}
    assert again["robust"]["clean"] == rows["robust"]["clean"] and "pgd_0.3" in again["robust"]
    assert "PGD 0.3" in (out / "report.md").read_text()
