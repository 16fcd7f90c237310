"""`export_model`: a model's declared parts -> one export folder with a manifest.

Export knows nothing of training or data sources: it learns a model's parts from the
model itself (`protocol.describe`), and the caller hands it the real examples the parity
checks run on (`keras_aegan.training.runner.export_run` does that for a run folder).
"""

import dataclasses
import datetime
import importlib.metadata
import os
import platform
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from keras_aegan import files, protocol
from keras_aegan.errors import UserError
from keras_aegan.export.artifacts import (CHECKS, QUANTIZATIONS, ExportError, check_text,
                                          export_part)

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 2
CALIBRATION_SIZE = 128
# The real examples a parity check runs on (unless told).
PARITY_BATCH = 32


@dataclasses.dataclass
class ExportResult:
    """What `export_model` (and `runner.export_run`) return.

    Attributes:
        path: the export folder.
        manifest: the manifest written to `path/manifest.json`.
    """

    path: str
    manifest: dict

    def summary(self):
        """A plain-text table: one row per artifact with its size and parity figure.

        The parity column shows the quantity that is checked: the statistic (max, or
        p99 for full int8) of `|out - keras| / max(1, max|keras|)` against its bound.
        """
        rows = [("artifact", "size", "max |diff|", "checked: |diff| / max(1, |keras|)",
                 "parity")]
        for info in _exported(self.manifest):
            for artifact in info["artifacts"]:
                rows.append((_display(artifact), _human_size(artifact["bytes"]),
                             f"{artifact['max_abs_diff']:.3g}", check_text(artifact),
                             "ok" if artifact["ok"] else "FAILED"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
                         for r in rows)


def export_model(model, out, *, parts=None, quantize=(), overwrite=False, images=None,
                 labels=None, examples=None, calibration_images=None, seed=0,
                 verbose=False, source=None, audio=None):
    """Export the declared parts of a model to SavedModel and TF Lite, checked for parity.

    Args:
        model: a keras_aegan model (anything that declares itself, see
            `keras_aegan.protocol`).
        out: the export folder.
        parts: part names; `None` exports every part the model has.
        quantize: extra TF Lite variants, names from `QUANTIZATIONS`.
        overwrite: replace an existing export folder (only one that holds an export).
        images: a real batch of images in [0, 1] for the parity checks; required for
            parts that take images.
        labels: int labels for a conditional generator's parity batch (random if `None`).
        examples: real examples of other input kinds, `{kind: array}` (e.g. a
            translator's degraded inputs), for the parity checks.
        calibration_images: images for full int8 calibration (default: `images`).
        seed: seeds the noise of the parity and calibration inputs.
        verbose: print progress.
        source: extra facts for the manifest (the run it came from).
        audio: for a model of sound, the `keras_aegan.data.audio.Spectrogram` its images
            are: when a part makes such images (a generator, a decoder), the inverse is
            exported beside it as `waveform/` (`export.waveform`).

    Returns:
        An `ExportResult`.

    Raises:
        UserError: a part the model lacks, an existing `out`, missing examples.
        ExportError: a converter failure or an artifact outside its parity bound; nothing
            is written then.

    Example:
        >>> images, _ = open_source("digits").arrays("test", limit=32)
        >>> export_model(autoencoder, "export/my-ae", images=images, quantize=["float16"])
    """
    out = os.fspath(out)
    check_out(out, overwrite)
    quantize = check_quantize(quantize)
    spec = protocol.describe(model)
    wanted = check_parts(model, spec, parts)
    examples = dict(examples or {})
    if images is not None:
        examples["images"] = images
    if labels is not None:
        examples["labels"] = labels
    rng = np.random.default_rng(seed)
    feeds = {p.name: _feed(spec, p, examples, rng, PARITY_BATCH) for p in wanted}
    calibration = {}
    if "int8" in quantize:
        if calibration_images is not None:
            examples["images"] = calibration_images
        for part in wanted:
            batch = _feed(spec, part, examples, rng, CALIBRATION_SIZE)
            # The converter calibrates on one example at a time.
            count = len(next(iter(batch.values())))
            calibration[part.name] = [{k: v[i:i + 1] for k, v in batch.items()}
                                      for i in range(count)]

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
                print(f"exporting {part.name} ...", flush=True)
            manifest_parts[part.name] = export_part(model, part, tmp, feeds[part.name],
                                                    quantize, calibration.get(part.name))
        manifest = _manifest(model, spec, manifest_parts, source)
        if audio is not None and any(tuple(p["outputs"][p_out]["shape"][1:])
                                     == tuple(audio.image_shape)
                                     for p in manifest_parts.values() for p_out in p["outputs"]):
            from keras_aegan.export.waveform import export_waveform

            if verbose:
                print("exporting waveform (the spectrogram's inverse) ...", flush=True)
            manifest["waveform"] = export_waveform(
                audio, tmp, images if images is not None
                else rng.random((PARITY_BATCH, *audio.image_shape)))
        result = ExportResult(out, manifest)
        failed = [f"{_display(a)} ({check_text(a, '>')})"
                  for p in _exported(manifest) for a in p["artifacts"] if not a["ok"]]
        if failed:
            raise ExportError(f"parity check failed for {', '.join(failed)}; nothing was "
                              "written")
        files.write_json(os.path.join(tmp, MANIFEST), manifest)
        _move_into_place(tmp, out, overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if verbose:
        print(result.summary())
    return result


# ------------------------------------------------------------------------------ inputs

# Port kinds a parity check makes up rather than takes from real data: kind -> `f(rng,
# shape)`. A generator's noise; a text generator's uniform noise and its temperature (1:
# the model samples as it was trained).
DRAWN_INPUTS = {
    "noise": lambda rng, shape: rng.standard_normal(shape),
    "uniform": lambda rng, shape: rng.random(shape),
    "temperature": lambda rng, shape: np.ones(shape),
}



def _feed(spec, part, examples, rng, default_size):
    """A batch of named inputs for a part: real examples where the caller gave them,
    codes of real images for a `code` port, standard-normal noise, labels."""
    real = {kind: np.asarray(v) for kind, v in examples.items() if v is not None}
    sized = [len(v) for kind, v in real.items() if kind != "labels" and len(v)]
    n = min(sized) if sized else default_size
    feed = {}
    for port in part.inputs:
        if port.kind in real and port.kind != "labels":
            value = real[port.kind][:n]
            if tuple(value.shape[1:]) != port.shape or not len(value):
                raise UserError(f"parity {port.kind} must be a batch of shape (N, "
                                f"{', '.join(map(str, port.shape))}), got {value.shape}")
        elif port.kind == "code":
            value = _codes(spec, real, n, rng, port)
        elif port.kind in DRAWN_INPUTS:
            value = DRAWN_INPUTS[port.kind](rng, (n, *port.shape))
        elif port.kind == "labels":
            value = _labels(spec, real.get("labels"), n, rng)
        else:
            article = "an" if part.name[0] in "aeiou" else "a"
            raise UserError(f"exporting {article} {part.name} needs a real batch of "
                            f"{port.kind} for the parity check ({port.kind}=...)")
        feed[port.name] = np.asarray(value, port.dtype)
    return feed


def _codes(spec, real, n, rng, port):
    # The decoder's parity batch: codes of real images when the model has an encoder.
    encoders = [p for p in spec.parts if p.output.kind == "code"
                and all(q.kind in real for q in p.inputs)]
    if encoders:
        encoder = encoders[0]
        return np.asarray(encoder.fn(*[tf.constant(np.asarray(real[q.kind][:n], q.dtype))
                                       for q in encoder.inputs]))
    return rng.standard_normal((n, *port.shape))


def _labels(spec, labels, n, rng):
    if labels is not None and len(labels) >= n:
        labels = np.asarray(labels[:n], "int32")
        if labels.min() >= 0 and labels.max() < spec.num_classes:
            return labels
    return rng.integers(0, spec.num_classes, n)


# ------------------------------------------------------------------------------ checks


def check_parts(model, spec, parts):
    """The `protocol.Part`s named by `parts` (all of the model's when `None`)."""
    name = model.name
    if not spec.exportable or not spec.parts:
        raise UserError(f"model {name!r} has nothing to export")
    if parts is None:
        return list(spec.parts)
    if isinstance(parts, str):
        parts = [parts]
    wanted = []
    for part in parts:
        if part not in protocol.PART_NAMES:
            raise UserError(f"unknown part {part!r}; parts are named "
                            f"{', '.join(protocol.PART_NAMES)}")
        if not spec.has(part):
            raise UserError(f"model {name!r} has no {part}; it has: "
                            f"{', '.join(spec.part_names)}")
        if spec.part(part) not in wanted:
            wanted.append(spec.part(part))
    if not wanted:
        raise UserError("no parts to export")
    return wanted


def check_quantize(quantize):
    """The requested quantizations, each once, in order; a `UserError` for unknown ones."""
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


def check_out(out, overwrite):
    """Refuse an export folder that exists (unless `overwrite`) or is not an export."""
    out = os.fspath(out)
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
    check_out(out, overwrite)  # again: something may have appeared meanwhile
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


def _manifest(model, spec, parts, source):
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
        "model": {"class": type(model).__name__, "name": model.name, "family": spec.family,
                  "image_shape": list(spec.image_shape), "latent_dim": spec.latent_dim,
                  "num_classes": spec.num_classes, "task": spec.task,
                  **_value_range(spec)},
        "source": source or {},
        "parity": {"difference": "|out - keras| / max(1, max|keras|)",
                   "checks": {p: {"statistic": c, "bound": b}
                              for p, (c, b) in CHECKS.items()}},
        "versions": versions,
        "parts": parts,
    }


def _exported(manifest):
    """The manifest's entries with artifacts: the parts, then the waveform's inverse."""
    return [*manifest["parts"].values(), *([manifest["waveform"]] if "waveform" in manifest
                                           else [])]


def _value_range(spec):
    """What the model's data is in the manifest: values in [0, 1], or for a model of text,
    what each token id stands for."""
    if spec.vocabulary is None:
        return {"value_range": [0.0, 1.0]}
    return {"vocabulary": {"pad_id": 0, "end_id": 1, "first_symbol_id": 2,
                           "symbols": spec.vocabulary}}


def _display(artifact):
    return artifact["path"] + ("/" if artifact["kind"] == "saved_model" else "")


def _human_size(n):
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
