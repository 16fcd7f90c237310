"""The task interface: what a model learns to undo or continue, made from clean examples.

A task turns a clean example (an image, a frame sequence) into a model's inputs and its
target, declares the model ports those inputs fill, describes itself as plain data (the
`{"name": ..., <options>}` dict stored in manifests and in the models' configs), draws its
inputs for picture grids, offers its classical baselines, and checks a user's file for
`apply`. A task class registers itself by name (`register_task`); `task_from_description`
turns the plain data back into the object, so nothing outside this package asks a task's
name.
"""

import numpy as np
import tensorflow as tf

from keras_aegan.errors import UserError, did_you_mean

# Task name -> class (filled by `register_task`).
TASKS = {}


def register_task(cls):
    """Class decorator: make `cls` (a `Task` with a unique `name`) known by its name."""
    if cls.name in TASKS:
        raise ValueError(f"task {cls.name!r} is registered twice")
    TASKS[cls.name] = cls
    return cls


def task_class(name, kind=None):
    """The registered task class called `name` (a subclass of `kind`, when given).

    Raises:
        UserError: no such task (of that kind); one line naming the known ones.
    """
    kind = kind or Task
    known = {n: c for n, c in TASKS.items() if issubclass(c, kind)}
    if not isinstance(name, str) or name not in known:
        raise UserError(f"unknown task {name!r}{did_you_mean(str(name), known)}; known: "
                        f"{', '.join(known)}")
    return known[name]


def task_from_description(description, example_shape, kind=None):
    """The task object of its plain-data description (`Task.describe()`).

    Args:
        description: a mapping `{"name": ..., <options>}`; missing options take their
            defaults, so descriptions written before an option existed still load.
        example_shape: the shape of one clean example the task applies to (`(H, W, C)`
            for images, `(T, H, W, C)` for frame sequences).
        kind: restrict the names to subclasses of this `Task` class.

    Raises:
        UserError: not a description, an unknown name, a bad option.
    """
    if isinstance(description, Task):
        return description
    if not hasattr(description, "keys") or "name" not in description:
        raise UserError(f"a task description is a mapping with a name, got {description!r}")
    options = {k: v for k, v in description.items() if k != "name"}
    return task_class(description["name"], kind)(example_shape, **options)


def make_task(name, example_shape, **options):
    """A checked task: `task_from_description({"name": name, **options}, example_shape)`."""
    return task_from_description({"name": name, **options}, example_shape)


class Task:
    """One task. Subclasses set `name`, `OPTIONS` (option -> default; `None`: computed from
    the example shape) and implement `_configure`, `make_inputs`, `input_ports`,
    `output_port`, `convention`, `display` and `check_input`.

    Args:
        example_shape: the shape of one clean example.
        **options: the task's options; `None` values take the default.

    Raises:
        UserError: an unknown option, or an option out of range for this shape.
    """

    name = None
    OPTIONS = {}
    # Classical baselines: name -> function(task, inputs) -> answers (numpy).
    BASELINES = {}

    def __init__(self, example_shape, **options):
        self.example_shape = tuple(int(d) for d in example_shape)
        unknown = sorted(k for k, v in options.items()
                         if k not in self.OPTIONS and v is not None)
        if unknown:
            takes = ", ".join(k for k in self.OPTIONS if k != "seed") or "no options"
            seed = "; and its seed" if "seed" in self.OPTIONS else ""
            raise UserError(f"the {self.name} task has no option {', '.join(unknown)} (its "
                            f"options: {takes}{seed})")
        self._configure(**{k: (default if options.get(k) is None else options[k])
                           for k, default in self.OPTIONS.items()})

    def _configure(self, **options):
        raise NotImplementedError

    def describe(self):
        """The task as plain data: `{"name": ..., <every option>}` (JSON-able)."""
        return {"name": self.name, **{k: getattr(self, k) for k in self.OPTIONS}}

    @classmethod
    def from_description(cls, description, example_shape):
        """The task of a description (`describe()`'s output), checked to be this class."""
        return task_from_description(description, example_shape, kind=cls)

    def __eq__(self, other):
        return (isinstance(other, Task) and self.describe() == other.describe()
                and self.example_shape == other.example_shape)

    def __hash__(self):
        return hash((self.name, self.example_shape))

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self.describe().items() if k != "name")
        return f"{type(self).__name__}({self.example_shape}, {options})"

    # ---------------------------------------------------------------- inputs and targets

    def make_inputs(self, batch):
        """The model inputs made from a batch of clean examples: a tuple of float32
        tensors, one per `input_ports()` port."""
        raise NotImplementedError

    def target(self, batch):
        """What the model should answer for a batch of clean examples."""
        return batch

    def make_pair(self, batch):
        """`(inputs, target)` of a batch of clean examples (`inputs` a tuple)."""
        return self.make_inputs(batch), self.target(batch)

    def pairs(self):
        """The `tf.data` map for `fit`: a batch of examples (and labels) -> `(inputs,
        target)`; `inputs` is a tensor for a one-input task and a tuple otherwise."""

        # Plain tensor code with no data-dependent Python control flow: nothing to convert.
        @tf.autograph.experimental.do_not_convert
        def to_pair(batch, labels=None):
            del labels
            inputs, target = self.make_pair(batch)
            return (inputs[0] if len(inputs) == 1 else inputs), target

        return to_pair

    def make_input_arrays(self, examples, batch_size=256):
        """`make_inputs` on a numpy array in fixed batches of `batch_size`: a tuple of numpy
        arrays. The batching is part of a seeded task's randomness, so the same array and
        batch size always give the same inputs."""
        examples = np.asarray(examples, "float32")
        parts = [[np.asarray(t) for t in self.make_inputs(examples[i:i + batch_size])]
                 for i in range(0, len(examples), batch_size)]
        return tuple(np.concatenate(column) for column in zip(*parts))

    def examples(self, batch, batch_size=256):
        """`{port kind: array}` of a batch of clean examples, e.g. for an export's parity
        check."""
        return {port.kind: value for port, value in
                zip(self.input_ports(), self.make_input_arrays(batch, batch_size))}

    # ----------------------------------------------------------------------- the model

    def input_ports(self):
        """The model inputs the task makes, as `protocol.Port`s (in order)."""
        raise NotImplementedError

    def output_port(self):
        """What the model answers, as a `protocol.Port`."""
        raise NotImplementedError

    def convention(self):
        """One sentence on what to feed a model of this task (for manifests and help)."""
        raise NotImplementedError

    # ------------------------------------------------------------ pictures and baselines

    def display(self, inputs):
        """The task's inputs drawn as pictures the shape of its examples (numpy)."""
        raise NotImplementedError

    def display_rows(self, inputs, answers, targets):
        """Rows of a progress grid: the inputs drawn, the model's answers, the targets."""
        return [self.display(inputs), np.asarray(answers), np.asarray(targets)]

    @property
    def baselines(self):
        """The names of the task's classical baselines (see `baseline`)."""
        return tuple(self.BASELINES)

    def baseline(self, name, inputs):
        """A classical method's answers to the task's inputs (numpy, clipped to [0, 1]).

        Raises:
            UserError: the task has no baseline of that name.
        """
        if name not in self.BASELINES:
            raise UserError(f"the {self.name} task has no baseline {name!r}; it has: "
                            f"{', '.join(self.BASELINES) or 'none'}")
        out = self.BASELINES[name](self, [np.asarray(x, "float32") for x in inputs])
        return np.clip(out, 0.0, 1.0).astype("float32")

    # ------------------------------------------------------------------------- apply

    def check_input(self, shape, where):
        """A `UserError` (or `DataError`) in one line unless a user's input of `shape` can be
        fed to a model of this task; `where` names it (a path)."""
        raise NotImplementedError
