"""The audio study: spoken digits generated the GAN way and the autoencoder way, measured
and heard.

Sound reaches the models as spectrograms (`data.audio.SPECTROGRAM`: 64x64 log-magnitude
images in [0, 1], 8 kHz, 1.024 s), so this kind is the image study on them
(`ImageStudy`) with what sound needs besides:

- **The GAN way is SpecGAN-style**: `dcgan` here *is* SpecGAN's recipe (Donahue et al.
  2019: a DCGAN on 64x64 log-magnitude spectrograms, phase recovered by Griffin-Lim),
  the registry's DCGAN taking the spectrograms unchanged. The autoencoder way: `vae`
  (sampling its prior) and `conv_ae` (decoding a Gaussian fitted to its codes); `pca`
  is the floor.
- **Does it say a digit?** The audio evaluator (the generic classifier of `get_evaluator`,
  trained on the training voices) reads every sample: each digit's share among the
  samples (`class_shares`: 10% each when balanced; min and max share as columns) and the
  share it reads as *some* digit with probability >= 0.9 (`confident`). Its accuracy on
  held-out voices and on Asterisk's real recordings (`asterisk_digits`, where installed)
  is in the report, so a reader knows how far to trust it.
- **Calibration rows**, made as `benchmarks/gan_quality.py` makes them: random real
  training spectrograms, and the same plus Gaussian noise of sigma 0.1 and 0.2 (clipped
  to [0, 1]), scored by the same measures, so that a model's FID can be judged against
  "real spectrograms plus noise".
- **The two-sample test** (on by default, as in the faces study) and memorisation.
- **Hear it**: a few samples of each model (the first of its row in `samples.png`) are
  written as WAVs, `samples/<model>/sample-000.wav`, ..., beside real test clips put
  through the same inverse (`samples/real/`, what Griffin-Lim itself costs), and
  `report.html` plays them (`<audio controls>`).

`train.py study --dataset spoken_digits` (or `--task audio`) runs it.
"""

import dataclasses
import html
import os

import numpy as np

from keras_aegan.errors import UserError
from keras_aegan.studies.image_columns import COLUMNS
from keras_aegan.studies.images import ImageData, ImageStudy, sample_scores
from keras_aegan.studies.kinds import Column

# A sample is "read as a digit" when the evaluator gives some digit at least this
# probability (the target: >= 80% of a good GAN's samples).
CONFIDENT = 0.9
# The calibration rows: real training spectrograms, then the same with Gaussian noise of
# these sigmas (clipped to [0, 1]), as benchmarks/gan_quality.py makes them.
NOISE_SIGMAS = (0.1, 0.2)
# Seed of the samples drawn for the grid and the WAVs (the image study's grid seed).
PICTURE_SEED = 99
MAX_WAVS = 12
SAMPLES_DIR = "samples"

AUDIO_COLUMNS = {
    **COLUMNS,
    "confident": Column("read as a digit", "high", "{:.3f}", "share of samples the "
                        f"evaluator reads as some digit with probability >= {CONFIDENT:g} "
                        "(compare the real training spectrograms' row)."),
    "max_class_share": Column("max digit share", None, "{:.3f}", "share of the commonest "
                              "digit among the samples (0.1 when balanced; a collapsed "
                              "model says one digit)."),
}
# The columns of the "does it say a digit?" table, calibration rows beside the models.
SOUND_KEYS = ("fid", "coverage", "confident", "min_class_share", "max_class_share",
              "classes_seen", "two_sample", "memorisation_ratio")


@dataclasses.dataclass
class AudioData(ImageData):
    """An image study's data, with the sound's representation and the real recordings'
    check of the evaluator."""

    audio: object = None
    wavs: int = 4
    real_recordings: dict = None


class AudioStudy(ImageStudy):
    name = "audio"
    description = ("spoken digits the GAN way (SpecGAN: the DCGAN on 64x64 spectrograms) "
                   "and the autoencoder way (VAE), PCA the floor: FID, digit shares, "
                   "confidence, two-sample test, memorisation; WAVs played in the report "
                   "(--dataset spoken_digits)")
    models = ("dcgan", "vae", "conv_ae", "pca")
    datasets = ("spoken_digits", "audio")
    # `wavs`: samples of each model written as WAV files and played in the report.
    options = {**ImageStudy.options, "two_sample": True, "wavs": 4}
    columns = AUDIO_COLUMNS
    series = ("class_shares",)
    title = "Audio study {study}"
    # 64x64 spectrograms, as many pixels as the faces: the GAN needs its steps. The
    # benchmark's budget (benchmarks/audio.py), chosen to train the GAN in at most 20
    # minutes on an idle 2-core machine.
    steps = 1500

    def check_source(self, info):
        if info.audio is None:
            raise UserError(f"the audio study needs a source of sound (spoken_digits, "
                            f"audio:DIR); {info.name} holds images")

    def prepare(self, config, options, log):
        wavs = options["wavs"]
        if isinstance(wavs, bool) or not isinstance(wavs, int) or not 0 <= wavs <= MAX_WAVS:
            raise UserError(f"wavs must be a whole number from 0 to {MAX_WAVS}, got {wavs!r}")
        data = super().prepare(config, options, log)
        fields = {f.name: getattr(data, f.name) for f in dataclasses.fields(ImageData)}
        real = real_recordings(data.evaluator, data.info, log)
        return AudioData(**fields, audio=data.info.audio, wavs=wavs, real_recordings=real)

    def score(self, config, data, subject, seed):
        scores = super().score(config, data, subject, seed)
        if data.evaluator.has_classes:
            samples = subject.sample(config.eval_samples, seed=seed)
            if samples is not None:
                scores.update(digit_reading(data.evaluator, samples))
        return scores

    def progress(self, row):
        return ", ".join(f"{AUDIO_COLUMNS[k].header} {AUDIO_COLUMNS[k].fmt.format(row[k])}"
                         for k in ("fid", "confident", "two_sample") if k in row)

    def export_inputs(self, data, model):
        return {**super().export_inputs(data, model), "audio": data.audio}

    def results(self, config, data):
        facts = super().results(config, data)
        facts["evaluator"]["real_recordings"] = data.real_recordings
        facts["audio"] = data.audio.describe()
        facts["calibration"] = calibration(config, data)
        if data.info.class_names:
            facts["class_names"] = list(data.info.class_names)
        return facts

    def pictures(self, config, data, answers, results):
        pictures = super().pictures(config, data, answers, results)
        pictures["wavs"] = write_sample_wavs(config, data, answers)
        return pictures

    def report(self, config, results, tables):
        lines = super().report(config, results, tables)
        at = lines.index("## The verdicts")
        return lines[:at] + sound_lines(config, results, tables) + lines[at:]


# ------------------------------------------------------------------------------- measures


def digit_reading(evaluator, samples):
    """How the evaluator reads samples: the share it reads as some class with probability
    >= `CONFIDENT` (`confident`) and each class's share (`class_shares`, a list)."""
    probabilities = evaluator.predict_probabilities(samples)
    shares = np.bincount(probabilities.argmax(-1), minlength=evaluator.num_classes)
    return {"confident": float(np.mean(probabilities.max(-1) >= CONFIDENT)),
            "class_shares": (shares / len(samples)).tolist()}


def real_recordings(evaluator, info, log):
    """The evaluator's accuracy on Asterisk's real recordings of the digits, or `None`
    (an unlabeled source, not spoken digits, or the recordings not installed)."""
    from keras_aegan.data import open_source, spoken

    if not evaluator.has_classes or info.name.partition(":")[0] != "spoken_digits":
        return None
    try:
        source = open_source("asterisk_digits")
    except UserError as e:
        log(f"real recordings: skipped ({e})")
        return None
    x, y = source.arrays("test")
    accuracy = float(np.mean(evaluator.predict_classes(x) == y))
    voices = len(set(spoken.asterisk_clips()[2]))
    log(f"evaluator on the real recordings (asterisk_digits): accuracy {accuracy:.4f} on "
        f"{len(y)} clips of {voices} voices")
    return {"accuracy": accuracy, "clips": int(len(y)), "voices": voices}


def calibration(config, data):
    """The calibration rows (family `reference`): real training spectrograms, as many as
    a model's samples, then the same plus noise of each `NOISE_SIGMAS`, each scored as a
    model's samples are (two-sample test only for the noisy ones: the image study's floor
    row is the real training images')."""
    rng = np.random.default_rng(config.seeds[0])
    n = min(config.eval_samples, len(data.train_x))
    real = data.train_x[np.sort(rng.permutation(len(data.train_x))[:n])]
    rows = [("real training spectrograms", real)]
    for sigma in NOISE_SIGMAS:
        noisy = np.clip(real + rng.normal(0.0, sigma, real.shape), 0.0, 1.0)
        rows.append((f"real + noise sigma {sigma:g}", noisy.astype("float32")))
    entries = []
    for name, images in rows:
        # The real training images' two-sample figure is the image study's floor row.
        scores = sample_scores(config, data, images, config.seeds[0],
                               two_sample=data.two_sample and name != rows[0][0])
        entry = {"model": name, "family": "reference", "seeds": 1,
                 **{k: v for k, v in scores.items()
                    if k.removesuffix("_se") in AUDIO_COLUMNS}}
        if data.evaluator.has_classes:
            entry.update(digit_reading(data.evaluator, images))
        entries.append({k: (float(v) if isinstance(v, (float, np.floating)) else v)
                        for k, v in entry.items()})
    return entries


# ---------------------------------------------------------------------------------- sound


def write_sample_wavs(config, data, subjects):
    """Write `data.wavs` samples of each model that samples (the first of its row in
    `samples.png`) and as many real test clips, all through the spectrogram's inverse, to
    `samples/<model>/`; returns `{row name: [paths relative to the report]}`."""
    from keras_aegan.data.audio import write_wavs

    if not data.wavs:
        return {}
    rows = {"real": data.test_x[:data.wavs]}
    for name, subject in subjects.items():
        samples = subject.sample(12, seed=PICTURE_SEED)
        if samples is not None:
            rows[name] = samples[:data.wavs]
    written = {}
    for name, images in rows.items():
        paths = write_wavs(images, os.path.join(config.path, SAMPLES_DIR, name),
                           spectrogram=data.audio)
        written[name] = [os.path.relpath(p, config.path) for p in paths]
    return written


def player(path):
    """An HTML audio player of one WAV (a path relative to the report)."""
    return (f'<audio controls preload="auto" style="width:230px;vertical-align:middle" '
            f'src="{html.escape(path)}"></audio>')


def sound_lines(config, results, tables):
    """The report's sound section: the evaluator's two accuracies, the sound table with
    the calibration rows, each digit's share, and the players."""
    evaluator, audio = results["evaluator"], results["audio"]
    accuracy = evaluator.get("test_accuracy")
    real = evaluator.get("real_recordings")
    lines = ["## Do the samples say digits?", "",
             f"Sound as the models see it: {audio['rate']:,} Hz clips of "
             f"{audio['seconds']:.3f} s as {audio['image_shape'][0]}x{audio['image_shape'][1]} log-magnitude "
             f"spectrograms ({audio['band_hz']:g} Hz bands, {audio['range_db']:g} dB), "
             f"inverted by Griffin-Lim ({audio['iterations']} iterations). The GAN here, "
             "`dcgan`, is SpecGAN-style: a DCGAN on these spectrograms.", ""]
    if accuracy is not None:
        lines.append(f"- The evaluator (the digit classifier whose features FID and "
                     f"coverage use) reads **{accuracy:.2%}** of the held-out voices' digits "
                     "right (voices never heard in training).")
    if real:
        lines.append(f"- On real recordings (`asterisk_digits`: {real['clips']} clips of "
                     f"{real['voices']} voices) it reads **{real['accuracy']:.2%}** right: "
                     "what it says about a sample is a synthetic ear's opinion.")
    lines += ["", "The models beside calibration rows, made as `benchmarks/gan_quality.py` "
              "makes them: random real training spectrograms, and the same plus Gaussian "
              "noise (clipped to [0, 1]). A model at or below a noise row's FID is as close "
              "to real spectrograms as real ones with that much noise.", ""]
    keys = [k for k in SOUND_KEYS if k in tables.columns]
    lines += [*tables.table(keys, extra=results["calibration"]), "", *tables.legend(keys), ""]
    lines += digit_share_table(results)
    wavs = results["pictures"].get("wavs") or {}
    if wavs:
        lines += ["### Listen", "",
                  "The first samples of each row of the sample grid below, as sound; `real` "
                  "is real test clips through the same inverse (what Griffin-Lim itself "
                  "does to a spectrogram).", ""]
        for name, paths in wavs.items():
            lines += [f"**{html.escape(name)}**: " + " ".join(player(p) for p in paths), ""]
    return lines


def digit_share_table(results):
    """Each digit's share among each model's samples (and the calibration rows')."""
    names = results.get("class_names")
    entries = [e for e in [*results["summary"], *results["calibration"]]
               if isinstance(e.get("class_shares"), list)]
    if not names or not entries:
        return []
    lines = ["Each digit's share among the samples, as the evaluator reads them (0.10 "
             "each when balanced):", "",
             "| model | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for entry in entries:
        lines.append(f"| {entry['model']} | " + " | ".join(
            f"{share:.2f}" for share in entry["class_shares"]) + " |")
    return lines + [""]

