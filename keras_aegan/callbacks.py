"""Callbacks: image grids of training progress."""

import math
import os

import keras
import numpy as np


def image_grid(rows, padding=1):
    """Rows of images `[(n, H, W, C), ...]` in [0, 1] -> one `(H', W', C)` grid image.

    Each row is a list or array of images; rows shorter than the longest are padded with
    blank cells.
    """
    rows = [np.clip(np.asarray(r, dtype="float32"), 0.0, 1.0) for r in rows]
    cols = max(len(r) for r in rows)
    h, w, c = rows[0].shape[1:]
    grid = np.ones((len(rows) * (h + padding) + padding, cols * (w + padding) + padding, c),
                   "float32")
    for i, row in enumerate(rows):
        for j, image in enumerate(row):
            top, left = padding + i * (h + padding), padding + j * (w + padding)
            grid[top:top + h, left:left + w] = image
    return grid


def save_grid(path, rows, min_cell=48):
    """Save rows of images as a PNG, each cell upscaled to at least `min_cell` pixels."""
    grid = image_grid(rows)
    scale = max(1, math.ceil(min_cell / min(np.asarray(rows[0]).shape[1:3])))
    grid = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    tmp = f"{path}.tmp.png"
    keras.utils.save_img(tmp, grid, scale=True)
    os.replace(tmp, path)
    return path


class ImageGrid(keras.callbacks.Callback):
    """Writes `model.preview(images)` as a PNG grid after each epoch.

    Args:
        images: a fixed batch of real images shown every epoch (for models that
            reconstruct); generative models draw their own fixed noise.
        directory: where `epoch_001.png`, ... and `latest.png` go.
        rows_per_image: split each preview row into rows of at most this many images.
    """

    def __init__(self, images, directory, max_columns=16):
        super().__init__()
        self.images = np.asarray(images)
        self.directory = directory
        self.max_columns = max_columns

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.directory, exist_ok=True)
        rows = []
        for row in self.model.preview(self.images):
            row = np.asarray(row)
            rows.extend(row[i:i + self.max_columns] for i in range(0, len(row), self.max_columns))
        path = os.path.join(self.directory, f"epoch_{epoch + 1:03d}.png")
        save_grid(path, rows)
        save_grid(os.path.join(self.directory, "latest.png"), rows)
