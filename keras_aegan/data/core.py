"""The data layer's core: `DataInfo`, `Source` and preprocessing.

A source module registers each kind of spec it opens (`register_source`, in
`keras_aegan.data.specs`, re-exported here); `open_source` looks the kind up, so a new
source plugs in without a branch here. Array sources (files,
bundled sets) hand `array_source` their splits as arrays; it converts them to float32
NHWC in [0, 1], carves missing splits and makes the pipelines.
"""

import dataclasses
import math

import numpy as np
import tensorflow as tf

from keras_aegan.data.options import DataOptions
from keras_aegan.data.specs import (SOURCE_KINDS, TFDS_KIND, SourceKind,  # noqa: F401
                                    local_sources, open_data, register_source)
from keras_aegan.errors import DataError, check_int

SPLITS = ("train", "validation", "test")
# The split carve is fixed so that runs with different seeds compare on the same data.
_CARVE_SEED = 20061028
_SHUFFLE_CYCLE = 32
@dataclasses.dataclass(frozen=True)
class DataInfo:
    """What a source holds.

    Attributes:
        name: the source spec it came from.
        image_shape: the shape of one example the pipelines yield: `(height, width,
            channels)` for images; `(time, height, width, channels)` for clips, `(time,
            channels)` for series windows, `(max_length,)` for rows of character ids.
        num_classes: number of label classes, or `None` for an unlabeled source.
        splits: number of examples per split (`train`, `validation`, `test`).
        class_names: label names where the source has them.
        vocabulary: for a text source, its characters in id order from 2 (a string; id 0
            pads a row, id 1 ends an item): a model of text is built for them. `None`
            for other sources.
        split_by_identity: the labels name identities (people) and the splits were made
            by identity: `test` holds identities that `train` and `validation` never
            show, so a classifier of these labels cannot be scored on `test` (score it on
            held-out pictures of the training identities instead; the evaluator does).
        audio: for a source of sound, the `keras_aegan.data.audio.Spectrogram` its images
            are (its `waveforms` turns them back into sound); `None` otherwise.
    """

    name: str
    image_shape: tuple
    num_classes: int | None
    splits: dict
    class_names: tuple | None = None
    vocabulary: str | None = None
    split_by_identity: bool = False
    audio: object = None

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
    """Open a source spec (see `keras_aegan.data`) for pipelines.

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
    return DataOptions(spec, image_shape, crop, data_dir, download, manual_dir,
                       validation_fraction).open_data()


def load(spec="digits", split="train", batch_size=64, *, seed=0, shuffle=None, **source_kwargs):
    """Open `spec` and return `(dataset, info)` for one split; see `open_source`."""
    source = open_source(spec, **source_kwargs)
    return source.dataset(split, batch_size, seed=seed, shuffle=shuffle), source.info


# --------------------------------------------------------------------------- array sources


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


def array_source(spec, read, options, *, split_by_identity=False, audio=None):
    """A `Source` over arrays: `read` is `(splits, class_names)`, where `splits` maps
    split names (at least `train`) to `(images, labels or None)`; images as arrays of
    uint8 0-255 or floats in [0, 1], or a list of single images of mixed sizes.
    `split_by_identity` is passed to `DataInfo` for a labelled source whose reader split
    it by identity (it then gives every split itself). `audio` is passed to `DataInfo`
    for spectrograms of sound."""
    image_shape, crop = options.image_shape, options.crop
    validation_fraction = options.validation_fraction
    raw_splits, class_names = read
    if split_by_identity and not {"train", "validation", "test"} <= set(raw_splits):
        # A carve picks pictures at random and would put one person on both sides.
        raise ValueError(f"{spec}: a source split by identity must give all three splits")
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
                    class_names=class_names, split_by_identity=split_by_identity and labeled,
                    audio=audio)
    return Source(info, datasets)


# ------------------------------------------------------------------------- preprocessing


def preprocess(image, image_shape, crop):
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
    return preprocess(tf.constant(image), image_shape, crop).numpy()


def _tf_preprocessor(image_shape, crop, labeled):
    if labeled:
        return lambda x, y: (preprocess(x, image_shape, crop), y)
    return lambda x: preprocess(x, image_shape, crop)
