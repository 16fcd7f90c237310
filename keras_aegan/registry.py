"""Name -> model builder: the catalogue of every model the CLI and the study can build.

The catalogue is plain data and imports no TensorFlow, so `--help` and argument errors are
instant; a builder's module is imported when the model is first built. A builder takes
`(image_shape, latent_dim, num_classes, **options)` and returns an *uncompiled* model whose
`compile()` has sensible defaults and takes `learning_rate`; the model describes itself
through `keras_aegan.protocol`. The entry says how data reaches it:

- `consumes`: what `fit` is given, a key of `FIT_INPUTS`: `"images"` (images alone:
  autoencoders reconstruct them, unconditional GANs imitate them) or `"labeled_images"`
  (`(images, labels)` pairs: conditional models).
- `validated`: whether the runner evaluates the model on the validation split after each
  epoch (a GAN's losses on held-out images say little, so GANs are not).

Add a model with `register_model(name, "package.module:builder", family=..., ...)` (or a
builder function instead of its path).
"""

import dataclasses
import importlib

from keras_aegan.errors import UserError, did_you_mean


def _images(spec):
    return lambda images, labels=None: images


def _labeled_images(spec):
    return lambda images, labels: (images, labels)


# What `fit` consumes -> `(mapper, needs_labels)`: `mapper(spec)` returns the function that
# maps one batch of the data (`images, labels` or images alone) to what `fit` is given; it
# may read the model's declaration (`protocol.ModelSpec`), e.g. a task that turns clean
# images into (input, target) pairs. A new kind of input adds its entry here.
FIT_INPUTS = {
    "images": (_images, False),
    "labeled_images": (_labeled_images, True),
}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A registered model: its name, builder (a function or its `module:function` path),
    family, what `fit` consumes, whether runs are validated, and a one-line description."""

    name: str
    target: object
    family: str
    consumes: str
    validated: bool
    description: str

    @property
    def builder(self):
        """The builder function (importing its module on first use)."""
        if callable(self.target):
            return self.target
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module), function)

    @property
    def needs_labels(self):
        return FIT_INPUTS[self.consumes][1]

    def fit_inputs(self, dataset, labeled, spec):
        """Map a dataset of `(images, labels)` batches (or images alone for an unlabeled
        source) to what this model's `fit` consumes; `spec` is the model's
        `protocol.ModelSpec`."""
        if self.needs_labels and not labeled:
            raise UserError(f"{self.name} needs class labels, and the dataset has none")
        return dataset.map(FIT_INPUTS[self.consumes][0](spec))


MODELS = {}


def register_model(name, builder, *, family, description, consumes="images", validated=True):
    """Add a model to the catalogue.

    Args:
        name: the name users give (`--model NAME`).
        builder: the builder function, or its path `"package.module:function"`.
        family: the family it is compared within (`autoencoder`, `gan`, ...).
        description: one line for `--help`.
        consumes: a key of `FIT_INPUTS`.
        validated: evaluate on the validation split after each epoch.
    """
    if consumes not in FIT_INPUTS:
        raise ValueError(f"consumes must be one of {tuple(FIT_INPUTS)}, got {consumes!r}")
    if name in MODELS:
        raise ValueError(f"model {name!r} is registered twice")
    MODELS[name] = ModelEntry(name, builder, family, consumes, bool(validated), description)


def get_model_entry(name):
    """The registered entry for `name`; a `UserError` listing the known names otherwise."""
    if name not in MODELS:
        raise UserError(f"unknown model {name!r}{did_you_mean(name, MODELS)}; known: "
                        f"{', '.join(sorted(MODELS))}")
    return MODELS[name]


def model_names():
    return sorted(MODELS)


# Classical methods fitted in closed form, not trained, that a study can compare with:
# name -> (fit function `(images, latent_dim, seed) -> model`, or its path; description).
BASELINES = {
    "pca": ("keras_aegan.autoencoders:fit_pca",
            "Principal component analysis as a linear autoencoder (the classical baseline)."),
}


def fit_baseline(name, images, latent_dim, seed=0):
    """Fit the baseline `name` on images; returns a keras_aegan model."""
    target = BASELINES[name][0]
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)(images, latent_dim, seed=seed)


@dataclasses.dataclass(frozen=True)
class StudyTask:
    """A task study (`study --task NAME`): the same job done by both families.

    Attributes:
        name: the task's name.
        target: `"module:function"` of `run(config, log) -> results`, which trains and
            evaluates `config.models` on the task and writes `config.path/report.md`.
        description: one line for `--help`.
        models: the default models (registered names and the task's baselines).
        baselines: the task's classical baselines, by name.
    """

    name: str
    target: str
    description: str
    models: tuple
    baselines: tuple = ()

    @property
    def run(self):
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module), function)


STUDY_TASKS = {}


def register_study_task(name, target, *, description, models, baselines=()):
    """Add a task study to the catalogue (see `StudyTask`)."""
    if name in STUDY_TASKS:
        raise ValueError(f"study task {name!r} is registered twice")
    STUDY_TASKS[name] = StudyTask(name, target, description, tuple(models), tuple(baselines))


def get_study_task(name):
    if name not in STUDY_TASKS:
        known = ", ".join(sorted(STUDY_TASKS)) or "none yet"
        raise UserError(f"unknown study task {name!r}{did_you_mean(name, STUDY_TASKS)}; "
                        f"known: {known}")
    return STUDY_TASKS[name]


def import_model_classes():
    """Import every registered builder's module, so that Keras can deserialize (load) the
    classes they define."""
    for entry in MODELS.values():
        entry.builder  # noqa: B018  (the import is the point)


_AE = "keras_aegan.autoencoders"
_GAN = "keras_aegan.gans"
for _name, _builder, _family, _description, _options in (
    ("conv_ae", f"{_AE}:conv_ae", "autoencoder",
     "Convolutional autoencoder: strided convolutions down, transposed convolutions up.", {}),
    ("dense_ae", f"{_AE}:dense_ae", "autoencoder",
     "Undercomplete stacked dense autoencoder: hidden layers down to a linear code.", {}),
    ("linear_ae", f"{_AE}:linear_ae", "autoencoder",
     "Linear autoencoder (no activations, MSE): learns PCA's principal subspace.", {}),
    ("tied_ae", f"{_AE}:tied_ae", "autoencoder",
     "Dense autoencoder with tied weights: the decoder uses the transposed encoder "
     "kernels.", {}),
    ("recurrent_ae", f"{_AE}:recurrent_ae", "autoencoder",
     "Recurrent (LSTM) autoencoder: images read as rows, or any (time, features) input.", {}),
    ("denoising_ae", f"{_AE}:denoising_ae", "autoencoder",
     "Denoising autoencoder: Gaussian noise or dropout on the input while training.", {}),
    ("sparse_ae", f"{_AE}:sparse_ae", "autoencoder",
     "Sparse autoencoder: sigmoid code with L1 and KL-divergence sparsity penalties.", {}),
    ("vae", f"{_AE}:vae", "autoencoder",
     "Variational autoencoder (beta-VAE by `beta`): KL via add_loss, samples from the "
     "prior.", {}),
    ("gan", f"{_GAN}:build_gan", "gan",
     "Dense GAN (Goodfellow et al. 2014): fully connected generator and discriminator.",
     {"validated": False}),
    ("dcgan", f"{_GAN}:build_dcgan", "gan",
     "DCGAN (Radford et al. 2015): strided convolutions with batch norm, sized to the "
     "images.", {"validated": False}),
    ("wgan_gp", f"{_GAN}:build_wgan_gp", "gan",
     "WGAN-GP (Gulrajani et al. 2017): a layer-normalized critic with a gradient penalty.",
     {"validated": False}),
    ("cgan", f"{_GAN}:build_cgan", "gan",
     "Conditional DCGAN: the label embedded into the generator, projected in the "
     "discriminator.", {"consumes": "labeled_images"}),
):
    register_model(_name, _builder, family=_family, description=_description, **_options)
