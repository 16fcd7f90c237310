"""Pictures: image grids, the one way every part of keras_aegan draws rows of images.

Training's progress grids, the studies' sample and reconstruction grids, `apply`'s frame
strips and the experiments' failure grids all go through `save_grid`.
"""

import math

import keras
import numpy as np

from keras_aegan.files import atomic_path


def image_grid(rows, padding=1):
    """Rows of images `[(n, H, W, C), ...]` in [0, 1] -> one `(H', W', C)` grid image.

    Each row is a list or array of images; rows shorter than the longest are padded with
    blank cells.
    """
    from skimage.util import montage

    rows = [np.clip(np.asarray(r, dtype="float32"), 0.0, 1.0) for r in rows]
    cols = max(len(r) for r in rows)
    blank = np.ones((1, *rows[0].shape[1:]), "float32")
    cells = np.concatenate([np.concatenate([r, np.repeat(blank, cols - len(r), axis=0)])
                            for r in rows])
    return montage(cells, fill=(1.0,) * cells.shape[-1], grid_shape=(len(rows), cols),
                   padding_width=padding, channel_axis=-1)


def save_grid(path, rows, min_cell=48, labels=None):
    """Save rows of images as a PNG, each cell upscaled to at least `min_cell` pixels.

    Args:
        path: the PNG to write (atomically).
        rows: rows of images in [0, 1] (see `image_grid`).
        min_cell: the least side of a cell, in pixels.
        labels: optional text per row, drawn in a margin on the left, so the picture says
            which row is which wherever it is shown.
    """
    grid = image_grid(rows)
    scale = max(1, math.ceil(min_cell / min(np.asarray(rows[0]).shape[1:3])))
    grid = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    if labels is not None:
        grid = _label_rows(grid, [str(label) for label in labels],
                           row_height=grid.shape[0] / max(1, len(rows)))
    with atomic_path(path) as tmp:
        keras.utils.save_img(tmp, grid, scale=True)
    return path


def _label_rows(grid, labels, row_height):
    """`grid` with a white margin on the left holding one label per row."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=max(11, min(18, int(row_height * 0.3))))
    width = 12 + max(int(font.getlength(label)) for label in labels)
    image = Image.new("RGB", (width, grid.shape[0]), "white")
    draw = ImageDraw.Draw(image)
    for i, label in enumerate(labels):
        top = i * row_height + row_height / 2
        draw.text((6, top), label, fill="black", font=font, anchor="lm")
    margin = np.asarray(image, "float32") / 255.0
    if grid.shape[-1] == 1:
        margin = margin.mean(axis=-1, keepdims=True)
    return np.concatenate([margin, grid], axis=1)
