"""Multi-worker training on TensorFlow's own engine: two worker processes on 127.0.0.1,
each with its TF_CONFIG, end with identical weights that match a single process trained
with the same global batch."""

import csv
import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import ROOT

import keras_aegan.models.autoencoders  # noqa: F401  (registers the classes for loading)
import keras_aegan.models.gans  # noqa: F401


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_args(model, run_dir, name, strategy="default"):
    return [sys.executable, "train.py", "--model", model, "--epochs", "2",
            "--steps-per-epoch", "3", "--batch-size", "32", "--seed", "5",
            "--strategy", strategy, "--run-dir", str(run_dir), "--name", name, "--quiet"]


def weights(path):
    return keras.saving.load_model(path).get_weights()


def history(run):
    with open(os.path.join(run, "history.csv")) as f:
        return list(csv.DictReader(f))


# Three fresh TensorFlow processes, two of them a cluster (about a minute): an end-to-end
# check, run by CI after the default suite (-m ci). The GAN (two optimizers, a custom
# train_step) there; the plain-fit autoencoder with -m slow (20 s more).
@pytest.mark.parametrize("model,loss_keys", [
    pytest.param("conv_ae", ["loss"], marks=pytest.mark.slow),
    pytest.param("dcgan", ["d_loss", "g_loss"], marks=pytest.mark.ci)])
def test_two_workers_match_one_process(model, loss_keys, tmp_path):
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    workers = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}})}
        workers.append(subprocess.Popen(
            train_args(model, tmp_path, "multi", "multiworker"), cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [w.communicate(timeout=600)[0] for w in workers]
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 0, output[-3000:]
    single = subprocess.run(train_args(model, tmp_path, "single"), cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert single.returncode == 0, single.stderr[-3000:]

    chief = weights(tmp_path / "multi" / "model.keras")
    other = weights(tmp_path / "multi" / "workers" / "worker-1" / "model.keras")
    alone = weights(tmp_path / "single" / "model.keras")
    for a, b in zip(chief, other):  # all-reduced updates: the workers agree exactly
        np.testing.assert_array_equal(a, b)
    for a, b in zip(chief, alone):  # same global batch: the same training, up to rounding
        np.testing.assert_allclose(a, b, atol=1e-5)
    start = weights_at_init(model)
    assert any(not np.allclose(a, b) for a, b in zip(chief, start))  # training moved them
    # Epoch losses are reduced over both workers and match the single process.
    for row_multi, row_single in zip(history(tmp_path / "multi"), history(tmp_path / "single")):
        for key in loss_keys:
            assert float(row_multi[key]) == pytest.approx(float(row_single[key]), rel=1e-4)


def weights_at_init(model):
    """The weights a run starts from (seed 5), to show training moved them."""
    from keras_aegan.registry import get_model_entry

    keras.utils.set_random_seed(5)
    built = get_model_entry(model).builder((8, 8, 1), latent_dim=16, num_classes=10)
    built.compile()
    return built.get_weights()
