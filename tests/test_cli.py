"""The train.py CLI: one real end-to-end run, and bad input -> one-line error, exit 2."""

import csv
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import ROOT

from keras_aegan import cli
from keras_aegan.training.runner import RunConfig


def test_end_to_end_run_writes_the_run_folder(tmp_path, capsys):
    code = cli.main(["--model", "conv_ae", "--dataset", "digits", "--epochs", "2",
                     "--steps-per-epoch", "3", "--batch-size", "16", "--latent-dim", "4",
                     "--run-dir", str(tmp_path), "--name", "tiny", "--seed", "3",
                     "--grid-seconds", "0"])
    assert code == 0
    run = tmp_path / "tiny"
    assert capsys.readouterr().out.strip().endswith(str(run))
    config = RunConfig.load(run)
    assert (config.model, config.epochs, config.latent_dim, config.seed) == ("conv_ae", 2, 4, 3)
    with open(run / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert all(np.isfinite(float(r["loss"])) and np.isfinite(float(r["val_loss"]))
               for r in rows)
    assert sorted(os.listdir(run / "images")) == ["epoch_001.png", "epoch_002.png",
                                                   "latest.png"]
    grid = keras.utils.load_img(run / "images" / "latest.png")
    assert min(grid.size) >= 64  # small images are upscaled so they can be seen
    assert os.listdir(run / "logs")  # TensorBoard event folders
    model = keras.saving.load_model(run / "model.keras")
    assert model.latent_dim == 4
    x = np.random.default_rng(0).random((2, 8, 8, 1), dtype=np.float32)
    assert model(x).shape == (2, 8, 8, 1)
    assert json.loads((run / "config.json").read_text())["dataset"] == "digits"


def test_short_epochs_get_a_grid_at_most_every_few_seconds(tmp_path, capsys):
    # Three sub-second epochs: with the default 10 s between grids, only the last one.
    assert cli.main(["--epochs", "3", "--steps-per-epoch", "2", "--batch-size", "16",
                     "--run-dir", str(tmp_path), "--name", "short", "--quiet"]) == 0
    assert sorted(os.listdir(tmp_path / "short" / "images")) == ["epoch_003.png", "latest.png"]


@pytest.mark.parametrize("argv,message", [
    (["--model", "nope"], "argument --model: invalid choice: 'nope'"),
    (["--epochs", "0"], "argument --epochs: expected a positive integer up to 1,000,000,000, got 0"),
    (["--batch-size", "-4"], "argument --batch-size: expected a positive integer up to 1,000,000,000, got -4"),
    (["--latent-dim", "x"], "expected a positive integer up to 1,000,000,000, got 'x'"),
    (["--learning-rate", "-1"], "expected a positive number"),
    (["--epochs", "1" + "0" * 30], "expected a positive integer up to 1,000,000,000"),
    (["--batch-size", "1.5"], "expected a positive integer"),
    (["--seed", "-3"], "expected an integer in [0, 2**32)"),
    (["--learning-rate", "nan"], "expected a positive number"),
    (["--image-shape", "8x8x2"], "image shape must be"),
    (["--crop"], "--crop needs --image-shape"),
    (["--validation-fraction", "1.5"], "expected a number in [0, 1)"),
])
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert message in err


@pytest.mark.parametrize("dataset,message", [
    ("nosuch:thing", "unknown source kind 'nosuch'"),
    ("idx:{tmp}/missing", "not a folder"),
    ("folder:{tmp}", "no PNG/JPEG images found"),
    ("npz:{tmp}/none.npz", "no such file"),
    ("mnist", "not prepared in {tmp}"),
])
def test_bad_data_exits_2_with_one_line(dataset, message, tmp_path, capsys):
    argv = ["--dataset", dataset.format(tmp=tmp_path), "--run-dir", str(tmp_path / "runs"),
            "--data-dir", str(tmp_path), "--no-download", "--epochs", "1"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert message.format(tmp=tmp_path) in err
    assert not (tmp_path / "runs").exists()  # nothing written for a run that cannot start


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--model", "--dataset", "--epochs", "--batch-size", "--latent-dim", "--seed",
                   "--run-dir", "--data-dir", "--no-download", "--manual-dir", "--image-shape",
                   "conv_ae"):
        assert option in out


@pytest.mark.ci
def test_real_process_prints_no_traceback(tmp_path):
    """The installed entry point: a bad corrupted IDX folder ends with exit 2, no traceback."""
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    result = subprocess.run(
        [sys.executable, "train.py", "--dataset", f"idx:{tmp_path}", "--run-dir",
         str(tmp_path / "runs")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "train-images-idx3-ubyte.gz: cannot read" in last


def test_model_options_reach_the_builder(tmp_path, capsys):
    argv = ["--model", "vae", "--option", "beta=4", "--epochs", "1", "--steps-per-epoch", "2",
            "--run-dir", str(tmp_path), "--name", "v", "--quiet"]
    assert cli.main(argv) == 0
    assert RunConfig.load(tmp_path / "v").model_options == {"beta": 4}
    assert keras.saving.load_model(tmp_path / "v" / "model.keras").beta == 4
    assert cli.main(argv) == 0  # the same options resume the same run
    assert cli.main(["--model", "vae", "--option", "nope=1", "--run-dir", str(tmp_path),
                     "--name", "w"]) == 2
    assert "model 'vae' has no option among ['nope']" in capsys.readouterr().err
    assert cli.main(["--model", "conv_ae", "--option", "activation=swoosh", "--run-dir",
                     str(tmp_path), "--name", "a"]) == 2
    assert "error: activation: unknown activation 'swoosh'" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()
