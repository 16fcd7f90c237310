"""Image-to-image tasks: pure, seeded degradations that turn clean images into model inputs.

A *task* is plain data (a dict, JSON-able), made and checked by `make_task`:

- `super_resolution` (`factor`: 2, 3, 4 or 8, dividing the image sides): the input is the
  image downsampled `factor` times by area averaging (each small pixel is the mean of a
  `factor x factor` block). The generator takes **the small image** and upsamples it
  bilinearly inside itself before refining it at full size; the classical baseline is the
  bicubic upsampling of the same small image.
- `colorize`: the input is the luminance (ITU-R BT.601: `0.299 R + 0.587 G + 0.114 B`,
  one channel); the model predicts the RGB image, keeping that luminance (it chooses the
  colours). Needs colour images.
- `inpaint` (`mask`: `box`, `strokes` or `mixed`; `box`: the box side in pixels, half the
  image side by default): the inputs are the image with its holes set to 0 and the mask
  (one channel, 1 = fill, 0 = keep). Boxes are axis-aligned squares placed uniformly;
  strokes are 1-4 free-form polylines of 3 segments with random thickness; `mixed` draws
  either with probability 1/2. The model keeps the known pixels: its output is the input
  outside the mask.
- `sketch` (`threshold`): the input is a binary edge map of the image: 1 where the Sobel
  gradient magnitude of the luminance (3x3 Sobel kernels, reflected borders) exceeds
  `threshold` (default 0.5: a luminance step of about 1/8), else 0. White lines on black.

Every task has a `seed` (default 0). The randomness of a degradation (where the boxes and
strokes go) is a pure function of the task seed and the *content of the batch* it is
applied to (a fingerprint of its pixels), never of a random state: the same batch at the
same position of a seeded data stream is degraded the same way in a resumed run, in
another process, or under `tf.distribute`, while the reshuffled batches of each pass get
fresh masks. `pairs(task)` is the `tf.data` map; `degrade_arrays` does the same on numpy
arrays for evaluation.

Example:
    >>> task = make_task("super_resolution", (28, 28, 1), factor=4)
    >>> small, = degrade(task, images)        # (batch, 7, 7, 1)
    >>> ds = dataset.map(pairs(task))          # (small, images) pairs for fit
"""

import numpy as np
import tensorflow as tf

from keras_aegan import protocol
from keras_aegan.errors import UserError, check_int, check_number, did_you_mean

TASK_NAMES = ("super_resolution", "colorize", "inpaint", "sketch")
MASK_KINDS = ("box", "strokes", "mixed")
FACTORS = (2, 3, 4, 8)
# Options each task takes, with their defaults (`None`: computed from the image shape).
OPTIONS = {
    "super_resolution": {"factor": 4},
    "colorize": {},
    "inpaint": {"mask": "mixed", "box": None},
    "sketch": {"threshold": 0.5},
}
# What fills a hole in the pictures of a task's inputs (not in the model's input, which is 0).
HOLE_SHADE = 0.5
_STROKES, _VERTICES = 4, 4


def make_task(name, image_shape, **options):
    """A checked task description for images of `image_shape`.

    Args:
        name: one of `TASK_NAMES`.
        image_shape: `(H, W, C)` of the clean images.
        **options: the task's options (see the module docstring) and `seed`; `None`
            values take the default.

    Returns:
        A dict: `{"name": ..., "seed": ..., <options>}`, every option filled in.

    Raises:
        UserError: an unknown task or option, a factor that does not divide the image
            sides, `colorize` on grayscale images, an option out of range.
    """
    if name not in OPTIONS:
        raise UserError(f"unknown task {name!r}{did_you_mean(name, OPTIONS)}; known: "
                        f"{', '.join(TASK_NAMES)}")
    height, width, channels = (int(d) for d in image_shape)
    seed = options.pop("seed", None)
    unknown = sorted(k for k, v in options.items() if k not in OPTIONS[name] and v is not None)
    if unknown:
        takes = ", ".join(OPTIONS[name]) or "no options"
        raise UserError(f"the {name} task has no option {', '.join(unknown)} (its options: "
                        f"{takes}; and its seed)")
    values = {k: (v if options.get(k) is None else options[k])
              for k, v in OPTIONS[name].items()}
    task = {"name": name, "seed": check_int("task seed", 0 if seed is None else seed, 0)}
    if name == "super_resolution":
        factor = values["factor"]
        if isinstance(factor, bool) or factor not in FACTORS:
            raise UserError(f"factor must be one of {', '.join(map(str, FACTORS))}, got "
                            f"{factor!r}")
        if height % factor or width % factor:
            raise UserError(f"factor {factor} does not divide the image size "
                            f"{height}x{width}; pick a factor that does, or resize with "
                            "--image-shape")
        task["factor"] = int(factor)
    elif name == "colorize":
        if channels != 3:
            raise UserError(f"colorize needs colour (RGB) images, and these have {channels} "
                            "channel; use a colour dataset or --image-shape HxWx3")
    elif name == "inpaint":
        if values["mask"] not in MASK_KINDS:
            raise UserError(f"mask must be one of {', '.join(MASK_KINDS)}, got "
                            f"{values['mask']!r}")
        task["mask"] = values["mask"]
        box = values["box"] if values["box"] is not None else min(height, width) // 2
        task["box"] = check_int("box", box, 1, maximum=min(height, width))
    elif name == "sketch":
        task["threshold"] = check_number("threshold", values["threshold"], 0, 4,
                                         low_open=True)
    return task


def input_ports(task, image_shape):
    """The model inputs a task's degradation makes, as `protocol.Port`s (in order)."""
    height, width, channels = image_shape
    name = task["name"]
    if name == "super_resolution":
        f = task["factor"]
        return (protocol.Port("low_resolution", (height // f, width // f, channels),
                              "low_resolution", range=protocol.UNIT_RANGE),)
    if name == "colorize":
        return (protocol.Port("grey", (height, width, 1), "grey", range=protocol.UNIT_RANGE),)
    if name == "inpaint":
        return (protocol.image_port((height, width, channels)),
                protocol.Port("mask", (height, width, 1), "mask", range=protocol.UNIT_RANGE))
    return (protocol.Port("edges", (height, width, 1), "edges", range=protocol.UNIT_RANGE),)


def convention(task, image_shape):
    """One sentence on what to feed a translator of this task (for manifests and help)."""
    shape = "x".join(map(str, image_shape))
    name = task["name"]
    if name == "super_resolution":
        f = task["factor"]
        small = f"{image_shape[0] // f}x{image_shape[1] // f}x{image_shape[2]}"
        what = (f"super_resolution x{f}: low_resolution = a {small} image, the {shape} "
                f"image downsampled {f}x by area averaging")
    elif name == "colorize":
        what = ("colorize: grey = the luminance 0.299 R + 0.587 G + 0.114 B of the "
                f"{shape} image (one channel)")
    elif name == "inpaint":
        what = ("inpaint: images = the image (pixels under the mask are ignored) and "
                "mask = one channel, 1 where to fill, 0 where to keep")
    else:
        what = (f"sketch: edges = a binary edge map, 1 where the Sobel gradient magnitude "
                f"of the luminance exceeds {task['threshold']:g}, else 0")
    return f"{what}; values in [0, 1] -> images {shape} in [0, 1]"


# ------------------------------------------------------------------------- degradations


def degrade(task, images):
    """The model inputs a task makes from a batch of clean images, as a tuple of tensors.

    Pure: the same batch and task give the same inputs (see the module docstring).

    Args:
        task: a dict from `make_task`.
        images: float `(batch, H, W, C)` in [0, 1].

    Returns:
        A tuple of float32 tensors, one per `input_ports(task, ...)` port.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    if images.shape.rank != 4 or None in images.shape[1:]:
        raise UserError(f"a task degrades batches of images of a known shape (batch, H, W, "
                        f"C), got {images.shape}")
    name = task["name"]
    if name == "super_resolution":
        f = task["factor"]
        return (tf.nn.avg_pool2d(images, f, f, "VALID"),)
    if name == "colorize":
        return (tf.image.rgb_to_grayscale(images),)
    if name == "inpaint":
        mask = inpaint_masks(task, images)
        return images * (1.0 - mask), mask
    return (edge_map(images, task["threshold"]),)


def pairs(task):
    """The `tf.data` map for training: a batch of images (and labels) -> `(inputs, images)`;
    `inputs` is a tensor for a one-input task and a tuple otherwise."""

    # Plain tensor code with no data-dependent Python control flow: nothing to convert.
    @tf.autograph.experimental.do_not_convert
    def to_pair(images, labels=None):
        del labels
        inputs = degrade(task, images)
        return (inputs[0] if len(inputs) == 1 else inputs), images

    return to_pair


def degrade_arrays(task, images, batch_size=256):
    """`degrade` on a numpy array in fixed batches of `batch_size`: a tuple of numpy arrays.

    The batching is part of the randomness (a batch's fingerprint seeds it), so the same
    array and batch size always give the same inputs.
    """
    images = np.asarray(images, "float32")
    parts = [[np.asarray(t) for t in degrade(task, images[i:i + batch_size])]
             for i in range(0, len(images), batch_size)]
    return tuple(np.concatenate(column) for column in zip(*parts))


def examples(task, images, batch_size=256):
    """`{port kind: array}` of a batch of clean images, e.g. for an export's parity check."""
    ports = input_ports(task, images.shape[1:])
    return {port.kind: value for port, value in zip(ports, degrade_arrays(task, images,
                                                                          batch_size))}


def _uniforms(task, images, count):
    """`(batch, count)` uniforms in [0, 1) seeded by the batch's pixels and the task seed."""
    fingerprint = tf.fingerprint(tf.reshape(images, (1, -1)))  # farmhash64: (1, 8) bytes
    seed = tf.bitcast(tf.reshape(fingerprint, (2, 4)), tf.int32)
    seed = tf.bitwise.bitwise_xor(seed, tf.constant([task["seed"], 0x5EED], tf.int32))
    return tf.random.stateless_uniform((tf.shape(images)[0], count), seed=seed)


def inpaint_masks(task, images):
    """Masks `(batch, H, W, 1)` of 0/1 (1 = hole) for an inpaint task and a batch."""
    height, width = images.shape[1], images.shape[2]
    per_stroke = 4 + 2 * (_VERTICES - 1)
    u = _uniforms(task, images, 3 + _STROKES * per_stroke)
    ys = tf.range(height, dtype=tf.float32)[None, :, None] + 0.5
    xs = tf.range(width, dtype=tf.float32)[None, None, :] + 0.5
    side = task["box"]
    top = tf.floor(u[:, 1] * (height - side + 1))[:, None, None]
    left = tf.floor(u[:, 2] * (width - side + 1))[:, None, None]
    box = tf.cast((ys >= top) & (ys < top + side) & (xs >= left) & (xs < left + side),
                  tf.float32)
    if task["mask"] == "box":
        return box[..., None]
    strokes = _stroke_masks(u[:, 3:], height, width)
    if task["mask"] == "strokes":
        return strokes[..., None]
    return tf.where((u[:, 0] < 0.5)[:, None, None], box, strokes)[..., None]


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


def luminance(images):
    """One-channel luminance of `(batch, H, W, C)` images (grey images pass through)."""
    return images if images.shape[-1] == 1 else tf.image.rgb_to_grayscale(images)


def edge_map(images, threshold):
    """Binary Sobel edge map `(batch, H, W, 1)`: 1 where the gradient magnitude of the
    luminance exceeds `threshold`."""
    gradients = tf.image.sobel_edges(luminance(tf.convert_to_tensor(images, tf.float32)))
    magnitude = tf.norm(gradients, axis=-1)
    return tf.cast(magnitude > threshold, tf.float32)


# ---------------------------------------------------------------- pictures and baselines


def display(task, inputs, image_shape):
    """A task's inputs drawn at the clean images' shape (numpy), for picture grids: the
    small image enlarged by pixel repetition, grey and edge maps in every channel, holes
    shaded grey."""
    channels = image_shape[-1]
    first = np.asarray(inputs[0], "float32")
    name = task["name"]
    if name == "super_resolution":
        f = task["factor"]
        return np.repeat(np.repeat(first, f, axis=1), f, axis=2)
    if name == "inpaint":
        mask = np.asarray(inputs[1], "float32")
        return first * (1.0 - mask) + HOLE_SHADE * mask
    return np.repeat(first, channels, axis=-1)


def baseline_names(task_name):
    """The classical baselines of a task, by name (see `baseline`)."""
    return {"super_resolution": ("bicubic",), "colorize": ("grey",),
            "inpaint": ("biharmonic", "mean_fill"), "sketch": ()}[task_name]


def baseline(name, task, inputs, image_shape):
    """A classical method's answer to the task's inputs (numpy, clipped to [0, 1]).

    - `bicubic`: bicubic upsampling of the small image (super-resolution);
    - `grey`: the grey image itself, in every channel (colorize);
    - `biharmonic`: scikit-image's biharmonic inpainting of the holes;
    - `mean_fill`: each hole filled with its image's mean known value, per channel.
    """
    if name not in baseline_names(task["name"]):
        raise UserError(f"the {task['name']} task has no baseline {name!r}; it has: "
                        f"{', '.join(baseline_names(task['name'])) or 'none'}")
    first = np.asarray(inputs[0], "float32")
    if name == "bicubic":
        out = tf.image.resize(first, image_shape[:2], method="bicubic").numpy()
    elif name == "grey":
        out = np.repeat(first, image_shape[-1], axis=-1)
    else:
        mask = np.asarray(inputs[1], "float32")
        out = _mean_fill(first, mask) if name == "mean_fill" else _biharmonic(first, mask)
    return np.clip(out, 0.0, 1.0).astype("float32")


def _mean_fill(images, mask):
    known = 1.0 - mask
    total = (images * known).sum(axis=(1, 2), keepdims=True)
    mean = total / np.maximum(known.sum(axis=(1, 2), keepdims=True), 1.0)
    return images * known + mean * mask


def _biharmonic(images, mask):
    from skimage.restoration import inpaint_biharmonic

    out = np.empty_like(images)
    for i, (image, hole) in enumerate(zip(images, mask[..., 0] > 0.5)):
        if not hole.any():
            out[i] = image
            continue
        out[i] = inpaint_biharmonic(image, hole, channel_axis=-1)
    return out
