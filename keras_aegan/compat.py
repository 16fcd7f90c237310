"""Every workaround for a TensorFlow / Keras bug or gap, one function each.

Each names the versions it was found on (TensorFlow 2.21, Keras 3.15, tfds 4.9.10) and the
upstream report, so that it can be checked and removed when the upstream fix lands. The
rest of the library calls these functions and does not repeat their tricks.
"""

import contextlib
import socket
import urllib.parse
import warnings

import keras
import numpy as np
import tensorflow as tf


def mirrored_strategy(devices=None):
    """A `MirroredStrategy` that trains alike on one and several CPU devices.

    TF 2.21: without GPUs the default collective all-reduce can pair different tensors
    across replicas when a step holds batch-norm updates and two optimizers' reductions
    ("Shape mismatch in the collective instance"; tensorflow/tensorflow#62790,
    tensorflow/tensorflow#34156). Reducing on one device keeps the order. GPUs keep the
    default (NCCL) all-reduce.
    """
    if tf.config.list_physical_devices("GPU"):
        return tf.distribute.MirroredStrategy(devices)
    return tf.distribute.MirroredStrategy(
        devices, cross_device_ops=tf.distribute.ReductionToOneDevice())


def xla_by_default(compile_kwargs):
    """`compile` keyword arguments with `jit_compile` on where Keras' `"auto"` leaves it off.

    Keras 3.15 turns XLA off on a machine without an accelerator (`Trainer.
    _resolve_auto_jit_compile`), yet on a CPU XLA fuses a small network's many small ops
    (measured: `training.runner.XLA_MIN_STEPS`); a recurrent loop (TimeGAN) gains more.
    Not under a distribution strategy (XLA fails under `MirroredStrategy` on CPU), nor
    with op determinism on (`--deterministic`: Keras would refuse XLA with a warning), nor
    when running eagerly.
    """
    kwargs = dict(compile_kwargs)
    if kwargs.get("jit_compile", "auto") == "auto" and not kwargs.get("run_eagerly"):
        kwargs["jit_compile"] = xla_allowed()
    return kwargs


def xla_allowed():
    """Whether XLA may compile here: not under a distribution strategy, nor with op
    determinism on (see `xla_by_default`)."""
    from tensorflow.python.framework.config import is_op_determinism_enabled

    return not (tf.distribute.has_strategy() or is_op_determinism_enabled())


def replica_info():
    """`(replicas in sync, this replica's index)`; `(1, 0)` outside a replica context."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None:  # cross-replica context: one logical batch
        return 1, 0
    return ctx.num_replicas_in_sync, ctx.replica_id_in_sync_group


def per_replica_random(draw, batch, shape=()):
    """`draw((batch, *shape))` for this replica's `batch` rows of a step.

    Keras 3.15's `SeedGenerator` under a `tf.distribute` strategy keeps one mirrored state,
    so every replica draws the same numbers (no upstream report found): the values are
    drawn for the global batch and each replica takes its own slice, so that one and
    several replicas see the same randomness.

    Args:
        draw: `shape -> tensor`, e.g. `lambda s: keras.random.normal(s, seed=gen)`.
        batch: this replica's batch size (a scalar tensor is fine).
        shape: the shape of each row's values.
    """
    replicas, replica = replica_info()
    values = draw((batch * replicas, *shape))
    if replicas > 1:
        values = tf.gather(tf.reshape(values, (replicas, batch, *shape)), replica)
    return values


def reducible_step_logs(model):
    """Make a model's step logs shape `(1,)` so Keras can average them over workers.

    Keras 3.15 under `MultiWorkerMirroredStrategy` reduces per-step logs with
    `strategy.reduce("MEAN", v, axis=0)`, which fails on the scalars every `train_step`
    returns (keras-team/keras#20585: Keras 3 and MultiWorkerMirroredStrategy); a length-1
    axis gives the mean over all workers' replicas.
    """
    def reducible(step):
        return lambda data: {k: tf.reshape(v, [1]) for k, v in step(data).items()}

    model.train_step = reducible(model.train_step)
    model.test_step = reducible(model.test_step)


def reconstruction_target(x, y):
    """The target of an autoencoder's loss: `y`, or the input itself when `fit` got none.

    Keras 3.15's `fit` on `(x, y)` pairs breaks under `MultiWorkerMirroredStrategy`
    (keras-team/keras#20585, tensorflow/tensorflow#72388); feeding images alone and using
    them as their own target sidesteps it, and `fit(images)` reads naturally too.
    """
    return x if y is None else y


def compile_on_load(model, config):
    """Recompile a loaded model whose `compile()` has its own signature, and build its
    optimizers so the saved optimizer state has variables to load into.

    Keras 3.15's `Model.compile_from_config` skips any model that overrides `compile()`
    (it warns "compile() was not called as part of model loading"), so the optimizers'
    state is silently lost on load; the model's `compile_from_config` calls this instead.
    `config` is what the model's `get_compile_config()` returned (deserialized here).
    """
    model.compile(**keras.saving.deserialize_keras_object(config))
    optimizer = model.optimizer
    if model.built and optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)


class SavesSeedState:
    """Mixin for a `keras.Model`: saves the state of its `keras.random.SeedGenerator`
    (the attribute named `seed_attribute`) with the model's own variables, under
    `seed_state_key`; `seed_attribute = None`: the model has none to save.

    Keras 3.15 saves a `SeedGenerator`'s initial seed in its config but not its state
    variable (layers save `_trainable_variables` and `_non_trainable_variables` only), so
    a reloaded model would redraw the noise it already trained on instead of continuing
    the sequence. No upstream report found.

    Example:
        >>> class GAN(SavesSeedState, keras.Model):
        ...     seed_attribute, seed_state_key = "seed_generator", "noise_seed_state"
    """

    seed_attribute = "seed_generator"
    seed_state_key = "noise_seed_state"

    def save_own_variables(self, store):
        super().save_own_variables(store)
        if self.seed_attribute is not None:
            generator = getattr(self, self.seed_attribute)
            store[self.seed_state_key] = keras.ops.convert_to_numpy(generator.state.value)

    def load_own_variables(self, store):
        key = self.seed_state_key
        super().load_own_variables({k: store[k] for k in store.keys() if k != key})
        if self.seed_attribute is not None and key in store.keys():
            getattr(self, self.seed_attribute).state.assign(np.asarray(store[key]))


@contextlib.contextmanager
def unrolled_rnns(model):
    """Trace a model's recurrent layers unrolled, for TF Lite.

    TF 2.21: a recurrent layer's `while` loop over a dynamic batch needs TensorList ops
    that TF Lite can only run as Flex (select TF) ops, which the pip LiteRT runtime lacks
    (tensorflow/tensorflow#58668, #53101). Unrolled, the graph is plain ops and computes
    the same function; the time steps are static (image rows, sequence length). The
    layers' own setting is restored afterwards.
    """
    changed, stack, seen = [], [model], set()
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if isinstance(layer, keras.layers.RNN) and not layer.unroll:
            layer.unroll = True
            changed.append(layer)
        if isinstance(layer, keras.layers.Bidirectional):
            stack.extend((layer.forward_layer, layer.backward_layer))
        elif isinstance(layer, keras.layers.Wrapper):
            stack.append(layer.layer)
        elif isinstance(layer, keras.Model):
            stack.extend(layer.layers)
    try:
        yield
    finally:
        for layer in changed:
            layer.unroll = False


@contextlib.contextmanager
def quiet_int8_calibration():
    """Silence the converter's own deprecation warning during int8 calibration.

    TF 2.21's `TFLiteConverter` calibrates with the deprecated `tf.lite.Interpreter`
    internally and warns about it to the caller, who did not use it; our own code runs
    `.tflite` files with `ai_edge_litert`.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


class HostUnreachable(ConnectionError):
    """A download host whose name cannot be resolved (no network)."""


@contextlib.contextmanager
def offline_fails_fast(timeout=5.0):
    """Make tensorflow-datasets fail at once when a download host cannot be resolved.

    tfds 4.9.10 retries every URL with exponential back-off (`downloader.MAX_RETRIES`,
    urllib3's Retry), so without a network `download_and_prepare` spends minutes in retry
    loops before it fails. No upstream report found. Here each
    URL's host is resolved first (DNS, `timeout` seconds); a name that does not resolve
    raises `HostUnreachable` at once.
    """
    from tensorflow_datasets.core.download import downloader

    original = downloader._open_url
    resolved = {}

    def open_url(url, **kwargs):
        host = urllib.parse.urlparse(url).hostname
        if host and host not in resolved:
            previous = socket.getdefaulttimeout()
            socket.setdefaulttimeout(timeout)
            try:
                socket.getaddrinfo(host, None)
            except OSError:
                raise HostUnreachable(f"the host {host} cannot be resolved (no network?)") \
                    from None
            finally:
                socket.setdefaulttimeout(previous)
            resolved[host] = True
        return original(url, **kwargs)

    downloader._open_url = open_url
    try:
        yield
    finally:
        downloader._open_url = original
