"""keras_aegan: autoencoders and GANs for Keras 3 / TensorFlow, side by side.

The pieces, in the order data flows through them:

- `open_source` / `load`: a data source spec -> `tf.data` pipelines of images in [0, 1].
- The model classes (`Autoencoder`, `VariationalAutoencoder`, `GAN`, `Pix2Pix`,
  `FramePredictor`, `TimeGAN`, ...): Keras models, made by name from the registry
  (`model_names()`, `get_model_entry(name).builder`); each declares what it is and offers
  (`describe(model)`, see `keras_aegan.protocol`).
- `train(RunConfig(...))`: one resumable training run -> `runs/<name>/`.
- `study(StudyConfig(...))` (also `run_study`): the comparative study ->
  `runs/<study>/report.md`.
- `export_run` / `export_model`: SavedModel and TF Lite artifacts with parity checks.
- `apply_run`: a trained translator or predictor applied to the user's own files.
- `load_model(run_dir)`: a run's model; `keras.saving.load_model(".../model.keras")` works
  as well, since importing the package registers every model class with Keras.

Importing the package imports TensorFlow (a few seconds). When TensorFlow is not imported
yet, it is imported without its start-up lines on standard error and with its C++ logging
at fatal errors only unless `TF_CPP_MIN_LOG_LEVEL` is set (`keras_aegan.noise.quiet_tensorflow`;
`KERAS_AEGAN_VERBOSE=1` shows everything).
"""

__version__ = "0.3.0"  # the one version number: pyproject.toml and export manifests read it

from keras_aegan import noise as _noise

_noise.quiet_tensorflow()  # before anything below imports TensorFlow

# Every import below comes after TensorFlow was quieted; `models.catalogue` registers every
# model kind, so the registry is complete and Keras can load any saved model.
from keras_aegan.apply.run import apply_run  # noqa: E402
from keras_aegan.config import RunConfig, StudyConfig  # noqa: E402
from keras_aegan.data import DataInfo, DataOptions, Source, load, open_source  # noqa: E402
from keras_aegan.errors import DataError, TrainingDiverged, UserError  # noqa: E402
from keras_aegan.export import ExportError, export_model  # noqa: E402
from keras_aegan.models import catalogue as _catalogue  # noqa: E402,F401
from keras_aegan.models.autoencoders import (  # noqa: E402
    Autoencoder, DenoisingAutoencoder, TiedAutoencoder, VariationalAutoencoder)
from keras_aegan.models.gan_variants import WGANGP, ConditionalGAN  # noqa: E402
from keras_aegan.models.gans import GAN  # noqa: E402
from keras_aegan.models.hybrids import (  # noqa: E402
    AdversarialAutoencoder, ConditionalAdversarialAutoencoder)
from keras_aegan.models.pca import PCAAutoencoder  # noqa: E402
from keras_aegan.models.robust_model import AdversarialClassifier  # noqa: E402
from keras_aegan.models.text import CharVAE  # noqa: E402
from keras_aegan.models.text_gan import CharGAN  # noqa: E402
from keras_aegan.models.timegan import TimeGAN  # noqa: E402
from keras_aegan.models.timeseries import RecurrentGAN, RecurrentVAE  # noqa: E402
from keras_aegan.models.translation import Pix2Pix, UNetTranslator  # noqa: E402
from keras_aegan.models.video import AdversarialFramePredictor, FramePredictor  # noqa: E402
from keras_aegan.protocol import ModelSpec, Part, Port, describe  # noqa: E402
from keras_aegan.registry import (  # noqa: E402
    get_model_entry, model_names, register_baseline, register_model)
from keras_aegan.studies import run_study  # noqa: E402
from keras_aegan.training.runner import RunResult, export_run, load_model, train  # noqa: E402

# `keras_aegan.study(config)` runs a study (the sub-package is `keras_aegan.studies`).
study = run_study

__all__ = [
    # models
    "AdversarialAutoencoder", "AdversarialClassifier", "AdversarialFramePredictor",
    "Autoencoder", "CharGAN", "CharVAE", "ConditionalAdversarialAutoencoder",
    "ConditionalGAN", "DenoisingAutoencoder", "FramePredictor", "GAN", "PCAAutoencoder", "Pix2Pix",
    "RecurrentGAN", "RecurrentVAE", "TiedAutoencoder", "TimeGAN", "UNetTranslator",
    "VariationalAutoencoder", "WGANGP",
    # the registry and the model protocol
    "ModelSpec", "Part", "Port", "describe", "get_model_entry", "model_names",
    "register_baseline", "register_model",
    # data
    "DataInfo", "DataOptions", "Source", "load", "open_source",
    # runs, studies, export, apply
    "RunConfig", "RunResult", "StudyConfig", "apply_run", "export_model", "export_run",
    "load_model", "run_study", "study", "train",
    # errors
    "DataError", "ExportError", "TrainingDiverged", "UserError",
]
