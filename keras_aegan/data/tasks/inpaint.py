"""Inpainting: the clean image from the image with holes and the mask of the holes."""

import numpy as np
import tensorflow as tf

from keras_aegan import protocol
from keras_aegan.data.tasks.base import register_task
from keras_aegan.data.tasks.image import ImageTask, unit_port
from keras_aegan.errors import UserError, check_int

MASK_KINDS = ("box", "strokes", "mixed")
# What fills a hole in the pictures of a task's inputs (not in the model's input, which is 0).
HOLE_SHADE = 0.5
_STROKES, _VERTICES = 4, 4


@register_task
class Inpaint(ImageTask):
    """`inpaint` (`mask`: `box`, `strokes` or `mixed`; `box`: the box side in pixels, half
    the image side by default).

    The inputs are the image with its holes set to 0 and the mask (one channel, 1 = fill,
    0 = keep). Boxes are axis-aligned squares placed uniformly; strokes are 1-4 free-form
    polylines of 3 segments with random thickness; `mixed` draws either with probability
    1/2. The model keeps the known pixels: its output is the input outside the mask. The
    baselines are scikit-image's `biharmonic` inpainting and `mean_fill` (each hole filled
    with its image's mean known value, per channel).
    """

    name = "inpaint"
    OPTIONS = {"seed": 0, "mask": "mixed", "box": None}

    def _check(self, mask, box):
        height, width, _ = self.image_shape
        if mask not in MASK_KINDS:
            raise UserError(f"mask must be one of {', '.join(MASK_KINDS)}, got {mask!r}")
        self.mask = mask
        box = box if box is not None else min(height, width) // 2
        self.box = check_int("box", box, 1, maximum=min(height, width))

    def degrade(self, images):
        mask = self.masks(images)
        return images * (1.0 - mask), mask

    def input_ports(self):
        return (protocol.image_port(self.image_shape),
                unit_port("mask", (*self.image_shape[:2], 1)))

    def describe_input(self):
        return ("inpaint: images = the image (pixels under the mask are ignored) and "
                "mask = one channel, 1 where to fill, 0 where to keep")

    def display(self, inputs):
        """The image with its holes shaded grey."""
        image, mask = (np.asarray(x, "float32") for x in inputs)
        return image * (1.0 - mask) + HOLE_SHADE * mask

    def masks(self, images):
        """Masks `(batch, H, W, 1)` of 0/1 (1 = hole) for a batch of images."""
        height, width = images.shape[1], images.shape[2]
        per_stroke = 4 + 2 * (_VERTICES - 1)
        u = self._uniforms(images, 3 + _STROKES * per_stroke)
        ys = tf.range(height, dtype=tf.float32)[None, :, None] + 0.5
        xs = tf.range(width, dtype=tf.float32)[None, None, :] + 0.5
        side = self.box
        top = tf.floor(u[:, 1] * (height - side + 1))[:, None, None]
        left = tf.floor(u[:, 2] * (width - side + 1))[:, None, None]
        box = tf.cast((ys >= top) & (ys < top + side) & (xs >= left) & (xs < left + side),
                      tf.float32)
        if self.mask == "box":
            return box[..., None]
        strokes = _stroke_masks(u[:, 3:], height, width)
        if self.mask == "strokes":
            return strokes[..., None]
        return tf.where((u[:, 0] < 0.5)[:, None, None], box, strokes)[..., None]

    def _mean_fill(self, inputs):
        images, mask = inputs
        known = 1.0 - mask
        total = (images * known).sum(axis=(1, 2), keepdims=True)
        mean = total / np.maximum(known.sum(axis=(1, 2), keepdims=True), 1.0)
        return images * known + mean * mask

    def _biharmonic(self, inputs):
        from skimage.restoration import inpaint_biharmonic

        images, mask = inputs
        out = np.empty_like(images)
        for i, (image, hole) in enumerate(zip(images, mask[..., 0] > 0.5)):
            out[i] = inpaint_biharmonic(image, hole, channel_axis=-1) if hole.any() else image
        return out

    BASELINES = {"biharmonic": _biharmonic, "mean_fill": _mean_fill}


def _stroke_masks(u, height, width):
    """Free-form strokes: 1-4 polylines of `_VERTICES` points, each a few pixels thick."""
    batch = tf.shape(u)[0]
    scale = float(min(height, width))
    u = tf.reshape(u, (batch, _STROKES, -1))
    count = 1.0 + tf.floor(u[:, 0, 0] * _STROKES)  # strokes per image, 1.._STROKES
    enabled = tf.range(_STROKES, dtype=tf.float32)[None, :] < count[:, None]
    radius = tf.maximum(0.75, (0.03 + 0.05 * u[:, :, 1]) * scale)
    # Per stroke: [count (stroke 0's), radius, start y, start x, angles..., lengths...].
    points = [tf.stack([u[:, :, 2] * height, u[:, :, 3] * width], -1)]
    for v in range(_VERTICES - 1):
        angle = u[:, :, 4 + v] * 2.0 * np.pi
        length = (0.15 + 0.25 * u[:, :, 4 + _VERTICES - 1 + v]) * scale
        step = tf.stack([tf.sin(angle), tf.cos(angle)], -1) * length[..., None]
        limit = tf.constant([height, width], tf.float32)
        points.append(tf.clip_by_value(points[-1] + step, 0.0, limit))
    grid = tf.stack(tf.meshgrid(tf.range(height, dtype=tf.float32) + 0.5,
                                tf.range(width, dtype=tf.float32) + 0.5, indexing="ij"), -1)
    grid = tf.reshape(grid, (1, 1, height * width, 2))
    inside = tf.zeros((batch, _STROKES, height * width), tf.bool)
    for a, b in zip(points[:-1], points[1:]):
        a, b = a[:, :, None, :], b[:, :, None, :]
        ab = b - a
        t = tf.reduce_sum((grid - a) * ab, -1) / tf.maximum(tf.reduce_sum(ab * ab, -1), 1e-6)
        nearest = a + tf.clip_by_value(t, 0.0, 1.0)[..., None] * ab
        distance = tf.norm(grid - nearest, axis=-1)
        inside |= distance <= radius[..., None]
    inside &= enabled[..., None]
    return tf.reshape(tf.cast(tf.reduce_any(inside, 1), tf.float32), (batch, height, width))
