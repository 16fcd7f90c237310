"""Name -> model builder: the catalogue of every model the CLI and the study can build.

This module is the catalogue's mechanism and imports no TensorFlow. A builder takes
`(image_shape, latent_dim, num_classes, **options)` and returns an *uncompiled* model whose
`compile()` has sensible defaults and takes `learning_rate`; the model describes itself
through `keras_aegan.protocol`. The entry says how data reaches it:

- `consumes`: what `fit` is given, a key of `FIT_INPUTS`: `"images"` (images alone:
  autoencoders reconstruct them, unconditional GANs imitate them) or `"labeled_images"`
  (`(images, labels)` pairs: conditional models).
- `validated`: whether the runner evaluates the model on the validation split after each
  epoch (a GAN's losses on held-out images say little, so GANs are not).
- `data`: what each example of its source is, a key of `DATA_KINDS`: `"images"`
  `(H, W, C)`, `"frames"` (a video clip `(T, H, W, C)`), `"series"` (a window
  `(time, channels)`) or `"text"` (a row of `max_length` character ids); the builder's
  first argument has that shape. A text model's builder also takes `vocabulary` (the
  source's characters, see `DataInfo.vocabulary`), which the runner passes.

Add a model with `register_model(name, builder, model_class=..., description=...)`: the
builder function itself and the class it builds, whose `family` attribute is the model's
family (the one declaration the registry and `protocol.describe` both read). The package's
own models are registered in `keras_aegan.models.catalogue`, which `import keras_aegan` imports.
"""

import dataclasses

from keras_aegan.errors import UserError, lookup


@dataclasses.dataclass(frozen=True)
class FitInput:
    """What `fit` consumes, and how a batch of the data becomes it.

    Attributes:
        mapper: `mapper(spec)` returns the function mapping one batch of the data
            (`images, labels`, or images alone) to what `fit` is given; it may read the
            model's declaration (`protocol.ModelSpec`), e.g. its task.
        needs_labels: the data must have labels.
        examples: for task models, `examples(task, batch) -> {port kind: array}`, the
            inputs the task makes of a batch of real data: an export's parity check
            feeds them to the model's parts.
    """

    mapper: object
    needs_labels: bool = False
    examples: object = None

    def map(self, spec):
        return self.mapper(spec)

    def examples_of(self, spec, batch):
        """`{port kind: array}` for a batch of real data, or `None` when the parts take
        the data as it is."""
        if self.examples is None:
            return None
        return self.examples(spec.task, batch)


# What one example of a model's source is -> an example shape (for tests and docs).
DATA_KINDS = {"images": (8, 8, 1), "frames": (20, 16, 16, 1), "series": (12, 3),
              "text": (12,)}


def _task_of(description, example_shape):
    """The task object of a model's declared task (imported here: it needs TensorFlow)."""
    from keras_aegan.data.tasks import task_from_description

    return task_from_description(description, example_shape)


# What a task model fits on: `(inputs, target)` made from a batch of clean examples by the
# task the model declares; the parity examples of an export, the same way.
_TASK_INPUT = FitInput(
    lambda spec: _task_of(spec.task, spec.image_shape).pairs(),
    examples=lambda task, batch: _task_of(task, batch.shape[1:]).examples(batch))


# What `fit` consumes -> `FitInput`. A new kind of input adds its entry here.
FIT_INPUTS = {
    "images": FitInput(lambda spec: lambda images, labels=None: images),
    "labeled_images": FitInput(lambda spec: lambda images, labels: (images, labels),
                               needs_labels=True),
    # (task inputs, images) made from clean images by the model's declared task.
    "task_pairs": _TASK_INPUT,
    # (observed frames, future frames) cut from each sequence by the model's declared task.
    "frame_sequences": _TASK_INPUT,
    # Rows of character ids (a text source): `fit` is given them alone, and an export's
    # parity check feeds them to the parts that take `tokens`.
    "tokens": FitInput(lambda spec: lambda ids, labels=None: ids,
                       examples=lambda task, batch: {"tokens": batch}),
}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A registered model: its name, builder function, the class it builds, what `fit`
    consumes, whether runs are validated, a one-line description, what one example of its
    data is, the batch size a run uses unless told, and whether a long run on small
    images compiles its steps with XLA (`training.runner.uses_xla`)."""

    name: str
    builder: object
    model_class: type
    consumes: str
    validated: bool
    description: str
    data: str = "images"
    batch_size: int = 64
    xla: bool = False

    @property
    def family(self):
        """The family it is compared within, as its class declares it."""
        return self.model_class.family

    @property
    def needs_labels(self):
        return FIT_INPUTS[self.consumes].needs_labels

    def fit_inputs(self, dataset, labeled, spec):
        """Map a dataset of `(images, labels)` batches (or images alone for an unlabeled
        source) to what this model's `fit` consumes; `spec` is the model's
        `protocol.ModelSpec`."""
        if self.needs_labels and not labeled:
            raise UserError(f"{self.name} needs class labels, and the dataset has none")
        return dataset.map(FIT_INPUTS[self.consumes].map(spec))

    def examples(self, spec, batch):
        """Real examples of what this model's parts take, made from a batch of the data
        (`None`: the data as it is); see `FitInput.examples_of`."""
        return FIT_INPUTS[self.consumes].examples_of(spec, batch)


MODELS = {}


def register_model(name, builder, *, model_class, description, consumes="images",
                   validated=True, data="images", batch_size=64, xla=False):
    """Add a model to the catalogue.

    Args:
        name: the name users give (`--model NAME`).
        builder: the builder function.
        model_class: the class the builder returns (a subclass is fine); its `family`
            attribute (`autoencoder`, `gan`, ...) is the family it is compared within.
        description: one line for `--help`.
        consumes: a key of `FIT_INPUTS`.
        validated: evaluate on the validation split after each epoch.
        data: what one example of its source is, a key of `DATA_KINDS`.
        batch_size: a run's batch size unless told (`RunConfig.batch_size`).
        xla: its steps were measured faster with XLA on small images: a long run on
            them compiles with it (`training.runner.uses_xla`).
    """
    if not callable(builder):
        raise TypeError(f"model {name!r}: builder must be a function, got {builder!r}")
    if not isinstance(getattr(model_class, "family", None), str):
        raise TypeError(f"model {name!r}: {model_class!r} declares no `family`")
    if consumes not in FIT_INPUTS:
        raise ValueError(f"consumes must be one of {tuple(FIT_INPUTS)}, got {consumes!r}")
    if data not in DATA_KINDS:
        raise ValueError(f"data must be one of {tuple(DATA_KINDS)}, got {data!r}")
    if name in MODELS:
        raise ValueError(f"model {name!r} is registered twice")
    MODELS[name] = ModelEntry(name, builder, model_class, consumes, bool(validated),
                              description, data, batch_size, bool(xla))


def get_model_entry(name):
    """The registered entry for `name`; a `UserError` listing the known names otherwise."""
    return lookup(MODELS, name, "model")


def model_names():
    return sorted(MODELS)


# Classical methods fitted in closed form, not trained, that a study can compare with:
# name -> (fit function `(images, latent_dim, seed) -> model`, description); the package's
# own are added by `keras_aegan.models.catalogue` with `register_baseline`.
BASELINES = {}


def register_baseline(name, fit, *, description):
    """Add a classical baseline: `fit(images, latent_dim, seed=...)` returns a model."""
    if not callable(fit):
        raise TypeError(f"baseline {name!r}: fit must be a function, got {fit!r}")
    if name in BASELINES:
        raise ValueError(f"baseline {name!r} is registered twice")
    BASELINES[name] = (fit, description)


def fit_baseline(name, images, latent_dim, seed=0):
    """Fit the baseline `name` on images; returns a keras_aegan model."""
    return BASELINES[name][0](images, latent_dim, seed=seed)


