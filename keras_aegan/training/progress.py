"""Long work says what it is doing: a training callback and a heartbeat for everything else.

- `Progress`: a Keras callback that logs the step, the share done, the steps per second,
  the time left and the losses of a `fit`, at most every `every_seconds` (Keras' own progress bar is off
  when a study trains its models one after another).
- `heartbeat`: a context manager that logs `what... (N s)` every `every_seconds` while a
  block runs that has no steps to count (evaluating a model, exporting it).
- `clock`: seconds as `m:ss`.
"""

import contextlib
import threading
import time

import keras

# Long work says what it is doing at least this often (seconds).
EVERY_SECONDS = 30.0


def clock(seconds):
    """`seconds` as `m:ss` (`75.4` -> `"1:15"`)."""
    seconds = int(round(max(seconds, 0)))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress(keras.callbacks.Callback):
    """Logs how far a `fit` is, at most every `every_seconds`.

    Args:
        log: called with each line.
        prefix: what is training (`"conv_ae seed 0"`).
        total_steps: the steps of the whole run (`None`: the `fit` call's epochs x steps;
            a run resumed or split into several `fit` calls passes its own).
        initial_step: steps done before this `fit` (a resumed run).
        budget: a `callbacks.TimeBudget` that ends the run first: the time left is its
            (the step total is then only a cap, and not shown).
        every_seconds: the longest silence.
    """

    def __init__(self, log, prefix, *, total_steps=None, initial_step=0, budget=None,
                 every_seconds=EVERY_SECONDS):
        super().__init__()
        self.log = log
        self.prefix = prefix
        self.budget = budget
        self.total_steps = None if budget is not None else total_steps
        self.step = initial_step
        self.every_seconds = every_seconds
        self._first = initial_step
        self._start = self._last = None

    def on_train_begin(self, logs=None):
        if self._start is None:
            self._start = self._last = time.perf_counter()
        if self.total_steps is None and self.budget is None and self.params.get("steps"):
            self.total_steps = self.step + self.params["epochs"] * self.params["steps"]

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        now = time.perf_counter()
        if now - self._last < self.every_seconds:
            return
        self._last = now
        rate = (self.step - self._first) / (now - self._start)
        line = f"{self.prefix}: step {self.step:,}"
        if self.budget is not None:
            left = self.budget.seconds - self.budget.elapsed()
            line += f", {rate:.1f} steps/s, {clock(left)} of its budget left"
        elif self.total_steps:
            left = max(self.total_steps - self.step, 0)
            line += (f" of {self.total_steps:,} ({self.step / self.total_steps:.0%}), "
                     f"{rate:.1f} steps/s, {clock(left / rate)} left")
        else:
            line += f", {rate:.1f} steps/s"
        # The losses first (a classifier's loss, a GAN's d_loss and g_loss), then others.
        metrics = sorted((logs or {}).items(), key=lambda item: "loss" not in item[0])
        self.log(line + "".join(f", {name} {float(value):.4f}" for name, value in metrics[:3]))


@contextlib.contextmanager
def heartbeat(log, what, every_seconds=EVERY_SECONDS, enabled=True):
    """Log `what...` now and `what... (N s)` every `every_seconds` until the block ends
    (`enabled=False`: silent, for a block that may have nothing to do).

    Example:
        >>> with heartbeat(print, "dcgan seed 0: evaluating"):
        ...     scores = evaluate(model)
    """
    if not enabled:
        yield
        return
    log(f"{what}...")
    done, start = threading.Event(), time.perf_counter()

    def beat():
        while not done.wait(every_seconds):
            log(f"{what}... ({time.perf_counter() - start:.0f} s)")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
