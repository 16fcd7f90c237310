"""Quality against training time: which family gets good faster.

`QualityTimeline` measures a model a few times while it trains (at even fractions of the
study's budget): the FID of its samples against real test images on the evaluator's
features, and, for models that reconstruct directly, the reconstruction error of test
images. The time it spends measuring is not charged to the model's budget.
"""

import time

import keras

from keras_aegan import metrics, protocol
from keras_aegan.study.subjects import Subject

TIMELINE_SAMPLES = 500
TIMELINE_RECONSTRUCTIONS = 200


class QualityTimeline(keras.callbacks.Callback):
    """Measures sample quality and reconstruction error at `points` moments of training.

    Args:
        name: the model's name in the study.
        data: the study's data (`evaluator`, `train_x`, `test_x`).
        points: how many measurements, evenly spaced over the budget.
        budget: the study's `callbacks.TimeBudget` (time budget; measuring time is
            excluded from it), or `None` with
        epochs: the epoch budget (measurements at even fractions of it).
    """

    def __init__(self, name, data, points=4, budget=None, epochs=None):
        super().__init__()
        self.name = name
        self.data = data
        self.points = points
        self.budget = budget
        self.epochs = epochs
        self.measurements = []
        self._real = data.evaluator.features(data.test_x[:TIMELINE_SAMPLES])
        self._next = 1
        self._start = None
        self.spent = 0.0  # seconds spent measuring

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def _training_seconds(self):
        if self.budget is not None:
            return self.budget.elapsed()
        return time.perf_counter() - self._start - self.spent

    def on_train_batch_end(self, batch, logs=None):
        if self.budget is None or self._next > self.points:
            return
        if self.budget.elapsed() >= self.budget.seconds * self._next / self.points:
            self._measure()

    def on_epoch_end(self, epoch, logs=None):
        if self.epochs is None or self._next > self.points:
            return
        if epoch + 1 >= self.epochs * self._next / self.points:
            self._measure()

    def on_train_end(self, logs=None):
        if not self.measurements or self.measurements[-1]["seconds"] < self._training_seconds():
            self._measure()  # the end of training, whatever stopped it

    def _measure(self):
        start = time.perf_counter()
        self.measurements.append(measure(self.name, self.model, self.data,
                                         self._training_seconds(), self._real))
        self._next += 1
        spent = time.perf_counter() - start
        self.spent += spent
        if self.budget is not None:
            self.budget.exclude(spent)


def measure(name, model, data, seconds, real_features=None):
    """One point of a timeline: `{"seconds", "fid"?, "mse"?}` of `model` now."""
    if real_features is None:
        real_features = data.evaluator.features(data.test_x[:TIMELINE_SAMPLES])
    subject = Subject(name, model, data.train_x, code_fit_images=2000)
    point = {"seconds": float(seconds)}
    samples = subject.sample(TIMELINE_SAMPLES, seed=0)
    if samples is not None:
        point["fid"] = metrics.fid(real_features, data.evaluator.features(samples))
    if subject.spec.reconstruction == protocol.RECONSTRUCTS_DIRECT:
        images = data.test_x[:TIMELINE_RECONSTRUCTIONS]
        point["mse"] = metrics.mse(images, subject.reconstruct(images))
    return point


def plot_timelines(path, timelines):
    """`quality.png`: FID of samples and reconstruction MSE against training seconds.

    Args:
        path: the PNG to write.
        timelines: `{model: [{"seconds", "fid"?, "mse"?}, ...]}`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for i, (name, points) in enumerate(timelines.items()):
        for ax, key in ((left, "fid"), (right, "mse")):
            xs = [p["seconds"] for p in points if key in p]
            ys = [p[key] for p in points if key in p]
            if xs:  # one colour per model in both panels
                ax.plot(xs, ys, marker="o", label=name, color=f"C{i}")
    left.set(title="Sample quality while training (lower is better)",
             xlabel="training seconds", ylabel="FID (evaluator features)", yscale="log")
    right.set(title="Reconstruction while training (lower is better)",
              xlabel="training seconds", ylabel="MSE per pixel, test images")
    for ax in (left, right):
        if ax.lines:
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
