"""Runs survive: kill -9 mid-epoch then rerun gives the uninterrupted weights; a damaged
newest checkpoint falls back to the previous one; a folder holding another run is refused."""

import functools
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT

from keras_aegan.training.checkpoints import list_checkpoints
from keras_aegan.errors import UserError
from keras_aegan.training.runner import RunConfig, train


def final_state(run):
    path = list_checkpoints(os.path.join(run, "checkpoints"))[-1]
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def cli(run_dir, name, model="conv_ae", epochs=4):
    return [sys.executable, "train.py", "--model", model, "--epochs", str(epochs),
            "--checkpoint-every", "5", "--deterministic", "--seed", "1", "--batch-size", "32",
            "--run-dir", str(run_dir), "--name", name, "--quiet"]


# Three fresh TensorFlow processes, one killed mid-epoch (about half a minute on 2 cores):
# an end-to-end check, run by CI after the default suite (-m ci). Resuming in-process
# (bitwise, from a damaged checkpoint, refusing another run) is checked below.
@pytest.mark.ci
def test_sigkill_mid_epoch_then_rerun_matches_uninterrupted(tmp_path):
    # digits: 1,294 training images in batches of 32 -> 41 steps an epoch.
    subprocess.run(cli(tmp_path, "whole"), cwd=ROOT, check=True, capture_output=True,
                   timeout=600)
    proc = subprocess.Popen(cli(tmp_path, "killed"), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    target = tmp_path / "killed" / "checkpoints" / "ckpt-000000060.npz"  # mid epoch 2
    deadline = time.monotonic() + 300
    while not target.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL, "the run ended before it could be killed"
    steps_done = int(list_checkpoints(tmp_path / "killed" / "checkpoints")[-1][-13:-4])
    assert 0 < steps_done < 4 * 41 and steps_done % 41  # killed mid-epoch, mid-run
    result = subprocess.run(cli(tmp_path, "killed")[:-1], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"(step {steps_done} of 164)" in result.stdout
    whole, resumed = final_state(tmp_path / "whole"), final_state(tmp_path / "killed")
    assert int(whole["step"]) == int(resumed["step"]) == 164
    assert whole.keys() == resumed.keys()
    # The training seconds a checkpoint records are the wall clock's (the killed run's
    # are its two sessions'): > 0, and every other array bitwise.
    assert whole["seconds"] > 0 and resumed["seconds"] > 0
    for key in whole.keys() - {"seconds"}:  # weights, optimizer slots and step, seed states
        np.testing.assert_array_equal(whole[key], resumed[key], err_msg=key)


def test_truncated_newest_checkpoint_falls_back(tmp_path):
    config = RunConfig(epochs=1, steps_per_epoch=12, checkpoint_every=5, run_dir=str(tmp_path),
                       name="t", batch_size=16)
    train(config, verbose=0)
    newest = list_checkpoints(tmp_path / "t" / "checkpoints")
    assert [os.path.basename(p) for p in newest] == ["ckpt-000000010.npz",
                                                     "ckpt-000000012.npz"]
    with open(newest[-1], "r+b") as f:
        f.truncate(os.path.getsize(newest[-1]) // 2)
    messages = []
    longer = RunConfig(**{**config.__dict__, "epochs": 2})
    result = train(longer, verbose=1, log=messages.append)
    assert any("ckpt-000000012.npz is unreadable" in m and "falling back" in m
               for m in messages), messages
    assert any("resuming t from" in m and "ckpt-000000010.npz (step 10 of 24)" in m
               for m in messages), messages
    assert len(result.history["loss"]) == 2  # the rest of epoch 1, then epoch 2


def test_folder_of_another_run_is_refused(tmp_path):
    train(RunConfig(epochs=1, steps_per_epoch=2, run_dir=str(tmp_path), name="x"), verbose=0)
    before = (tmp_path / "x" / "config.json").read_text()
    with pytest.raises(UserError, match=r"holds a different run \(latent_dim: 16 -> 8\)"):
        train(RunConfig(epochs=1, steps_per_epoch=2, run_dir=str(tmp_path), name="x",
                        latent_dim=8), verbose=0)
    assert (tmp_path / "x" / "config.json").read_text() == before
    # --restart discards it on purpose.
    train(RunConfig(epochs=1, steps_per_epoch=2, run_dir=str(tmp_path), name="x",
                    latent_dim=8), verbose=0, restart=True)
    assert RunConfig.load(tmp_path / "x").latent_dim == 8


def test_folder_of_another_network_is_refused(tmp_path, monkeypatch):
    # The config is the same, the network is not: keras_aegan upgraded under the run
    # changed a builder's default (conv_ae's activation did, in stop 25).
    import dataclasses

    from keras_aegan import registry

    config = RunConfig(epochs=1, steps_per_epoch=2, run_dir=str(tmp_path), name="x")
    train(config, verbose=0)
    rows = json.loads((tmp_path / "x" / "architecture.json").read_text())
    machine = json.loads((tmp_path / "x" / "machine.json").read_text())
    assert machine["speed_index_gflops"] > 0 and machine["cores"] >= 1 and machine["cpu"]
    # Keras names swish by its other name, silu.
    assert {"silu"} == {r["config"]["activation"] for r in rows if r["class"] == "Activation"}
    longer = RunConfig(**{**config.__dict__, "epochs": 2})
    # The registry holds the builder function itself: an upgraded builder is a new entry.
    entry = registry.get_model_entry("conv_ae")
    monkeypatch.setitem(registry.MODELS, "conv_ae", dataclasses.replace(
        entry, builder=functools.partial(entry.builder, activation="relu")))
    with pytest.raises(UserError, match=r"x was trained with a different conv_ae network .*"
                                        r"layer conv_ae/0/1, Conv2D: activation 'silu' -> 'relu'\)"):
        train(longer, verbose=0)
    assert len(list_checkpoints(tmp_path / "x" / "checkpoints")) == 1  # untouched
    assert json.loads((tmp_path / "x" / "architecture.json").read_text()) == rows
    train(longer, verbose=0, restart=True)  # --restart discards it on purpose
    # The same network resumes, though its layers' generated names have counted on.
    messages = []
    train(RunConfig(**{**config.__dict__, "epochs": 3}), verbose=1, log=messages.append)
    assert any("resuming x from" in m for m in messages), messages


def test_checkpoints_key_arrays_by_variable_never_by_position(tmp_path):
    import keras

    from keras_aegan.training.checkpoints import CheckpointMismatch, restore_checkpoint, training_state
    from keras_aegan.registry import get_model_entry

    config = RunConfig(model="dcgan", epochs=1, steps_per_epoch=3, checkpoint_every=3,
                       run_dir=str(tmp_path), name="g", batch_size=16,
                       model_options={"width": 8})
    trained = train(config, verbose=0).model
    path = list_checkpoints(tmp_path / "g" / "checkpoints")[-1]
    with np.load(path) as f:
        saved = {k: f[k] for k in f.files}
    # Keyed by place in the model: both networks' weights and both optimizers' slots.
    assert "generator/project/kernel" in saved and "discriminator/conv0/kernel" in saved
    assert "g_optimizer/project_kernel_momentum" in saved and "d_optimizer/iteration" in saved
    assert int(saved["format"]) == 2

    def fresh():
        model = get_model_entry("dcgan").builder((8, 8, 1), latent_dim=16, num_classes=10,
                                                 width=8)
        model.compile()
        return model

    # The arrays go where their keys say, whatever order the file lists them in.
    folder = tmp_path / "reordered"
    folder.mkdir()
    keys = sorted(saved, reverse=True)
    np.savez(folder / "ckpt-000000003.npz", **{k: saved[k] for k in keys})
    model = fresh()
    assert restore_checkpoint(model, folder, log=print) == (3, str(folder / "ckpt-000000003.npz"))
    state, original = training_state(model), training_state(trained)
    for key in state:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(state[key]),
                                      keras.ops.convert_to_numpy(original[key]), err_msg=key)

    # A layout change (a renamed layer) or an old position-keyed file fails loudly.
    renamed = dict(saved)
    renamed["generator/projection/kernel"] = renamed.pop("generator/project/kernel")
    np.savez(folder / "ckpt-000000004.npz", **renamed)
    with pytest.raises(CheckpointMismatch, match=r"does not fit this model \(missing: "
                                                 r"generator/project/kernel; unexpected: "
                                                 r"generator/projection/kernel\)"):
        restore_checkpoint(fresh(), folder, log=print)
    np.savez(folder / "ckpt-000000005.npz", step=np.int64(5),
             **{f"v{i}": v for i, v in enumerate(saved.values())})
    with pytest.raises(CheckpointMismatch, match="has format 1.*--restart"):
        restore_checkpoint(fresh(), folder, log=print)


def test_an_old_checkpoint_in_the_cli_is_one_line(tmp_path, capsys):
    from keras_aegan import cli

    args = ["--epochs", "1", "--steps-per-epoch", "2", "--run-dir", str(tmp_path),
            "--name", "old", "--quiet"]
    assert cli.main(args) == 0
    folder = tmp_path / "old" / "checkpoints"
    for path in list_checkpoints(folder):
        os.remove(path)
    np.savez(folder / "ckpt-000000001.npz", step=np.int64(1), v0=np.zeros(3))
    assert cli.main(["--epochs", "2"] + args[2:]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: checkpoint ") and "format 1" in err and "\n" not in err
