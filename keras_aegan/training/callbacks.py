"""Training callbacks: progress grids, time budgets and the guards against divergence and
mode collapse. Checkpoints live in `checkpoints`, the grids themselves in
`evaluation.pictures`."""

import os
import time

import keras
import numpy as np
import tensorflow as tf

from keras_aegan import protocol
from keras_aegan.errors import TrainingDiverged  # noqa: F401  (re-exported)
from keras_aegan.evaluation.pictures import save_grid


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
        self._finite = self._guarded = None

    def on_train_begin(self, logs=None):
        if self._finite is not None and self._guarded is self.model:
            return  # a later `fit` of the same run: keep the traced check
        self._guarded = self.model
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
