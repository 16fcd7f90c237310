"""One training run: a config in, a run folder out.

`train(RunConfig(...))` opens the data source, builds the registered model, fits it with
Keras callbacks and writes `runs/<name>/`:

- `config.json`: the `RunConfig`, enough to repeat the run (`RunConfig.load`).
- `model.keras`: the trained model.
- `history.csv`: one row of metrics per epoch.
- `logs/`: TensorBoard logs.
- `images/epoch_NNN.png` (and `images/latest.png`): the model's progress grid.
"""

import dataclasses
import json
import os
import re
import time

import keras
import numpy as np

from keras_aegan import data as data_lib
from keras_aegan.callbacks import ImageGrid
from keras_aegan.errors import UserError
from keras_aegan.registry import get_model_entry

PREVIEW_IMAGES = 16


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run; saved as `config.json` in the run folder.

    Attributes:
        model: a registered model name (see `keras_aegan.registry.model_names()`).
        dataset: a data source spec (see `keras_aegan.data`).
        epochs: passes over the training split.
        batch_size: images per training step.
        latent_dim: size of the code / latent noise.
        seed: seeds Python, NumPy, TensorFlow and Keras, and the shuffling.
        learning_rate: optimizer learning rate; `None` keeps the model's default.
        steps_per_epoch: cap the steps of each epoch (`None`: the whole split).
        run_dir: parent folder of run folders.
        name: run folder name; defaults to `<model>-<dataset>`.
        image_shape: resize images to `(H, W, C)`; `None` keeps the source's shape.
        crop: center-crop to the aspect ratio of `image_shape` before resizing.
        data_dir: tensorflow-datasets data folder.
        download: let tensorflow-datasets download a missing dataset.
        manual_dir: files fetched by hand, for tensorflow-datasets builders that use them.
        validation_fraction: share of train carved out as validation when needed.
    """

    model: str = "conv_ae"
    dataset: str = "digits"
    epochs: int = 5
    batch_size: int = 64
    latent_dim: int = 16
    seed: int = 0
    learning_rate: float | None = None
    steps_per_epoch: int | None = None
    run_dir: str = "runs"
    name: str | None = None
    image_shape: tuple | None = None
    crop: bool = False
    data_dir: str | None = None
    download: bool = True
    manual_dir: str | None = None
    validation_fraction: float = 0.1

    def __post_init__(self):
        for field in ("epochs", "batch_size", "latent_dim"):
            _check_int(field, getattr(self, field), minimum=1)
        _check_int("seed", self.seed, minimum=0)
        if self.steps_per_epoch is not None:
            _check_int("steps_per_epoch", self.steps_per_epoch, minimum=1)
        if self.learning_rate is not None and not (
                isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate < 10):
            raise UserError(f"learning_rate must be in (0, 10), got {self.learning_rate!r}")
        if self.image_shape is not None:
            object.__setattr__(self, "image_shape", data_lib._check_image_shape(self.image_shape))
        if self.name is not None and not re.fullmatch(r"[\w.\-]+", self.name):
            raise UserError(f"name must be letters, digits, '.', '_' or '-', got {self.name!r}")

    @property
    def run_name(self):
        if self.name:
            return self.name
        slug = re.sub(r"[^\w.\-]+", "_", os.path.basename(self.dataset.rstrip("/\\"))
                      if ":" in self.dataset else self.dataset).strip("_")
        return f"{self.model}-{slug or 'data'}"

    @property
    def path(self):
        return os.path.join(self.run_dir, self.run_name)

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def load(cls, path):
        """Read `config.json` from a run folder (or the file itself)."""
        if os.path.isdir(path):
            path = os.path.join(path, "config.json")
        with open(path) as f:
            values = json.load(f)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def open_data(self):
        return data_lib.open_source(
            self.dataset, image_shape=self.image_shape, crop=self.crop, data_dir=self.data_dir,
            download=self.download, manual_dir=self.manual_dir,
            validation_fraction=self.validation_fraction)


@dataclasses.dataclass
class RunResult:
    """What `train` returns: the fitted model, its Keras history and the run folder."""

    model: keras.Model
    history: dict
    path: str
    seconds: float


def fit_inputs(dataset, targets, labeled):
    """Map `(images, labels)` batches to what `fit` wants for a model's `targets` kind."""
    if targets == "labels":
        if not labeled:
            raise UserError("this model needs class labels, and the dataset has none")
        return dataset
    if targets == "images":
        return dataset.map(lambda *b: (b[0], b[0]))
    return dataset.map(lambda *b: b[0])


def build_model(config, info):
    """Build and compile the registered model named by `config` for `info`'s images."""
    entry = get_model_entry(config.model)
    model = entry.builder(info.image_shape, latent_dim=config.latent_dim,
                          num_classes=info.num_classes)
    # Every registered model's `compile()` has defaults and takes `learning_rate`.
    model.compile(**({} if config.learning_rate is None
                     else {"learning_rate": config.learning_rate}))
    return model, entry


def train(config, *, verbose=1, callbacks=()):
    """Train the model a `RunConfig` describes and write its run folder.

    Args:
        config: a `RunConfig`.
        verbose: Keras' progress output (1: progress bar, 2: a line per epoch, 0: quiet).
        callbacks: extra Keras callbacks.

    Returns:
        A `RunResult`.

    Example:
        >>> result = train(RunConfig(model="conv_ae", dataset="digits", epochs=2))
        >>> result.path
        'runs/conv_ae-digits'
    """
    entry = get_model_entry(config.model)  # fail on a bad name before reading data
    source = config.open_data()
    info = source.info
    keras.utils.set_random_seed(config.seed)
    model, entry = build_model(config, info)
    train_ds = fit_inputs(source.dataset("train", config.batch_size, seed=config.seed),
                          entry.targets, info.labeled)
    val_ds = None
    if entry.targets != "none" and info.splits.get("validation"):
        val_ds = fit_inputs(source.dataset("validation", config.batch_size),
                            entry.targets, info.labeled)
    preview, _ = source.arrays("validation" if info.splits.get("validation") else "test",
                               limit=PREVIEW_IMAGES)
    os.makedirs(config.path, exist_ok=True)
    _write_atomic(os.path.join(config.path, "config.json"), config.to_json())
    run_callbacks = [
        keras.callbacks.CSVLogger(os.path.join(config.path, "history.csv")),
        keras.callbacks.TensorBoard(os.path.join(config.path, "logs")),
        ImageGrid(preview, os.path.join(config.path, "images")),
        *callbacks,
    ]
    if verbose:
        print(f"training {config.model} on {info.name}: {info.splits['train']} images of "
              f"{'x'.join(map(str, info.image_shape))}, {model.count_params():,} parameters "
              f"-> {config.path}")
    start = time.perf_counter()
    history = model.fit(train_ds, epochs=config.epochs, steps_per_epoch=config.steps_per_epoch,
                        validation_data=val_ds, callbacks=run_callbacks, verbose=verbose,
                        shuffle=False)  # the pipeline shuffles itself, seeded
    seconds = time.perf_counter() - start
    save_model(model, os.path.join(config.path, "model.keras"))
    if verbose:
        print(f"done in {seconds:.1f}s; wrote {config.path}/ (model.keras, history.csv, "
              "images/, logs/)")
    return RunResult(model, history.history, config.path, seconds)


def save_model(model, path):
    """Save a `.keras` file atomically: a crash never leaves a half-written file."""
    tmp = f"{path}.tmp.keras"
    model.save(tmp)
    os.replace(tmp, path)


def _write_atomic(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise UserError(f"{name} must be an integer >= {minimum}, got {value!r}")
