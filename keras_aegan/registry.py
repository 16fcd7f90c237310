"""Name -> model builder registry, filled by the model families (`autoencoders`, `gans`).

A builder takes `(image_shape, latent_dim, num_classes, **options)` and returns an
*uncompiled* model whose `compile()` has sensible defaults and takes `learning_rate`.
`targets` says how the data layer's `(images, labels)` batches feed `fit`:

- `"images"`: images alone, which the model reconstructs (autoencoders).
- `"none"`: images alone — unconditional GANs.
- `"labels"`: `(images, labels)` — conditional models.
"""

import dataclasses

from keras_aegan.errors import UserError

TARGETS = ("images", "none", "labels")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: object
    family: str
    targets: str
    description: str


MODELS = {}


def register_model(name, *, family, targets, description=""):
    """Decorator registering `builder` under `name` for the CLI and the study."""
    if targets not in TARGETS:
        raise ValueError(f"targets must be one of {TARGETS}, got {targets!r}")

    def decorator(builder):
        if name in MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        MODELS[name] = ModelEntry(name, builder, family, targets,
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
