"""Hostile input: a table of bad inputs to the CLI and the data layer. Each gets a one-line
`error: ...` and exit code 2, never a traceback, and leaves existing runs untouched."""

import gzip
import hashlib
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from keras_aegan import cli


@pytest.fixture(scope="module")
def existing_run(tmp_path_factory):
    """A finished conv_ae run that no bad invocation may modify."""
    run_dir = tmp_path_factory.mktemp("runs")
    assert cli.main(["--epochs", "1", "--steps-per-epoch", "2", "--run-dir", str(run_dir),
                     "--name", "keep", "--quiet"]) == 0
    return run_dir


def snapshot(folder):
    """Every file under `folder` with its bytes' hash and modification time."""
    result = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                result[path] = (hashlib.sha256(f.read()).hexdigest(), os.stat(path).st_mtime_ns)
    return result


def write_idx(path, magic, array):
    header = bytes([0, 0, 8, magic]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def make_bad_inputs(tmp):
    """name -> (argv, expected message), each built on disk under `tmp`."""
    rng = np.random.default_rng(0)
    cases = {}

    def case(name, argv, message):
        cases[name] = (argv, message)

    # Wrong types and absurd numbers.
    case("epochs not a number", ["--epochs", "ten"], "expected a positive integer")
    case("huge batch", ["--batch-size", "99999999999"], "up to 1,000,000,000")
    case("negative latent", ["--latent-dim", "-5"], "expected a positive integer")
    case("float seed", ["--seed", "0.5"], "expected an integer in [0, 2**32)")
    case("bad shape text", ["--image-shape", "28 by 28"], "image shape must look like")
    case("zero-sized shape", ["--image-shape", "0x0x1"], "sides in 4..4096")
    case("unknown strategy", ["--strategy", "cloud"], "invalid choice: 'cloud'")
    # Settings that cannot fit in memory: refused before anything is allocated.
    case("huge latent", ["--latent-dim", "300000000"], "need at least")
    case("huge gan latent", ["--model", "dcgan", "--latent-dim", "300000000"],
         "need more memory than this machine has")
    case("huge batch of images", ["--batch-size", "300000000"], "this machine has")
    case("huge images", ["--image-shape", "4096x4096x3", "--batch-size", "512"],
         "batches of 512 images of 4096x4096x3")
    # Paths with spaces and unicode that do not exist.
    case("missing unicode path", ["--dataset", f"idx:{tmp}/dös ßpace/none"], "not a folder")
    # Truncated and random-bytes IDX files.
    truncated = tmp / "trunc ü"
    truncated.mkdir()
    write_idx(truncated / "train-images-idx3-ubyte.gz", 3, rng.integers(0, 255, (20, 8, 8)))
    raw = gzip.decompress((truncated / "train-images-idx3-ubyte.gz").read_bytes())
    (truncated / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw[:100]))
    case("truncated idx", ["--dataset", f"idx:{truncated}"], "needs 1280 data bytes, file has 84")
    random_idx = tmp / "random idx"
    random_idx.mkdir()
    (random_idx / "train-images-idx3-ubyte").write_bytes(rng.bytes(5000))
    case("random-bytes idx", ["--dataset", f"idx:{random_idx}"], "bad IDX magic")
    gz_random = tmp / "random gz"
    gz_random.mkdir()
    (gz_random / "train-images-idx3-ubyte.gz").write_bytes(rng.bytes(5000))
    case("random-bytes gz", ["--dataset", f"idx:{gz_random}"], "cannot read")
    # Images: random bytes, NaN, mismatched shapes.
    images = tmp / "images"
    images.mkdir()
    (images / "noise.png").write_bytes(rng.bytes(300))
    case("random-bytes png", ["--dataset", f"folder:{images}"], "not a readable image")
    np.savez(tmp / "nan.npz", x=np.where(rng.random((30, 8, 8)) < 0.1, np.nan, 0.5))
    case("nan images", ["--dataset", f"npz:{tmp / 'nan.npz'}"], "NaN or Inf")
    np.savez(tmp / "mismatch.npz", x=rng.random((30, 8, 8)), y=np.arange(29))
    case("labels mismatch", ["--dataset", f"npz:{tmp / 'mismatch.npz'}"],
         "one per image (30 images, labels shape (29,))")
    np.savez(tmp / "fivedim.npz", x=rng.random((3, 2, 8, 8, 1)))
    case("5-d images", ["--dataset", f"npz:{tmp / 'fivedim.npz'}"], "images must be (N, H, W)")
    np.savez(tmp / "strings.npz", x=np.array(["a", "b", "c"]))
    case("string images", ["--dataset", f"npz:{tmp / 'strings.npz'}"], "images must be")
    # Output folders that cannot be used.
    (tmp / "a file").write_text("not a folder")
    case("run dir is a file", ["--run-dir", str(tmp / "a file")], "Not a directory")
    return cases


def test_bad_inputs_table(tmp_path, existing_run, capsys):
    before = snapshot(existing_run)
    cases = make_bad_inputs(tmp_path)
    assert len(cases) >= 15
    for name, (argv, message) in cases.items():
        argv = [*argv, "--epochs", "1", "--steps-per-epoch", "1"] if "--epochs" not in argv \
            else argv
        if "--run-dir" not in argv:
            argv += ["--run-dir", str(existing_run), "--name", "new"]
        try:
            code = cli.main(argv)
        except SystemExit as e:  # argparse rejects before running
            code = e.code
        err = capsys.readouterr().err.strip()
        assert code == 2, f"{name}: exit {code}, stderr {err!r}"
        assert err.startswith("error: ") and "\n" not in err, f"{name}: {err!r}"
        assert message in err, f"{name}: {err!r}"
    assert snapshot(existing_run) == before  # no bad input touched the existing run
    assert sorted(os.listdir(existing_run)) == ["keep"]  # nor started a run folder


def test_run_folder_of_another_model_is_refused(existing_run, capsys):
    before = snapshot(existing_run)
    code = cli.main(["--model", "dcgan", "--epochs", "1", "--steps-per-epoch", "2",
                     "--run-dir", str(existing_run),
                     "--name", "keep"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "holds a different run (model: 'conv_ae' -> 'dcgan'" in err and "\n" not in err
    assert snapshot(existing_run) == before


def test_unicode_and_spaces_in_paths_work(tmp_path, digits_images):
    folder = tmp_path / "my dätä ✓"
    folder.mkdir()
    x, y = digits_images
    write_idx(folder / "train-images-idx3-ubyte.gz", 3, (x[..., 0] * 255).round())
    write_idx(folder / "train-labels-idx1-ubyte.gz", 1, y)
    run_dir = tmp_path / "rüns here"
    assert cli.main(["--dataset", f"idx:{folder}", "--epochs", "1", "--steps-per-epoch", "2",
                     "--run-dir", str(run_dir), "--quiet"]) == 0
    assert (run_dir / "conv_ae-my_dätä" / "model.keras").exists()


def _can_mount_read_only(path):
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c",
         f"mount --bind '{path}' '{path}' && mount -o remount,bind,ro '{path}' && "
         f"! touch '{path}/probe' 2>/dev/null"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.ci
def test_read_only_output_folder(tmp_path):
    run_dir = tmp_path / "ro runs"
    run_dir.mkdir()
    if not _can_mount_read_only(run_dir):
        pytest.skip("needs `unshare -m` (root) to mount a read-only folder; file modes do "
                    "not stop root")
    command = (f"mount --bind '{run_dir}' '{run_dir}' && "
               f"mount -o remount,bind,ro '{run_dir}' && "
               f"'{sys.executable}' train.py --epochs 1 --steps-per-epoch 1 "
               f"--run-dir '{run_dir}'")
    result = subprocess.run(["unshare", "-m", "sh", "-c", command], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == \
        f"error: Read-only file system: {run_dir / 'conv_ae-digits'}"
    assert os.listdir(run_dir) == []


def _keras_file_with(tmp_path, layer):
    import keras

    model = keras.Sequential([keras.Input((4,)), layer])
    path = tmp_path / "model.keras"
    model.save(path)
    return path


def test_lambda_layer_model_is_refused(tmp_path, existing_run, capsys):
    import keras

    from keras_aegan.errors import UserError
    from keras_aegan.training.runner import load_model

    path = _keras_file_with(tmp_path, keras.layers.Lambda(lambda x: x * 2))
    with pytest.raises(UserError, match="refused: it holds Python code"):
        load_model(str(path))
    # The same file planted in a run folder: `export` refuses it too, one line, exit 2.
    run = tmp_path / "planted"
    shutil.copytree(existing_run / "keep", run)
    shutil.copy(path, run / "model.keras")
    assert cli.main(["export", str(run), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "refused: it holds Python code" in err and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_unknown_class_model_is_refused(tmp_path):
    import json
    import zipfile

    import keras

    from keras_aegan.errors import UserError
    from keras_aegan.training.runner import load_model

    path = _keras_file_with(tmp_path, keras.layers.Dense(2))
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    config = json.loads(files["config.json"])
    config["config"]["layers"][-1].update(module="evil.payload", class_name="Backdoor",
                                          registered_name="evil>Backdoor")
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    with pytest.raises(UserError, match="refused: unknown class"):
        load_model(str(path))
    (tmp_path / "junk.keras").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UserError, match="not a readable .keras file|cannot load"):
        load_model(str(tmp_path / "junk.keras"))
