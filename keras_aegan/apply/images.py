"""`apply`'s image files: reading a user's PNG/JPEG as a port's channels, its size from
its header, and writing an answer as an 8-bit PNG."""

import os

import numpy as np

from keras_aegan import files
from keras_aegan.errors import UserError


def image_size(path):
    """`(height, width)` of an image file, read from its header; a `UserError` if it is
    not a readable image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, UnidentifiedImageError) as e:
        raise UserError(f"{path}: not a readable image ({type(e).__name__})") from None
    return height, width


def read_image(path, channels):
    """An image file as float32 `(H, W, channels)` in [0, 1] (grey = luminance)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            if image.mode in ("I;16", "I;16B", "I"):  # 16-bit PNGs: keep the precision
                array = np.asarray(image, "float32") / 65535.0
                array = array[..., None] if channels == 1 else np.repeat(
                    array[..., None], 3, axis=-1)
                return array
            image = image.convert("L" if channels == 1 else "RGB")
            array = np.asarray(image, "float32") / 255.0
    except OSError as e:
        raise UserError(f"{path}: cannot decode the image ({e})") from None
    return array[..., None] if channels == 1 else array


def write_png(path, image):
    """Write float `(H, W, C)` in [0, 1] as an 8-bit PNG, atomically."""
    from PIL import Image

    pixels = np.round(np.clip(image, 0.0, 1.0) * 255.0).astype("uint8")
    pixels = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with files.atomic_path(path) as tmp:
        Image.fromarray(pixels).save(tmp, format="PNG")
    return path
