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
- `data`: what each example of its source is, a key of `DATA_KINDS`: `"images"`
  `(H, W, C)`, `"frames"` (a video clip `(T, H, W, C)`) or `"series"` (a window
  `(time, channels)`); the builder's first argument has that shape.

Add a model with `register_model(name, "package.module:builder", family=..., ...)` (or a
builder function instead of its path).
"""

import dataclasses
import importlib

from keras_aegan.errors import UserError, did_you_mean


def _function(target):
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


@dataclasses.dataclass(frozen=True)
class FitInput:
    """What `fit` consumes, and how a batch of the data becomes it.

    Attributes:
        mapper: `mapper(spec)` returns the function mapping one batch of the data
            (`images, labels`, or images alone) to what `fit` is given; it may read the
            model's declaration (`protocol.ModelSpec`), e.g. its task. A function or its
            `module:function` path.
        needs_labels: the data must have labels.
        examples: for task models, `examples(task, batch) -> {port kind: array}`, the
            inputs the task makes of a batch of real data (a function or its path): an
            export's parity check feeds them to the model's parts.
    """

    mapper: object
    needs_labels: bool = False
    examples: object = None

    def map(self, spec):
        mapper = _function(self.mapper) if isinstance(self.mapper, str) else self.mapper
        return mapper(spec)

    def examples_of(self, spec, batch):
        """`{port kind: array}` for a batch of real data, or `None` when the parts take
        the data as it is."""
        if self.examples is None:
            return None
        examples = _function(self.examples) if isinstance(self.examples, str) \
            else self.examples
        return examples(spec.task, batch)


# What one example of a model's source is -> an example shape (for tests and docs).
DATA_KINDS = {"images": (8, 8, 1), "frames": (20, 16, 16, 1), "series": (12, 3)}


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
}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A registered model: its name, builder (a function or its `module:function` path),
    family, what `fit` consumes, whether runs are validated, a one-line description, what
    one example of its data is, and the batch size a run uses unless told."""

    name: str
    target: object
    family: str
    consumes: str
    validated: bool
    description: str
    data: str = "images"
    batch_size: int = 64

    @property
    def builder(self):
        """The builder function (importing its module on first use)."""
        if callable(self.target):
            return self.target
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module), function)

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


def register_model(name, builder, *, family, description, consumes="images", validated=True,
                   data="images", batch_size=64):
    """Add a model to the catalogue.

    Args:
        name: the name users give (`--model NAME`).
        builder: the builder function, or its path `"package.module:function"`.
        family: the family it is compared within (`autoencoder`, `gan`, ...).
        description: one line for `--help`.
        consumes: a key of `FIT_INPUTS`.
        validated: evaluate on the validation split after each epoch.
        data: what one example of its source is, a key of `DATA_KINDS`.
        batch_size: a run's batch size unless told (`RunConfig.batch_size`).
    """
    if consumes not in FIT_INPUTS:
        raise ValueError(f"consumes must be one of {tuple(FIT_INPUTS)}, got {consumes!r}")
    if data not in DATA_KINDS:
        raise ValueError(f"data must be one of {tuple(DATA_KINDS)}, got {data!r}")
    if name in MODELS:
        raise ValueError(f"model {name!r} is registered twice")
    MODELS[name] = ModelEntry(name, builder, family, consumes, bool(validated), description,
                              data, batch_size)


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


# Modules whose saveable models are made by their own functions, not by a registered
# builder (the adversarially trained classifiers of `robust`).
UNREGISTERED_MODEL_MODULES = ("keras_aegan.robust",)


def import_model_classes():
    """Import every registered builder's module, and `UNREGISTERED_MODEL_MODULES`, so
    that Keras can deserialize (load) the classes they define."""
    for entry in MODELS.values():
        entry.builder  # noqa: B018  (the import is the point)
    for module in UNREGISTERED_MODEL_MODULES:
        importlib.import_module(module)


_AE = "keras_aegan.autoencoders"
_GAN = "keras_aegan.gans"
for _name, _builder, _family, _description, _options in (
    ("conv_ae", f"{_AE}:conv_ae", "autoencoder",
     "Convolutional autoencoder: strided convolutions down, a residual block at the "
     "smallest map, transposed convolutions up.", {"batch_size": 32}),
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
    ("wgan_gp", "keras_aegan.gan_variants:build_wgan_gp", "gan",
     "WGAN-GP (Gulrajani et al. 2017): a layer-normalized critic with a gradient penalty.",
     {"validated": False}),
    ("cgan", "keras_aegan.gan_variants:build_cgan", "gan",
     "Conditional DCGAN: the label embedded into the generator, projected in the "
     "discriminator.", {"consumes": "labeled_images"}),
):
    register_model(_name, _builder, family=_family, description=_description, **_options)

# The adversarial autoencoders: the bridge between the families, compared within the
# autoencoder family (next to the VAE) because they offer an autoencoder's parts.
register_model("aae", "keras_aegan.hybrids:aae", family="autoencoder",
               description="Adversarial autoencoder (Makhzani et al. 2015): codes matched to "
                           "N(0, I) by a code discriminator; samples from the prior.")
register_model("caae", "keras_aegan.hybrids:caae", family="autoencoder",
               consumes="labeled_images",
               description="Supervised adversarial autoencoder: the label joins the code in "
                           "the decoder; draws a chosen class from the prior.")


_TR = "keras_aegan.translation"
register_model("unet_ae", f"{_TR}:build_unet_ae", family="autoencoder", consumes="task_pairs",
               description="U-Net image-to-image translator on the pixel loss (--option "
                           "task=super_resolution|colorize|inpaint|sketch).")
register_model("pix2pix", f"{_TR}:build_pix2pix", family="gan", consumes="task_pairs",
               description="pix2pix (Isola et al. 2017): U-Net translator, patch "
                           "discriminator, adversarial + 100 L1 (--option task=...).")

# Sequences: next-frame prediction (video) and time-series generation, both families.
register_model("frame_predictor", "keras_aegan.video:frame_predictor", family="autoencoder",
               consumes="frame_sequences", data="frames",
               description="Next-frame predictor (SimVP-like temporal convolutions), plain fit "
                           "on the pixel loss; needs frame sequences (moving_mnist:SPEC).")
register_model("adversarial_predictor", "keras_aegan.video:adversarial_predictor",
               family="gan", consumes="frame_sequences", data="frames",
               description="The frame predictor with a sequence discriminator in train_step "
                           "(pixel + adversarial loss).")
register_model("timegan", "keras_aegan.timeseries:timegan", family="gan", validated=False,
               data="series",
               description="TimeGAN (Yoon et al. 2019): recurrent generator and discriminator "
                           "in a learned embedding, with its supervised loss; for series.")
register_model("recurrent_gan", "keras_aegan.timeseries:recurrent_gan", family="gan",
               validated=False, data="series",
               description="Recurrent GAN for series in data space: noise per window unrolled "
                           "by a GRU, a GRU discriminator per step, TimeGAN's moment loss.")
register_model("recurrent_vae", "keras_aegan.timeseries:recurrent_vae", family="autoencoder",
               data="series",
               description="Recurrent (GRU) VAE for (time, channels) series: samples from its "
                           "prior.")
