"""Data sources -> `tf.data` pipelines of `(images, labels)`.

A *source spec* names where images come from:

- `digits`: scikit-learn's bundled 8x8 digits (1,797 real images, offline).
- `idx:DIR`: MNIST-format IDX files (`*train*images*`, `*t10k*images*` or `*test*images*`,
  optionally gzipped), as MNIST, Fashion-MNIST, KMNIST and EMNIST ship.
- `folder:DIR`: PNG/JPEG images; class sub-folders become labels, images directly in
  `DIR` make an unlabeled source.
- `npz:FILE`: arrays `x` (and optional `y`; optional `x_test`/`y_test`).
- any other name: a tensorflow-datasets image dataset (`mnist`, `cifar10`, ...).

Every pipeline yields float32 NHWC images in [0, 1] and, when the source has labels, int32
labels beside them. Missing `test` / `validation` splits are carved deterministically from
`train` (the carve does not depend on the run's seed, so every run sees the same splits).
"""

import dataclasses
import gzip
import math
import os
import re
import struct

import numpy as np
import tensorflow as tf

from keras_aegan.errors import DataError, check_int

SPLITS = ("train", "validation", "test")
# The split carve is fixed so that runs with different seeds compare on the same data.
_CARVE_SEED = 20061028
_SHUFFLE_CYCLE = 32
_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
_IDX_IMAGE_MAGIC = 0x00000803
_IDX_LABEL_MAGIC = 0x00000801
LOCAL_SOURCES = ("digits", "idx:DIR", "folder:DIR", "npz:FILE")


@dataclasses.dataclass(frozen=True)
class DataInfo:
    """What a source holds.

    Attributes:
        name: the source spec it came from.
        image_shape: `(height, width, channels)` of the images the pipelines yield.
        num_classes: number of label classes, or `None` for an unlabeled source.
        splits: number of examples per split (`train`, `validation`, `test`).
        class_names: label names where the source has them.
    """

    name: str
    image_shape: tuple
    num_classes: int | None
    splits: dict
    class_names: tuple | None = None

    @property
    def labeled(self):
        return self.num_classes is not None


class Source:
    """An opened data source; `dataset(split, ...)` makes batched pipelines from it.

    Use `open_source` to make one. Each split is an unbatched `tf.data.Dataset` of
    float32 `(H, W, C)` images in [0, 1] (and int32 labels), already preprocessed to
    `info.image_shape`.
    """

    def __init__(self, info, split_datasets):
        self.info = info
        self._splits = split_datasets

    def dataset(self, split="train", batch_size=64, *, shuffle=None, seed=0, cache=True,
                drop_remainder=False, take=None, passes=None):
        """A batched, prefetched pipeline over one split.

        Args:
            split: `train`, `validation` or `test`.
            batch_size: images per batch.
            shuffle: reshuffle every epoch; defaults to `True` for `train` only.
            seed: shuffle seed; the same seed gives the same order.
            cache: keep the decoded images in memory after the first pass.
            drop_remainder: drop a last, smaller batch.
            take: use only the first `take` examples of the split.
            passes: make one stream of this many passes over the split, pass `p` shuffled
                by `(seed, p)`, so a run can resume mid-stream with `dataset.skip(steps)`.
                `None`: one pass, reshuffled each time it is iterated.

        Returns:
            A `tf.data.Dataset` of `(images, labels)` batches, or of images alone for an
            unlabeled source.
        """
        if split not in self._splits:
            raise DataError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
        check_int("batch_size", batch_size, error=DataError)
        ds = self._splits[split]
        if take is not None:
            check_int("take", take, error=DataError)
            ds = ds.take(take)
        if cache:
            ds = ds.cache()
        shuffled = split == "train" if shuffle is None else shuffle
        size = max(1, min(self.info.splits[split], take or self.info.splits[split]))
        if passes is None:
            if shuffled:
                ds = ds.shuffle(size, seed=seed, reshuffle_each_iteration=True)
            return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
        check_int("passes", passes, error=DataError)
        # Pass `p` is shuffled with the seed (seed, p) alone, so the stream is the same
        # however many iterators are made of it (Keras makes extra ones under
        # tf.distribute), and `skip(n)` lands exactly where a run left off.
        # Past `_SHUFFLE_CYCLE` passes the orders repeat: a long chain of concatenated
        # datasets is slow to build, and a cycle of 32 orders is as good as fresh ones.
        stream = None
        for p in range(min(passes, _SHUFFLE_CYCLE)):
            one = ds.shuffle(size, seed=seed * 1_000_003 + p, reshuffle_each_iteration=False) \
                if shuffled else ds
            one = one.batch(batch_size, drop_remainder=drop_remainder)
            stream = one if stream is None else stream.concatenate(one)
        if passes > _SHUFFLE_CYCLE:
            stream = stream.repeat(math.ceil(passes / _SHUFFLE_CYCLE))
        return stream.prefetch(tf.data.AUTOTUNE)

    def arrays(self, split="test", limit=None):
        """The images (and labels, or `None`) of a split as numpy arrays, in order."""
        ds = self.dataset(split, batch_size=1024, shuffle=False, cache=False, take=limit)
        images, labels = [], []
        for batch in ds.as_numpy_iterator():
            if self.info.labeled:
                images.append(batch[0])
                labels.append(batch[1])
            else:
                images.append(batch)
        x = np.concatenate(images) if images else np.zeros((0, *self.info.image_shape), "float32")
        return x, (np.concatenate(labels) if labels else None)


def open_source(spec="digits", *, image_shape=None, crop=False, data_dir=None, download=True,
                manual_dir=None, validation_fraction=0.1):
    """Open a source spec (see the module docstring) for pipelines.

    Args:
        spec: source spec, e.g. `"digits"`, `"idx:../shared/data/mnist"`, `"cifar10"`.
        image_shape: optional `(H, W, C)` to resize to (and convert grayscale <-> RGB);
            required for a folder of images of mixed sizes.
        crop: center-crop to the requested aspect ratio before resizing.
        data_dir: tensorflow-datasets data folder.
        download: let tensorflow-datasets download and prepare a missing dataset.
        manual_dir: folder holding files fetched by hand, for tensorflow-datasets builders
            that prepare from it (e.g. the MNIST IDX files for `mnist`).
        validation_fraction: share of `train` carved out as `validation` where the source
            has no validation split.

    Returns:
        A `Source`.

    Example:
        >>> source = open_source("digits")
        >>> train = source.dataset("train", batch_size=32, seed=1)
    """
    if not isinstance(spec, str) or not spec.strip():
        raise DataError(f"dataset spec must be a non-empty string, got {spec!r}")
    if not 0.0 <= validation_fraction < 1.0:
        raise DataError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    if image_shape is not None:
        image_shape = _check_image_shape(image_shape)
    kind, _, arg = spec.partition(":")
    reader = _ARRAY_READERS.get(kind)
    if reader is not None:
        if kind != "digits" and not arg:
            raise DataError(f"{kind}: needs a path, e.g. {kind}:/path/to/data")
        return _array_source(spec, reader(arg), image_shape, crop, validation_fraction)
    if ":" in spec:
        raise DataError(f"unknown source kind {kind!r} in {spec!r}; known: "
                        f"{', '.join(LOCAL_SOURCES)} or a tensorflow-datasets name")
    return _tfds_source(spec, image_shape, crop, data_dir, download, manual_dir,
                        validation_fraction)


def load(spec="digits", split="train", batch_size=64, *, seed=0, shuffle=None, **source_kwargs):
    """Open `spec` and return `(dataset, info)` for one split; see `open_source`."""
    source = open_source(spec, **source_kwargs)
    return source.dataset(split, batch_size, seed=seed, shuffle=shuffle), source.info


def slug(spec):
    """A short, file-name-safe name for a source spec: `idx:/data/mnist` -> `mnist`."""
    name = os.path.basename(spec.partition(":")[2].rstrip("/\\")) if ":" in spec else spec
    return re.sub(r"[^\w.\-]+", "_", name).strip("_") or "data"


def parse_image_shape(text):
    """`"28x28x1"` or `"32,32,3"` -> `(28, 28, 1)`; `"28x28"` means one channel."""
    parts = text.replace(",", "x").lower().split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise DataError(f"image shape must look like 28x28x1, got {text!r}") from None
    if len(dims) == 2:
        dims = (*dims, 1)
    return _check_image_shape(dims)


# --------------------------------------------------------------------------- array sources


def _read_digits(_arg):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    return {"train": (x, digits.target.astype("int32"))}, None


def _read_idx_file(path, magic):
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
        images = _read_idx_file(images_path, _IDX_IMAGE_MAGIC)
        if images.ndim not in (3, 4):
            raise DataError(f"{images_path}: expected 3 or 4 IDX dimensions, got {images.ndim}")
        labels_path = _find_idx(directory, "labels", words)
        labels = None
        if labels_path is not None:
            labels = _read_idx_file(labels_path, _IDX_LABEL_MAGIC).astype("int32")
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
            if not name.lower().endswith(_IMAGE_EXTENSIONS) or not os.path.isfile(path):
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


_ARRAY_READERS = {"digits": _read_digits, "idx": _read_idx, "folder": _read_folder,
                  "npz": _read_npz}


def _as_unit_float(x, where):
    """Arrays of uint8 (0-255) or floats already in [0, 1] -> float32 NHWC in [0, 1]."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4):
        raise DataError(f"{where}: images must be (N, H, W) or (N, H, W, C) with C in 1/3/4, "
                        f"got shape {x.shape}")
    if x.shape[-1] == 4:
        x = x[..., :3]
    if np.issubdtype(x.dtype, np.integer):
        if x.size and (x.min() < 0 or x.max() > 255):
            raise DataError(f"{where}: integer images must be in 0..255")
        return x.astype("float32") / 255.0
    if not np.issubdtype(x.dtype, np.floating):
        raise DataError(f"{where}: images must be numbers, got dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise DataError(f"{where}: images contain NaN or Inf")
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise DataError(f"{where}: float images must be in [0, 1], got "
                        f"[{x.min():.3g}, {x.max():.3g}]")
    return x.astype("float32")


def _carve(n, count, salt):
    """A deterministic split of `range(n)` into (rest, carved) with `count` carved."""
    order = np.random.default_rng(_CARVE_SEED + salt).permutation(n)
    return np.sort(order[count:]), np.sort(order[:count])


def _array_source(spec, read, image_shape, crop, validation_fraction):
    raw_splits, class_names = read
    resizing = image_shape is not None
    splits = {}
    for split, (x, y) in raw_splits.items():
        where = f"{spec} ({split})"
        if isinstance(x, list):  # folder of mixed sizes
            if not resizing:
                sizes = sorted({im.shape[:2] for im in x})
                raise DataError(f"{spec}: images have mixed sizes {sizes[:3]}...; "
                                "pass an image shape (--image-shape HxWxC) to resize them")
            x = np.stack([_preprocess_np(_as_unit_float(im[None], where)[0], image_shape, crop)
                          for im in x])
        else:
            x = _as_unit_float(x, where)
        if y is not None:
            y = np.asarray(y)
            if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
                raise DataError(f"{where}: labels must be integers, one per image "
                                f"({len(x)} images, labels shape {y.shape})")
            if y.size and y.min() < 0:
                raise DataError(f"{where}: labels must be >= 0")
            y = y.astype("int32")
        splits[split] = (x, y)
    if len(splits["train"][0]) < 3:
        raise DataError(f"{spec}: too few training images ({len(splits['train'][0])})")
    labeled = all(y is not None for _, y in splits.values())
    if not labeled:
        splits = {k: (x, None) for k, (x, _) in splits.items()}
    # Carve test first, then validation, so adding a validation split keeps the test set.
    for split, fraction, salt in (("test", 0.2, 0), ("validation", validation_fraction, 1)):
        if split in splits:
            continue
        x, y = splits["train"]
        count = int(round(fraction * len(x)))
        rest, carved = _carve(len(x), count, salt)
        splits[split] = (x[carved], None if y is None else y[carved])
        splits["train"] = (x[rest], None if y is None else y[rest])
    shape = tuple(int(d) for d in splits["train"][0].shape[1:])
    num_classes = None
    if labeled:
        num_classes = int(max(int(y.max()) for _, y in splits.values() if y.size) + 1)
        if class_names is not None:
            num_classes = max(num_classes, len(class_names))
    datasets = {}
    for split, (x, y) in splits.items():
        ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
        if resizing and shape != image_shape:
            ds = ds.map(_tf_preprocessor(image_shape, crop, labeled),
                        num_parallel_calls=tf.data.AUTOTUNE)
        datasets[split] = ds
    info = DataInfo(name=spec, image_shape=image_shape if resizing else shape,
                    num_classes=num_classes, splits={k: len(v[0]) for k, v in splits.items()},
                    class_names=class_names)
    return Source(info, datasets)


# ------------------------------------------------------------------------- preprocessing


def _preprocess(image, image_shape, crop):
    """One float image in [0, 1] -> `image_shape`: channels, center crop, resize."""
    height, width, channels = image_shape
    if channels == 1 and image.shape[-1] == 3:
        image = tf.image.rgb_to_grayscale(image)
    elif channels == 3 and image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    if crop:
        shape = tf.shape(image)
        h, w = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
        scale = tf.minimum(h / height, w / width)
        ch, cw = tf.cast(scale * height, tf.int32), tf.cast(scale * width, tf.int32)
        image = tf.image.crop_to_bounding_box(image, (shape[0] - ch) // 2, (shape[1] - cw) // 2,
                                              ch, cw)
    image = tf.image.resize(image, (height, width), antialias=True)
    return tf.clip_by_value(image, 0.0, 1.0)


def _preprocess_np(image, image_shape, crop):
    return _preprocess(tf.constant(image), image_shape, crop).numpy()


def _tf_preprocessor(image_shape, crop, labeled):
    if labeled:
        return lambda x, y: (_preprocess(x, image_shape, crop), y)
    return lambda x: _preprocess(x, image_shape, crop)


# --------------------------------------------------------------------- tensorflow-datasets


def _tfds_source(name, image_shape, crop, data_dir, download, manual_dir, validation_fraction):
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as e:  # tfds raises DatasetNotFoundError and friends
        raise DataError(
            f"unknown dataset {name!r}: not a local source ({', '.join(LOCAL_SOURCES)}) nor a "
            f"tensorflow-datasets dataset found in {data_dir or 'the default data dir'} "
            f"({type(e).__name__})") from None
    if not builder.is_prepared():
        if not download and manual_dir is None:
            raise DataError(
                f"tensorflow-datasets {name!r} is not prepared in "
                f"{data_dir or '~/tensorflow_datasets'} and downloading is off; point "
                "--data-dir at a folder holding it, pass --manual-dir with files fetched by "
                "hand, allow --download, or read local files with idx:DIR / folder:DIR")
        config = tfds.download.DownloadConfig(manual_dir=manual_dir)
        try:
            builder.download_and_prepare(download_config=config)
        except Exception as e:  # network, checksum, or manual-dir errors
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise DataError(
                f"tensorflow-datasets could not prepare {name!r} ({type(e).__name__}: "
                f"{first[:200]}); without a network, pass --manual-dir with its files, point "
                "--data-dir at a prepared copy, or use idx:DIR / folder:DIR") from None
    info = builder.info
    image_key, label_key = _image_and_label_keys(info.features, name)
    native = info.features[image_key].shape
    if image_shape is None:
        if None in native:
            raise DataError(f"{name}: images have no fixed size; pass an image shape "
                            "(--image-shape HxWxC)")
        image_shape = tuple(int(d) for d in native)
    available = {s: info.splits[s].num_examples for s in info.splits.keys()}
    if "train" not in available:
        raise DataError(f"{name}: has no 'train' split (has {', '.join(available)})")
    split_names = {"train": "train", "validation": "validation", "test": "test"}
    n_train = available["train"]
    if "test" not in available:
        test = int(round(0.2 * n_train))
        split_names["test"] = f"train[{n_train - test}:]"
        split_names["train"] = f"train[:{n_train - test}]"
        n_train -= test
    if "validation" not in available:
        val = int(round(validation_fraction * n_train))
        split_names["validation"] = f"train[{n_train - val}:{n_train}]"
        split_names["train"] = f"train[:{n_train - val}]"
    label_feature = info.features[label_key] if label_key else None
    datasets, sizes = {}, {}
    for split, tfds_split in split_names.items():
        ds = builder.as_dataset(split=tfds_split, shuffle_files=False,
                                read_config=tfds.ReadConfig(try_autocache=False))
        sizes[split] = int(info.splits[tfds_split].num_examples)
        target = image_shape

        def convert(example, target=target):
            image = tf.cast(example[image_key], tf.float32) / 255.0
            image = _preprocess(image, target, crop) if tuple(native) != target else image
            if label_key is None:
                return image
            return image, tf.cast(example[label_key], tf.int32)

        datasets[split] = ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)
    return Source(
        DataInfo(name=name, image_shape=tuple(image_shape),
                 num_classes=label_feature.num_classes if label_feature else None,
                 splits=sizes,
                 class_names=tuple(label_feature.names) if label_feature else None),
        datasets)


def _image_and_label_keys(features, name):
    import tensorflow_datasets as tfds

    image_key = label_key = None
    for key, feature in features.items():
        if image_key is None and isinstance(feature, tfds.features.Image):
            image_key = key
        if label_key is None and isinstance(feature, tfds.features.ClassLabel):
            label_key = key
    if image_key is None:
        raise DataError(f"{name}: not an image dataset (no Image feature)")
    return image_key, label_key


# ----------------------------------------------------------------------------- checks


def _check_image_shape(shape):
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise DataError(f"image shape must be (height, width, channels), got {shape!r}") from None
    if len(dims) != 3 or dims[2] not in (1, 3) or min(dims[:2]) < 4 or max(dims[:2]) > 4096:
        raise DataError(f"image shape must be (height, width, 1 or 3) with sides in 4..4096, "
                        f"got {shape!r}")
    return dims
