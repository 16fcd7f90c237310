"""One training run: a config in, a run folder out.

`train(RunConfig(...))` opens the data source, builds the registered model, fits it with
Keras callbacks and writes `runs/<name>/`:

- `config.json`: the `RunConfig`, enough to repeat the run (`RunConfig.load`).
- `machine.json`: the machine it trained on (`speed.machine`: CPU, cores, speed index).
- `architecture.json`: the networks it built, layer by layer (`architecture`), so that a
  run folder never resumes into a different network (say, after an upgrade changed a
  builder's default).
- `model.keras`: the trained model.
- `history.csv`: one row of metrics per epoch.
- `logs/`: TensorBoard logs.
- `images/epoch_NNN.png` (and `images/latest.png`): the model's progress grid.
- `checkpoints/`: the newest training states, to resume after a crash.
"""

import dataclasses
import math
import os
import re
import shutil
import time

import keras
import psutil
import tensorflow as tf

from keras_aegan import compat, files, protocol
from keras_aegan.config import RunConfig
from keras_aegan.errors import DataError, UserError, check_int, one_line
from keras_aegan.registry import get_model_entry, model_names
from keras_aegan.training import speed
from keras_aegan.training.callbacks import CollapseWatch, DivergenceGuard, ImageGrid, TimeBudget
from keras_aegan.training.checkpoints import (TrainingCheckpoint, checkpoint_seconds,
                                              restore_checkpoint, training_state)
from keras_aegan.training.distribute import make_strategy, worker_role
from keras_aegan.training.progress import Progress
from keras_aegan.training.run_folder import architecture, check_architecture, check_run_folder
from keras_aegan.training.schedules import CosineAnneal, start_rates

PREVIEW_IMAGES = 16


@dataclasses.dataclass
class RunResult:
    """What `train` returns: the fitted model, its Keras history, the run folder, the
    seconds spent in `fit`, and the steps and images trained in this call; and the steps
    and training seconds of the whole run, earlier calls included (a resumed or finished
    run's)."""

    model: keras.Model
    history: dict
    path: str
    seconds: float
    steps: int = 0
    images: int = 0
    total_steps: int = 0
    total_seconds: float = 0.0


def _build(config, info):
    entry = get_model_entry(config.model)
    # What the data tells a model beside its example shape: a text source's characters.
    told = {} if info.vocabulary is None else {"vocabulary": info.vocabulary}
    try:
        return entry.builder(info.image_shape, latent_dim=config.latent_dim,
                             num_classes=info.num_classes,
                             **{**told, **config.model_options}), entry
    except TypeError as e:
        if "unexpected keyword" not in str(e):
            raise
        if told and "'vocabulary'" in str(e):
            text_models = [n for n in model_names() if get_model_entry(n).data == "text"]
            raise UserError(f"{config.model} does not model text and {info.name} is a text "
                            f"source; train a model of text: {', '.join(text_models)}"
                            ) from None
        raise UserError(f"model {config.model!r} has no option among "
                        f"{sorted(config.model_options)} ({e})") from None


# Bytes per parameter while training: float32 weights, their gradients and Adam's two slots.
_TRAINING_BYTES_PER_PARAMETER = 4 * 4
# A batch of images is held several times over (the pipeline's buffers, the input, the
# first layers' activations and their gradients); a lower bound, not an estimate.
_BATCH_COPIES = 8


def check_memory(config, info, available=None):
    """Refuse settings that cannot fit in memory before anything is allocated.

    The model is built once with its variables left uninitialised (`keras.StatelessScope`)
    to count its parameters; with the batch of images, that gives a lower bound of what
    training needs, compared with the memory this machine has available.

    Raises:
        UserError: saying what the settings would need and what is available.
    """
    advice = ("lower --latent-dim, the model's width options, --batch-size or "
              "--image-shape")
    try:
        with keras.StatelessScope(initialize_variables=False):
            probe, _ = _build(config, info)
            parameters = sum(math.prod(v.shape) for v in probe.weights)
    except MemoryError as e:  # a model that allocates arrays of its own while it is built
        raise UserError(f"these settings need more memory than this machine has "
                        f"({one_line(e, 200)}); {advice}") from None
    batch = config.batch_size * math.prod(info.image_shape) * 4 * _BATCH_COPIES
    needed = parameters * _TRAINING_BYTES_PER_PARAMETER + batch
    available = _available_memory() if available is None else available
    if needed > available:
        raise UserError(
            f"these settings need at least {needed / 2**30:.1f} GiB ({parameters:,} parameters "
            f"with their gradients and optimizer state: "
            f"{parameters * _TRAINING_BYTES_PER_PARAMETER / 2**30:.1f} GiB; batches of "
            f"{config.batch_size} images of {'x'.join(map(str, info.image_shape))}: "
            f"{batch / 2**30:.1f} GiB) and this machine has {available / 2**30:.1f} GiB "
            f"available; {advice}")
    return needed


def _available_memory():
    """Bytes of memory available to a new allocation without swapping."""
    return psutil.virtual_memory().available


def build_model(config, info):
    """Build and compile the registered model named by `config` for `info`'s images.

    A long run of a model measured faster with XLA compiles its steps with it (`uses_xla`).
    """
    model, entry = _build(config, info)
    # Every registered model's `compile()` has defaults and takes `learning_rate`.
    options = {} if config.learning_rate is None else {"learning_rate": config.learning_rate}
    if uses_xla(config, info, entry):
        options = compat.xla_by_default(options)
    model.compile(**options)
    return model, entry


def uses_xla(config, info, entry):
    """Whether `build_model` asks for XLA (`compat.xla_by_default`): for a model whose
    registry entry says XLA made its steps faster (`xla`), on images of at most
    `XLA_MAX_PIXELS` pixels, in a run of `XLA_MIN_STEPS` steps or more, long enough to
    earn back the compiling."""
    shape = tuple(info.image_shape or ())
    return (entry.xla and len(shape) == 3 and shape[0] * shape[1] <= XLA_MAX_PIXELS
            and bool(info.splits.get("train")) and run_steps(config, info) >= XLA_MIN_STEPS)


def pass_steps(config, info):
    """The steps of one pass over the training split at the run's batch size.

    Raises:
        DataError: the source has no training examples (a test set, e.g. asterisk_digits).
    """
    if not info.splits.get("train"):
        raise DataError(f"{info.name}: no training examples (a test set only); train on "
                        "another source and score on this one")
    return math.ceil(info.splits["train"] / config.batch_size)


def run_steps(config, info):
    """The optimizer steps of the whole run `config` describes under its epoch budget."""
    return config.epochs * (config.steps_per_epoch or pass_steps(config, info))


# Runs this long, on images this small, of the models registered with `xla=True`, compile
# their steps with XLA (`uses_xla`). Measured on 2 cores (speed index 120-135), 300 steps
# each, alternating runs: a step of the default study's conv_ae took 34-40 ms with XLA
# against 42-68 without, the DCGAN's 47-68 against 68-136, WGAN-GP's 128 against 171;
# in the default study (1,200 steps) conv_ae trained 47-51 s against 60-62 and the DCGAN
# 71-80 against 96-107, and on one core conv_ae 76 s against 136, the DCGAN 140 against
# 140. XLA's compiling cost them 1-3 s more than tracing, repaid in 100-200 steps.
# Elsewhere TensorFlow's own CPU kernels (oneDNN) can win: the VAE trained no faster on 2
# cores and 137 s against 98 on one, the AAE ran 71 ms a step against 58, the 64x64 faces
# DCGAN no faster, and the evaluator (a batch-normalised CNN, batches of 128 digits) in
# 85-90 s against 44-52 s.
XLA_MIN_STEPS = 300
XLA_MAX_PIXELS = 32 * 32

# A work budget's epochs are at least this many steps: on a few hundred images (the
# faces) a pass is a handful of steps, and each epoch's end (validation, checkpoint, the
# GAN's collapse watch) would cost more than its training.
MIN_EPOCH_STEPS = 100


def for_steps(config, steps):
    """`config` trained for about `steps` optimizer steps: the fewest whole epochs of at
    most one pass over its training split each, or of `MIN_EPOCH_STEPS` when a pass is
    shorter, `steps // epochs` steps an epoch (so the run takes `steps` steps, or up to
    `epochs - 1` fewer). A study's work budget."""
    info = config.open_data().info
    epoch = max(pass_steps(config, info), MIN_EPOCH_STEPS)
    epochs = math.ceil(check_int("steps", steps) / epoch)
    return dataclasses.replace(config, epochs=epochs, steps_per_epoch=steps // epochs)


@dataclasses.dataclass
class Calibration:
    """What `calibrate` measured: the seconds the run would train on this machine now, its
    steps, the seconds of one step, and the calibrated model, back in its initial state
    and with its step function traced, for `train(config, calibrated=...)` to train on."""

    seconds: float
    steps: int
    step: float
    model: keras.Model


def calibrate(config, *, steps=10, warmup=3):
    """A `Calibration` of the run `config` describes, from a few steps of its model.

    Builds the model as `train` does (same seed), fits `warmup` steps (the first traces
    the step function, as the run's first step would) and times `steps` more; then puts
    back every variable `checkpoints.training_state` holds (weights, optimizer slots and
    step, seed generators), so that `train(config, calibrated=...)` trains on from the
    state a fresh build has, without tracing its step again. It writes nothing.
    """
    source = config.open_data()
    total = run_steps(config, source.info)
    warmup = min(warmup, total)  # a tiny run is not timed for longer than it trains
    steps = max(min(steps, total - warmup), 1)
    keras.utils.set_random_seed(config.seed)
    model, entry = build_model(config, source.info)
    initial = {key: keras.ops.convert_to_numpy(v)
               for key, v in training_state(model).items()}
    stream = entry.fit_inputs(source.dataset("train", config.batch_size, seed=config.seed),
                              source.info.labeled, protocol.describe(model)).repeat()
    ends = []  # the time each step ended: one `fit`, so filling the data stream once
    clock = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: ends.append(time.perf_counter()))
    start = time.perf_counter()
    model.fit(stream, epochs=1, steps_per_epoch=warmup + steps, verbose=0, shuffle=False,
              callbacks=[clock])
    step = (ends[-1] - ends[warmup - 1]) / steps
    for key, variable in training_state(model).items():
        variable.assign(initial[key])
    return Calibration(ends[warmup - 1] - start + max(total - warmup, 0) * step, total,
                       step, model)


def train(config, *, verbose=1, callbacks=(), restart=False, log=print, budget=None,
          progress=None, calibrated=None):
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
        budget: a `callbacks.TimeBudget` the caller owns (a study's, which leaves its
            measurements out), instead of the one `config.budget_seconds` makes.
        progress: with `verbose=0`, log a line saying how far training is at least every
            30 s, starting with this text (`"conv_ae seed 0"`); `None`: no such lines.
        calibrated: the `Calibration` of this config (`calibrate(config)`): its model is
            trained instead of a new one (the same initial state, its step already
            traced). Ignored under a distribution strategy.

    Returns:
        A `RunResult`.

    Example:
        >>> result = train(RunConfig(model="conv_ae", dataset="digits", epochs=2))
        >>> result.path
        'runs/conv_ae-digits'
    """
    entry = get_model_entry(config.model)  # fail on a bad name before reading data
    check_run_folder(config, restart)
    # Multi-worker strategies must exist before other TensorFlow work starts.
    strategy = make_strategy(config.strategy)
    chief, role = worker_role(strategy)
    source = config.open_data()
    info = source.info
    check_memory(config, info)
    # Before seeding: the watch's evaluator may train (once per dataset, then cached), and
    # what it does to the global random state must not depend on whether it was cached.
    watch = _collapse_watch(source, config, log) if entry.family == "gan" and chief else None
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(config.seed)
    if calibrated is not None and config.strategy == "default":
        model = calibrated.model
    else:
        with strategy.scope():
            model, entry = build_model(config, info)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        compat.reducible_step_logs(model)
    steps = config.steps_per_epoch or pass_steps(config, info)
    passes = math.ceil(config.epochs * steps / pass_steps(config, info))

    def stream_from(position):
        ds = source.dataset("train", config.batch_size, seed=config.seed, passes=passes)
        return entry.fit_inputs(ds, info.labeled, spec).skip(position)

    spec = protocol.describe(model)
    rates = start_rates(spec.optimizers.values())  # a checkpoint holds an annealed rate
    val_ds = None
    if entry.validated and info.splits.get("validation"):
        val_ds = entry.fit_inputs(source.dataset("validation", config.batch_size),
                                  info.labeled, spec)
    preview, _ = source.arrays("validation" if info.splits.get("validation") else "test",
                               limit=PREVIEW_IMAGES)
    checkpoints = os.path.join(config.path, "checkpoints")
    layers = architecture(model)
    check_architecture(config, layers, restart)
    if chief:
        if restart and os.path.isdir(checkpoints):
            shutil.rmtree(checkpoints)
        os.makedirs(config.path, exist_ok=True)
        files.write_text(os.path.join(config.path, "config.json"), config.to_json())
        files.write_json(os.path.join(config.path, "architecture.json"), layers)
        # The machine's speed beside the run's figures: seconds mean little without it.
        files.write_json(os.path.join(config.path, "machine.json"), speed.machine())
    # Every worker restores the chief's newest checkpoint, so all resume alike.
    with strategy.scope():  # building optimizer slots must happen in the strategy's scope
        step, restored = restore_checkpoint(model, checkpoints, log=log)
    history_path = os.path.join(config.path, "history.csv")
    if restored:
        log(f"resuming {config.run_name} from {restored} (step {step} of "
            f"{config.epochs * steps})")
    elif os.path.exists(history_path):
        os.remove(history_path)  # a fresh start: forget an abandoned run's rows
    before = checkpoint_seconds(restored)  # the training seconds of earlier calls
    if budget is None and config.budget_seconds is not None:
        budget = TimeBudget(config.budget_seconds, already=before)
    # Every checkpoint records the run's training seconds so far: a resumed run, or one
    # asked for again when finished, still says how long it trained.
    clock = budget.elapsed if budget else (lambda: before + time.perf_counter() - start)
    saver = TrainingCheckpoint(checkpoints, config.checkpoint_every, initial_step=step,
                               write=chief, clock=clock)
    saver.set_model(model)  # it also saves after `fit`, or when there is nothing left to fit
    # The guard comes before the saver: a diverged state is never checkpointed.
    run_callbacks = [DivergenceGuard(saver, initial_step=step), saver, *callbacks]
    if budget is not None:
        run_callbacks.append(budget)
    anneal = entry.family == "autoencoder" if config.anneal is None else config.anneal
    if progress is not None:
        run_callbacks.append(Progress(log, progress, initial_step=step, budget=budget,
                                      total_steps=config.epochs * steps))
    if anneal:
        run_callbacks.append(CosineAnneal(rates, config.epochs * steps, budget=budget,
                                          initial_step=step))
    if chief:
        run_callbacks[:0] = [
            keras.callbacks.CSVLogger(history_path, append=True),
            keras.callbacks.TensorBoard(os.path.join(config.path, "logs")),
        ]
        if config.grid_seconds is not None:
            run_callbacks.append(ImageGrid(preview, os.path.join(config.path, "images"),
                                           every_seconds=config.grid_seconds))
        if watch is not None:
            run_callbacks.append(watch)
    if verbose:
        length = f"{config.epochs} epochs of {steps} steps"
        if budget is not None:
            length = (f"{config.budget_seconds:g} s of training "
                      f"({budget.already:.0f} s done; at most {length})")
        log(f"training {config.model} on {info.name}: {info.splits['train']} images of "
            f"{'x'.join(map(str, info.image_shape))}, {model.count_params():,} parameters, "
            f"{length} -> {config.path}")
        log(f"machine: {speed.describe_machine()}")
    start = time.perf_counter()
    history = {}
    epoch, done = divmod(step, steps)
    # A run killed mid-epoch first finishes that epoch's remaining steps, then goes on.
    segments = [(epoch, epoch + 1, steps - done)] if done else []
    segments.append((epoch + (1 if done else 0), config.epochs, steps))
    if budget is not None and budget.elapsed() >= budget.seconds:
        segments = []  # a budgeted run that used its budget is finished
    for first, last, segment_steps in segments:
        if first >= last:
            continue
        fitted = model.fit(stream_from(saver.step), initial_epoch=first, epochs=last,
                           steps_per_epoch=segment_steps, validation_data=val_ds,
                           callbacks=run_callbacks, verbose=verbose, shuffle=False)
        for key, values in fitted.history.items():
            history.setdefault(key, []).extend(values)
        if model.stop_training:  # a time budget (or another callback) ended training
            break
    seconds, total_seconds = time.perf_counter() - start, clock()
    trained_steps = saver.step - step
    saver.save()
    out = config.path if chief else os.path.join(config.path, "workers", role)
    os.makedirs(out, exist_ok=True)
    save_model(model, os.path.join(out, "model.keras"))
    if verbose:
        log(f"done in {seconds:.1f}s; wrote {config.path}/ (model.keras, history.csv, "
            "images/, logs/, checkpoints/)")
    return RunResult(model, history, config.path, seconds, trained_steps,
                     trained_steps * config.batch_size, saver.step, total_seconds)


def load_model(path):
    """Load a keras_aegan `.keras` file in Keras' safe mode.

    Safe mode refuses to run code stored in the file: a model holding a `Lambda` layer (or
    any other serialized Python function) is refused, and so is a class keras_aegan does not
    know, each with a `UserError` that says why.
    """
    import zipfile

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
                        f"{one_line(e, limit=200)})") from None
    except (OSError, zipfile.BadZipFile, KeyError, EOFError) as e:
        raise UserError(f"{path}: not a readable .keras file ({type(e).__name__}: {e})") from None


def _collapse_watch(source, config, log):
    """A `CollapseWatch` for a GAN run; it judges classes with the dataset's evaluator
    (trained once and cached) when the data has labels and training runs on one machine."""
    classify = num_classes = None
    if source.info.labeled and config.strategy == "default":
        from keras_aegan.evaluation.evaluator import get_evaluator

        evaluator = get_evaluator(source)
        classify, num_classes = evaluator.predict_classes, evaluator.num_classes
    return CollapseWatch(classify, num_classes, seed=config.seed, log=log)


def save_model(model, path):
    """Save a `.keras` file atomically: a crash never leaves a half-written file."""
    with files.atomic_path(path) as tmp:
        model.save(tmp)
    return path


def check_trained_run(run_dir):
    """The path of a trained run folder's `model.keras`; a `UserError` saying what is
    missing otherwise (the folder, its `config.json`, its model)."""
    run_dir = os.fspath(run_dir)
    if not os.path.isdir(run_dir):
        raise UserError(f"{run_dir}: no such run folder")
    if not os.path.isfile(os.path.join(run_dir, "config.json")):
        raise UserError(f"{run_dir}: not a run folder (no config.json)")
    model_path = os.path.join(run_dir, "model.keras")
    if not os.path.isfile(model_path):
        raise UserError(f"{run_dir}: no trained model (model.keras is missing; training "
                        "writes it when it finishes)")
    return model_path


def read_run_config(run_dir):
    """A run folder's `RunConfig`; a `UserError` when its `config.json` does not read."""
    try:
        return RunConfig.load(run_dir)
    except UserError:
        raise
    except (ValueError, TypeError) as e:  # JSON syntax, unknown value types
        raise UserError(f"{run_dir}/config.json: cannot read it ({one_line(e, 200)})") from None


def export_run(run_dir, out=None, *, parts=None, quantize=(), overwrite=False,
               parity_batch=32, verbose=False):
    """Export the trained parts of a run folder (see `keras_aegan.export`).

    Loads `run_dir/model.keras` (safe mode), takes a real batch of the run's test split for
    the parity checks and, for full int8, calibration images from its training split, and
    hands them to `keras_aegan.export.export_model`.

    Args:
        run_dir: a run folder written by `train`.
        out: the export folder; defaults to `export/<run-name>`.
        parts: part names; `None` exports every part the model has.
        quantize: extra TF Lite variants (`float16`, `dynamic`, `int8`).
        overwrite: replace an existing export folder (only one that holds an export).
        parity_batch: images in the parity batch.
        verbose: print progress.

    Returns:
        An `export.ExportResult`.

    Raises:
        UserError: not a trained run folder, a part the model lacks, an existing `out`.
        export.ExportError: a converter failure or an artifact outside its parity bound.

    Example:
        >>> result = export_run("runs/conv_ae-digits", quantize=["int8"])
        >>> print(result.summary())
    """
    from keras_aegan import export

    run_dir = os.fspath(run_dir)
    model_path = check_trained_run(run_dir)
    run_name = os.path.basename(os.path.normpath(run_dir))
    out = os.path.join("export", run_name) if out is None else os.fspath(out)
    # Fail on bad arguments before the slow parts (loading the model and the data).
    export.check_out(out, overwrite)
    quantize = export.check_quantize(quantize)
    config = read_run_config(run_dir)
    model = load_model(model_path)
    export.check_parts(model, protocol.describe(model), parts)
    source = config.open_data()
    split = "test" if source.info.splits.get("test") else "train"
    images, labels = source.arrays(split, limit=parity_batch)
    # A task model's parts take what its task makes of real data (a translator's small,
    # grey, masked or edge images; a predictor's observed frames), as in training.
    examples = get_model_entry(config.model).examples(protocol.describe(model), images)
    calibration = None
    if "int8" in quantize:
        calibration, _ = source.arrays("train", limit=export.CALIBRATION_SIZE)
    return export.export_model(
        model, out, parts=parts, quantize=quantize, overwrite=overwrite, images=images,
        labels=labels, examples=examples, calibration_images=calibration, verbose=verbose,
        audio=source.info.audio, source={"run": os.path.abspath(run_dir), "run_name": run_name,
                "model": config.model, "dataset": config.dataset,
                "parity_data": f"{config.dataset} {split} split, first {len(images)} images"})
