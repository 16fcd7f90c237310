"""The frame task: the next frames of a sequence from the frames observed before them."""

import numpy as np

from keras_aegan import protocol
from keras_aegan.data.tasks.base import Task, register_task
from keras_aegan.errors import DataError, UserError, check_int

OBSERVED = 10
PREDICTED = 10


@register_task
class NextFrames(Task):
    """`next_frames` (`observed`, `predicted`: 10 and 10 by default): from the first
    `observed` frames of a sequence `(T, H, W, C)`, the `predicted` frames that follow.
    The baseline `copy_last` repeats the last observed frame.

    Example:
        >>> task = NextFrames((20, 64, 64, 1))
        >>> observed, = task.make_inputs(sequences)   # (batch, 10, 64, 64, 1)
        >>> future = task.target(sequences)           # (batch, 10, 64, 64, 1)
    """

    name = "next_frames"
    OPTIONS = {"observed": OBSERVED, "predicted": PREDICTED}

    def _configure(self, observed, predicted):
        if len(self.example_shape) != 4:
            raise UserError(f"the {self.name} task works on frame sequences (T, H, W, C), "
                            f"got examples of shape {self.example_shape}")
        self.observed, self.predicted = check_int("observed", observed), check_int(
            "predicted", predicted)
        if self.observed + self.predicted > self.example_shape[0]:
            raise UserError(f"{self.observed} observed + {self.predicted} predicted frames "
                            f"do not fit in sequences of {self.example_shape[0]} frames")
        self.frame_shape = self.example_shape[1:]

    def make_inputs(self, batch):
        return (batch[:, :self.observed],)

    def target(self, batch):
        return batch[:, self.observed:self.observed + self.predicted]

    def input_ports(self):
        return (protocol.Port("frames", (self.observed, *self.frame_shape), "frames",
                              range=protocol.UNIT_RANGE),)

    def output_port(self):
        return protocol.Port("future", (self.predicted, *self.frame_shape), "frames",
                             range=protocol.UNIT_RANGE)

    def convention(self):
        return f"the last {self.observed} frames in [0, 1] -> the next {self.predicted}"

    def display(self, inputs):
        """The observed frames, one sequence a row."""
        return np.asarray(inputs[0])

    def display_rows(self, inputs, answers, targets):
        """For each sequence: the observed frames, the true future, the predicted one."""
        rows = []
        for observed, true, predicted in zip(self.display(inputs), targets, answers):
            rows.extend([observed, np.asarray(true), np.asarray(predicted)])
        return rows

    def _copy_last(self, inputs):
        return np.repeat(inputs[0][:, -1:], self.predicted, axis=1)

    BASELINES = {"copy_last": _copy_last}

    def check_input(self, shape, where):
        """A `DataError` unless a sequence of `shape` `(T, H, W[, C])` holds at least the
        observed frames, of 1 or 3 channels (any size: frames are resized)."""
        if len(shape) not in (3, 4) or (len(shape) == 4 and shape[-1] not in (1, 3)):
            raise DataError(f"{where}: frames must be an array (T, H, W) or (T, H, W, C) "
                            f"with C 1 or 3, got shape {tuple(shape)}")
        if shape[0] < self.observed:
            raise DataError(f"{where} has {shape[0]} frames; the model needs at least the "
                            f"{self.observed} it observes")
