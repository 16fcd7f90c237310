"""keras_aegan: autoencoders and GANs for Keras 3 / TensorFlow, side by side.

The pieces, in the order data flows through them:

- `open_source` / `load`: a data source spec -> `tf.data` pipelines of images in [0, 1].
- `Autoencoder` and its family, `GAN` / `WGANGP` / `ConditionalGAN`: Keras models, made by
  name from the registry (`model_names()`, `get_model_entry(name).builder`); each declares
  what it is and offers (`describe(model)`, see `keras_aegan.protocol`).
- `train(RunConfig(...))`: one resumable training run -> `runs/<name>/`.
- `run_study(StudyConfig(...))`: the comparative study -> `runs/<study>/report.md`.
- `export_run` / `export_model`: SavedModel and TF Lite artifacts with parity checks.

Names are imported on first use, so `import keras_aegan` (and the command line's argument
parsing) does not start TensorFlow until a model or a pipeline is needed.
"""

import importlib

__version__ = "0.2.0"

# public name -> the module that defines it
_EXPORTS = {
    "Autoencoder": "autoencoders", "PCAAutoencoder": "autoencoders",
    "TrainingDiverged": "callbacks",
    "DataOptions": "config", "RunConfig": "config", "StudyConfig": "config",
    "DataInfo": "data", "Source": "data", "load": "data", "open_source": "data",
    "DataError": "errors", "UserError": "errors",
    "ExportError": "export", "export_model": "export",
    "GAN": "gans", "WGANGP": "gan_variants", "ConditionalGAN": "gan_variants",
    "ModelSpec": "protocol", "Part": "protocol", "Port": "protocol", "describe": "protocol",
    "get_model_entry": "registry", "model_names": "registry", "register_model": "registry",
    "RunResult": "runner", "export_run": "runner", "load_model": "runner", "train": "runner",
    "run_study": "study",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'keras_aegan' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"keras_aegan.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS])
