"""Quality against training time: which family gets good faster.

`QualityTimeline` measures a model a few times while it trains (at even fractions of the
study's budget, or at given training times): the FID of its samples against real test
images on the evaluator's features, each class's share of the samples as the evaluator
reads them, and, for models that reconstruct directly, the reconstruction error of test
images. The time it spends measuring is not charged to the model's budget.
"""

import os
import time

import keras
import numpy as np

from keras_aegan import protocol
from keras_aegan.evaluation import metrics
from keras_aegan.evaluation.pictures import save_grid
from keras_aegan.studies.subjects import Subject

TIMELINE_SAMPLES = 500
TIMELINE_RECONSTRUCTIONS = 200
# Training images the code Gaussian of a model that samples that way is fitted on at each
# point (16-64 numbers a code: a thousand fit its mean and covariance well).
TIMELINE_CODE_FIT = 1000
SAMPLE_CHUNK = 1000  # samples drawn per call, so that 10,000 do not need 10,000 at once


class QualityTimeline(keras.callbacks.Callback):
    """Measures sample quality and reconstruction error at `points` moments of training.

    Args:
        name: the model's name in the study.
        data: the study's data (`evaluator`, `train_x`, `test_x`).
        points: how many measurements, evenly spaced over the budget.
        budget: the study's `callbacks.TimeBudget` (time budget; measuring time is
            excluded from it), or `None` with
        epochs: the epoch budget (measurements at even fractions of it); `None` without a
            `budget`: the epochs of the run it watches.
        times: with `budget`, explicit training seconds to measure at (instead of
            `points` even fractions).
        samples: samples scored at each point (and test images as the reference).
        images_dir: where to write a 10x10 grid of the samples at each point
            (`at-<minutes>min.png`); `None`: no grids.
        log: called with a line per measurement (`None`: quiet).
        real_features: the evaluator's features of `data.test_x` when the caller has them
            (the first `samples` are used); `None`: computed here.

    Each measurement is `{"seconds", "steps", "fid"?, "shares"?, "mse"?, "grid"?}`
    (see `measure`); `steps` counts the training batches before it.
    """

    def __init__(self, name, data, points=4, budget=None, epochs=None, times=None,
                 samples=TIMELINE_SAMPLES, images_dir=None, log=None, real_features=None):
        super().__init__()
        self.name = name
        self.data = data
        self.budget = budget
        self.epochs = epochs
        self.due = (sorted(times) if times is not None else
                    [budget.seconds * k / points for k in range(1, points + 1)]
                    if budget is not None else None)
        self.points = len(self.due) if self.due is not None else points
        self.samples = samples
        self.images_dir = images_dir
        self.log = log
        self.measurements = []
        self._real = (real_features[:samples] if real_features is not None
                      and len(real_features) >= samples
                      else data.evaluator.features(data.test_x[:samples]))
        self._next = 1
        self._start = None
        self.steps = 0
        self.spent = 0.0  # seconds spent measuring

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def _training_seconds(self):
        if self.budget is not None:
            return self.budget.elapsed()
        return time.perf_counter() - self._start - self.spent

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.budget is None or self._next > self.points:
            return
        if self.budget.elapsed() >= self.due[self._next - 1]:
            self._measure()

    def on_epoch_end(self, epoch, logs=None):
        # Without a time budget the epochs are the run's (the `fit` call's last epoch).
        epochs = self.epochs or (None if self.budget is not None else self.params["epochs"])
        if epochs is None or self._next > self.points:
            return
        if epoch + 1 >= epochs * self._next / self.points:
            self._measure()

    def on_train_end(self, logs=None):
        if not self.measurements or self.measurements[-1]["steps"] < self.steps:
            self._measure()  # the end of training, whatever stopped it

    def _measure(self):
        start = time.perf_counter()
        point = measure(self.name, self.model, self.data, self._training_seconds(),
                        self._real, samples=self.samples, images_dir=self.images_dir)
        point["steps"] = self.steps
        self.measurements.append(point)
        self._next += 1
        spent = time.perf_counter() - start
        self.spent += spent
        if self.budget is not None:
            self.budget.exclude(spent)
        if self.log is not None:
            self.log(f"{self.name} at {point['seconds'] / 60:.2f} min ({self.steps} steps): "
                     + ", ".join(_describe(point)) + f" (measured in {spent:.0f} s)")


def _describe(point):
    parts = []
    if "fid" in point:
        parts.append(f"FID {point['fid']:.2f}")
    if "shares" in point:
        parts.append(f"class shares {min(point['shares']):.1%}-{max(point['shares']):.1%}")
    if "mse" in point:
        parts.append(f"reconstruction MSE {point['mse']:.4f}")
    return parts


def draw(subject, n, seed=0):
    """`n` samples of a study subject in chunks of `SAMPLE_CHUNK` (seeds `seed`,
    `seed + 1`, ...), or `None` for a model that cannot sample."""
    chunks = []
    for i, start in enumerate(range(0, n, SAMPLE_CHUNK)):
        chunk = subject.sample(min(SAMPLE_CHUNK, n - start), seed=seed + i)
        if chunk is None:
            return None
        chunks.append(chunk)
    return np.concatenate(chunks)


def measure(name, model, data, seconds, real_features=None, samples=TIMELINE_SAMPLES,
            images_dir=None):
    """One point of a timeline: `{"seconds", "fid"?, "shares"?, "mse"?, "grid"?}` of
    `model` now. `shares` are the classes' shares of the samples as the evaluator reads
    them (a list, by class); `grid` the path of a 10x10 grid of the samples, written in
    `images_dir` when given."""
    if real_features is None:
        real_features = data.evaluator.features(data.test_x[:samples])
    subject = Subject(name, model, data.train_x, code_fit_images=TIMELINE_CODE_FIT)
    point = {"seconds": float(seconds)}
    images = draw(subject, samples)
    if images is not None:
        point["fid"] = metrics.fid(real_features, data.evaluator.features(images))
        if data.evaluator.has_classes:
            classes = data.evaluator.predict_classes(images)
            point["shares"] = (np.bincount(classes, minlength=data.evaluator.num_classes)
                               / len(images)).tolist()
        if images_dir is not None and len(images) >= 100:
            os.makedirs(images_dir, exist_ok=True)
            point["grid"] = save_grid(
                os.path.join(images_dir, f"at-{seconds / 60:.1f}min.png"),
                images[:100].reshape(10, 10, *images.shape[1:]))
    if subject.spec.reconstruction == protocol.RECONSTRUCTS_DIRECT:
        images = data.test_x[:TIMELINE_RECONSTRUCTIONS]
        point["mse"] = metrics.mse(images, subject.reconstruct(images))
    return point


def plot_timelines(path, timelines, x="seconds"):
    """`quality.png`: FID of samples and reconstruction MSE against training seconds or
    steps.

    Args:
        path: the PNG to write.
        timelines: `{model: [{"seconds", "steps", "fid"?, "mse"?}, ...]}`.
        x: `"seconds"` (this machine's) or `"steps"` (the work, any machine's).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for i, (name, points) in enumerate(timelines.items()):
        for ax, key in ((left, "fid"), (right, "mse")):
            xs = [p.get(x, 0) for p in points if key in p]
            ys = [p[key] for p in points if key in p]
            if xs:  # one colour per model in both panels
                ax.plot(xs, ys, marker="o", label=name, color=f"C{i}")
    left.set(title="Sample quality while training (lower is better)",
             xlabel=f"training {x}", ylabel="FID (evaluator features)", yscale="log")
    right.set(title="Reconstruction while training (lower is better)",
              xlabel=f"training {x}", ylabel="MSE per pixel, test images")
    for ax in (left, right):
        if ax.lines:
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
