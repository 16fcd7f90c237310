"""Pictures: image grids, the one way every part of keras_aegan draws rows of images.

Training's progress grids, the studies' sample and reconstruction grids, `apply`'s frame
strips and the experiments' failure grids all go through `save_grid`. Besides grids:
`embedding_plot` (2-D codes coloured by label), `feature_detectors` (an encoder's first
layer) and `vae_grids` (samples and interpolations).
"""

import math

import keras
import numpy as np

from keras_aegan.errors import UserError
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


def embedding_plot(path, embeddings, labels, title=None):
    """Scatter plots of 2-D embeddings side by side, coloured by label.

    Args:
        path: PNG to write.
        embeddings: `{name: (n, 2) array}`, e.g. an autoencoder with k=2, PCA and LLE.
        labels: `(n,)` integer labels (the same points in every embedding).
        title: optional figure title.

    Returns:
        `path`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(embeddings), figsize=(4.5 * len(embeddings), 4.2),
                             squeeze=False)
    for ax, (name, codes) in zip(axes[0], embeddings.items()):
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[1] != 2:
            raise UserError(f"embedding {name!r} must be (n, 2), got {codes.shape}")
        points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=4, alpha=0.7)
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(points, ax=axes[0].tolist(), ticks=range(int(np.max(labels)) + 1))
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def feature_detectors(model, path, max_units=64, columns=8):
    """A PNG of what the encoder's first layer responds to.

    For a dense first layer each unit's incoming weights are drawn as an image of the
    input's shape; for a convolution each filter is drawn as a small patch. Each picture
    is scaled to [0, 1] on its own (mid-grey is zero weight only approximately).

    Args:
        model: an autoencoder (anything with an `encoder`).
        path: PNG to write.
        max_units: draw at most this many units / filters.
        columns: pictures per row.

    Returns:
        `path`.
    """
    layer = next((l for l in model.encoder.layers if l.weights), None)
    if not isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D)):
        raise UserError(f"{model.name}: the encoder has no dense or convolutional layer to "
                        "draw (recurrent encoders are not supported)")
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    if isinstance(layer, keras.layers.Dense):
        shape = tuple(model.image_shape)
        if len(shape) == 2:
            shape = (*shape, 1)
        pictures = kernel.T[:max_units].reshape(-1, *shape)
    else:
        pictures = np.transpose(kernel, (3, 0, 1, 2))[:max_units]
    low = pictures.min(axis=(1, 2, 3), keepdims=True)
    high = pictures.max(axis=(1, 2, 3), keepdims=True)
    pictures = (pictures - low) / np.maximum(high - low, 1e-8)
    if pictures.shape[-1] not in (1, 3):
        pictures = pictures.mean(axis=-1, keepdims=True)
    rows = [pictures[i:i + columns] for i in range(0, len(pictures), columns)]
    return save_grid(path, rows)


def vae_grids(model, images, directory, n=8, steps=8, seed=0):
    """VAE samples from the prior and interpolations between the codes of image pairs.

    Args:
        model: a `VariationalAutoencoder` (anything with `sample`, `encode`, `decode`).
        images: at least 2 images; consecutive pairs are interpolated, one pair a row.
        directory: where `samples.png` and `interpolations.png` go.
        n: the samples grid is `n x n`; at most `n` interpolation rows.
        steps: codes per interpolation row, the two ends included (the originals are
            drawn at both ends of each row).
        seed: fixes the prior draw.

    Returns:
        `(samples_path, interpolations_path)`.
    """
    import os

    if steps < 2:
        raise UserError(f"steps must be >= 2, got {steps}")
    images = np.asarray(images, "float32")
    if len(images) < 2:
        raise UserError("vae_grids needs at least 2 images to interpolate between")
    os.makedirs(directory, exist_ok=True)
    samples = keras.ops.convert_to_numpy(model.sample(n * n, seed=seed))
    samples_path = save_grid(os.path.join(directory, "samples.png"),
                             [samples[i * n:(i + 1) * n] for i in range(n)])
    pairs = min(n, len(images) // 2)
    a, b = images[0:2 * pairs:2], images[1:2 * pairs:2]
    za, zb = (keras.ops.convert_to_numpy(model.encode(x)) for x in (a, b))
    t = np.linspace(0.0, 1.0, steps, dtype="float32")[None, :, None]
    codes = (1.0 - t) * za[:, None] + t * zb[:, None]
    decoded = keras.ops.convert_to_numpy(model.decode(codes.reshape(-1, za.shape[-1])))
    decoded = decoded.reshape(pairs, steps, *images.shape[1:])
    rows = [np.concatenate([a[i:i + 1], decoded[i], b[i:i + 1]]) for i in range(pairs)]
    interp_path = save_grid(os.path.join(directory, "interpolations.png"), rows)
    return samples_path, interp_path
