"""Synthetic sources made from a seed: Moving MNIST videos and TimeGAN's sines.

- `moving_mnist:SPEC`: videos of two digits bouncing in a 64x64 frame, made as Srivastava
  et al. (2015, "Unsupervised learning of video representations using LSTMs") make them,
  from the digits of any image source `SPEC` (`idx:DIR`, `digits`, `mnist`, ...). Each
  example is a `(20, 64, 64, 1)` float32 sequence in [0, 1]: 10 frames observed, 10 to
  predict. Training sequences are drawn afresh on every pass over the split (the paper
  generates them on the fly), from the source's training digits; the validation and test
  sets are fixed (their seeds do not depend on the run's seed) and use only the source's
  validation and test digits. `--image-shape HxWx1` changes the frame size (the digits
  scale with it: 28 px in a 64 px frame).
- `sines`: TimeGAN's sines (Yoon et al. 2019): 5 channels of `sin(f t + p)`, `f` and `p`
  uniform in [0, 0.1], 24 steps, scaled from [-1, 1] to [0, 1]; 10,000 training windows as
  in the paper, and fixed validation and test sets.

`tfds_moving_mnist_test()` reads tensorflow-datasets' fixed Moving MNIST test set (10,000
sequences) where it is prepared.
"""

import numpy as np
import tensorflow as tf

from keras_aegan.data.options import DataOptions
from keras_aegan.data.core import SPLITS, DataInfo, Source, register_source
from keras_aegan.errors import DataError, check_int

# Srivastava et al.'s protocol.
FRAME_SIZE = 64
DIGIT_SIZE = 28
SEQUENCE_LENGTH = 20
OBSERVED_FRAMES = 10
NUM_DIGITS = 2
STEP_LENGTH = 0.1
# Sequences per split: training sequences are drawn afresh each pass (an "epoch" is
# 10,000 of them); the validation set is small because it is evaluated after every epoch.
SPLIT_SIZES = {"train": 10_000, "validation": 256, "test": 2_000}
# Fixed seeds of the splits that must be the same in every run.
_SPLIT_SALT = {"train": 11, "validation": 12, "test": 13}
_FIXED_SEED = 20150213
_BIG = 1_000_003

# TimeGAN's sines.
SINE_LENGTH = 24
SINE_CHANNELS = 5
SINE_SIZES = {"train": 10_000, "validation": 1_000, "test": 1_000}


# ------------------------------------------------------------------------- Moving MNIST


def bouncing_positions(rng, length, canvas, step_length=STEP_LENGTH):
    """Top-left corners of a digit bouncing in a box, as Srivastava et al. compute them.

    The position starts uniform in the unit square with a random direction, moves
    `step_length` per frame and reflects off the walls; it is recorded after each move and
    scaled to the `canvas` (the frame minus the digit) by truncation.

    Args:
        rng: a `numpy.random.Generator`.
        length: number of frames.
        canvas: `(rows, cols)` the corner can take (`frame - digit` each).
        step_length: distance moved per frame, in units of the canvas.

    Returns:
        An int array `(length, 2)` of `(top, left)`, each within `[0, canvas]`.
    """
    position = rng.random(2)  # (y, x)
    theta = rng.random() * 2 * np.pi
    velocity = np.array([np.sin(theta), np.cos(theta)])
    out = np.empty((length, 2))
    for i in range(length):
        position = position + velocity * step_length
        for axis in range(2):
            if position[axis] <= 0:
                position[axis] = 0.0
                velocity[axis] = -velocity[axis]
            if position[axis] >= 1.0:
                position[axis] = 1.0
                velocity[axis] = -velocity[axis]
        out[i] = position
    return (out * np.asarray(canvas)).astype(np.int64)


def moving_digits(digits, rng, length=SEQUENCE_LENGTH, frame_shape=(FRAME_SIZE, FRAME_SIZE),
                  step_length=STEP_LENGTH):
    """One sequence: each of `digits` bounces on its own path; overlaps take the maximum.

    Args:
        digits: `(k, d, d)` digit images in [0, 1] (uint8 0-255 is accepted too).
        rng: a `numpy.random.Generator` (the paths).
        length: number of frames.
        frame_shape: `(H, W)`, each larger than the digits.
        step_length: see `bouncing_positions`.

    Returns:
        A float32 array `(length, H, W, 1)` in [0, 1].
    """
    digits = np.asarray(digits)
    if np.issubdtype(digits.dtype, np.integer):
        digits = digits.astype("float32") / 255.0
    size = digits.shape[1]
    height, width = frame_shape
    frames = np.zeros((length, height, width), "float32")
    for digit in digits:
        for t, (top, left) in enumerate(bouncing_positions(
                rng, length, (height - size, width - size), step_length)):
            window = frames[t, top:top + size, left:left + size]
            np.maximum(window, digit, out=window)
    return frames[..., None]


def moving_mnist(digits, count, seed=0, *, length=SEQUENCE_LENGTH,
                 frame_shape=(FRAME_SIZE, FRAME_SIZE), num_digits=NUM_DIGITS, start=0):
    """`count` Moving MNIST sequences from a pool of digits, as numpy.

    Sequence `i` depends on `(seed, i)` alone, so any slice of a split can be made on its
    own and the same seed always gives the same videos.

    Args:
        digits: `(n, d, d)` or `(n, d, d, 1)` digit images (floats in [0, 1] or uint8).
        count: number of sequences.
        seed: the split's seed.
        length: frames per sequence.
        frame_shape: `(H, W)` of the frames.
        num_digits: digits per sequence.
        start: index of the first sequence (for making a split in pieces).

    Returns:
        A float32 array `(count, length, H, W, 1)` in [0, 1].

    Example:
        >>> videos = moving_mnist(mnist_test_digits, 8, seed=1)
        >>> videos.shape
        (8, 20, 64, 64, 1)
    """
    digits = np.asarray(digits)
    if digits.ndim == 4:
        digits = digits[..., 0]
    if digits.ndim != 3 or not len(digits):
        raise DataError(f"moving_mnist needs digit images (n, d, d), got shape {digits.shape}")
    if min(frame_shape) <= digits.shape[1]:
        raise DataError(f"frames of {frame_shape} are too small for {digits.shape[1]}-pixel "
                        "digits to move in")
    out = np.empty((count, length, *frame_shape, 1), "float32")
    for j in range(count):
        rng = np.random.default_rng([_FIXED_SEED, int(seed), start + j])
        chosen = digits[rng.integers(0, len(digits), num_digits)]
        out[j] = moving_digits(chosen, rng, length, frame_shape)
    return out


class GeneratedSource(Source):
    """A source whose examples are made from a seed and an index when they are read.

    Keeping them would take gigabytes (10,000 Moving MNIST sequences are 3.3 GB of float32),
    and making them costs less than reading them. `make(split, split_seed, indices) ->
    array` makes the examples of a split. Training passes use fresh examples: pass `p` of a
    run with seed `s` is made with a seed of its own from `(s, p)`, so a resumed run finds
    the same stream at the same place; the other splits use a fixed seed, the same in every
    run.

    Args:
        info: the `DataInfo` (`splits` gives the examples per split; `image_shape` the
            shape of one example).
        make: `(split, split_seed, indices) -> float32 array (len(indices), *image_shape)`.
    """

    def __init__(self, info, make):
        super().__init__(info, {})
        self._make = make

    def _one_pass(self, split, count, batch_size, drop_remainder, split_seed):
        shape = (None, *self.info.image_shape)

        def make(seed, indices):
            return self._make(split, int(seed), np.asarray(indices)).astype("float32")

        def render(indices):
            out = tf.numpy_function(make, [split_seed, indices], tf.float32, stateful=False)
            return tf.ensure_shape(out, shape)

        ds = tf.data.Dataset.range(count).batch(batch_size, drop_remainder=drop_remainder)
        return ds.map(render, num_parallel_calls=tf.data.AUTOTUNE)

    def dataset(self, split="train", batch_size=64, *, shuffle=None, seed=0, cache=True,
                drop_remainder=False, take=None, passes=None):
        """A batched pipeline over one split; see `Source.dataset`.

        `shuffle` (default: `True` for `train`) means fresh examples on every pass, made
        from the run's `seed` and the pass, instead of from the split's fixed seed.
        `cache` is ignored: making the examples again is cheaper than holding them.
        """
        del cache
        if split not in self.info.splits:
            raise DataError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
        check_int("batch_size", batch_size, error=DataError)
        count = self.info.splits[split]
        if take is not None:
            count = min(count, check_int("take", take, error=DataError))
        fresh = split == "train" if shuffle is None else bool(shuffle)
        salt = _SPLIT_SALT[split]
        if not fresh:
            ds = self._one_pass(split, count, batch_size, drop_remainder,
                                tf.constant(salt * _BIG + _FIXED_SEED, tf.int64))
            if passes is not None:
                ds = ds.repeat(check_int("passes", passes, error=DataError))
            return ds.prefetch(tf.data.AUTOTUNE)
        base = (salt * _BIG + int(seed)) * _BIG
        if passes is None:
            return self._one_pass(split, count, batch_size, drop_remainder,
                                  tf.constant(base, tf.int64)).prefetch(tf.data.AUTOTUNE)
        check_int("passes", passes, error=DataError)
        ds = tf.data.Dataset.range(passes).flat_map(
            lambda p: self._one_pass(split, count, batch_size, drop_remainder, base + 1 + p))
        return ds.prefetch(tf.data.AUTOTUNE)

    def arrays(self, split="test", limit=None):
        """The examples of a split as numpy, in order (and `None` for the labels)."""
        if split not in self.info.splits:
            raise DataError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
        count = self.info.splits[split] if limit is None else min(limit, self.info.splits[split])
        if count < 1:
            return np.zeros((0, *self.info.image_shape), "float32"), None
        batches = list(self.dataset(split, batch_size=64, shuffle=False, take=count)
                       .as_numpy_iterator())
        return np.concatenate(batches), None


def _digit_pool(source, split, digit_size):
    """A split's digits as uint8 `(n, d, d)` at `digit_size`, grayscale."""
    if split not in source.info.splits or not source.info.splits[split]:
        return None
    chunks = []
    for batch in source.dataset(split, 2048, shuffle=False, cache=False).as_numpy_iterator():
        images = batch[0] if source.info.labeled else batch
        images = tf.image.rgb_to_grayscale(images) if images.shape[-1] == 3 else images
        if images.shape[1:3] != (digit_size, digit_size):
            images = tf.image.resize(images, (digit_size, digit_size), antialias=True)
        chunks.append(np.round(np.clip(np.asarray(images)[..., 0], 0, 1) * 255).astype("uint8"))
    return np.concatenate(chunks)


@register_source("moving_mnist", "moving_mnist:SPEC")
def open_moving_mnist(spec, inner, options):
    """Moving MNIST over the digits of the image source `inner` (see the module)."""
    return moving_mnist_source(inner, options=options, name=spec)


def moving_mnist_source(digits="digits", *, options=None, frame_shape=None, sizes=None,
                        length=SEQUENCE_LENGTH, name=None):
    """Open Moving MNIST over the digits of an image source.

    Args:
        digits: the image source spec of the digits (`idx:DIR`, `digits`, `mnist`, ...).
        options: the `DataOptions` the digit source is opened with (its `image_shape`, if
            any, is the frame shape).
        frame_shape: `(H, W)` of the frames (default 64x64, or `options.image_shape`).
        sizes: sequences per split, `{"train": ..., "validation": ..., "test": ...}`
            (default `SPLIT_SIZES`; `train` is the length of one pass).
        length: frames per sequence.
        name: the source's name (default `moving_mnist:<digits>`).

    Returns:
        A `GeneratedSource` of unlabeled `(length, H, W, 1)` sequences in [0, 1].

    Example:
        >>> source = moving_mnist_source("idx:../shared/data/mnist")
        >>> test, _ = source.arrays("test", limit=100)
    """
    options = options or DataOptions(dataset=digits)
    if digits.partition(":")[0] == "moving_mnist":
        raise DataError("moving_mnist: the digits must come from an image source, not "
                        f"another moving_mnist ({digits!r})")
    if frame_shape is None:
        frame_shape = options.image_shape[:2] if options.image_shape else (FRAME_SIZE,) * 2
        if options.image_shape and options.image_shape[2] != 1:
            raise DataError(f"moving_mnist: frames are grayscale; give an image shape "
                            f"HxWx1, got {'x'.join(map(str, options.image_shape))}")
    frame_shape = tuple(int(d) for d in frame_shape)
    if min(frame_shape) < 16:
        raise DataError(f"moving_mnist: frames must be at least 16x16, got {frame_shape}")
    length = check_int("length", length, minimum=2, error=DataError)
    sizes = {**SPLIT_SIZES, **(sizes or {})}
    for split, n in sizes.items():
        check_int(f"{split} sequences", n, error=DataError)
    digit_size = max(7, round(DIGIT_SIZE * min(frame_shape) / FRAME_SIZE))
    inner_options = DataOptions(dataset=digits, data_dir=options.data_dir,
                                download=options.download, manual_dir=options.manual_dir,
                                validation_fraction=options.validation_fraction)
    source = inner_options.open_data()
    if len(source.info.image_shape) != 3:
        raise DataError(f"moving_mnist: {digits!r} does not hold images (its examples have "
                        f"shape {source.info.image_shape})")
    pools = {split: _digit_pool(source, split, digit_size) for split in SPLITS}
    # Without a split of its own (a source with only train and test), validation sequences
    # use the test digits: still never the training digits.
    pools["validation"] = pools["validation"] if pools["validation"] is not None \
        else pools["test"]
    pools = {split: pool if pool is not None else pools["train"] for split, pool in pools.items()}
    info = DataInfo(name=name or f"moving_mnist:{digits}",
                    image_shape=(length, *frame_shape, 1), num_classes=None,
                    splits=dict(sizes))

    def make(split, split_seed, indices):
        return np.concatenate([moving_mnist(pools[split], 1, split_seed, length=length,
                                            frame_shape=frame_shape, start=int(i))
                               for i in indices]) if len(indices) else \
            np.zeros((0, *info.image_shape), "float32")

    return GeneratedSource(info, make)


def tfds_moving_mnist_test(data_dir=None):
    """tensorflow-datasets' fixed Moving MNIST test set (Srivastava et al.'s 10,000
    sequences of 20 frames), as float32 `(10000, 20, 64, 64, 1)` in [0, 1].

    Raises:
        DataError: tensorflow-datasets has not prepared `moving_mnist` in `data_dir` (it
            is not downloaded here: the benchmark runs offline).
    """
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder("moving_mnist", data_dir=data_dir)
    except Exception as e:  # tfds raises DatasetNotFoundError and friends
        raise DataError(f"tensorflow-datasets has no moving_mnist ({type(e).__name__})") \
            from None
    if not builder.is_prepared():
        raise DataError(f"tensorflow-datasets moving_mnist is not prepared in "
                        f"{data_dir or '~/tensorflow_datasets'}")
    ds = builder.as_dataset(split="test", shuffle_files=False)
    chunks = [np.asarray(example["image_sequence"], "float32") / 255.0
              for example in ds.batch(500).as_numpy_iterator()]
    return np.concatenate(chunks)


# -------------------------------------------------------------------------------- sines


def sines(count, seed=0, length=SINE_LENGTH, channels=SINE_CHANNELS):
    """TimeGAN's sine windows: each channel `sin(f t + p)`, `f, p ~ U(0, 0.1)`, `t = 0 ..
    length - 1`, scaled from [-1, 1] to [0, 1] (Yoon et al. 2019, `sine_data_generation`).

    Returns:
        A float32 array `(count, length, channels)`.
    """
    rng = np.random.default_rng([_FIXED_SEED, int(seed)])
    freq = rng.uniform(0, 0.1, (count, 1, channels))
    phase = rng.uniform(0, 0.1, (count, 1, channels))
    t = np.arange(length)[None, :, None]
    return ((np.sin(freq * t + phase) + 1) * 0.5).astype("float32")


@register_source("sines", "sines", needs_arg=False)
def open_sines(spec, arg, options):
    """TimeGAN's sines: 10,000 training windows of 24 steps x 5 channels, and fixed
    validation and test sets (their own seeds)."""
    del arg, options
    from keras_aegan.data.series import windows_source

    return windows_source({split: sines(n, seed=_SPLIT_SALT[split])
                           for split, n in SINE_SIZES.items()}, spec)
