"""Long work says what it is doing: the training progress callback, the heartbeat of
evaluation and export, and the study's calibrated plan."""

import os
import re
import time

import keras
import numpy as np
import pytest

from keras_aegan.config import RunConfig
from keras_aegan.training import runner
from keras_aegan.training.progress import Progress, clock, heartbeat


def test_clock():
    assert clock(0) == "0:00"
    assert clock(75.4) == "1:15"
    assert clock(3600) == "60:00"
    assert clock(-3) == "0:00"


def test_heartbeat_speaks_while_the_block_runs_and_stops_after():
    lines = []
    with heartbeat(lines.append, "dcgan seed 0: evaluating", every_seconds=0.05):
        time.sleep(0.28)
    count = len(lines)
    time.sleep(0.15)  # silent once the block has ended
    assert len(lines) == count
    assert lines[0] == "dcgan seed 0: evaluating..."
    assert 4 <= count <= 7, lines
    assert all(re.fullmatch(r"dcgan seed 0: evaluating\.\.\. \(\d+ s\)", line)
               for line in lines[1:])


def test_heartbeat_disabled_is_silent_and_errors_pass_through():
    lines = []
    with heartbeat(lines.append, "nothing", enabled=False):
        pass
    assert lines == []
    try:
        with heartbeat(lines.append, "failing", every_seconds=10):
            raise ValueError("boom")
    except ValueError as e:
        assert str(e) == "boom"
    assert lines == ["failing..."]


def _tiny_fit(callback, epochs=2, steps=5):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((20, 3), "float32"), np.zeros((20, 1), "float32")
    model.fit(x, y, batch_size=4, epochs=epochs, steps_per_epoch=steps, verbose=0,
              callbacks=[callback])


def test_progress_counts_steps_towards_the_runs_total():
    lines = []
    _tiny_fit(Progress(lines.append, "m seed 0: training", every_seconds=0.0))
    # One line a step (no silence allowed here), out of the fit's 2 x 5 steps.
    assert len(lines) == 10
    assert lines[0].startswith("m seed 0: training: step 1 of 10 (10%), ")
    assert lines[-1].startswith("m seed 0: training: step 10 of 10 (100%), ")
    # Then the time left and the step's losses.
    assert re.search(r", 0:00 left, loss \d+\.\d{4}$", lines[-1]), lines[-1]


def test_progress_of_a_resumed_run_and_a_time_budget():
    from keras_aegan.training.callbacks import TimeBudget

    lines = []
    _tiny_fit(Progress(lines.append, "r", initial_step=90, total_steps=100,
                       every_seconds=0.0), epochs=1)
    assert lines[0].startswith("r: step 91 of 100 (91%)")
    lines = []
    budget = TimeBudget(600)
    _tiny_fit(Progress(lines.append, "b", budget=budget, total_steps=10**6,
                       every_seconds=0.0), epochs=1)
    # A time budget ends the run, not the step cap: the time left is the budget's.
    assert "of 1,000,000" not in lines[0] and "of its budget left" in lines[0]


def test_progress_is_quiet_between_its_lines():
    lines = []
    _tiny_fit(Progress(lines.append, "q", every_seconds=3600.0))
    assert lines == []


def test_calibrate_times_a_few_steps_and_writes_nothing(tmp_path):
    config = RunConfig(model="conv_ae", dataset="digits", epochs=3, run_dir=str(tmp_path))
    calibration = runner.calibrate(config, steps=4, warmup=2)
    # digits: 1,294 training images at the model's batch of 32 -> 41 steps an epoch.
    assert calibration.steps == 3 * 41 == runner.run_steps(config, config.open_data().info)
    assert 0 < calibration.step < 5
    assert calibration.seconds > (calibration.steps - 2) * calibration.step
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("model", ["conv_ae", "vae", "dcgan"])
def test_training_the_calibrated_model_ends_where_a_fresh_one_does(tmp_path, model):
    """The calibration's steps are undone: the run trains on from a fresh build's state
    (weights, optimizer slots and step, seed generators) to the same weights, bitwise."""
    def run(name, calibrate):
        config = RunConfig(model=model, dataset="digits", epochs=1, steps_per_epoch=6,
                           batch_size=16, deterministic=True, run_dir=str(tmp_path),
                           name=name, latent_dim=8)
        calibrated = runner.calibrate(config, steps=2, warmup=2) if calibrate else None
        result = runner.train(config, verbose=0, calibrated=calibrated)
        if calibrate:
            assert result.model is calibrated.model
        return result.model.get_weights()

    fresh, reused = run("fresh", False), run("reused", True)
    assert len(fresh) == len(reused)
    for a, b in zip(fresh, reused):
        np.testing.assert_array_equal(a, b)
