"""Super-resolution: the clean image from its `factor`-times smaller version."""

import numpy as np
import tensorflow as tf

from keras_aegan.data.tasks.base import register_task
from keras_aegan.data.tasks.image import ImageTask, unit_port
from keras_aegan.errors import UserError

FACTORS = (2, 3, 4, 8)


@register_task
class SuperResolution(ImageTask):
    """`super_resolution` (`factor`: 2, 3, 4 or 8, dividing the image sides).

    The input is the image downsampled `factor` times by area averaging (each small pixel
    is the mean of a `factor x factor` block). The generator takes **the small image** and
    upsamples it bilinearly inside itself before refining it at full size; the classical
    baseline is the bicubic upsampling of the same small image.

    Example:
        >>> task = SuperResolution((28, 28, 1), factor=4)
        >>> small, = task.make_inputs(images)        # (batch, 7, 7, 1)
    """

    name = "super_resolution"
    OPTIONS = {"seed": 0, "factor": 4}

    def _check(self, factor):
        height, width, _ = self.image_shape
        if isinstance(factor, bool) or factor not in FACTORS:
            raise UserError(f"factor must be one of {', '.join(map(str, FACTORS))}, got "
                            f"{factor!r}")
        if height % factor or width % factor:
            raise UserError(f"factor {factor} does not divide the image size "
                            f"{height}x{width}; pick a factor that does, or resize with "
                            "--image-shape")
        self.factor = int(factor)

    def degrade(self, images):
        return (tf.nn.avg_pool2d(images, self.factor, self.factor, "VALID"),)

    def input_ports(self):
        height, width, channels = self.image_shape
        f = self.factor
        return (unit_port("low_resolution", (height // f, width // f, channels)),)

    def describe_input(self):
        f, (height, width, channels) = self.factor, self.image_shape
        return (f"super_resolution x{f}: low_resolution = a {height // f}x{width // f}x"
                f"{channels} image, the {height}x{width}x{channels} image downsampled {f}x "
                "by area averaging")

    def display(self, inputs):
        """The small image enlarged by pixel repetition."""
        small = np.asarray(inputs[0], "float32")
        return np.repeat(np.repeat(small, self.factor, axis=1), self.factor, axis=2)

    def _bicubic(self, inputs):
        return tf.image.resize(inputs[0], self.image_shape[:2], method="bicubic").numpy()

    BASELINES = {"bicubic": _bicubic}
