"""Differentiable augmentation of a GAN's discriminator inputs (Zhao et al. 2020, DiffAugment).

The same kind of random transform is applied to the real and the generated images before
the discriminator sees them, inside the training step, and every transform is
differentiable in the images, so the generator learns through it. The discriminator then
cannot memorise the training images, which matters most with little data.

A policy is a comma-separated string of transforms, applied in order:

- `"translation"`: shift each image by whole pixels, up to 1/8 of its height and width in
  each direction, filling with zeros (black);
- `"cutout"`: zero a square of half the image's side at a random place;
- `"color"`: random brightness (+-0.25 on [0, 1] images) and contrast (x0.5-1.5 about the
  image's mean), and saturation (x0-2) for colour images.

Example:
    >>> augment = DiffAugment("translation,cutout", seed=0)
    >>> augmented = augment(images)   # (batch, height, width, channels), same shape
"""

import keras
import tensorflow as tf

from keras_aegan import compat
from keras_aegan.errors import UserError

TRANSFORMS = ("translation", "cutout", "color")


def parse_policy(policy):
    """`"translation,cutout"` -> `("translation", "cutout")`; `None` or `""` -> `()`."""
    if policy is None:
        return ()
    if not isinstance(policy, str):
        raise UserError(f"diffaugment: expected a comma-separated string of "
                        f"{', '.join(TRANSFORMS)}, got {policy!r}")
    names = tuple(name.strip() for name in policy.split(",") if name.strip())
    unknown = [name for name in names if name not in TRANSFORMS]
    if unknown:
        raise UserError(f"diffaugment: unknown transform {unknown[0]!r}; choose from "
                        f"{', '.join(TRANSFORMS)}")
    return names


class DiffAugment:
    """A callable `images -> augmented images` drawing its randomness from a Keras
    `SeedGenerator` (`seed`: an int, or a `keras.random.SeedGenerator` to share)."""

    def __init__(self, policy, seed=None):
        self.transforms = parse_policy(policy)
        self.seed_generator = (seed if isinstance(seed, keras.random.SeedGenerator)
                               else keras.random.SeedGenerator(seed, name="diffaugment_seed"))

    def __bool__(self):
        return bool(self.transforms)

    def __call__(self, images):
        for name in self.transforms:
            images = getattr(self, f"_{name}")(images)
        return images

    def _uniform(self, batch, low, high):
        """One value per image, shaped `(batch, 1, 1, 1)`."""
        return compat.per_replica_random(
            lambda shape: keras.random.uniform(shape, low, high, seed=self.seed_generator),
            batch, (1, 1, 1))

    def _randint(self, batch, low, high):
        """One integer in `[low, high)` per image, shaped `(batch, 1)`."""
        return compat.per_replica_random(
            lambda shape: keras.random.randint(shape, low, high, seed=self.seed_generator),
            batch, (1,))

    def _translation(self, images, ratio=0.125):
        # out[i, j] = in[i - dy, j - dx], zero outside: a one-hot row (column) selection
        # matrix per image; tf.one_hot gives an all-zero row for an index out of range.
        batch = tf.shape(images)[0]
        height, width = images.shape[1], images.shape[2]
        rows = self._shifted_selection(batch, height, int(height * ratio + 0.5))
        cols = self._shifted_selection(batch, width, int(width * ratio + 0.5))
        images = tf.einsum("bij,bjwc->biwc", rows, images)
        return tf.einsum("bkw,biwc->bikc", cols, images)

    def _shifted_selection(self, batch, size, reach):
        shift = self._randint(batch, -reach, reach + 1)
        source = tf.range(size)[None, :] - shift
        return tf.one_hot(source, size, dtype=self.dtype)

    @property
    def dtype(self):
        return keras.backend.floatx()

    def _cutout(self, images, ratio=0.5):
        batch = tf.shape(images)[0]
        height, width = images.shape[1], images.shape[2]
        keep = None
        for axis, size in ((1, height), (2, width)):
            cut = int(size * ratio + 0.5)
            centre = self._randint(batch, 0, size + (1 - cut % 2))
            position = tf.range(size)[None, :]
            inside = (position >= centre - cut // 2) & (position < centre - cut // 2 + cut)
            inside = inside[:, :, None] if axis == 1 else inside[:, None, :]
            keep = inside if keep is None else keep & inside
        mask = 1.0 - tf.cast(keep, images.dtype)
        return images * mask[..., None]

    def _color(self, images):
        batch = tf.shape(images)[0]
        images = images + tf.cast(self._uniform(batch, -0.25, 0.25), images.dtype)
        if images.shape[-1] > 1:
            grey = tf.reduce_mean(images, axis=-1, keepdims=True)
            images = grey + (images - grey) * tf.cast(self._uniform(batch, 0.0, 2.0),
                                                      images.dtype)
        mean = tf.reduce_mean(images, axis=(1, 2, 3), keepdims=True)
        return mean + (images - mean) * tf.cast(self._uniform(batch, 0.5, 1.5), images.dtype)
