"""The two tasks whose input is one grey channel: `colorize` and `sketch`."""

import numpy as np
import tensorflow as tf

from keras_aegan.data.tasks.base import register_task
from keras_aegan.data.tasks.image import ImageTask, luminance, unit_port
from keras_aegan.errors import UserError, check_number


@register_task
class Colorize(ImageTask):
    """`colorize`: the input is the luminance (ITU-R BT.601: `0.299 R + 0.587 G + 0.114 B`,
    one channel); the model predicts the RGB image, keeping that luminance (it chooses the
    colours). Needs colour images. The baseline `grey` is the grey image itself."""

    name = "colorize"

    def _check(self):
        channels = self.image_shape[-1]
        if channels != 3:
            raise UserError(f"colorize needs colour (RGB) images, and these have {channels} "
                            "channel; use a colour dataset or --image-shape HxWx3")

    def degrade(self, images):
        return (tf.image.rgb_to_grayscale(images),)

    def input_ports(self):
        return (unit_port("grey", (*self.image_shape[:2], 1)),)

    def describe_input(self):
        return ("colorize: grey = the luminance 0.299 R + 0.587 G + 0.114 B of the "
                f"{'x'.join(map(str, self.image_shape))} image (one channel)")

    def _grey(self, inputs):
        return np.repeat(inputs[0], self.image_shape[-1], axis=-1)

    BASELINES = {"grey": _grey}


@register_task
class Sketch(ImageTask):
    """`sketch` (`threshold`): the input is a binary edge map of the image: 1 where the
    Sobel gradient magnitude of the luminance (3x3 Sobel kernels, reflected borders)
    exceeds `threshold` (default 0.5: a luminance step of about 1/8), else 0. White lines
    on black. No classical baseline."""

    name = "sketch"
    OPTIONS = {"seed": 0, "threshold": 0.5}

    def _check(self, threshold):
        self.threshold = check_number("threshold", threshold, 0, 4, low_open=True)

    def degrade(self, images):
        return (edge_map(images, self.threshold),)

    def input_ports(self):
        return (unit_port("edges", (*self.image_shape[:2], 1)),)

    def describe_input(self):
        return ("sketch: edges = a binary edge map, 1 where the Sobel gradient magnitude of "
                f"the luminance exceeds {self.threshold:g}, else 0")


def edge_map(images, threshold):
    """Binary Sobel edge map `(batch, H, W, 1)`: 1 where the gradient magnitude of the
    luminance exceeds `threshold`."""
    gradients = tf.image.sobel_edges(luminance(tf.convert_to_tensor(images, tf.float32)))
    magnitude = tf.norm(gradients, axis=-1)
    return tf.cast(magnitude > threshold, tf.float32)
