"""Inpainting: the clean image from the image with holes and the mask of the holes."""

import numpy as np
import tensorflow as tf

from keras_aegan import protocol
from keras_aegan.data.tasks.base import register_task
from keras_aegan.data.tasks.image import ImageTask, unit_port
from keras_aegan.errors import UserError, check_int, check_number

MASK_KINDS = ("box", "strokes", "mixed", "eyes")
# What fills a hole in the pictures of a task's inputs (not in the model's input, which is 0).
HOLE_SHADE = 0.5
_STROKES, _VERTICES = 4, 4
# Where the eyes are on aligned faces, as a share of the picture's height from the top:
# measured on the AT&T (ORL) faces as `data.faces` squares them (the centred 92x92
# square), as the darkest row of each picture's central columns between rows 30 and 55
# (5-row smoothing): median row 41 of 92 (0.45), 5th-95th percentile rows 31-51
# (0.34-0.55). The default band, a quarter of the height, spans 0.325-0.575 and so covers
# the eyes of nearly every picture. On the 25x25 LFW crops (`lfw_faces`) the same
# measure gives 0.32 (rows 6-9 of 25): pass `eye_row=0.32` there.
EYE_ROW = 0.45
BAND_SHARE = 0.25


@register_task
class Inpaint(ImageTask):
    """`inpaint` (`mask`: `box`, `strokes`, `mixed` or `eyes`; `box`: the box side in pixels,
    half the image side by default; `band`: the eye band's height in pixels, a quarter of
    the image height by default; `eye_row`: the band's centre as a share of the height
    from the top, 0.45 by default, where the eyes are on the aligned `faces`).

    The inputs are the image with its holes set to 0 and the mask (one channel, 1 = fill,
    0 = keep). Boxes are axis-aligned squares placed uniformly (the "remove the photo
    bomber" use); strokes are 1-4 free-form polylines of 3 segments with random thickness;
    `mixed` draws either with probability 1/2; `eyes` is a band the full width of the
    image over the eyes of an aligned face, the same on every image. The model keeps the known pixels: its output is the input outside the mask. The
    baselines are scikit-image's `biharmonic` inpainting and `mean_fill` (each hole filled
    with its image's mean known value, per channel).
    """

    name = "inpaint"
    OPTIONS = {"seed": 0, "mask": "mixed", "box": None, "band": None, "eye_row": EYE_ROW}

    def _check(self, mask, box, band, eye_row):
        height, width, _ = self.image_shape
        if mask not in MASK_KINDS:
            raise UserError(f"mask must be one of {', '.join(MASK_KINDS)}, got {mask!r}")
        self.mask = mask
        box = box if box is not None else min(height, width) // 2
        self.box = check_int("box", box, 1, maximum=min(height, width))
        band = band if band is not None else max(1, round(BAND_SHARE * height))
        self.band = check_int("band", band, 1, maximum=height)
        self.eye_row = check_number("eye_row", eye_row, 0.0, 1.0)

    def band_rows(self, height=None):
        """`(top, bottom)`: the rows the eye band covers (bottom excluded) on images of
        `height` rows (the task's own by default; the band scales with the height), kept
        inside the picture."""
        own = self.image_shape[0]
        height = own if height is None else int(height)
        band = max(1, min(height, round(self.band * height / own)))
        top = min(max(0, round(self.eye_row * height - band / 2)), height - band)
        return top, top + band

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
        if self.mask == "eyes":
            top, bottom = self.band_rows(height)
            band = tf.cast((ys >= top) & (ys < bottom), tf.float32)
            return tf.broadcast_to(band, tf.shape(box))[..., None]
        strokes = _stroke_masks(u[:, 3:], height, width)
        if self.mask == "strokes":
            return strokes[..., None]
        return tf.where((u[:, 0] < 0.5)[:, None, None], box, strokes)[..., None]

    def named_inputs(self):
        return {"mask": MASK_KINDS}

    def named_input(self, kind, name, image):
        """The mask kind `name` for a user's image of any size: the task's own masks with
        its options, the box side and band height scaled to the image (the eye band at
        the same share of the height), placed by the image's pixels and the task seed."""
        if kind != "mask" or name not in MASK_KINDS:
            return super().named_input(kind, name, image)
        height, width = image.shape[:2]
        own = min(self.image_shape[:2])
        top, bottom = self.band_rows(height)
        sized = Inpaint((height, width, image.shape[-1]), seed=self.seed, mask=name,
                        box=max(1, min(height, width, round(self.box * min(height, width)
                                                            / own))),
                        band=bottom - top, eye_row=self.eye_row)
        return np.asarray(sized.masks(tf.constant(image[None], tf.float32))[0], "float32")

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
