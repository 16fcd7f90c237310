"""One training run: a config in, a run folder out.

`train(RunConfig(...))` opens the data source, builds the registered model, fits it with
Keras callbacks and writes `runs/<name>/`:

- `config.json`: the `RunConfig`, enough to repeat the run (`RunConfig.load`).
- `model.keras`: the trained model.
- `history.csv`: one row of metrics per epoch.
- `logs/`: TensorBoard logs.
- `images/epoch_NNN.png` (and `images/latest.png`): the model's progress grid.
- `checkpoints/`: the newest training states, to resume after a crash.
"""

import dataclasses
import json
import math
import os
import re
import shutil
import time

import keras
import tensorflow as tf

from keras_aegan import data as data_lib
from keras_aegan.callbacks import (CollapseWatch, DivergenceGuard, ImageGrid, TrainingCheckpoint,
                                   restore_checkpoint)
from keras_aegan.errors import UserError, check_int
from keras_aegan.registry import get_model_entry

PREVIEW_IMAGES = 16


def _tpu_strategy():
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def _mirrored_strategy():
    # Without GPUs the default all-reduce fails for conv models over several CPU devices
    # ("Shape mismatch in the collective instance"); reducing on one device works.
    if tf.config.list_physical_devices("GPU"):
        return tf.distribute.MirroredStrategy()
    return tf.distribute.MirroredStrategy(cross_device_ops=tf.distribute.ReductionToOneDevice())


# Strategies by name. MultiWorkerMirroredStrategy reads the cluster from TF_CONFIG.
STRATEGIES = {
    "default": tf.distribute.get_strategy,
    "mirrored": _mirrored_strategy,
    "multiworker": tf.distribute.MultiWorkerMirroredStrategy,
    "tpu": _tpu_strategy,
}


def make_strategy(name):
    """The `tf.distribute` strategy registered under `name` (see `STRATEGIES`)."""
    if name not in STRATEGIES:
        raise UserError(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}")
    try:
        return STRATEGIES[name]()
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise UserError(f"cannot start the {name} strategy: {e}") from None


def worker_role(strategy):
    """`(is_chief, "task_type-task_id")` of this process in a multi-worker cluster.

    Only the chief writes the run folder; other workers write their final model under
    `<run>/workers/<role>/` (a single process is its own chief).
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if not task_type:
        return True, "chief"
    task_id = resolver.task_id or 0
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    chief = task_type == "chief" or (not has_chief and task_type == "worker" and task_id == 0)
    return chief, f"{task_type}-{task_id}"


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
        checkpoint_every: steps between checkpoints (each epoch end checkpoints too).
        deterministic: enable TensorFlow op determinism, for bitwise-repeatable runs.
        strategy: `tf.distribute` strategy: `default` (one device), `mirrored` (the GPUs or
            CPUs of this machine), `multiworker` (machines listed in `TF_CONFIG`) or `tpu`.
            `batch_size` is the global batch, split over the replicas.
        model_options: extra keyword arguments of the model's builder, e.g.
            `{"beta": 4.0}` for `vae` or `{"d_steps": 5}` for `wgan_gp`.
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
    checkpoint_every: int = 100
    deterministic: bool = False
    strategy: str = "default"
    model_options: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        for field in ("epochs", "batch_size", "latent_dim", "checkpoint_every"):
            check_int(field, getattr(self, field), minimum=1)
        check_int("seed", self.seed, minimum=0)
        if self.steps_per_epoch is not None:
            check_int("steps_per_epoch", self.steps_per_epoch, minimum=1)
        if self.learning_rate is not None and not (
                isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate < 10):
            raise UserError(f"learning_rate must be in (0, 10), got {self.learning_rate!r}")
        if self.image_shape is not None:
            object.__setattr__(self, "image_shape", data_lib._check_image_shape(self.image_shape))
        if self.strategy not in STRATEGIES:
            raise UserError(f"unknown strategy {self.strategy!r}; choose from "
                            f"{', '.join(STRATEGIES)}")
        if self.name is not None and not re.fullmatch(r"[\w.\-]+", self.name):
            raise UserError(f"name must be letters, digits, '.', '_' or '-', got {self.name!r}")

    @property
    def run_name(self):
        if self.name:
            return self.name
        return f"{self.model}-{data_lib.slug(self.dataset)}"

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
    """What `train` returns: the fitted model, its Keras history, the run folder, the
    seconds spent in `fit`, and the steps and images trained in this call."""

    model: keras.Model
    history: dict
    path: str
    seconds: float
    steps: int = 0
    images: int = 0


def fit_inputs(dataset, targets, labeled):
    """Map `(images, labels)` batches to what `fit` wants for a model's `targets` kind."""
    if targets == "labels":
        if not labeled:
            raise UserError("this model needs class labels, and the dataset has none")
        return dataset
    # "images" (autoencoders reconstruct their input when fit has no target) and "none".
    return dataset.map(lambda *b: b[0])


def build_model(config, info):
    """Build and compile the registered model named by `config` for `info`'s images."""
    entry = get_model_entry(config.model)
    try:
        model = entry.builder(info.image_shape, latent_dim=config.latent_dim,
                              num_classes=info.num_classes, **config.model_options)
    except TypeError as e:
        if "unexpected keyword" not in str(e):
            raise
        raise UserError(f"model {config.model!r} has no option among "
                        f"{sorted(config.model_options)} ({e})") from None
    # Every registered model's `compile()` has defaults and takes `learning_rate`.
    model.compile(**({} if config.learning_rate is None
                     else {"learning_rate": config.learning_rate}))
    return model, entry


def train(config, *, verbose=1, callbacks=(), restart=False, log=print):
    """Train the model a `RunConfig` describes and write its run folder.

    Training checkpoints its whole state (weights, both optimizers of a GAN, seed
    generators, global step) to `<run>/checkpoints/` every `config.checkpoint_every` steps
    and at each epoch end. Calling `train` again with the same config after a crash
    resumes from the newest readable checkpoint, at the same position in the (seeded,
    repeated) data stream, so it ends with the weights an uninterrupted run reaches
    (bitwise with `deterministic=True`). A finished run is not trained again.

    Args:
        config: a `RunConfig`.
        verbose: Keras' progress output (1: progress bar, 2: a line per epoch, 0: quiet).
        callbacks: extra Keras callbacks.
        restart: discard the run folder's checkpoints and start from scratch.
        log: where progress messages go.

    Returns:
        A `RunResult`.

    Example:
        >>> result = train(RunConfig(model="conv_ae", dataset="digits", epochs=2))
        >>> result.path
        'runs/conv_ae-digits'
    """
    entry = get_model_entry(config.model)  # fail on a bad name before reading data
    _check_run_folder(config, restart)
    # Multi-worker strategies must exist before other TensorFlow work starts.
    strategy = make_strategy(config.strategy)
    chief, role = worker_role(strategy)
    source = config.open_data()
    info = source.info
    # Before seeding: the watch's evaluator may train (once per dataset, then cached), and
    # what it does to the global random state must not depend on whether it was cached.
    watch = _collapse_watch(source, config, log) if entry.family == "gan" and chief else None
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        model, entry = build_model(config, info)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        _reducible_step_logs(model)
    steps = config.steps_per_epoch or math.ceil(info.splits["train"] / config.batch_size)

    batches_per_pass = math.ceil(info.splits["train"] / config.batch_size)
    passes = math.ceil(config.epochs * steps / batches_per_pass)

    def stream_from(position):
        ds = source.dataset("train", config.batch_size, seed=config.seed, passes=passes)
        return fit_inputs(ds, entry.targets, info.labeled).skip(position)

    val_ds = None
    if entry.targets != "none" and info.splits.get("validation"):
        val_ds = fit_inputs(source.dataset("validation", config.batch_size),
                            entry.targets, info.labeled)
    preview, _ = source.arrays("validation" if info.splits.get("validation") else "test",
                               limit=PREVIEW_IMAGES)
    checkpoints = os.path.join(config.path, "checkpoints")
    if chief:
        if restart and os.path.isdir(checkpoints):
            shutil.rmtree(checkpoints)
        os.makedirs(config.path, exist_ok=True)
        _write_atomic(os.path.join(config.path, "config.json"), config.to_json())
    # Every worker restores the chief's newest checkpoint, so all resume alike.
    with strategy.scope():  # building optimizer slots must happen in the strategy's scope
        step, restored = restore_checkpoint(model, checkpoints, log=log)
    history_path = os.path.join(config.path, "history.csv")
    if restored:
        log(f"resuming {config.run_name} from {restored} (step {step} of "
            f"{config.epochs * steps})")
    elif os.path.exists(history_path):
        os.remove(history_path)  # a fresh start: forget an abandoned run's rows
    saver = TrainingCheckpoint(checkpoints, config.checkpoint_every, initial_step=step,
                               write=chief)
    saver.set_model(model)  # it also saves after `fit`, or when there is nothing left to fit
    # The guard comes before the saver: a diverged state is never checkpointed.
    run_callbacks = [DivergenceGuard(saver, initial_step=step), saver, *callbacks]
    if chief:
        run_callbacks[:0] = [
            keras.callbacks.CSVLogger(history_path, append=True),
            keras.callbacks.TensorBoard(os.path.join(config.path, "logs")),
            ImageGrid(preview, os.path.join(config.path, "images")),
        ]
        if watch is not None:
            run_callbacks.append(watch)
    if verbose:
        log(f"training {config.model} on {info.name}: {info.splits['train']} images of "
            f"{'x'.join(map(str, info.image_shape))}, {model.count_params():,} parameters, "
            f"{config.epochs} epochs of {steps} steps -> {config.path}")
    start = time.perf_counter()
    history = {}
    epoch, done = divmod(step, steps)
    # A run killed mid-epoch first finishes that epoch's remaining steps, then goes on.
    segments = [(epoch, epoch + 1, steps - done)] if done else []
    segments.append((epoch + (1 if done else 0), config.epochs, steps))
    for first, last, segment_steps in segments:
        if first >= last:
            continue
        fitted = model.fit(stream_from(saver.step), initial_epoch=first, epochs=last,
                           steps_per_epoch=segment_steps, validation_data=val_ds,
                           callbacks=run_callbacks, verbose=verbose, shuffle=False)
        for key, values in fitted.history.items():
            history.setdefault(key, []).extend(values)
    seconds = time.perf_counter() - start
    trained_steps = saver.step - step
    saver.save()
    out = config.path if chief else os.path.join(config.path, "workers", role)
    os.makedirs(out, exist_ok=True)
    save_model(model, os.path.join(out, "model.keras"))
    if verbose:
        log(f"done in {seconds:.1f}s; wrote {config.path}/ (model.keras, history.csv, "
            "images/, logs/, checkpoints/)")
    return RunResult(model, history, config.path, seconds, trained_steps,
                     trained_steps * config.batch_size)


def load_model(path):
    """Load a keras_aegan `.keras` file in Keras' safe mode.

    Safe mode refuses to run code stored in the file: a model holding a `Lambda` layer (or
    any other serialized Python function) is refused, and so is a class keras_aegan does not
    know, each with a `UserError` that says why.
    """
    import zipfile

    from keras_aegan.registry import model_names

    model_names()  # importing the families registers their classes
    if not os.path.isfile(path):
        raise UserError(f"{path}: no such model file")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (ValueError, TypeError) as e:
        text = str(e)
        if "safe_mode" in text or "lambda" in text.lower():
            raise UserError(f"{path}: refused: it holds Python code (a Lambda layer or "
                            "function) that safe mode will not run; load it yourself with "
                            "safe_mode=False only if you trust its source") from None
        unknown = re.search(r"Could not locate (?:class|function) '([^']+)'", text)
        if unknown:
            raise UserError(f"{path}: refused: unknown class {unknown[1]!r} (not a keras_aegan "
                            "or Keras class)") from None
        raise UserError(f"{path}: cannot load the model ({type(e).__name__}: "
                        f"{text.strip().splitlines()[0][:200] if text.strip() else ''})") from None
    except (OSError, zipfile.BadZipFile, KeyError, EOFError) as e:
        raise UserError(f"{path}: not a readable .keras file ({type(e).__name__}: {e})") from None


def _collapse_watch(source, config, log):
    """A `CollapseWatch` for a GAN run; it judges classes with the dataset's evaluator
    (trained once and cached) when the data has labels and training runs on one machine."""
    classify = num_classes = None
    if source.info.labeled and config.strategy == "default":
        from keras_aegan.evaluator import get_evaluator

        evaluator = get_evaluator(source)
        classify, num_classes = evaluator.predict_classes, evaluator.num_classes
    return CollapseWatch(classify, num_classes, seed=config.seed, log=log)


def _reducible_step_logs(model):
    """Make a model's step logs shape `(1,)` so Keras can average them over workers.

    Keras 3 reduces per-step logs across workers with `strategy.reduce("MEAN", v,
    axis=0)`, which fails on the scalars every `train_step` returns; a length-1 axis
    gives the mean over all workers' replicas.
    """
    for name in ("train_step", "test_step"):
        step = getattr(model, name)

        def wrapped(data, step=step):
            return {k: tf.reshape(v, [1]) for k, v in step(data).items()}

        setattr(model, name, wrapped)


def _check_run_folder(config, restart):
    """Refuse to resume a run folder that holds a different run."""
    path = os.path.join(config.path, "config.json")
    if restart or not os.path.exists(path):
        return
    try:
        previous = RunConfig.load(path)
    except (ValueError, TypeError, OSError) as e:
        raise UserError(f"{path}: not a readable run config ({e}); pick another --name "
                        "or --restart") from None
    fields = ("model", "dataset", "batch_size", "latent_dim", "seed", "image_shape", "strategy",
              "model_options",
              "steps_per_epoch", "validation_fraction", "learning_rate")
    changed = [f"{f}: {getattr(previous, f)!r} -> {getattr(config, f)!r}" for f in fields
               if getattr(previous, f) != getattr(config, f)]
    if changed:
        raise UserError(f"run folder {config.path} holds a different run ({'; '.join(changed)}); "
                        "use another --name, or --restart to discard it")


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
