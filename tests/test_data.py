"""The data layer on real data: digits, the shared MNIST IDX files, tfds, folders, npz."""

import gzip
import os
import shutil

import numpy as np
import pytest
from conftest import SHARED_MNIST, needs_shared_mnist

from keras_aegan import data
from keras_aegan.errors import DataError


def first_batch(ds):
    return next(iter(ds.as_numpy_iterator()))


# ------------------------------------------------------------------------------ digits


def test_digits_splits_shapes_and_range(digits_source):
    info = digits_source.info
    assert info.image_shape == (8, 8, 1)
    assert info.num_classes == 10
    assert sum(info.splits.values()) == 1797
    assert set(info.splits) == {"train", "validation", "test"}
    images, labels = first_batch(digits_source.dataset("train", batch_size=32))
    assert images.shape == (32, 8, 8, 1) and images.dtype == np.float32
    assert labels.dtype == np.int32 and set(labels) <= set(range(10))
    x, y = digits_source.arrays("test")
    assert x.shape == (info.splits["test"], 8, 8, 1)
    assert 0.0 <= x.min() and x.max() == 1.0  # digits' 0..16 scaled to [0, 1]
    assert len(np.unique(y)) == 10


def test_shuffle_is_deterministic_under_a_seed(digits_source):
    a = first_batch(digits_source.dataset("train", 64, seed=7))[1]
    b = first_batch(digits_source.dataset("train", 64, seed=7))[1]
    c = first_batch(digits_source.dataset("train", 64, seed=8))[1]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_eval_splits_are_ordered_and_carved_independently_of_seed():
    one = data.open_source("digits")
    two = data.open_source("digits", validation_fraction=0.2)
    x1, _ = one.arrays("test")
    x2, _ = two.arrays("test")
    # A different validation share leaves the test split untouched.
    np.testing.assert_array_equal(x1, x2)
    assert two.info.splits["validation"] > one.info.splits["validation"]
    # Train and test do not overlap.
    train, _ = one.arrays("train")
    flat_train = {row.tobytes() for row in train.reshape(len(train), -1)}
    overlap = sum(row.tobytes() in flat_train for row in x1.reshape(len(x1), -1))
    assert overlap < 5  # digits has a handful of duplicate images, no more


def test_resize_and_grayscale_to_rgb():
    source = data.open_source("digits", image_shape=(16, 16, 3))
    images, _ = first_batch(source.dataset("test", 8))
    assert images.shape == (8, 16, 16, 3)
    assert 0.0 <= images.min() and images.max() <= 1.0
    np.testing.assert_allclose(images[..., 0], images[..., 2])


def test_center_crop_keeps_the_middle():
    source = data.open_source("digits", image_shape=(4, 8, 1), crop=True)
    assert source.info.image_shape == (4, 8, 1)
    assert first_batch(source.dataset("test", 2))[0].shape == (2, 4, 8, 1)


# ---------------------------------------------------------------------------- IDX files


@needs_shared_mnist
def test_idx_reads_the_real_mnist():
    source = data.open_source(f"idx:{SHARED_MNIST}")
    info = source.info
    assert info.image_shape == (28, 28, 1)
    assert info.splits == {"train": 54000, "validation": 6000, "test": 10000}
    assert info.num_classes == 10
    x, y = source.arrays("test", limit=1000)
    assert x.shape == (1000, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    # The first MNIST test digit is a 7, the second a 2.
    assert list(y[:3]) == [7, 2, 1]
    # Mean ink of MNIST is ~0.13 of full intensity.
    assert 0.10 < x.mean() < 0.16


@pytest.fixture
def idx_dir(tmp_path):
    """A tiny IDX dataset (real digits images) in the MNIST file layout."""
    digits = data.open_source("digits")
    x, y = digits.arrays("train", limit=100)
    pixels = (x[..., 0] * 255).astype(np.uint8)

    def write(name, magic, array):
        header = bytes([0, 0, 8, magic]) + b"".join(
            int(d).to_bytes(4, "big") for d in array.shape)
        with gzip.open(tmp_path / name, "wb") as f:
            f.write(header + array.astype(np.uint8).tobytes())

    write("train-images-idx3-ubyte.gz", 3, pixels[:80])
    write("train-labels-idx1-ubyte.gz", 1, y[:80])
    write("t10k-images-idx3-ubyte.gz", 3, pixels[80:])
    write("t10k-labels-idx1-ubyte.gz", 1, y[80:])
    return tmp_path


def test_idx_round_trip(idx_dir):
    source = data.open_source(f"idx:{idx_dir}")
    assert source.info.image_shape == (8, 8, 1)
    assert source.info.splits == {"train": 72, "test": 20, "validation": 8}


def test_idx_bad_magic_names_the_file(idx_dir):
    path = idx_dir / "train-labels-idx1-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x09" + raw[4:]))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz: bad IDX magic"):
        data.open_source(f"idx:{idx_dir}")


def test_idx_truncated_file_names_the_sizes(idx_dir):
    path = idx_dir / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-10]))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: IDX header .* needs "
                                         r"5120 data bytes, file has 5110"):
        data.open_source(f"idx:{idx_dir}")


def test_idx_corrupt_gzip_and_missing_files(idx_dir):
    (idx_dir / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: cannot read"):
        data.open_source(f"idx:{idx_dir}")
    with pytest.raises(DataError, match="not a folder"):
        data.open_source(f"idx:{idx_dir / 'nope'}")
    empty = idx_dir / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no training images file"):
        data.open_source(f"idx:{empty}")


# ---------------------------------------------------------------------------- folders


def write_png(path, array):
    from PIL import Image

    Image.fromarray(array).save(path)


def test_folder_with_class_subfolders(tmp_path, digits_images):
    x, y = digits_images
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
    for i in range(20):
        folder = tmp_path / ("cat" if i % 2 else "dog")
        write_png(folder / f"{i}.png", (x[i, ..., 0] * 255).astype(np.uint8))
    source = data.open_source(f"folder:{tmp_path}")
    assert source.info.class_names == ("cat", "dog")
    assert source.info.num_classes == 2
    assert sum(source.info.splits.values()) == 20
    images, labels = first_batch(source.dataset("train", 4))
    assert images.shape == (4, 8, 8, 1) and set(labels) <= {0, 1}


def test_folder_unlabeled_mixed_sizes(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(6):
        side = 10 if i % 2 else 12
        write_png(tmp_path / f"{i}.png", rng.integers(0, 255, (side, side, 3), dtype=np.uint8))
    with pytest.raises(DataError, match="mixed sizes.*--image-shape"):
        data.open_source(f"folder:{tmp_path}")
    source = data.open_source(f"folder:{tmp_path}", image_shape=(8, 8, 3))
    assert not source.info.labeled
    images = first_batch(source.dataset("train", 2))
    assert images.shape == (2, 8, 8, 3)  # unlabeled sources yield images alone


def test_folder_errors(tmp_path):
    with pytest.raises(DataError, match="no PNG/JPEG images"):
        data.open_source(f"folder:{tmp_path}")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(DataError, match=r"broken\.png: not a readable image"):
        data.open_source(f"folder:{tmp_path}")


# -------------------------------------------------------------------------------- npz


def test_npz_labeled_and_unlabeled(tmp_path, digits_images):
    x, y = digits_images
    np.savez(tmp_path / "a.npz", x=(x[..., 0] * 255).astype(np.uint8), y=y)
    source = data.open_source(f"npz:{tmp_path / 'a.npz'}")
    assert source.info.image_shape == (8, 8, 1) and source.info.num_classes == 10
    np.savez(tmp_path / "b.npz", x=x)
    source = data.open_source(f"npz:{tmp_path / 'b.npz'}")
    assert source.info.num_classes is None


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "nan.npz", x=np.full((10, 8, 8), np.nan, "float32"))
    with pytest.raises(DataError, match="NaN"):
        data.open_source(f"npz:{tmp_path / 'nan.npz'}")
    np.savez(tmp_path / "noX.npz", images=np.zeros((10, 8, 8)))
    with pytest.raises(DataError, match="no array named 'x'"):
        data.open_source(f"npz:{tmp_path / 'noX.npz'}")
    np.savez(tmp_path / "range.npz", x=np.full((10, 8, 8), 3.0))
    with pytest.raises(DataError, match=r"in \[0, 1\]"):
        data.open_source(f"npz:{tmp_path / 'range.npz'}")
    (tmp_path / "junk.npz").write_bytes(os.urandom(100))
    with pytest.raises(DataError, match="cannot read"):
        data.open_source(f"npz:{tmp_path / 'junk.npz'}")


# -------------------------------------------------------------------- bad specs / args


@pytest.mark.parametrize("spec,message", [
    ("zip:foo", "unknown source kind 'zip'"),
    ("idx:", "needs a path"),
    ("", "non-empty"),
])
def test_bad_specs(spec, message):
    with pytest.raises(DataError, match=message):
        data.open_source(spec)


def test_bad_dataset_arguments(digits_source):
    with pytest.raises(DataError, match="batch_size must be an integer >= 1"):
        digits_source.dataset("train", batch_size=-1)
    with pytest.raises(DataError, match="unknown split"):
        digits_source.dataset("dev")
    with pytest.raises(DataError, match="image shape"):
        data.open_source("digits", image_shape=(8, 8, 2))


# ------------------------------------------------------------------- tensorflow-datasets


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    """Real digits written as a local tensorflow-datasets dataset named `tiny_digits`."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    directory = tmp_path_factory.mktemp("tfds")
    source = data.open_source("digits")
    splits = {}
    for split in ("train", "test"):
        x, y = source.arrays(split, limit=60)
        splits[split] = tf.data.Dataset.from_tensor_slices(
            {"image": (x * 255).astype(np.uint8), "label": y.astype(np.int64)})
    tfds.dataset_builders.store_as_tfds_dataset(
        name="tiny_digits", version="1.0.0", data_dir=str(directory),
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(8, 8, 1)),
            "label": tfds.features.ClassLabel(num_classes=10)}),
        split_datasets=splits)
    return directory


def test_tfds_dataset_read_back_by_name(tfds_dir):
    source = data.open_source("tiny_digits", data_dir=str(tfds_dir), download=False)
    info = source.info
    assert info.image_shape == (8, 8, 1) and info.num_classes == 10
    assert info.splits == {"train": 54, "validation": 6, "test": 60}
    images, labels = first_batch(source.dataset("train", 16, seed=3))
    assert images.shape == (16, 8, 8, 1) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0 and images.max() > 0.5
    again, _ = first_batch(source.dataset("train", 16, seed=3))
    np.testing.assert_array_equal(images, again)
    resized = data.open_source("tiny_digits", data_dir=str(tfds_dir), download=False,
                               image_shape=(12, 12, 3))
    assert first_batch(resized.dataset("test", 4))[0].shape == (4, 12, 12, 3)


def test_tfds_missing_dataset_without_download(tmp_path):
    with pytest.raises(DataError, match="not prepared .*--data-dir"):
        data.open_source("mnist", data_dir=str(tmp_path), download=False)
    with pytest.raises(DataError, match="unknown dataset 'no_such_dataset_xyz'"):
        data.open_source("no_such_dataset_xyz", data_dir=str(tmp_path), download=False)


@pytest.mark.ci
@needs_shared_mnist
def test_tfds_mnist_prepares_offline_from_manual_dir(tmp_path):
    manual = tmp_path / "manual"
    shutil.copytree(SHARED_MNIST, manual)
    source = data.open_source("mnist", data_dir=str(tmp_path / "tfds"), download=False,
                              manual_dir=str(manual))
    assert source.info.splits == {"train": 54000, "validation": 6000, "test": 10000}
    assert source.info.image_shape == (28, 28, 1)
    x, y = source.arrays("test")
    idx_x, idx_y = data.open_source(f"idx:{SHARED_MNIST}").arrays("test")
    # The same 10k real test digits (tfds stores them in its own shuffled order).
    np.testing.assert_array_equal(np.bincount(y), np.bincount(idx_y))
    assert abs(float(x.mean()) - float(idx_x.mean())) < 1e-6


def test_bundled_mnist10k_is_the_real_test_release():
    import hashlib

    from keras_aegan.data.bundled import MNIST10K

    digest = hashlib.sha256(open(os.path.join(MNIST10K, "t10k-images-idx3-ubyte.gz"),
                                 "rb").read()).hexdigest()
    assert digest == "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    source = data.open_source("mnist10k")
    info = source.info
    assert info.image_shape == (28, 28, 1) and info.num_classes == 10
    assert info.splits == {"train": 7200, "validation": 800, "test": 2000}
    x, y = source.arrays("test")
    assert x.shape == (2000, 28, 28, 1) and x.min() == 0.0 and x.max() == 1.0
    counts = np.bincount(y, minlength=10)
    assert counts.min() > 150 and counts.sum() == 2000  # every digit, about 200 each
    again, _ = data.open_source("mnist10k").arrays("test", limit=5)
    np.testing.assert_array_equal(again, x[:5])  # the carve does not depend on anything
