"""Whole-state training checkpoints: weights, every optimizer, seed generators, the step.

`TrainingCheckpoint` writes the state every N steps and at each epoch end (atomically, the
newest `keep` files kept); `restore_checkpoint` resumes from the newest readable one and
refuses one of another model with `CheckpointMismatch`.
"""

import os

import keras
import numpy as np

from keras_aegan import protocol
from keras_aegan.errors import UserError
from keras_aegan.files import atomic_path


CHECKPOINT_FORMAT = 2
_META_KEYS = ("format", "step", "seconds")


def training_state(model):
    """Every variable that says where training is, keyed by its place in the model.

    The model's weights, batch-norm statistics and seed-generator states are keyed by
    their path through the model's named layers (`generator/deconv0/kernel`,
    `encoder/lstm0/seed_generator_state`); each optimizer the model declares
    (`protocol.ModelSpec.optimizers`) adds its step count and slots, keyed by the
    optimizer's declared name and the slot's name (`d_optimizer/conv0_kernel_momentum`).
    An unbuilt optimizer is built first, so its slots exist before a checkpoint is
    restored into them.

    Returns:
        A dict `{key: variable}`.

    Raises:
        UserError: two variables would share a key (two layers of one network, or of
            networks sharing an optimizer, with the same name): rename one.
    """
    spec = protocol.describe(model)
    state, owners = {}, {}

    def add(key, variable):
        if key in state:
            raise UserError(f"two variables of {model.name} share the checkpoint key "
                            f"{key!r} ({owners[key]} and {variable.path}); give the layers "
                            "distinct names")
        state[key] = variable
        owners[key] = variable.path

    _key_layer("", model, add, set())
    for name, optimizer in spec.optimizers.items():
        if optimizer is None:
            continue
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        for variable in optimizer.variables:
            add(f"{name}/{variable.name}", variable)
    return state


def _key_layer(prefix, layer, add, keyed):
    children = layer.layers if isinstance(layer, keras.Model) else []
    for child in children:
        _key_layer(f"{prefix}{child.name}/", child, add, keyed)
    for variable in layer.variables:
        if id(variable) in keyed:  # owned by a child, or shared (tied weights)
            continue
        keyed.add(id(variable))
        # Inside a plain layer the variable's path starts with the layer's name when it
        # was built in the layer's scope; seed generators made in `__init__` are keyed by
        # their name (their path carries a per-process counter).
        own = f"{layer.name}/"
        name = variable.path[len(own):] if variable.path.startswith(own) else variable.name
        add(f"{prefix}{name}", variable)


class TrainingCheckpoint(keras.callbacks.Callback):
    """Saves the whole training state every `every_steps` steps and at each epoch end.

    Each checkpoint is `ckpt-<global step>.npz` in `directory`, written to a temporary file
    and renamed, so a crash at any moment leaves the previous checkpoints intact; the
    newest `keep` are kept. `restore_checkpoint` reads them back.

    Args:
        directory: checkpoint folder.
        every_steps: steps between checkpoints within an epoch.
        initial_step: global step at which this `fit` starts (after a restore).
        keep: how many checkpoints to keep (at least 2, so a damaged newest one has a
            fallback).
        write: `False` on the non-chief workers of a cluster, which only count steps.
        clock: optional `() -> training seconds so far`, saved with each checkpoint (a
            time-budgeted run resumes with what is left of its budget).
    """

    def __init__(self, directory, every_steps=100, initial_step=0, keep=2, write=True,
                 clock=None):
        super().__init__()
        self.write = write
        self.clock = clock
        self.directory = directory
        self.every_steps = every_steps
        self.step = initial_step
        self.keep = max(2, keep)
        self.last_path = None

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every_steps == 0:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        self.save()

    def save(self):
        if not self.write:
            return
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"ckpt-{self.step:09d}.npz")
        if path == self.last_path:
            return
        arrays = {key: keras.ops.convert_to_numpy(v)
                  for key, v in training_state(self.model).items()}
        if not all(np.all(np.isfinite(a)) for a in arrays.values()
                   if np.issubdtype(a.dtype, np.floating)):
            return  # never checkpoint a diverged state; the DivergenceGuard reports it
        seconds = np.float64(self.clock() if self.clock is not None else 0.0)
        with atomic_path(path) as tmp:
            np.savez(tmp, format=np.int64(CHECKPOINT_FORMAT), step=np.int64(self.step),
                     seconds=seconds, **arrays)
        self.last_path = path
        for old in list_checkpoints(self.directory)[:-self.keep]:
            os.remove(old)


def list_checkpoints(directory):
    """Checkpoint files in `directory`, oldest first."""
    if not os.path.isdir(directory):
        return []
    return [os.path.join(directory, n) for n in sorted(os.listdir(directory))
            if n.startswith("ckpt-") and n.endswith(".npz") and ".tmp" not in n]


class CheckpointMismatch(UserError):
    """A readable checkpoint that does not fit the model: another layout or an old format."""


def restore_checkpoint(model, directory, log=print):
    """Restore the newest readable checkpoint into `model`; returns `(step, path)`.

    Arrays are matched to variables by key (see `training_state`), never by position. A
    checkpoint that cannot be read (truncated, corrupted) is reported through `log` and
    the previous one is tried; `(0, None)` when none is usable. A readable checkpoint
    whose keys or shapes do not fit the model (written by an older keras_aegan, or for a
    changed model) raises `CheckpointMismatch`: restoring it could put arrays into the
    wrong variables.
    """
    state = training_state(model)
    for path in reversed(list_checkpoints(directory)):
        try:
            with np.load(path, allow_pickle=False) as f:
                keys = set(f.files)
                arrays = {k: f[k] for k in keys if k not in _META_KEYS}
                step = int(f["step"])
                version = int(f["format"]) if "format" in keys else 1
        except Exception as e:  # zipfile, OSError, KeyError, ValueError: all mean unusable
            log(f"checkpoint {path} is unreadable ({type(e).__name__}: {e}); "
                "falling back to the previous one")
            continue
        _check_fit(path, version, state, arrays)
        for key, variable in state.items():
            variable.assign(arrays[key])
        return step, path
    return 0, None


def checkpoint_seconds(path):
    """The training seconds a checkpoint records (0 for one written without a clock)."""
    if path is None:
        return 0.0
    with np.load(path, allow_pickle=False) as f:
        return float(f["seconds"]) if "seconds" in f.files else 0.0


def _check_fit(path, version, state, arrays):
    advice = "train from scratch with --restart (restart=True), or use another run folder"
    if version != CHECKPOINT_FORMAT:
        raise CheckpointMismatch(
            f"checkpoint {path} has format {version}, this keras_aegan reads format "
            f"{CHECKPOINT_FORMAT} (arrays keyed by variable, not by position); {advice}")
    missing = sorted(set(state) - set(arrays))
    unexpected = sorted(set(arrays) - set(state))
    wrong = [f"{k} {arrays[k].shape} vs {tuple(state[k].shape)}" for k in sorted(state)
             if k in arrays and arrays[k].shape != tuple(state[k].shape)]
    if missing or unexpected or wrong:
        found = "; ".join(f"{what}: {', '.join(items[:4])}{' ...' if len(items) > 4 else ''}"
                          for what, items in (("missing", missing), ("unexpected", unexpected),
                                              ("wrong shape", wrong)) if items)
        raise CheckpointMismatch(f"checkpoint {path} does not fit this model ({found}); "
                                 f"{advice}")
