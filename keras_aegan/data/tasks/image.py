"""What the image-to-image tasks share: a seed, the image shape, the image port, the
pictures, and the check of a user's image for `apply`.

The randomness of a degradation (where inpainting's boxes and strokes go) is a pure
function of the task seed and the *content of the batch* it is applied to (a fingerprint
of its pixels), never of a random state: the same batch at the same position of a seeded
data stream is degraded the same way in a resumed run, in another process, or under
`tf.distribute`, while the reshuffled batches of each pass get fresh masks.
"""

import numpy as np
import tensorflow as tf

from keras_aegan import protocol
from keras_aegan.data.tasks.base import Task
from keras_aegan.errors import UserError, check_int


class ImageTask(Task):
    """A task from clean images `(H, W, C)` to model inputs; the target is the image.

    Subclasses set `name`, `OPTIONS` (after `seed`), `_check` (the options beyond the
    seed), `degrade`, `input_ports`, `describe_input` and, when needed, `display`.
    """

    OPTIONS = {"seed": 0}

    def _configure(self, seed, **options):
        if len(self.example_shape) != 3:
            raise UserError(f"the {self.name} task works on images (H, W, C), got examples "
                            f"of shape {self.example_shape}")
        self.image_shape = self.example_shape
        self.seed = check_int("task seed", seed, 0)
        self._check(**options)

    def _check(self, **options):
        """Check and store the options beyond the seed (none by default)."""

    def make_inputs(self, batch):
        images = tf.convert_to_tensor(batch, tf.float32)
        if images.shape.rank != 4 or None in images.shape[1:]:
            raise UserError(f"a task degrades batches of images of a known shape (batch, H, "
                            f"W, C), got {images.shape}")
        return self.degrade(images)

    def degrade(self, images):
        """The model inputs of a float32 batch `(batch, H, W, C)` in [0, 1] (a tuple)."""
        raise NotImplementedError

    def output_port(self):
        return protocol.image_port(self.image_shape, name="translation")

    def describe_input(self):
        """What the inputs are, for `convention`."""
        raise NotImplementedError

    def convention(self):
        shape = "x".join(map(str, self.image_shape))
        return f"{self.describe_input()}; values in [0, 1] -> images {shape} in [0, 1]"

    def display(self, inputs):
        """The first input in every channel of the images (grey and edge maps)."""
        return np.repeat(np.asarray(inputs[0], "float32"), self.image_shape[-1], axis=-1)

    def check_input(self, shape, where):
        """A `UserError` unless an image of `shape` (`(H, W)` or `(H, W, C)`) covers the
        first input port (larger images are tiled) and has 1, 3 or 4 channels."""
        h, w = shape[:2]
        th, tw = self.input_ports()[0].shape[:2]
        if h < th or w < tw:
            raise UserError(f"{where} is {h}x{w}; this model takes images of at least "
                            f"{th}x{tw} ({self.convention()})")
        if len(shape) > 2 and shape[2] not in (1, 3, 4):
            raise UserError(f"{where} has {shape[2]} channels; this model reads grey, RGB or "
                            f"RGBA images ({self.convention()})")

    def named_inputs(self):
        """`{port kind: names}`: the extra inputs the task can make itself for `apply`
        when a user names one instead of giving a file (none by default)."""
        return {}

    def named_input(self, kind, name, image):
        """The extra input `kind` called `name` (one of `named_inputs()[kind]`) for one
        user image `(H, W, C)` of any size, as float32 `(H, W, c)`."""
        raise UserError(f"the {self.name} task makes no {kind} called {name!r}")

    def _uniforms(self, images, count):
        """`(batch, count)` uniforms in [0, 1) seeded by the batch's pixels and the seed."""
        fingerprint = tf.fingerprint(tf.reshape(images, (1, -1)))  # farmhash64: (1, 8) bytes
        seed = tf.bitcast(tf.reshape(fingerprint, (2, 4)), tf.int32)
        seed = tf.bitwise.bitwise_xor(seed, tf.constant([self.seed, 0x5EED], tf.int32))
        return tf.random.stateless_uniform((tf.shape(images)[0], count), seed=seed)


def unit_port(name, shape):
    """A model input port of values in [0, 1], its kind its name."""
    return protocol.Port(name, tuple(shape), name, range=protocol.UNIT_RANGE)


def luminance(images):
    """One-channel luminance of `(batch, H, W, C)` images (grey images pass through)."""
    return images if images.shape[-1] == 1 else tf.image.rgb_to_grayscale(images)
