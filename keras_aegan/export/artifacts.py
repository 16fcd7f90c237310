"""One part -> a SavedModel and `.tflite` files, each reloaded and checked for parity.

`export_part` traces the part's declared function (`protocol.Part.fn`) into a `tf.Module`
with a `serving_default` signature (named inputs, dynamic batch), saves it, converts the
SavedModel to TF Lite in each requested precision, runs every artifact the way a user
elsewhere would (`tf.saved_model.load`, `ai_edge_litert`) and records how far its outputs
are from the Keras model's (`CHECKS`).
"""

import os

import numpy as np
import tensorflow as tf

from keras_aegan import compat, noise
from keras_aegan.errors import one_line

# Parity checks: `(statistic, bound)` per precision, on the absolute difference from the
# Keras model's outputs divided by `max(1, max|keras|)` -- for images (in [0, 1]) that is
# the plain difference; for codes it is relative to the largest code magnitude, because
# quantization error grows with the range it covers. Full int8 is checked on the 99th
# percentile: a few saturated pixels (e.g. near a tanh's knee) can be off by far more than
# the rest, so its max is reported but not bounded.
CHECKS = {
    "float32": ("max", 1e-5),
    "float16": ("max", 1e-2),   # half-precision weights: ~3 significant digits
    "dynamic": ("max", 0.1),    # int8 weights, float activations
    "int8": ("p99", 0.1),       # int8 weights and activations, calibrated on the run's data
}
SIGNATURE = "serving_default"
# The TF Lite precisions an export can add to float32 (`export_model(quantize=...)`).
QUANTIZATIONS = ("float16", "dynamic", "int8")


class ExportError(RuntimeError):
    """An export that was attempted and failed (a parity check, a converter error)."""


def build_module(model, part):
    """A `tf.Module` with the part's endpoint and a `serving_default` signature.

    Args:
        model: the model the part belongs to (its recurrent layers are traced unrolled).
        part: a `protocol.Part`.

    Returns:
        `(module, signature)`: save with
        `tf.saved_model.save(module, path, signatures={"serving_default": signature})`.
    """
    specs = [tf.TensorSpec((None, *port.shape), port.dtype, name=port.name)
             for port in part.inputs]
    output = part.output.name

    @tf.function(input_signature=specs)
    def call(*args):
        return tf.cast(part.fn(*args), part.output.dtype)

    @tf.function(input_signature=specs)
    def serve(*args):
        return {output: call(*args)}

    module = tf.Module(name=part.name)
    setattr(module, part.endpoint, call)
    with compat.unrolled_rnns(model):
        signature = serve.get_concrete_function()
    # Track exactly the variables the endpoint reads, as Keras' own ExportArchive does:
    # the SavedModel then holds the weights and nothing of the training state.
    module.weights = list(signature.variables)
    return module, signature


def export_part(model, part, folder, feed, quantize, calibration):
    """Write `<part>/` and `<part>[.<precision>].tflite` into `folder`; returns the part's
    manifest entry, with one parity record per artifact.

    Args:
        model: the model the part belongs to.
        part: a `protocol.Part`.
        folder: where the artifacts go.
        feed: `{input name: array}`, a real batch for the parity check.
        quantize: extra precisions from `QUANTIZATIONS`.
        calibration: for `int8`, a list of single-example feeds.
    """
    expected = np.asarray(part.fn(*[tf.constant(feed[p.name]) for p in part.inputs]),
                          "float32")
    scale = max(1.0, float(np.max(np.abs(expected))))
    module, signature = build_module(model, part)
    saved_dir = os.path.join(folder, part.name)
    try:
        tf.saved_model.save(module, saved_dir, signatures={SIGNATURE: signature})
    except Exception as e:
        raise ExportError(f"{part.name}: writing the SavedModel failed ({type(e).__name__}: "
                          f"{one_line(e, 200)})") from e
    artifacts = []
    loaded = tf.saved_model.load(saved_dir)
    got = loaded.signatures[SIGNATURE](**{k: tf.constant(v) for k, v in feed.items()})
    artifacts.append(_artifact("saved_model", part.name, "float32", _dir_size(saved_dir),
                               got[part.output.name].numpy(), expected, scale))
    del loaded
    for variant in ("float32", *quantize):
        name = f"{part.name}.tflite" if variant == "float32" else \
            f"{part.name}.{variant}.tflite"
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(_convert(saved_dir, part.name, variant, calibration))
        got = run_tflite(path, feed)[part.output.name]
        artifacts.append(_artifact("tflite", name, variant, os.path.getsize(path), got,
                                   expected, scale))
    return {
        "saved_model": part.name,
        "endpoint": part.endpoint,
        "signature": SIGNATURE,
        "about": part.about,
        "inputs": {p.name: p.manifest() for p in part.inputs},
        "outputs": {part.output.name: {**part.output.manifest(),
                                       "shape": [None, *map(int, expected.shape[1:])]}},
        "artifacts": artifacts,
    }


def run_tflite(path, feed, num_threads=None):
    """Run a `.tflite` file's `serving_default` on named numpy inputs (any batch size)."""
    from ai_edge_litert.interpreter import Interpreter

    with noise.quiet_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
        interpreter = Interpreter(model_path=path, num_threads=num_threads)
        runner = interpreter.get_signature_runner(SIGNATURE)
        return {k: np.array(v) for k, v in runner(**feed).items()}


def check_text(artifact, op="<="):
    """`max 1.2e-06 <= 1e-05`: the compared statistic of a parity record and its bound."""
    statistic = artifact["check"]
    value = artifact["scaled"][statistic]
    return f"{statistic} {value:.3g} {op} {artifact['bound']:g}"


def _artifact(kind, path, variant, size, got, expected, scale):
    statistic, bound = CHECKS[variant]
    got = np.asarray(got, "float32")
    if got.shape != expected.shape or not np.all(np.isfinite(got)):
        stats = dict.fromkeys(("max", "mean", "p99"), float("inf"))
    else:
        diff = np.abs(got - expected) / scale
        stats = {"max": float(diff.max()), "mean": float(diff.mean()),
                 "p99": float(np.quantile(diff, 0.99))}
    return {"kind": kind, "path": path, "precision": variant, "bytes": int(size),
            "max_abs_diff": stats["max"] * scale, "mean_abs_diff": stats["mean"] * scale,
            "scaled": {k: stats[k] for k in ("max", "p99", "mean")}, "check": statistic,
            "bound": bound, "ok": bool(stats[statistic] <= bound)}


def _convert(saved_dir, part, variant, calibration):
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_dir, signature_keys=[SIGNATURE])
    if variant != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif variant == "int8":
        # Weights and activations in int8; inputs and outputs stay float32 so that every
        # variant is called the same way (the interpreter quantizes at the edges).
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.representative_dataset = lambda: iter(calibration)
    try:  # the converter's own interpreter announces its XNNPACK delegate on stderr
        with compat.quiet_int8_calibration(), noise.quiet_stderr():
            return converter.convert()
    except Exception as e:  # the converter raises ConverterError and friends
        raise ExportError(f"{part}: TF Lite {variant} conversion failed "
                          f"({type(e).__name__}: {one_line(e, 200)})") from e


def _dir_size(path):
    return sum(os.path.getsize(os.path.join(root, f))
               for root, _, files in os.walk(path) for f in files)
