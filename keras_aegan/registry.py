"""Name -> model builder registry, filled by the model families (`autoencoders`, `gans`).

A builder takes `(image_shape, latent_dim, num_classes, **options)` and returns an
*uncompiled* model whose `compile()` has sensible defaults and takes `learning_rate`; the
model describes itself through `keras_aegan.protocol`. The entry says how data reaches it:

- `consumes`: what `fit` is given, a key of `FIT_INPUTS`: `"images"` (images alone:
  autoencoders reconstruct them, unconditional GANs imitate them) or `"labeled_images"`
  (`(images, labels)` pairs: conditional models).
- `validated`: whether the runner evaluates the model on the validation split after each
  epoch (a GAN's losses on held-out images say little, so GANs are not).
"""

import dataclasses

from keras_aegan.errors import UserError


def _images(images, labels=None):
    return images


def _labeled_images(images, labels):
    return images, labels


# What `fit` consumes -> how a `(images, labels)` batch is mapped to it, and whether the
# data must have labels.
FIT_INPUTS = {
    "images": (_images, False),
    "labeled_images": (_labeled_images, True),
}
FAMILIES = ("autoencoder", "gan")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A registered model: its name, builder, family, what `fit` consumes, whether runs
    are validated, and a one-line description."""

    name: str
    builder: object
    family: str
    consumes: str
    validated: bool
    description: str

    @property
    def needs_labels(self):
        return FIT_INPUTS[self.consumes][1]

    def fit_inputs(self, dataset, labeled):
        """Map a dataset of `(images, labels)` batches (or images alone for an unlabeled
        source) to what this model's `fit` consumes."""
        if self.needs_labels and not labeled:
            raise UserError(f"{self.name} needs class labels, and the dataset has none")
        if not labeled:
            return dataset
        return dataset.map(FIT_INPUTS[self.consumes][0])


MODELS = {}


def register_model(name, *, family, consumes="images", validated=True, description=""):
    """Decorator registering `builder` under `name` for the CLI and the study."""
    if consumes not in FIT_INPUTS:
        raise ValueError(f"consumes must be one of {tuple(FIT_INPUTS)}, got {consumes!r}")

    def decorator(builder):
        if name in MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        MODELS[name] = ModelEntry(name, builder, family, consumes, bool(validated),
                                  description or (builder.__doc__ or "").strip().split("\n")[0])
        return builder

    return decorator


def get_model_entry(name):
    """The registered entry for `name`; a `UserError` listing the known names otherwise."""
    _load_families()
    if name not in MODELS:
        raise UserError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    return MODELS[name]


def model_names():
    _load_families()
    return sorted(MODELS)


def _load_families():
    # Importing a family module registers its models.
    import keras_aegan.autoencoders  # noqa: F401
    import keras_aegan.gans  # noqa: F401
