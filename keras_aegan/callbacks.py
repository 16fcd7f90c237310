"""Callbacks: image grids, whole-state checkpoints, time budgets and training guards."""

import math
import os
import time

import keras
import numpy as np
import tensorflow as tf

from keras_aegan.errors import UserError


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


class TimeBudget(keras.callbacks.Callback):
    """Stops training once `seconds` of wall-clock time have passed since `fit` began.

    Checked after every step, so a run overshoots by at most one step (and the epoch-end
    work of that epoch).
    """

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds
        self.start = None

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.start >= self.seconds:
            self.model.stop_training = True


def training_state(model):
    """Every variable that says where training is: the model's weights, batch-norm
    statistics and seed-generator states, and each optimizer's slots and step count.

    Optimizers are found as `model.optimizer` and as any attribute holding one (a GAN's
    `d_optimizer` / `g_optimizer`); an unbuilt `model.optimizer` is built first so its
    slots exist before a checkpoint is restored into them.
    """
    optimizers = []
    for value in [getattr(model, "optimizer", None), *vars(model).values()]:
        if isinstance(value, keras.optimizers.Optimizer) and value not in optimizers:
            optimizers.append(value)
    state = list(model.variables)
    for optimizer in optimizers:
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        state.extend(optimizer.variables)
    return state


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
    """

    def __init__(self, directory, every_steps=100, initial_step=0, keep=2, write=True):
        super().__init__()
        self.write = write
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
        arrays = {f"v{i}": keras.ops.convert_to_numpy(v)
                  for i, v in enumerate(training_state(self.model))}
        if not all(np.all(np.isfinite(a)) for a in arrays.values()
                   if np.issubdtype(a.dtype, np.floating)):
            return  # never checkpoint a diverged state; the DivergenceGuard reports it
        tmp = f"{path}.tmp.npz"
        np.savez(tmp, step=np.int64(self.step), **arrays)
        os.replace(tmp, path)
        self.last_path = path
        for old in list_checkpoints(self.directory)[:-self.keep]:
            os.remove(old)


def list_checkpoints(directory):
    """Checkpoint files in `directory`, oldest first."""
    if not os.path.isdir(directory):
        return []
    return [os.path.join(directory, n) for n in sorted(os.listdir(directory))
            if n.startswith("ckpt-") and n.endswith(".npz") and ".tmp" not in n]


def restore_checkpoint(model, directory, log=print):
    """Restore the newest readable checkpoint into `model`; returns `(step, path)`.

    A checkpoint that cannot be read (truncated, corrupted, from another model) is
    reported through `log` and the previous one is tried. `(0, None)` when none is usable.
    """
    state = training_state(model)
    for path in reversed(list_checkpoints(directory)):
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = [f[f"v{i}"] for i in range(len(state))]
                step = int(f["step"])
                if len(f.files) != len(state) + 1:
                    raise ValueError(f"{len(f.files) - 1} arrays for {len(state)} variables")
            for variable, array in zip(state, arrays):
                if tuple(variable.shape) != array.shape:
                    raise ValueError(f"shape {array.shape} for variable {variable.path} of "
                                     f"shape {tuple(variable.shape)}")
        except Exception as e:  # zipfile, OSError, KeyError, ValueError: all mean unusable
            log(f"checkpoint {path} is unreadable ({type(e).__name__}: {e}); "
                "falling back to the previous one")
            continue
        for variable, array in zip(state, arrays):
            variable.assign(array)
        return step, path
    return 0, None


class TrainingDiverged(UserError):
    """A loss became NaN or infinite; the message names the network, the step and the last
    good checkpoint."""


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training when a loss or a network's weights become NaN/Inf, saying which
    network diverged, at which step, and where the last good checkpoint is.

    `TerminateOnNaN` only says that *something* is NaN. This guard checks, before every
    step, that each network's weights (generator, discriminator, encoder, decoder, or the
    model) are finite, and after every step that each logged loss is; it maps losses to
    the networks they train (`model.loss_networks`, e.g. `{"d_loss": "discriminator",
    "g_loss": "generator"}`; `{"loss": "model"}` by default). It raises `TrainingDiverged`
    (a `UserError`: the CLI prints one line). Put it before the checkpoint callback, which
    also never writes a non-finite state.

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
        networks = [(name, getattr(self.model, name)) for name in _NETWORKS
                    if isinstance(getattr(self.model, name, None), keras.Model)]
        self._names = [name for name, _ in networks] or ["model"]
        weights = [net.weights for _, net in networks] or [self.model.weights]

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
        networks = getattr(self.model, "loss_networks", {"loss": "model"})
        bad = [(key, network, float(np.asarray(logs[key]).mean()))
               for key, network in networks.items()
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
        order = list(getattr(self.model, "loss_networks", {}).values()) + self._names
        culprits = sorted(culprits, key=lambda n: order.index(n) if n in order else len(order))
        broken = self._broken()
        weights = (f"non-finite weights in the {' and the '.join(broken)}" if broken
                   else "weights still finite")
        last = getattr(self.checkpoint, "last_path", None)
        self.model.stop_training = True
        raise TrainingDiverged(
            f"the {culprits[0]} diverged at step {self.step} (epoch {self.epoch + 1}): "
            f"{what}; {weights}; last good checkpoint: {last or 'none yet'}. Lower the "
            "learning rate, or check the data for NaN/Inf")


_NETWORKS = ("generator", "discriminator", "encoder", "decoder")


class CollapseWatch(keras.callbacks.Callback):
    """Warns, with the epoch, when a GAN shows signs of mode collapse or a lost game.

    - the discriminator's accuracy (`d_accuracy`) stays at or above `accuracy` for
      `patience` epochs: the generator no longer fools it at all;
    - the classes of samples from a fixed noise batch, judged by `classify`, cover fewer
      classes than they did at best: modes are being dropped.

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
        accuracy = (logs or {}).get("d_accuracy")
        if accuracy is not None:
            self.high_epochs = self.high_epochs + 1 if float(accuracy) >= self.accuracy else 0
            if self.high_epochs >= self.patience:
                self._warn(f"epoch {epoch + 1}: the discriminator's accuracy has been "
                           f"{float(accuracy):.3f} for {self.high_epochs} epochs; the "
                           "generator may have collapsed (look at the sample grid)")
        if self.classify is None or not hasattr(self.model, "generate") or \
                getattr(self.model, "num_classes", None):
            return
        z = np.random.default_rng(self.seed).standard_normal(
            (self.samples, self.model.latent_dim)).astype("float32")
        classes = np.asarray(self.classify(keras.ops.convert_to_numpy(self.model.generate(z))))
        seen = len(np.unique(classes))
        if seen < self.best_seen:
            self._warn(f"epoch {epoch + 1}: samples from fixed noise cover {seen} of "
                       f"{self.num_classes} classes, down from {self.best_seen}: modes are "
                       "being dropped")
        self.best_seen = max(self.best_seen, seen)
