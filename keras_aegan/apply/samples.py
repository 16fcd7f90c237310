"""`sample`: new examples from a trained run's generator, written in their data's natural
format.

`sample_run(run_dir, out, n=...)` loads the run's model and asks it how it samples
(`keras_aegan.protocol`): a model with its own sampler (a GAN's noise, a VAE's prior) draws
with `sample(n, seed=...)` (and `temperature=...` when it declares one); an autoencoder
without a prior decodes draws from a Gaussian fitted to its training codes (the study's
way, `studies.subjects.Subject`). What one example is comes from the run's registry entry
(`registry.DATA_KINDS`), and a writer per kind (`WRITERS`) writes them:

- `images`: one PNG per sample, `sample_00001.png`, ... (grey or RGB, 8 bits);
- `series`: `samples.csv`, a row per time step: `sample,step,channel_0,...`;
- `text`: `samples.txt`, one item a line (UTF-8), read back with the model's vocabulary;
- sound: images of a source of sound (its `DataInfo.audio`, a spectrogram representation)
  are written as 16-bit WAV files, `sample_00001.wav`, ..., at the representation's rate,
  through its inverse (`data.audio.write_wavs`: Griffin-Lim).

A new kind of data plugs in with `register_writer(kind, function)`.

Example:
    >>> sample_run("runs/char_vae-surnames", "names", n=100, temperature=0.8).summary()
    'wrote 100 samples to names/samples.txt'
"""

import dataclasses
import functools
import os

import numpy as np

from keras_aegan import files
from keras_aegan.errors import UserError, check_int, check_number

# Samples drawn per call of the model, so that memory stays bounded for a large `n`.
BATCH = 1000
MAX_SAMPLES = 1_000_000


@dataclasses.dataclass
class SampleResult:
    """What `sample_run` wrote: the files, the number of samples, the folder."""

    out: str
    files: list
    count: int

    def summary(self):
        where = self.files[0] if len(self.files) == 1 else f"{self.out}/"
        return f"wrote {self.count:,} samples to {where}"


def write_images(samples, out, spec, overwrite):
    """One 8-bit PNG per image in [0, 1]."""
    from PIL import Image

    paths = [os.path.join(out, f"sample_{i + 1:05d}.png") for i in range(len(samples))]
    _check_free(paths, overwrite)
    pixels = np.round(np.clip(np.asarray(samples, "float32"), 0, 1) * 255).astype("uint8")
    for path, image in zip(paths, pixels):
        with files.atomic_path(path) as tmp:
            Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(
                tmp, format="PNG")
    return paths


def write_series(samples, out, spec, overwrite):
    """`samples.csv`: a row per sample and time step, a column per channel."""
    path = os.path.join(out, "samples.csv")
    _check_free([path], overwrite)
    windows = np.asarray(samples, "float32")
    header = ",".join(["sample", "step", *(f"channel_{c}" for c in range(windows.shape[2]))])
    lines = [header]
    for i, window in enumerate(windows):
        for step, values in enumerate(window):
            lines.append(",".join([str(i), str(step), *(f"{v:.6g}" for v in values)]))
    files.write_text(path, "\n".join(lines) + "\n")
    return [path]


def write_text(samples, out, spec, overwrite):
    """`samples.txt`: one item a line, its ids read with the model's vocabulary."""
    from keras_aegan.models.text import decode

    path = os.path.join(out, "samples.txt")
    _check_free([path], overwrite)
    items = decode(np.asarray(samples).astype("int64"), spec.vocabulary)
    files.write_text(path, "".join(f"{item}\n" for item in items))
    return [path]


def write_audio(samples, out, spec, overwrite, audio):
    """One 16-bit mono WAV per spectrogram image, through `audio`'s inverse."""
    from keras_aegan.data.audio import write_wavs

    names = [f"sample_{i + 1:05d}" for i in range(len(samples))]
    paths = [os.path.join(out, f"{name}.wav") for name in names]
    _check_free(paths, overwrite)
    return [os.fspath(p) for p in write_wavs(samples, out, spectrogram=audio, names=names)]


# What one example is (`registry.DATA_KINDS`) -> `write(samples, out, spec, overwrite)`,
# returning the files written.
WRITERS = {"images": write_images, "series": write_series, "text": write_text}


def register_writer(kind, function):
    """Let `sample` write samples of the data kind `kind` with `function`."""
    if kind in WRITERS:
        raise ValueError(f"a writer for {kind!r} is registered twice")
    WRITERS[kind] = function


def _check_free(paths, overwrite):
    taken = [p for p in paths if os.path.exists(p)]
    if taken and not overwrite:
        raise UserError(f"{taken[0]} exists; pass --overwrite (overwrite=True) to replace "
                        "samples written before")


def draw(model, spec, n, seed=0, temperature=None, training_examples=None):
    """`n` samples of a model, as its sampler makes them (numpy).

    Args:
        model: a keras_aegan model.
        spec: its `protocol.ModelSpec`.
        n: number of samples.
        seed: the same seed gives the same samples.
        temperature: for a model that declares one (`spec.sample_temperature`).
        training_examples: for a model that samples from a Gaussian fitted to its
            training codes, the examples to fit it on (`None` for other models).

    Raises:
        UserError: a model that draws no samples, or a temperature it does not take.
    """
    from keras_aegan import protocol

    if temperature is not None and not spec.sample_temperature:
        raise UserError(f"this {spec.family} model's sampler takes no temperature; leave "
                        "out --temperature")
    if spec.sampler is None:
        raise UserError(f"this {spec.family} model draws no samples (it has no sampler: "
                        f"its parts are {', '.join(spec.part_names)}); use apply instead")
    if spec.sampler == protocol.SAMPLES_OWN:
        extra = {} if temperature is None else {"temperature": temperature}

        def batch(count, seed):
            return np.asarray(model.sample(count, seed=seed, **extra))
    else:
        from keras_aegan.studies.subjects import Subject

        batch = Subject("run", model, training_examples).sample
    # Each batch its own seed, so that the first samples do not depend on `n`.
    return np.concatenate([batch(min(BATCH, n - start), seed + start // BATCH)
                           for start in range(0, n, BATCH)])


def sample_run(run_dir, out=None, *, n=100, seed=0, temperature=None, overwrite=False):
    """Write `n` samples of a trained run's generator to `out` in its data's format.

    Args:
        run_dir: a run folder written by `keras_aegan.training.runner.train`.
        out: the folder to write to (created); default `<run_dir>/samples`.
        n: number of samples.
        seed: the same seed gives the same samples.
        temperature: for a model of text, its sampling temperature (default: as trained).
        overwrite: replace sample files written before.

    Returns:
        A `SampleResult`.

    Raises:
        UserError: a bad run folder, a model that draws no samples, a data kind with no
            writer, a temperature the model does not take, files that exist.
    """
    from keras_aegan import protocol
    from keras_aegan.registry import get_model_entry
    from keras_aegan.training.runner import check_trained_run, load_model, read_run_config

    n = check_int("n", n, 1, maximum=MAX_SAMPLES)
    seed = check_int("seed", seed, 0)
    if temperature is not None:
        temperature = check_number("temperature", temperature, 0, 100, low_open=True)
    run_dir = os.fspath(run_dir)
    model_path = check_trained_run(run_dir)
    config = read_run_config(run_dir)
    entry = get_model_entry(config.model)
    writer = WRITERS.get(entry.data)
    if writer is None:
        raise UserError(f"{config.model} models {entry.data}, which sample cannot write "
                        f"(it writes {', '.join(WRITERS)})")
    out = os.path.join(run_dir, "samples") if out is None else os.fspath(out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise UserError(f"{out} exists and is not a folder")
    model = load_model(model_path)
    spec = protocol.describe(model)
    examples, source = None, None
    if entry.data == "images" or spec.sampler == protocol.SAMPLES_CODE_GAUSSIAN:
        source = config.open_data()
    if spec.sampler == protocol.SAMPLES_CODE_GAUSSIAN:
        examples, _ = source.arrays("train", limit=5000)
    # Images of sound are spectrograms: the data says so (`DataInfo.audio`), whatever the
    # source is called, and they are written as sound.
    audio = source.info.audio if entry.data == "images" else None
    if audio is not None:
        writer = functools.partial(write_audio, audio=audio)
    samples = draw(model, spec, n, seed, temperature, examples)
    os.makedirs(out, exist_ok=True)
    written = writer(samples, out, spec, overwrite)
    return SampleResult(out, written, len(samples))
