"""Audio sources: synthesized and real spoken digits, and a user's sound files.

Each yields the spectrograms of `keras_aegan.data.audio.SPECTROGRAM` as single-channel
64x64 images in [0, 1] with int labels, so every image model and the image study take them
unchanged; `DataInfo.audio` names the representation, whose `waveforms` and `write_wavs`
turn images back into sound.

- `spoken_digits[:N]`: N clips (default 4,000; 30 to 10,560) of the digits 0-9 spoken by
  espeak-ng (the Debian package `espeak-ng`, GPL-3+, run as a separate program), in 12
  accents and languages (8 English ones, Latin-American Spanish, French, Italian and
  Russian: the languages of the real recordings below, each digit said in its own
  language: "five", "cinco", "cinq", "cinque", "пять") times 88 voice variants, each clip at
  its own seeded speed (120-210 words a minute) and pitch (25-75 of 100). A *voice* is an
  accent with a variant. The split is **by variant**: every voice of a test variant is in
  `test` and none in `train` or `validation` (and likewise for `validation`), so a test
  score measures speakers never heard in training. The clips are synthesized once, voice by
  voice (a voice says all ten digits), into the cache (`$KERAS_AEGAN_CACHE/audio`, beside
  the evaluators), with progress lines; the first N clips are the first N/10 voices of a
  fixed order that interleaves the splits (7 train, 2 test, 1 validation in every 10), so a
  small N (e.g. `spoken_digits:30` for a test) still has all three.
- `asterisk_digits`: the real recordings of the digits in Asterisk's sound packages
  (`asterisk-core-sounds-en-wav` and its `-es`, `-fr`, `-it`, `-ru` siblings and
  `asterisk-prompt-it-menardi-wav`; CC-BY-SA-3.0, 8 kHz), one voice per folder of
  `/usr/share/asterisk/sounds`: 60 clips in 6 voices where all are installed. Too few to
  train on, they are **a test set**: every clip is in `test`; `train` and `validation` are
  empty. They check that what is learned from synthetic voices carries to real ones.
- `audio:DIR`: a user's WAV/FLAC/OGG files (read by soundfile); sub-folders of `DIR` are
  class labels, files directly in `DIR` make an unlabeled source; `test` and `validation`
  are carved by clip (the files name no speaker).
"""

import concurrent.futures
import functools
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import numpy as np

from keras_aegan.data.audio import AUDIO_EXTENSIONS, SPECTROGRAM, read_clip, resample
from keras_aegan.data.core import DataInfo, Source, array_source, register_source
from keras_aegan.data.specs import int_option
from keras_aegan.errors import DataError
from keras_aegan.files import (atomic_path, default_cache_dir, locked, read_json,
                               write_json)

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
               "nine")
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
           "en-gb-x-gbcwmd", "en-029", "en-us-nyc", "es-419", "fr-fr", "it", "ru")
# espeak-ng 1.51's voice variants, less those that are not meant as a human voice (the
# robots, "Demonic"), the speed test ("fast") and one whose name holds a space.
VARIANTS = (
    "Alex", "Alicia", "Andrea", "Andy", "Annie", "AnxiousAndy", "Denis", "Diogo", "Gene",
    "Gene2", "Henrique", "Hugo", "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike",
    "Nguyen", "RicishayMax", "RicishayMax2", "RicishayMax3", "Storm", "Tweaky", "adam",
    "anika", "announcer", "antonio", "aunty", "belinda", "benjamin", "boris", "caleb",
    "croak", "david", "ed", "edward", "edward2", "f1", "f2", "f3", "f4", "f5", "grandma",
    "grandpa", "gustave", "iven", "iven2", "iven3", "iven4", "john", "kaukovalta", "klatt",
    "klatt2", "klatt3", "klatt4", "klatt5", "klatt6", "linda", "m1", "m2", "m3", "m4", "m5",
    "m6", "m7", "m8", "marcelo", "max", "michel", "miguel", "norbert", "pablo", "paul",
    "pedro", "quincy", "rob", "robert", "sandro", "shelby", "steph", "steph2", "steph3",
    "travis", "victor", "whisper", "whisperf", "zac")
# Variant i's split, and the order in which the splits take turns, by position mod 10.
_PATTERN = ("train", "test", "validation", "train", "train", "test", "train", "train",
            "train", "train")
SPEEDS, PITCHES = (120, 210), (25, 75)
DEFAULT_CLIPS, MIN_CLIPS = 4000, 30
MAX_CLIPS = len(ACCENTS) * len(VARIANTS) * len(DIGIT_NAMES)
# Bump when the synthesis changes (voices, settings, rate): the old cache is then ignored.
SYNTHESIS_VERSION = "1"
_CACHE_RATE = SPECTROGRAM.rate
_SEED = 20250911
_INSTALL_ESPEAK = "apt-get install espeak-ng"
# Progress lines appear as they are made, also when the output is a pipe.
_print = functools.partial(print, flush=True)
ASTERISK_SOUNDS = pathlib.Path("/usr/share/asterisk/sounds")
_INSTALL_ASTERISK = ("apt-get install asterisk-core-sounds-en-wav (and -es-wav, -fr-wav, "
                     "-it-wav, -ru-wav, asterisk-prompt-it-menardi-wav for more voices)")


# ---------------------------------------------------------------------- spoken_digits


def variant_split(variant):
    """The split every voice of a variant belongs to (`train`, `validation` or `test`)."""
    return _PATTERN[VARIANTS.index(variant) % len(_PATTERN)]


def voice_order():
    """Every `(accent, variant)` voice in the fixed order `spoken_digits:N` takes them.

    Each split's voices are shuffled with a fixed seed, then the splits take turns as
    `_PATTERN` says; a split that runs out is skipped.
    """
    queues = {}
    for split in dict.fromkeys(_PATTERN):
        voices = [(a, v) for v in VARIANTS if variant_split(v) == split for a in ACCENTS]
        order = np.random.default_rng(_SEED + len(queues)).permutation(len(voices))
        queues[split] = [voices[i] for i in order]
    out, turn = [], 0
    while any(queues.values()):
        queue = queues[_PATTERN[turn % len(_PATTERN)]]
        if queue:
            out.append(queue.pop(0))
        turn += 1
    return out


def synthesis_dir(cache_dir=None):
    """The folder holding the synthesized voices (not created)."""
    root = pathlib.Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return root / "audio" / f"spoken_digits-v{SYNTHESIS_VERSION}"


def _voice_file(folder, index, voice):
    return folder / f"{index:04d}-{voice[0]}+{voice[1]}.npz"


def _synthesize_voice(index, voice, path):
    """Say the ten digits in one voice; save them at `_CACHE_RATE` as int16 `d0`..`d9`."""
    accent, variant = voice
    rng = np.random.default_rng((_SEED, index))
    speeds = rng.integers(SPEEDS[0], SPEEDS[1] + 1, len(DIGIT_NAMES))
    pitches = rng.integers(PITCHES[0], PITCHES[1] + 1, len(DIGIT_NAMES))
    clips = {}
    with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
        for digit in range(len(DIGIT_NAMES)):
            wav = os.path.join(tmp, f"{digit}.wav")
            command = ["espeak-ng", "-v", f"{accent}+{variant}", "-s", str(speeds[digit]),
                       "-p", str(pitches[digit]), "-w", wav, str(digit)]
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
            if done.returncode != 0 or not os.path.exists(wav):
                why = " ".join(done.stderr.split())[:160] or f"exit {done.returncode}"
                raise DataError(f"spoken_digits: espeak-ng failed for voice "
                                f"{accent}+{variant} ({why})")
            samples, rate = read_clip(wav)
            x = np.clip(resample(samples, rate, _CACHE_RATE), -1.0, 1.0)
            clips[f"d{digit}"] = np.round(x * 32767).astype("int16")
    with atomic_path(path) as tmp:
        np.savez(tmp, **clips)


def synthesize_voices(count, cache_dir=None, log=_print, workers=None):
    """Make sure the first `count` voices of `voice_order()` are synthesized and cached.

    Args:
        count: voices needed.
        cache_dir: cache root (default `$KERAS_AEGAN_CACHE` or `~/.cache/keras_aegan`).
        log: where progress lines go.
        workers: espeak-ng processes at once (default: the CPUs, at most 4).

    Returns:
        The paths of the voices' files, in order.

    Raises:
        DataError: espeak-ng is not installed (nothing is written then) or fails.
    """
    voices = voice_order()[:count]
    folder = synthesis_dir(cache_dir)
    paths = [_voice_file(folder, i, v) for i, v in enumerate(voices)]
    missing = [i for i, p in enumerate(paths) if not p.exists()]
    if not missing:
        return paths
    if shutil.which("espeak-ng") is None:
        raise DataError(f"spoken_digits: the speech synthesizer espeak-ng is not installed: "
                        f"{_INSTALL_ESPEAK}")
    # Processes sharing a cache take turns: the second finds the first's voices made.
    with locked(folder.parent / "spoken_digits.lock"):
        missing = [i for i in missing if not paths[i].exists()]
        if missing:
            _synthesize(missing, voices, paths, log, workers)
    return paths


def _synthesize(missing, voices, paths, log, workers):
    folder = paths[0].parent
    folder.mkdir(parents=True, exist_ok=True)
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    start = time.perf_counter()
    log(f"spoken_digits: synthesizing {len(missing)} voices x 10 digits with espeak-ng into "
        f"{folder} (once; cached)")
    step = max(1, len(missing) // 10)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        jobs = [pool.submit(_synthesize_voice, i, voices[i], paths[i]) for i in missing]
        for done, job in enumerate(concurrent.futures.as_completed(jobs), 1):
            job.result()
            if done % step == 0 or done == len(jobs):
                log(f"  {done}/{len(jobs)} voices ({time.perf_counter() - start:.0f} s)")
    # What the builds cost, for benchmarks/audio.py: voices made and wall seconds, summed.
    record = read_json(folder / "builds.json") or {"voices": 0, "seconds": 0.0, "builds": 0}
    record.update(voices=record["voices"] + len(missing), builds=record["builds"] + 1,
                  seconds=round(record["seconds"] + time.perf_counter() - start, 1),
                  workers=workers)
    write_json(folder / "builds.json", record)


def build_record(cache_dir=None):
    """`{voices, seconds, builds, workers}`: the voices synthesized into the cache so far
    and the wall seconds it took, or `None` before the first build."""
    return read_json(synthesis_dir(cache_dir) / "builds.json")


def spoken_digit_clips(n=DEFAULT_CLIPS, cache_dir=None, log=_print, spectrogram=SPECTROGRAM):
    """The first `n` spoken-digit clips, synthesized on first use, split by voice variant.

    Returns:
        `{split: (waveforms (k, samples) float32, labels (k,) int32, voices)}`, where
        `voices[i]` is clip i's `"accent+variant"`; within a split the clips run voice by
        voice, digits 0 to 9.
    """
    voices = voice_order()
    paths = synthesize_voices(-(-n // len(DIGIT_NAMES)), cache_dir, log)
    parts = {split: ([], [], []) for split in ("train", "validation", "test")}
    for index, path in enumerate(paths):
        accent, variant = voices[index]
        waves, labels, names = parts[variant_split(variant)]
        try:
            with np.load(path, allow_pickle=False) as clips:
                data = [clips[f"d{d}"] for d in range(len(DIGIT_NAMES))]
        except Exception as e:  # a damaged cache file: the zip, the array or a key
            raise DataError(f"spoken_digits: the cached {path} is damaged ({type(e).__name__});"
                            " delete it to synthesize it again") from None
        for digit, clip in enumerate(data):
            if index * len(DIGIT_NAMES) + digit >= n:
                break
            waves.append(spectrogram.fit_clip(clip.astype("float32") / 32767, _CACHE_RATE))
            labels.append(digit)
            names.append(f"{accent}+{variant}")
    return {split: (np.stack(w) if w else np.zeros((0, spectrogram.samples), "float32"),
                    np.array(y, "int32"), names) for split, (w, y, names) in parts.items()}


@register_source("spoken_digits", "spoken_digits[:N]", needs_arg=False)
def open_spoken_digits(spec, arg, options):
    """Digits spoken by espeak-ng in 1,056 voices, as spectrograms; split by voice."""
    # 30 clips: one voice for each split; 10,560: every voice.
    n = int_option("spoken_digits", arg, DEFAULT_CLIPS, MIN_CLIPS, MAX_CLIPS,
                   "the number of clips")
    _check_shape(spec, options)
    clips = spoken_digit_clips(n)
    splits = {split: (SPECTROGRAM.images(w), y) for split, (w, y, _) in clips.items()}
    return array_source(spec, (splits, DIGIT_NAMES), options, audio=SPECTROGRAM)


def _check_shape(spec, options):
    if options.image_shape is not None and tuple(options.image_shape) != SPECTROGRAM.image_shape:
        shape = "x".join(map(str, SPECTROGRAM.image_shape))
        raise DataError(f"{spec}: sound has one representation here, {shape} spectrograms; "
                        "drop the image shape")


# -------------------------------------------------------------------- asterisk_digits


def asterisk_voices(root=ASTERISK_SOUNDS):
    """`{voice: folder}` of every installed Asterisk voice with the ten digit recordings
    (the folders themselves, not the language links pointing at them)."""
    root = pathlib.Path(root)
    if not root.is_dir():
        return {}
    return {d.name: d / "digits" for d in sorted(root.iterdir())
            if d.is_dir() and not d.is_symlink()
            and all((d / "digits" / f"{i}.wav").is_file() for i in range(len(DIGIT_NAMES)))}


def asterisk_clips(root=ASTERISK_SOUNDS, spectrogram=SPECTROGRAM):
    """`(waveforms, labels, voices)` of every installed Asterisk digit recording.

    Raises:
        DataError: none is installed.
    """
    voices = asterisk_voices(root)
    if not voices:
        raise DataError(f"asterisk_digits: no Asterisk digit recordings in {root}: "
                        f"{_INSTALL_ASTERISK}")
    waves, labels, names = [], [], []
    for voice, folder in voices.items():
        for digit in range(len(DIGIT_NAMES)):
            waves.append(_fit_file(folder / f"{digit}.wav", spectrogram))
            labels.append(digit)
            names.append(voice)
    return np.stack(waves), np.array(labels, "int32"), names


@register_source("asterisk_digits", "asterisk_digits", needs_arg=False)
def open_asterisk_digits(spec, arg, options):
    """Asterisk's real recordings of the digits, as spectrograms: a test set only."""
    import tensorflow as tf

    if arg:
        raise DataError(f"asterisk_digits takes no option, got {arg!r}")
    _check_shape(spec, options)
    waves, labels, _ = asterisk_clips()
    images = SPECTROGRAM.images(waves)
    empty = (np.zeros((0, *SPECTROGRAM.image_shape), "float32"), np.zeros((0,), "int32"))
    splits = {"train": empty, "validation": empty, "test": (images, labels)}
    info = DataInfo(name=spec, image_shape=SPECTROGRAM.image_shape,
                    num_classes=len(DIGIT_NAMES), splits={k: len(v[0]) for k, v in splits.items()},
                    class_names=DIGIT_NAMES, audio=SPECTROGRAM)
    return Source(info, {k: tf.data.Dataset.from_tensor_slices(v) for k, v in splits.items()})


# ---------------------------------------------------------------------------- audio:DIR


def _fit_file(path, spectrogram):
    samples, rate = read_clip(path)
    try:
        return spectrogram.fit_clip(samples, rate)
    except DataError as e:
        raise DataError(f"{path}: {e}") from None


def read_audio_folder(directory, spectrogram=SPECTROGRAM):
    """`(waveforms, labels or None, class names or None)` of a folder of sound files.

    Raises:
        DataError: not a folder, no sound file in it, or a file that cannot be used.
    """
    directory = pathlib.Path(directory)
    if not directory.is_dir():
        raise DataError(f"audio:{directory}: not a folder")
    classes = sorted(d.name for d in directory.iterdir()
                     if d.is_dir() and not d.name.startswith("."))
    groups = list(enumerate(directory / c for c in classes)) or [(None, directory)]
    waves, labels = [], []
    for label, folder in groups:
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix.lower() in AUDIO_EXTENSIONS:
                waves.append(_fit_file(path, spectrogram))
                labels.append(label)
    if not waves:
        raise DataError(f"audio:{directory}: no WAV/FLAC/OGG files found (put them in the "
                        "folder, or in one sub-folder per class)")
    if classes and None not in labels:
        return np.stack(waves), np.array(labels, "int32"), tuple(classes)
    return np.stack(waves), None, None


@register_source("audio", "audio:DIR")
def open_audio(spec, directory, options):
    """A user's WAV/FLAC/OGG clips as spectrograms; sub-folders become labels."""
    _check_shape(spec, options)
    waves, labels, classes = read_audio_folder(directory)
    return array_source(spec, ({"train": (SPECTROGRAM.images(waves), labels)}, classes),
                        options, audio=SPECTROGRAM)
