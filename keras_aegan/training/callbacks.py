"""Callbacks: image grids, whole-state checkpoints, time budgets and training guards."""

import math
import os
import time

import keras
import numpy as np
import tensorflow as tf

from keras_aegan import protocol
from keras_aegan.errors import TrainingDiverged, UserError  # noqa: F401  (re-exported)
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


class ImageGrid(keras.callbacks.Callback):
    """Writes `model.preview(images)` as PNG grids while training.

    A grid `epoch_NNN.png` is written at the end of an epoch when at least
    `every_seconds` of training have passed since the last one, and always at the end of
    training; `latest.png` is the newest. Short epochs (small datasets, tiny models) thus
    do not flood the folder with hundreds of near-identical pictures.

    Args:
        images: a fixed batch of real images shown every time (for models that
            reconstruct); generative models draw their own fixed noise.
        directory: where `epoch_001.png`, ... and `latest.png` go.
        every_seconds: the least training time between two grids (0: every epoch).
        max_columns: split each preview row into rows of at most this many images.
    """

    def __init__(self, images, directory, every_seconds=10.0, max_columns=16):
        super().__init__()
        self.images = np.asarray(images)
        self.directory = directory
        self.every_seconds = every_seconds
        self.max_columns = max_columns
        self._last = None
        self._epoch = None

    def on_train_begin(self, logs=None):
        self._last = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self._epoch = epoch
        if time.perf_counter() - self._last >= self.every_seconds:
            self._write(epoch)

    def on_train_end(self, logs=None):
        if self._epoch is not None and not os.path.exists(self._path(self._epoch)):
            self._write(self._epoch)

    def _path(self, epoch):
        return os.path.join(self.directory, f"epoch_{epoch + 1:03d}.png")

    def _write(self, epoch):
        os.makedirs(self.directory, exist_ok=True)
        rows = []
        for row in self.model.preview(self.images):
            row = np.asarray(row)
            rows.extend(row[i:i + self.max_columns] for i in range(0, len(row), self.max_columns))
        save_grid(self._path(epoch), rows)
        save_grid(os.path.join(self.directory, "latest.png"), rows)
        self._last = time.perf_counter()


class TimeBudget(keras.callbacks.Callback):
    """Stops training once `seconds` of training time have been spent.

    Training time is wall-clock time since `fit` began, plus `already` (the seconds a
    resumed run had spent before), minus what `exclude` was told (evaluations made during
    training that should not eat the budget). Checked after every step, so a run
    overshoots by at most one step (and the epoch-end work of that epoch).

    Args:
        seconds: the budget.
        already: training seconds spent before this `fit` (a resumed run's).
    """

    def __init__(self, seconds, already=0.0):
        super().__init__()
        self.seconds = seconds
        self.already = already
        self.start = None

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter() - self.already

    def elapsed(self):
        """Training seconds spent so far."""
        return self.already if self.start is None else time.perf_counter() - self.start

    def exclude(self, seconds):
        """Do not count `seconds` just spent (e.g. on an evaluation) as training."""
        self.start += seconds

    def on_train_batch_end(self, batch, logs=None):
        if self.elapsed() >= self.seconds:
            self.model.stop_training = True


# Checkpoints are `.npz` files of arrays keyed by each variable's place in the model (see
# `training_state`), beside the format number and the global step.
CHECKPOINT_FORMAT = 2
_META_KEYS = ("format", "step", "seconds")


def training_state(model):
    """Every variable that says where training is, keyed by its place in the model.

    The model's weights, batch-norm statistics and seed-generator states are keyed by
    their path through the model's named layers (`generator/deconv0/kernel`,
    `encoder/lstm0/seed_generator_state`); each optimizer the model declares
    (`protocol.ModelSpec.optimizers`) adds its step count and slots, keyed by the
    optimizer's declared name and the slot's name (`d_optimizer/conv0_kernel_momentum`).
    An unbuilt optimizer is built first, so its slots exist before a checkpoint is
    restored into them.

    Returns:
        A dict `{key: variable}`.

    Raises:
        UserError: two variables would share a key (two layers of one network, or of
            networks sharing an optimizer, with the same name): rename one.
    """
    spec = protocol.describe(model)
    state, owners = {}, {}

    def add(key, variable):
        if key in state:
            raise UserError(f"two variables of {model.name} share the checkpoint key "
                            f"{key!r} ({owners[key]} and {variable.path}); give the layers "
                            "distinct names")
        state[key] = variable
        owners[key] = variable.path

    _key_layer("", model, add, set())
    for name, optimizer in spec.optimizers.items():
        if optimizer is None:
            continue
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        for variable in optimizer.variables:
            add(f"{name}/{variable.name}", variable)
    return state


def _key_layer(prefix, layer, add, keyed):
    children = layer.layers if isinstance(layer, keras.Model) else []
    for child in children:
        _key_layer(f"{prefix}{child.name}/", child, add, keyed)
    for variable in layer.variables:
        if id(variable) in keyed:  # owned by a child, or shared (tied weights)
            continue
        keyed.add(id(variable))
        # Inside a plain layer the variable's path starts with the layer's name when it
        # was built in the layer's scope; seed generators made in `__init__` are keyed by
        # their name (their path carries a per-process counter).
        own = f"{layer.name}/"
        name = variable.path[len(own):] if variable.path.startswith(own) else variable.name
        add(f"{prefix}{name}", variable)


class TrainingCheckpoint(keras.callbacks.Callback):
    """Saves the whole training state every `every_steps` steps and at each epoch end.

    Each checkpoint is `ckpt-<global step>.npz` in `directory`, written to a temporary file
    and renamed, so a crash at any moment leaves the previous checkpoints intact; the
    newest `keep` are kept. `restore_checkpoint` reads them back.

    Args:
        directory: checkpoint folder.
        every_steps: steps between checkpoints within an epoch.
        initial_step: global step at which this `fit` starts (after a restore).
        keep: how many checkpoints to keep (at least 2, so a damaged newest one has a
            fallback).
        write: `False` on the non-chief workers of a cluster, which only count steps.
        clock: optional `() -> training seconds so far`, saved with each checkpoint (a
            time-budgeted run resumes with what is left of its budget).
    """

    def __init__(self, directory, every_steps=100, initial_step=0, keep=2, write=True,
                 clock=None):
        super().__init__()
        self.write = write
        self.clock = clock
        self.directory = directory
        self.every_steps = every_steps
        self.step = initial_step
        self.keep = max(2, keep)
        self.last_path = None

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every_steps == 0:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        self.save()

    def save(self):
        if not self.write:
            return
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"ckpt-{self.step:09d}.npz")
        if path == self.last_path:
            return
        arrays = {key: keras.ops.convert_to_numpy(v)
                  for key, v in training_state(self.model).items()}
        if not all(np.all(np.isfinite(a)) for a in arrays.values()
                   if np.issubdtype(a.dtype, np.floating)):
            return  # never checkpoint a diverged state; the DivergenceGuard reports it
        seconds = np.float64(self.clock() if self.clock is not None else 0.0)
        with atomic_path(path) as tmp:
            np.savez(tmp, format=np.int64(CHECKPOINT_FORMAT), step=np.int64(self.step),
                     seconds=seconds, **arrays)
        self.last_path = path
        for old in list_checkpoints(self.directory)[:-self.keep]:
            os.remove(old)


def list_checkpoints(directory):
    """Checkpoint files in `directory`, oldest first."""
    if not os.path.isdir(directory):
        return []
    return [os.path.join(directory, n) for n in sorted(os.listdir(directory))
            if n.startswith("ckpt-") and n.endswith(".npz") and ".tmp" not in n]


class CheckpointMismatch(UserError):
    """A readable checkpoint that does not fit the model: another layout or an old format."""


def restore_checkpoint(model, directory, log=print):
    """Restore the newest readable checkpoint into `model`; returns `(step, path)`.

    Arrays are matched to variables by key (see `training_state`), never by position. A
    checkpoint that cannot be read (truncated, corrupted) is reported through `log` and
    the previous one is tried; `(0, None)` when none is usable. A readable checkpoint
    whose keys or shapes do not fit the model (written by an older keras_aegan, or for a
    changed model) raises `CheckpointMismatch`: restoring it could put arrays into the
    wrong variables.
    """
    state = training_state(model)
    for path in reversed(list_checkpoints(directory)):
        try:
            with np.load(path, allow_pickle=False) as f:
                keys = set(f.files)
                arrays = {k: f[k] for k in keys if k not in _META_KEYS}
                step = int(f["step"])
                version = int(f["format"]) if "format" in keys else 1
        except Exception as e:  # zipfile, OSError, KeyError, ValueError: all mean unusable
            log(f"checkpoint {path} is unreadable ({type(e).__name__}: {e}); "
                "falling back to the previous one")
            continue
        _check_fit(path, version, state, arrays)
        for key, variable in state.items():
            variable.assign(arrays[key])
        return step, path
    return 0, None


def checkpoint_seconds(path):
    """The training seconds a checkpoint records (0 for one written without a clock)."""
    if path is None:
        return 0.0
    with np.load(path, allow_pickle=False) as f:
        return float(f["seconds"]) if "seconds" in f.files else 0.0


def _check_fit(path, version, state, arrays):
    advice = "train from scratch with --restart (restart=True), or use another run folder"
    if version != CHECKPOINT_FORMAT:
        raise CheckpointMismatch(
            f"checkpoint {path} has format {version}, this keras_aegan reads format "
            f"{CHECKPOINT_FORMAT} (arrays keyed by variable, not by position); {advice}")
    missing = sorted(set(state) - set(arrays))
    unexpected = sorted(set(arrays) - set(state))
    wrong = [f"{k} {arrays[k].shape} vs {tuple(state[k].shape)}" for k in sorted(state)
             if k in arrays and arrays[k].shape != tuple(state[k].shape)]
    if missing or unexpected or wrong:
        found = "; ".join(f"{what}: {', '.join(items[:4])}{' ...' if len(items) > 4 else ''}"
                          for what, items in (("missing", missing), ("unexpected", unexpected),
                                              ("wrong shape", wrong)) if items)
        raise CheckpointMismatch(f"checkpoint {path} does not fit this model ({found}); "
                                 f"{advice}")


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training when a loss or a network's weights become NaN/Inf, saying which
    network diverged, at which step, and where the last good checkpoint is.

    `TerminateOnNaN` only says that *something* is NaN. This guard checks, before every
    step, that each network the model declares (`protocol.ModelSpec.networks`: generator
    and discriminator, encoder and decoder, ...) has finite weights, and after every step
    that each logged loss is; it names the network a loss trains from the declared
    `losses` (e.g. `{"d_loss": "discriminator", "g_loss": "generator"}`). It raises
    `TrainingDiverged` (the CLI prints one line). Put it before the checkpoint callback,
    which also never writes a non-finite state.

    Args:
        checkpoint: the run's `TrainingCheckpoint`, to name the last good checkpoint.
        initial_step: the global step this `fit` starts at.
    """

    def __init__(self, checkpoint=None, initial_step=0):
        super().__init__()
        self.checkpoint = checkpoint
        self.step = initial_step
        self.epoch = 0
        self._finite = None

    def on_train_begin(self, logs=None):
        spec = protocol.describe(self.model)
        self._losses = dict(spec.losses)
        self._names = list(spec.networks) or ["model"]
        weights = [net.weights for net in spec.networks.values()] or [self.model.weights]

        @tf.function
        def finite():
            return tf.stack([tf.reduce_all([tf.reduce_all(tf.math.is_finite(w)) for w in ws])
                             for ws in weights])

        self._finite = finite

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def _broken(self):
        return [n for n, ok in zip(self._names, self._finite().numpy()) if not ok]

    def on_train_batch_begin(self, batch, logs=None):
        broken = self._broken()
        if broken:
            self._stop(broken, f"its weights became non-finite in step {self.step}")

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        bad = [(key, network, float(np.asarray(logs[key]).mean()))
               for key, network in self._losses.items()
               if logs and key in logs and not np.all(np.isfinite(np.asarray(logs[key])))]
        if bad:
            key, network, value = bad[0]
            also = f", also {', '.join(k for k, _, _ in bad[1:])}" if bad[1:] else ""
            self._stop([network], f"{key} became {value} in step {self.step}{also}")

    def on_train_end(self, logs=None):
        broken = self._broken()
        if broken:
            self._stop(broken, f"its weights became non-finite in step {self.step}")

    def _stop(self, culprits, what):
        # Losses are listed in update order (a GAN updates its discriminator first), so the
        # first network named diverged first; the rest followed in the same step.
        order = list(self._losses.values()) + self._names
        culprits = sorted(culprits, key=lambda n: order.index(n) if n in order else len(order))
        broken = self._broken()
        weights = (f"non-finite weights in the {' and the '.join(broken)}" if broken
                   else "weights still finite")
        last = self.checkpoint.last_path if self.checkpoint is not None else None
        self.model.stop_training = True
        raise TrainingDiverged(
            f"the {culprits[0]} diverged at step {self.step} (epoch {self.epoch + 1}): "
            f"{what}; {weights}; last good checkpoint: {last or 'none yet'}. Lower the "
            "learning rate, or check the data for NaN/Inf")


class CollapseWatch(keras.callbacks.Callback):
    """Warns, with the epoch, when a GAN shows signs of mode collapse or a lost game.

    - the discriminator's accuracy (`d_accuracy`) stays at or above `accuracy` for
      `patience` epochs: the generator no longer fools it at all (said once per such
      streak; for a translator or predictor, which has a pixel loss too, the message
      points at its outputs and pixel loss instead of a sample grid);
    - the classes of samples from a fixed noise seed, judged by `classify`, cover fewer
      classes than they did at best: modes are being dropped (for models that declare
      their own, unconditional sampler).

    Args:
        classify: `images -> class indices` (e.g. an `Evaluator.predict_classes`), or
            `None` to watch the accuracy alone.
        num_classes: classes `classify` can return.
        samples: size of the fixed noise batch.
        log: called with each warning message.
    """

    def __init__(self, classify=None, num_classes=None, samples=500, patience=2,
                 accuracy=0.99, seed=0, log=print):
        super().__init__()
        self.classify = classify
        self.num_classes = num_classes
        self.samples = samples
        self.patience = patience
        self.accuracy = accuracy
        self.seed = seed
        self.log = log
        self.high_epochs = 0
        self.best_seen = 0
        self.warnings = []

    def _warn(self, message):
        self.warnings.append(message)
        self.log(f"warning: {message}")

    def on_epoch_end(self, epoch, logs=None):
        spec = protocol.describe(self.model)
        accuracy = (logs or {}).get("d_accuracy")
        if accuracy is not None:
            self.high_epochs = self.high_epochs + 1 if float(accuracy) >= self.accuracy else 0
            if self.high_epochs == self.patience:  # once per streak, not every epoch
                meaning = ("the generator may have collapsed (look at the sample grid)"
                           if spec.sampler == protocol.SAMPLES_OWN else
                           "it tells every output from the real ones, so the adversarial "
                           "term no longer helps and may be pushing the outputs to "
                           "extremes (look at the outputs and the pixel loss)")
                self._warn(f"epoch {epoch + 1}: the discriminator's accuracy has been "
                           f"{float(accuracy):.3f} for {self.high_epochs} epochs; {meaning}")
        if self.classify is None or spec.sampler != protocol.SAMPLES_OWN or spec.conditional:
            return
        samples = self.model.sample(self.samples, seed=self.seed)
        classes = np.asarray(self.classify(keras.ops.convert_to_numpy(samples)))
        seen = len(np.unique(classes))
        if seen < self.best_seen:
            self._warn(f"epoch {epoch + 1}: samples from fixed noise cover {seen} of "
                       f"{self.num_classes} classes, down from {self.best_seen}: modes are "
                       "being dropped")
        self.best_seen = max(self.best_seen, seen)
