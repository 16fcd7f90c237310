"""Learning-rate schedules that fit a run's length, whether it is counted in steps or seconds."""

import math

import keras

from keras_aegan.errors import check_int, check_number


def start_rates(optimizers):
    """`[(optimizer, its learning rate now)]` for each optimizer with a rate of its own to
    anneal (one with a `LearningRateSchedule` keeps its schedule and is left out).

    Take them before a checkpoint is restored: a checkpoint holds the rate of the step it
    was written at, not the rate the run began with.
    """
    # A scheduled optimizer's `learning_rate` is the schedule's value, not a variable.
    return [(o, float(keras.ops.convert_to_numpy(o.learning_rate))) for o in optimizers
            if isinstance(o.learning_rate, keras.Variable)]


class CosineAnneal(keras.callbacks.Callback):
    """Anneal each optimizer's learning rate from its start value to 0 on a half cosine.

    The run's progress is the larger of its step fraction (`step / total_steps`) and, with a
    `budget`, its time fraction (`budget.elapsed() / budget.seconds`), so the rate reaches
    0 when the run ends, whichever limit ends it. A step-limited run is annealed by its
    step alone: resumed from a checkpoint at step `initial_step`, it sets the same rates as
    an uninterrupted run (bitwise repeatable with op determinism). A time-limited run
    depends on the machine's speed, as its length does.

    Args:
        rates: `[(optimizer, start rate)]`, see `start_rates`.
        total_steps: the steps of the whole run.
        budget: a `callbacks.TimeBudget`, or `None`.
        initial_step: steps done before this `fit` (a resumed run's).
    """

    def __init__(self, rates, total_steps, budget=None, initial_step=0):
        super().__init__()
        self.start = list(rates)
        self.total_steps = total_steps
        self.budget = budget
        self.step = initial_step

    def progress(self):
        """The fraction of the run done, in [0, 1]."""
        done = self.step / self.total_steps
        if self.budget is not None:
            done = max(done, self.budget.elapsed() / self.budget.seconds)
        return min(done, 1.0)

    def rates(self):
        """The learning rates of the next step, one per optimizer."""
        scale = 0.5 * (1.0 + math.cos(math.pi * self.progress()))
        return [rate * scale for _, rate in self.start]

    def on_train_batch_begin(self, batch, logs=None):
        for (optimizer, _), rate in zip(self.start, self.rates()):
            optimizer.learning_rate = rate

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1


@keras.saving.register_keras_serializable(package="keras_aegan")
class TriangularSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to `peak` over the first `warmup_fraction` of `total_steps`,
    then linear decay to 0 (Wong et al. 2020's cyclic learning rate, one cycle).

    Args:
        peak: the highest learning rate.
        total_steps: the steps of the whole training.
        warmup_fraction: where the peak is, as a share of `total_steps`.
    """

    def __init__(self, peak, total_steps, warmup_fraction=0.4):
        self.peak = check_number("peak", peak, 0, 10, low_open=True)
        self.total_steps = check_int("total_steps", total_steps)
        self.warmup_fraction = check_number("warmup_fraction", warmup_fraction, 0, 1,
                                            low_open=True, high_open=True)

    def __call__(self, step):
        t = keras.ops.cast(step, "float32") + 1.0
        up = self.warmup_fraction * self.total_steps
        rising = t / up
        falling = (self.total_steps - t) / (self.total_steps - up)
        return self.peak * keras.ops.clip(keras.ops.minimum(rising, falling), 0.0, 1.0)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps,
                "warmup_fraction": self.warmup_fraction}
