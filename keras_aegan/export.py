"""Export trained parts to SavedModel and TF Lite, with a parity check on every export.

Each part of a model becomes its own artifact under one export folder
(`export/<run-name>/` by default):

- `encoder/`, `encoder.tflite`: `encode(images) -> code` (the mean for a VAE).
- `decoder/`, `decoder.tflite`: `decode(code) -> images`.
- `autoencoder/`, `autoencoder.tflite`: `reconstruct(images) -> reconstruction`.
- `generator/`, `generator.tflite`: `generate(z) -> images`, or `generate(z, label)` for a
  conditional GAN.
- `<part>.<quantization>.tflite` for each requested quantization (`float16`, `dynamic`,
  `int8`), and `manifest.json` describing all of them.

Every SavedModel has a `serving_default` signature with named inputs and outputs and a
dynamic batch dimension; images are float32 NHWC in [0, 1]. Randomness stays on the host:
the endpoints are deterministic (a GAN's noise `z` is an input).

Before anything lands in the export folder, each artifact is reloaded the way a user
elsewhere would (`tf.saved_model.load`, `ai_edge_litert`'s interpreter) and run on a real
batch; its outputs must match the Keras model's within `CHECKS`. An export that fails this
is reported as failed (`ExportError`) and leaves nothing behind: the export is written to a
temporary folder and moved into place only when complete.
"""

import contextlib
import dataclasses
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import tempfile
import warnings

import numpy as np
import tensorflow as tf

from keras_aegan.errors import UserError

PARTS = ("encoder", "decoder", "autoencoder", "generator")
QUANTIZATIONS = ("float16", "dynamic", "int8")
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
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
PARITY_BATCH = 32
CALIBRATION_SIZE = 128


class ExportError(RuntimeError):
    """An export that was attempted and failed (a parity check, a converter error)."""


@dataclasses.dataclass(frozen=True)
class _Endpoint:
    """What a part exposes: endpoint name, inputs `(name, shape, dtype)`, output name."""

    part: str
    method: str
    inputs: tuple
    output: str


@dataclasses.dataclass
class ExportResult:
    """What `export_run` / `export_model` return.

    Attributes:
        path: the export folder.
        manifest: the manifest written to `path/manifest.json`.
    """

    path: str
    manifest: dict

    def summary(self):
        """A plain-text table: one row per artifact with its size and parity figure."""
        rows = [("artifact", "size", "max abs diff", "mean abs diff", "checked", "parity")]
        for part, info in self.manifest["parts"].items():
            for artifact in info["artifacts"]:
                rows.append((_display(artifact), _human_size(artifact["bytes"]),
                             f"{artifact['max_abs_diff']:.3g}",
                             f"{artifact['mean_abs_diff']:.3g}", _check_text(artifact),
                             "ok" if artifact["ok"] else "FAILED"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
                         for r in rows)


# ------------------------------------------------------------------------------ public API


def export_run(run_dir, out=None, *, parts=None, quantize=(), overwrite=False,
               parity_batch=PARITY_BATCH, verbose=False):
    """Export the trained parts of a run folder.

    Loads `run_dir/model.keras` (safe mode), takes a real batch of the run's test split for
    the parity checks and, for full int8, calibration images from its training split.

    Args:
        run_dir: a run folder written by `keras_aegan.runner.train`.
        out: the export folder; defaults to `export/<run-name>`.
        parts: names from `PARTS`; `None` exports every part the model has.
        quantize: extra TF Lite variants, names from `QUANTIZATIONS`.
        overwrite: replace an existing export folder (only one that holds an export).
        parity_batch: images in the parity batch.
        verbose: print progress.

    Returns:
        An `ExportResult`.

    Raises:
        UserError: not a trained run folder, a part the model lacks, an existing `out`.
        ExportError: a converter failure or an artifact outside its parity bound.

    Example:
        >>> result = export_run("runs/conv_ae-digits", quantize=["int8"])
        >>> print(result.summary())
    """
    from keras_aegan.runner import RunConfig, load_model

    run_dir = os.fspath(run_dir)
    model_path = os.path.join(run_dir, "model.keras")
    if not os.path.isdir(run_dir):
        raise UserError(f"{run_dir}: no such run folder")
    if not os.path.isfile(os.path.join(run_dir, "config.json")):
        raise UserError(f"{run_dir}: not a run folder (no config.json)")
    if not os.path.isfile(model_path):
        raise UserError(f"{run_dir}: no trained model (model.keras is missing; training "
                        "writes it when it finishes)")
    run_name = os.path.basename(os.path.normpath(run_dir))
    out = os.path.join("export", run_name) if out is None else os.fspath(out)
    # Fail on bad arguments before the slow parts (loading the model and the data).
    _check_out(out, overwrite)
    quantize = _check_quantize(quantize)
    try:
        config = RunConfig.load(run_dir)
    except UserError:
        raise
    except (ValueError, TypeError) as e:  # JSON syntax, unknown value types
        raise UserError(f"{run_dir}/config.json: cannot read it ({_first_line(e)})") from None
    model = load_model(model_path)
    wanted = _check_parts(model, parts)
    source = config.open_data()
    split = "test" if source.info.splits.get("test") else "train"
    images, labels = source.arrays(split, limit=parity_batch)
    calibration = None
    if "int8" in quantize:
        calibration, _ = source.arrays("train", limit=CALIBRATION_SIZE)
    return export_model(
        model, out, parts=wanted, quantize=quantize, overwrite=overwrite, images=images,
        labels=labels, calibration_images=calibration, verbose=verbose,
        source={"run": os.path.abspath(run_dir), "run_name": run_name,
                "model": config.model, "dataset": config.dataset,
                "parity_data": f"{config.dataset} {split} split, first {len(images)} images"})


def export_model(model, out, *, parts=None, quantize=(), overwrite=False, images=None,
                 labels=None, calibration_images=None, seed=0, verbose=False, source=None):
    """Export the parts of a model object; see `export_run` for a run folder.

    Args:
        model: a keras_aegan model (an autoencoder with `encode`/`decode`, or a GAN with
            `generate`), with `latent_dim` and `image_shape` attributes.
        out: the export folder.
        parts: names from `PARTS`; `None` exports every part the model has.
        quantize: extra TF Lite variants, names from `QUANTIZATIONS`.
        overwrite: replace an existing export folder (only one that holds an export).
        images: a real batch of images in [0, 1] for the parity checks; required for the
            encoder and autoencoder parts.
        labels: int labels for a conditional generator's parity batch (random if `None`).
        calibration_images: images for full int8 calibration (default: `images`).
        seed: seeds the noise of the generator's parity and calibration inputs.
        verbose: print progress.
        source: extra facts for the manifest (the run it came from).

    Returns:
        An `ExportResult`.

    Example:
        >>> images, _ = open_source("digits").arrays("test", limit=32)
        >>> export_model(autoencoder, "export/my-ae", images=images, quantize=["float16"])
    """
    out = os.fspath(out)
    _check_out(out, overwrite)
    quantize = _check_quantize(quantize)
    wanted = _check_parts(model, parts)
    image_shape = tuple(int(d) for d in model.image_shape)
    latent_dim = int(model.latent_dim)
    if images is not None:
        images = np.asarray(images, "float32")
        if images.ndim != 4 or images.shape[1:] != image_shape or not len(images):
            raise UserError(f"parity images must be a batch of shape (N, {image_shape}), got "
                            f"{images.shape}")
    elif {"encoder", "autoencoder"} & set(wanted):
        raise UserError("exporting an encoder or autoencoder needs a real batch of images "
                        "for the parity check (images=...)")
    rng = np.random.default_rng(seed)
    feeds = _feeds(model, wanted, images, labels, rng, PARITY_BATCH)
    calibration = None
    if "int8" in quantize:
        batches = _feeds(model, wanted, images if calibration_images is None
                         else np.asarray(calibration_images, "float32"), None, rng,
                         CALIBRATION_SIZE)
        # The converter calibrates on one example at a time.
        calibration = {part: [{k: v[i:i + 1] for k, v in batch.items()}
                              for i in range(len(next(iter(batch.values()))))]
                       for part, batch in batches.items()}

    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(os.path.abspath(out))}.tmp-",
                           dir=parent)
    try:
        # mkdtemp makes a private (0700) folder; the export should get the usual mode.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        manifest_parts = {}
        for part in wanted:
            if verbose:
                print(f"exporting {part} ...", flush=True)
            manifest_parts[part] = _export_part(model, part, tmp, feeds[part], quantize,
                                                calibration and calibration[part])
        manifest = _manifest(model, image_shape, latent_dim, manifest_parts, source)
        result = ExportResult(out, manifest)
        failed = [f"{_display(a)} ({_check_text(a, '>')})"
                  for p in manifest_parts.values() for a in p["artifacts"] if not a["ok"]]
        if failed:
            raise ExportError(f"parity check failed for {', '.join(failed)}; nothing was "
                              "written")
        with open(os.path.join(tmp, MANIFEST), "w") as f:
            json.dump(manifest, f, indent=2)
        _move_into_place(tmp, out, overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if verbose:
        print(result.summary())
    return result


def available_parts(model):
    """The parts of `PARTS` a model has, in export order."""
    has = {name: callable(getattr(model, name, None)) for name in ("encode", "decode",
                                                                   "generate")}
    found = []
    if has["encode"]:
        found.append("encoder")
    if has["decode"]:
        found.append("decoder")
    if has["encode"] and has["decode"]:
        found.append("autoencoder")
    if has["generate"]:
        found.append("generator")
    return found


def is_conditional(model):
    """True for a generator that takes class labels beside the noise."""
    return callable(getattr(model, "generate", None)) and bool(getattr(model, "num_classes",
                                                                       None))


# ------------------------------------------------------------------------------ one part


def endpoint_for(model, part):
    """The endpoint of `part`: its method name, named inputs and output name."""
    image = ("images", tuple(int(d) for d in model.image_shape), "float32")
    code = ("code", (int(model.latent_dim),), "float32")
    if part == "encoder":
        return _Endpoint(part, "encode", (image,), "code")
    if part == "decoder":
        return _Endpoint(part, "decode", (code,), "images")
    if part == "autoencoder":
        return _Endpoint(part, "reconstruct", (image,), "reconstruction")
    inputs = (("z", (int(model.latent_dim),), "float32"),)
    if is_conditional(model):
        inputs += (("label", (), "int32"),)
    return _Endpoint(part, "generate", inputs, "images")


def _keras_fn(model, part):
    if part == "encoder":
        return model.encode
    if part == "decoder":
        return model.decode
    if part == "autoencoder":
        return lambda images: model(images, training=False)
    return model.generate


def build_module(model, part):
    """A `tf.Module` with the part's endpoint and a `serving_default` signature.

    Returns:
        `(module, signature)`: save with
        `tf.saved_model.save(module, path, signatures={"serving_default": signature})`.
    """
    endpoint = endpoint_for(model, part)
    fn = _keras_fn(model, part)
    specs = [tf.TensorSpec((None, *shape), dtype, name=name)
             for name, shape, dtype in endpoint.inputs]

    @tf.function(input_signature=specs)
    def call(*args):
        return tf.cast(fn(*args), tf.float32)

    @tf.function(input_signature=specs)
    def serve(*args):
        return {endpoint.output: call(*args)}

    module = tf.Module(name=part)
    setattr(module, endpoint.method, call)
    with _unrolled_rnns(model):
        signature = serve.get_concrete_function()
    # Track exactly the variables the endpoint reads, as Keras' own ExportArchive does:
    # the SavedModel then holds the weights and nothing of the training state.
    module.weights = list(signature.variables)
    return module, signature


@contextlib.contextmanager
def _unrolled_rnns(model):
    """Trace recurrent layers unrolled (their time steps are static: image rows).

    A `while` loop over a dynamic batch needs TensorList ops that TF Lite cannot lower
    without Flex ops, which the plain LiteRT runtime lacks; the unrolled graph is plain ops
    and computes the same function. The model's own setting is restored afterwards.
    """
    import keras

    changed, stack, seen = [], [model], set()
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if isinstance(layer, keras.layers.RNN) and not layer.unroll:
            layer.unroll = True
            changed.append(layer)
        stack.extend(getattr(layer, "layers", None) or ())
        for child in (getattr(layer, "layer", None), getattr(layer, "forward_layer", None),
                      getattr(layer, "backward_layer", None)):
            if child is not None:
                stack.append(child)
    try:
        yield
    finally:
        for layer in changed:
            layer.unroll = False


def _export_part(model, part, tmp, feed, quantize, calibration):
    endpoint = endpoint_for(model, part)
    expected = np.asarray(_keras_fn(model, part)(*[tf.constant(feed[n]) for n, _, _ in
                                                   endpoint.inputs]), "float32")
    scale = max(1.0, float(np.max(np.abs(expected))))
    module, signature = build_module(model, part)
    saved_dir = os.path.join(tmp, part)
    try:
        tf.saved_model.save(module, saved_dir, signatures={SIGNATURE: signature})
    except Exception as e:
        raise ExportError(f"{part}: writing the SavedModel failed ({type(e).__name__}: "
                          f"{_first_line(e)})") from e
    artifacts = []
    loaded = tf.saved_model.load(saved_dir)
    got = loaded.signatures[SIGNATURE](**{k: tf.constant(v) for k, v in feed.items()})
    artifacts.append(_artifact("saved_model", part, "float32", _dir_size(saved_dir),
                               got[endpoint.output].numpy(), expected, scale))
    del loaded
    for variant in ("float32", *quantize):
        name = f"{part}.tflite" if variant == "float32" else f"{part}.{variant}.tflite"
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(_convert(saved_dir, part, variant, calibration))
        got = run_tflite(path, feed)[endpoint.output]
        artifacts.append(_artifact("tflite", name, variant, os.path.getsize(path), got,
                                   expected, scale))
    return {
        "saved_model": part,
        "endpoint": endpoint.method,
        "signature": SIGNATURE,
        "inputs": {n: {"shape": [None, *s], "dtype": d,
                       **({"range": [0.0, 1.0]} if n == "images" else {})}
                   for n, s, d in endpoint.inputs},
        "outputs": {endpoint.output: {"shape": [None, *map(int, expected.shape[1:])],
                                      "dtype": "float32",
                                      **({"range": [0.0, 1.0]}
                                         if endpoint.output != "code" else {})}},
        "artifacts": artifacts,
    }


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


def _check_text(artifact, op="<="):
    statistic = artifact["check"]
    value = artifact["scaled"][statistic]
    return f"{statistic} {value:.3g} {op} {artifact['bound']:g}"


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
    try:
        with warnings.catch_warnings():
            # int8 calibration runs TF's own (deprecated) tf.lite.Interpreter internally.
            warnings.simplefilter("ignore", UserWarning)
            return converter.convert()
    except Exception as e:  # the converter raises ConverterError and friends
        raise ExportError(f"{part}: TF Lite {variant} conversion failed "
                          f"({type(e).__name__}: {_first_line(e)})") from e


def run_tflite(path, feed, num_threads=None):
    """Run a `.tflite` file's `serving_default` on named numpy inputs (any batch size)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path, num_threads=num_threads)
    runner = interpreter.get_signature_runner(SIGNATURE)
    return {k: np.array(v) for k, v in runner(**feed).items()}


# ------------------------------------------------------------------------------ inputs


def _feeds(model, parts, images, labels, rng, default_size):
    """Per part, a batch of named inputs: real images, their codes, noise and labels."""
    n = len(images) if images is not None else default_size
    codes = None
    if images is not None and callable(getattr(model, "encode", None)):
        codes = np.asarray(model.encode(tf.constant(images)), "float32")
    feeds = {}
    for part in parts:
        if part in ("encoder", "autoencoder"):
            feeds[part] = {"images": images}
        elif part == "decoder":
            feeds[part] = {"code": codes if codes is not None else
                           rng.standard_normal((n, int(model.latent_dim))).astype("float32")}
        else:
            feed = {"z": rng.standard_normal((n, int(model.latent_dim))).astype("float32")}
            if is_conditional(model):
                feed["label"] = _labels(model, labels, n, rng)
            feeds[part] = feed
    return feeds


def _labels(model, labels, n, rng):
    num_classes = int(model.num_classes)
    if labels is not None and len(labels) >= n:
        labels = np.asarray(labels[:n], "int32")
        if labels.min() >= 0 and labels.max() < num_classes:
            return labels
    return rng.integers(0, num_classes, n).astype("int32")


# ------------------------------------------------------------------------------ checks


def _check_parts(model, parts):
    have = available_parts(model)
    name = getattr(model, "name", type(model).__name__)
    if not have:
        raise UserError(f"model {name!r} has nothing to export (no encode, decode or "
                        "generate method)")
    if parts is None:
        return have
    if isinstance(parts, str):
        parts = [parts]
    wanted = []
    for part in parts:
        if part not in PARTS:
            raise UserError(f"unknown part {part!r}; choose from {', '.join(PARTS)}")
        if part not in have:
            raise UserError(f"model {name!r} has no {part}; it has: {', '.join(have)}")
        if part not in wanted:
            wanted.append(part)
    if not wanted:
        raise UserError("no parts to export")
    return wanted


def _check_quantize(quantize):
    if isinstance(quantize, str):
        quantize = [quantize]
    out = []
    for q in quantize or ():
        if q not in QUANTIZATIONS:
            raise UserError(f"unknown quantization {q!r}; choose from "
                            f"{', '.join(QUANTIZATIONS)}")
        if q not in out:
            out.append(q)
    return tuple(out)


def _check_out(out, overwrite):
    if not out.strip():
        raise UserError("the export folder must be a non-empty path")
    if not os.path.lexists(out):
        return
    if not overwrite:
        raise UserError(f"{out} already exists; pass --overwrite (overwrite=True) to "
                        "replace it")
    if not os.path.isdir(out) or os.path.islink(out):
        raise UserError(f"{out} exists and is not a folder; refusing to replace it")
    # Never delete a folder that is not an export, even with overwrite.
    if os.listdir(out) and not os.path.isfile(os.path.join(out, MANIFEST)):
        raise UserError(f"{out} exists and holds no {MANIFEST}; refusing to replace a "
                        "folder that is not an export")


def _move_into_place(tmp, out, overwrite):
    _check_out(out, overwrite)  # again: something may have appeared meanwhile
    old = None
    if os.path.lexists(out):
        old = tempfile.mkdtemp(prefix=f".{os.path.basename(os.path.abspath(out))}.old-",
                               dir=os.path.dirname(os.path.abspath(out)))
        os.replace(out, os.path.join(old, "export"))
    try:
        os.replace(tmp, out)
    except BaseException:
        if old is not None:
            os.replace(os.path.join(old, "export"), out)
            shutil.rmtree(old, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------------------ manifest


def _manifest(model, image_shape, latent_dim, parts, source):
    import keras

    import keras_aegan

    versions = {"keras_aegan": keras_aegan.__version__, "tensorflow": tf.__version__,
                "keras": keras.__version__, "numpy": np.__version__,
                "python": platform.python_version()}
    try:
        versions["ai_edge_litert"] = importlib.metadata.version("ai-edge-litert")
    except importlib.metadata.PackageNotFoundError:
        pass
    return {
        "format": MANIFEST_FORMAT,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "model": {"class": type(model).__name__, "name": getattr(model, "name", None),
                  "image_shape": list(image_shape), "latent_dim": latent_dim,
                  "num_classes": (int(model.num_classes) if is_conditional(model) else None),
                  "value_range": [0.0, 1.0]},
        "source": source or {},
        "parity": {"difference": "|out - keras| / max(1, max|keras|)",
                   "checks": {p: {"statistic": c, "bound": b}
                              for p, (c, b) in CHECKS.items()}},
        "versions": versions,
        "parts": parts,
    }


def _display(artifact):
    return artifact["path"] + ("/" if artifact["kind"] == "saved_model" else "")


def _dir_size(path):
    return sum(os.path.getsize(os.path.join(root, f))
               for root, _, files in os.walk(path) for f in files)


def _human_size(n):
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__
