"""Sources read from the user's files: `idx:DIR`, `folder:DIR`, `npz:FILE`."""

import gzip
import os
import struct

import numpy as np

from keras_aegan.data.core import array_source, register_source
from keras_aegan.errors import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
IDX_IMAGE_MAGIC = 0x00000803
IDX_LABEL_MAGIC = 0x00000801


@register_source("idx", "idx:DIR")
def open_idx(spec, directory, options):
    """MNIST-format IDX files (`*train*images*`, `*t10k*images*` or `*test*images*`,
    optionally gzipped), as MNIST, Fashion-MNIST, KMNIST and EMNIST ship."""
    return array_source(spec, _read_idx(directory), options)


@register_source("folder", "folder:DIR")
def open_folder(spec, directory, options):
    """PNG/JPEG images; class sub-folders become labels, images directly in the folder
    make an unlabeled source."""
    return array_source(spec, _read_folder(directory), options)


@register_source("npz", "npz:FILE")
def open_npz(spec, path, options):
    """Arrays `x` (and optional `y`; optional `x_test`/`y_test`)."""
    return array_source(spec, _read_npz(path), options)


def read_idx_file(path, magic):
    """The array in one IDX file (gzipped or not), checked against its header."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"{path}: cannot read ({e})") from None
    if len(data) < 8:
        raise DataError(f"{path}: too short for an IDX header ({len(data)} bytes)")
    found = struct.unpack(">I", data[:4])[0]
    if found != magic:
        raise DataError(f"{path}: bad IDX magic 0x{found:08x}, expected 0x{magic:08x}")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(dims))
    if len(data) - header != expected:
        raise DataError(f"{path}: IDX header {dims} needs {expected} data bytes, "
                        f"file has {len(data) - header}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims)


def _find_idx(directory, kind, split_words):
    names = sorted(os.listdir(directory))
    for word in split_words:
        for name in names:
            low = name.lower()
            if word in low and kind in low and "idx" in low:
                return os.path.join(directory, name)
    return None


def _read_idx(directory):
    if not os.path.isdir(directory):
        raise DataError(f"idx:{directory}: not a folder")
    splits = {}
    for split, words in (("train", ("train",)), ("test", ("t10k", "test"))):
        images_path = _find_idx(directory, "images", words)
        if images_path is None:
            continue
        images = read_idx_file(images_path, IDX_IMAGE_MAGIC)
        if images.ndim not in (3, 4):
            raise DataError(f"{images_path}: expected 3 or 4 IDX dimensions, got {images.ndim}")
        labels_path = _find_idx(directory, "labels", words)
        labels = None
        if labels_path is not None:
            labels = read_idx_file(labels_path, IDX_LABEL_MAGIC).astype("int32")
            if labels.shape != (len(images),):
                raise DataError(f"{labels_path}: {labels.shape[0]} labels for "
                                f"{len(images)} images in {images_path}")
        splits[split] = (images, labels)
    if "train" not in splits:
        raise DataError(f"idx:{directory}: no training images file "
                        "(expected a name like train-images-idx3-ubyte.gz)")
    return splits, None


def _read_npz(path):
    if not os.path.isfile(path):
        raise DataError(f"npz:{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as e:  # numpy raises many types for a bad archive
        raise DataError(f"npz:{path}: cannot read ({type(e).__name__}: {e})") from None
    if "x" not in arrays:
        raise DataError(f"npz:{path}: no array named 'x' (has: {', '.join(arrays) or 'none'})")
    splits = {"train": (arrays["x"], arrays.get("y"))}
    if "x_test" in arrays:
        splits["test"] = (arrays["x_test"], arrays.get("y_test"))
    return splits, None


def _read_folder(directory):
    from PIL import Image, UnidentifiedImageError

    if not os.path.isdir(directory):
        raise DataError(f"folder:{directory}: not a folder")
    classes = sorted(d for d in os.listdir(directory)
                     if os.path.isdir(os.path.join(directory, d)) and not d.startswith("."))
    groups = [(i, os.path.join(directory, c)) for i, c in enumerate(classes)] or [(None, directory)]
    images, labels = [], []
    for label, folder in groups:
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not name.lower().endswith(IMAGE_EXTENSIONS) or not os.path.isfile(path):
                continue
            try:
                with Image.open(path) as im:
                    im.load()
                    gray = im.mode in ("L", "1", "I;16")
                    images.append(np.asarray(im.convert("L" if gray else "RGB")))
            except (UnidentifiedImageError, OSError, SyntaxError) as e:
                raise DataError(f"{path}: not a readable image ({e})") from None
            labels.append(label)
    if not images:
        raise DataError(f"folder:{directory}: no PNG/JPEG images found "
                        "(put them in the folder, or in one sub-folder per class)")
    shapes = {im.shape[:2] for im in images}
    channels = max(im.shape[2] if im.ndim == 3 else 1 for im in images)
    images = [im[..., None] if im.ndim == 2 else im for im in images]
    if channels == 3:
        images = [np.repeat(im, 3, axis=-1) if im.shape[-1] == 1 else im for im in images]
    if len(shapes) > 1:
        # Mixed sizes can only be batched after resizing to one requested shape.
        return {"train": (images, None if classes == [] else np.array(labels, "int32"))}, \
            tuple(classes) or None
    y = np.array(labels, "int32") if classes else None
    return {"train": (np.stack(images), y)}, tuple(classes) or None


