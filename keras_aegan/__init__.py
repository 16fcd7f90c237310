"""keras_aegan: autoencoders and GANs for Keras 3 / TensorFlow, side by side."""

from keras_aegan.autoencoders import Autoencoder
from keras_aegan.data import DataInfo, Source, load, open_source
from keras_aegan.errors import DataError, UserError
from keras_aegan.registry import get_model_entry, model_names, register_model
from keras_aegan.runner import RunConfig, RunResult, train

__version__ = "0.1.0"

__all__ = [
    "Autoencoder",
    "DataError",
    "DataInfo",
    "RunConfig",
    "RunResult",
    "Source",
    "UserError",
    "get_model_entry",
    "load",
    "model_names",
    "open_source",
    "register_model",
    "train",
]
