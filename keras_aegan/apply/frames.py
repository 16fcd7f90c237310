"""A user's frames in and out: reading a sequence, predicting what follows (`apply`), and
the strips and GIFs that show predictions.

`predict_files(model, input, output)` is what `python train.py apply` runs for a frame
predictor (any model whose spec has a `predictor` part and a `next_frames` task): it reads a
folder of PNG/JPEG frames or an `.npy` array, keeps the last `observed` frames (converted
to the model's channels and resized to its frames), and writes the predicted frames.
"""

import os
import re

import keras
import numpy as np
import tensorflow as tf

from keras_aegan import files, protocol
from keras_aegan.evaluation.pictures import save_grid
from keras_aegan.errors import DataError, UserError
from keras_aegan.data.tasks import NextFrames, task_from_description

FRAME_EXTENSIONS = (".png", ".jpg", ".jpeg")


def _natural_key(name):
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def read_frames(path):
    """A user's frame sequence: a folder of PNG/JPEG frames (in natural name order:
    `frame2` before `frame10`) or an `.npy` array `(T, H, W)` / `(T, H, W, C)`.

    Returns:
        A float32 array `(T, H, W, C)` in [0, 1].

    Raises:
        DataError: a missing or unreadable file, no frames, frames of mixed sizes, values
            out of range.
    """
    from PIL import Image, UnidentifiedImageError

    path = os.fspath(path)
    if os.path.isdir(path):
        names = sorted((n for n in os.listdir(path) if n.lower().endswith(FRAME_EXTENSIONS)
                        and os.path.isfile(os.path.join(path, n))), key=_natural_key)
        if not names:
            raise DataError(f"{path}: no PNG/JPEG frames in the folder")
        frames, sizes = [], {}
        for name in names:
            try:
                with Image.open(os.path.join(path, name)) as im:
                    im.load()
                    gray = im.mode in ("L", "1", "I;16", "LA")
                    frame = np.asarray(im.convert("L" if gray else "RGB"))
            except (UnidentifiedImageError, OSError, SyntaxError) as e:
                raise DataError(f"{os.path.join(path, name)}: not a readable image "
                                f"({e})") from None
            sizes.setdefault(frame.shape[:2], name)
            frames.append(frame if frame.ndim == 3 else frame[..., None])
        if len(sizes) > 1:
            (a, first), (b, second) = list(sizes.items())[:2]
            raise DataError(f"{path}: frames of mixed sizes ({first} is {a[0]}x{a[1]}, "
                            f"{second} is {b[0]}x{b[1]}); all frames must be one size")
        channels = max(f.shape[-1] for f in frames)
        frames = [np.repeat(f, channels, -1) if f.shape[-1] != channels else f for f in frames]
        return np.stack(frames).astype("float32") / 255.0
    if not path.lower().endswith(".npy"):
        raise DataError(f"{path}: give a folder of PNG/JPEG frames or an .npy array "
                        "(T, H, W[, C])")
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    try:
        frames = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: not a readable .npy array ({e})") from None
    if frames.ndim == 3:
        frames = frames[..., None]
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3) or not frames.size:
        raise DataError(f"{path}: frames must be an array (T, H, W) or (T, H, W, C) with C "
                        f"1 or 3, got shape {frames.shape}")
    if np.issubdtype(frames.dtype, np.integer):
        if frames.min() < 0 or frames.max() > 255:
            raise DataError(f"{path}: integer frames must be in 0..255")
        return frames.astype("float32") / 255.0
    if not np.issubdtype(frames.dtype, np.floating) or not np.all(np.isfinite(frames)):
        raise DataError(f"{path}: frames must be finite numbers, got dtype {frames.dtype}")
    if frames.min() < 0 or frames.max() > 1:
        raise DataError(f"{path}: float frames must be in [0, 1], got "
                        f"[{frames.min():.3g}, {frames.max():.3g}]")
    return frames.astype("float32")


def fit_frames(frames, frame_shape, observed, where="the sequence"):
    """The last `observed` frames of a `(T, H, W, C)` sequence, converted to the model's
    channels and resized to its frame size; a `DataError` when there are too few."""
    frames = np.asarray(frames, "float32")
    if len(frames) < observed:
        raise DataError(f"{where} has {len(frames)} frames; the model needs at least the "
                        f"{observed} it observes")
    frames = frames[-observed:]
    height, width, channels = frame_shape
    if frames.shape[-1] == 3 and channels == 1:
        frames = np.asarray(tf.image.rgb_to_grayscale(frames))
    elif frames.shape[-1] == 1 and channels == 3:
        frames = np.repeat(frames, 3, -1)
    if frames.shape[1:3] != (height, width):
        frames = np.clip(np.asarray(tf.image.resize(frames, (height, width), antialias=True)),
                         0, 1)
    return frames.astype("float32")


def predict_files(model, input_path, output_path, overwrite=False):
    """Predict the frames that follow a user's sequence and write them (`apply`).

    Args:
        model: a trained predictor (any model whose spec has a `predictor` part and a
            `next_frames` task).
        input_path: a folder of PNG/JPEG frames or an `.npy` array `(T, H, W[, C])`; the
            last `observed` frames are used (resized to the model's frames if needed).
        output_path: an `.npy` file (the predicted frames, float32 `(predicted, H, W, C)`
            in [0, 1]) or a folder that receives `frame_000.png`, ... and `strip.png`
            (observed frames over predicted ones).
        overwrite: replace existing output files (otherwise they are an error).

    Returns:
        The list of files written.

    Raises:
        DataError / UserError: bad input; nothing is written then.
    """
    spec = protocol.describe(model)
    part = spec.part("predictor")
    task = task_from_description(spec.task, spec.image_shape) if spec.task else None
    if not isinstance(task, NextFrames):
        raise UserError(f"this model does not predict frames (task {spec.task!r})")
    frames = read_frames(input_path)
    task.check_input(frames.shape, os.fspath(input_path))
    frames = fit_frames(frames, task.frame_shape, task.observed, where=os.fspath(input_path))
    output_path = os.fspath(output_path)
    to_npy = output_path.lower().endswith(".npy")
    if os.path.exists(output_path) and not to_npy and not os.path.isdir(output_path):
        raise UserError(f"{output_path} exists and is not a folder")
    names = [output_path] if to_npy else [
        os.path.join(output_path, n) for n in
        [*(f"frame_{i:03d}.png" for i in range(part.output.shape[0])), "strip.png"]]
    existing = [n for n in names if os.path.exists(n)]
    if existing and not overwrite:
        raise UserError(f"{existing[0]} already exists; pass overwrite=True (--overwrite) "
                        "to replace it")
    future = np.asarray(part.fn(tf.constant(frames[None])))[0]
    if to_npy:
        os.makedirs(os.path.dirname(os.path.abspath(output_path)), exist_ok=True)
        with files.atomic_path(output_path) as tmp:
            np.save(tmp, future)
        return [output_path]
    os.makedirs(output_path, exist_ok=True)
    written = []
    for i, frame in enumerate(future):
        path = os.path.join(output_path, f"frame_{i:03d}.png")
        with files.atomic_path(path) as tmp:
            keras.utils.save_img(tmp, frame, scale=True)
        written.append(path)
    written.append(save_grid(os.path.join(output_path, "strip.png"), [frames, future]))
    return written


def save_strip(path, observed, true, predicted, max_sequences=4):
    """A PNG of sequences: for each, rows observed | true future | predicted future."""
    rows = []
    for i in range(min(max_sequences, len(observed))):
        rows.extend([observed[i], true[i], predicted[i]])
    return save_grid(path, rows, min_cell=32)


def save_gif(path, observed, true, predicted, duration=200):
    """An animated GIF of one sequence: true (left) and predicted (right), side by side;
    the observed frames play in both panes, then the two futures."""
    from PIL import Image

    first = np.concatenate([observed, true], 0)
    second = np.concatenate([observed, predicted], 0)
    gap = np.ones((first.shape[1], 2, first.shape[3]), "float32")
    frames = [np.concatenate([a, gap, b], 1) for a, b in zip(first, second)]
    images = [Image.fromarray(np.uint8(np.clip(f[..., 0] if f.shape[-1] == 1 else f, 0, 1)
                                       * 255)).resize((f.shape[1] * 2, f.shape[0] * 2))
              for f in frames]
    with files.atomic_path(path) as tmp:
        images[0].save(tmp, save_all=True, append_images=images[1:], duration=duration,
                       loop=0)
    return path
