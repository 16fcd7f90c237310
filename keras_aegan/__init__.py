"""keras_aegan: autoencoders and GANs for Keras 3 / TensorFlow, side by side.

The pieces, in the order data flows through them:

- `open_source` / `load`: a data source spec -> `tf.data` pipelines of images in [0, 1].
- `Autoencoder` and its family, `GAN` / `WGANGP` / `ConditionalGAN`: Keras models, made by
  name from the registry (`model_names()`, `get_model_entry(name).builder`); each declares
  what it is and offers (`describe(model)`, see `keras_aegan.protocol`).
- `train(RunConfig(...))`: one resumable training run -> `runs/<name>/`.
- `run_study(StudyConfig(...))`: the comparative study -> `runs/<study>/report.md`.
- `export_run` / `export_model`: SavedModel and TF Lite artifacts with parity checks.
"""

from keras_aegan.autoencoders import Autoencoder, PCAAutoencoder
from keras_aegan.callbacks import TrainingDiverged
from keras_aegan.data import DataInfo, DataOptions, Source, load, open_source
from keras_aegan.errors import DataError, UserError
from keras_aegan.export import ExportError, export_model
from keras_aegan.gans import GAN, WGANGP, ConditionalGAN
from keras_aegan.protocol import ModelSpec, Part, Port, describe
from keras_aegan.registry import get_model_entry, model_names, register_model
from keras_aegan.runner import RunConfig, RunResult, export_run, load_model, train
from keras_aegan.study import StudyConfig, run_study

__version__ = "0.1.0"

__all__ = [
    "GAN",
    "WGANGP",
    "Autoencoder",
    "ConditionalGAN",
    "DataError",
    "DataInfo",
    "DataOptions",
    "ExportError",
    "ModelSpec",
    "PCAAutoencoder",
    "Part",
    "Port",
    "RunConfig",
    "RunResult",
    "Source",
    "StudyConfig",
    "TrainingDiverged",
    "UserError",
    "describe",
    "export_model",
    "export_run",
    "get_model_entry",
    "load",
    "load_model",
    "model_names",
    "open_source",
    "register_model",
    "run_study",
    "train",
]
