"""Sound: the spectrogram representation and its inverse (`data.audio`), the audio sources
(`data.spoken`: spoken_digits, asterisk_digits, audio:DIR) and their bad input."""

import os
import shutil
import wave

import numpy as np
import pytest

from keras_aegan import cli
from keras_aegan.data import audio, open_source, spoken
from keras_aegan.errors import DataError
from keras_aegan.training.runner import RunConfig, train

S = audio.SPECTROGRAM

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="the speech synthesizer espeak-ng is not installed (apt-get install espeak-ng)")
needs_asterisk = pytest.mark.skipif(
    not spoken.asterisk_voices(),
    reason="Asterisk's digit recordings are not installed "
           "(apt-get install asterisk-core-sounds-en-wav)")


def tone(freq, seconds=1.0, rate=8000, amplitude=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype("float32")


def dominant_hz(samples, rate):
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.argmax(spectrum) * rate / len(samples)


def write_wav(path, samples, rate, channels=1):
    """16-bit PCM with the standard library, independent of the code under test."""
    data = np.round(np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(data.tobytes())
    return path


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# ------------------------------------------------------------------------- representation


def test_the_representation_is_a_64x64_image_in_unit_range():
    assert S.image_shape == (64, 64, 1) and S.frames == 64 and S.band_hz == 62.5
    images = S.images(np.stack([tone(1000, 1.024), np.zeros(S.samples, "float32")]))
    assert images.shape == (2, 64, 64, 1) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    # 1000 Hz is band 16 of 62.5 Hz; row 0 is the top (highest) band.
    assert np.argmax(images[0, :, 32, 0]) == 63 - 16
    assert images[1].max() == 0.0  # silence is the floor


@pytest.mark.parametrize("freq", [440.0, 1000.0, 2300.0])
def test_a_tone_survives_spectrogram_griffin_lim_and_wav(tmp_path, freq):
    images = S.images(tone(freq, 1.024)[None])
    paths = audio.write_wavs(images, tmp_path / "out", names=["tone"])
    assert [p.name for p in paths] == ["tone.wav"]
    with wave.open(str(paths[0])) as f:
        assert (f.getframerate(), f.getnchannels(), f.getsampwidth()) == (8000, 1, 2)
        samples = np.frombuffer(f.readframes(f.getnframes()), "<i2") / 32767
    assert len(samples) == S.samples and 0.8 < np.abs(samples).max() <= 0.91
    # Within one FFT bin of the STFT (31.25 Hz).
    assert abs(dominant_hz(samples, 8000) - freq) <= S.rate / S.frame_length
    # ... and at another rate, resampled to it.
    (path,) = audio.write_wavs(images, tmp_path / "16k", rate=16000)
    samples, rate = audio.read_clip(path)
    assert rate == 16000 and abs(dominant_hz(samples, rate) - freq) <= S.rate / S.frame_length


def test_griffin_lim_rebuilds_a_spectrogram_close_to_its_input():
    images = S.images(S.fit_clip(tone(300, 0.3) + tone(1700, 0.3, amplitude=0.2), 8000)[None])
    again = S.images(S.waveforms(images))
    assert np.abs(again - images).mean() < 0.05


def test_write_wavs_refuses_images_of_another_shape(tmp_path):
    with pytest.raises(Exception, match=r"spectrograms must be \(N, 64, 64, 1\)"):
        audio.write_wavs(np.zeros((2, 28, 28, 1)), tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_fit_clip_centres_a_clip_on_its_energy():
    x = np.zeros(3 * 8000, "float32")
    x[1000:2000] = tone(500, 1000 / 8000)  # a burst near the start of 3 s
    out = S.fit_clip(x, 8000)
    assert out.shape == (S.samples,) and np.abs(out).max() == pytest.approx(0.9)
    loud = np.flatnonzero(np.abs(out) > 0.1)
    assert abs((loud[0] + loud[-1]) / 2 - S.samples / 2) < 50
    # A clip shorter than the window lies whole in its middle, at 22,050 Hz too.
    short = S.fit_clip(np.ones(4410, "float32") * 0.3, 22050)
    assert np.abs(short).max() == pytest.approx(0.9) and (np.abs(short) > 0.5).sum() > 1550
    # Two beeps 4 s apart: their centre of energy is silence; one line says so.
    apart = np.zeros(5 * 8000, "float32")
    apart[:800], apart[-800:] = tone(500, 0.1), tone(500, 0.1)
    with pytest.raises(DataError, match="no sound within 0.512 s"):
        S.fit_clip(apart, 8000)


# ----------------------------------------------------------------------------- audio:DIR


def test_a_folder_of_sound_files_with_class_subfolders(tmp_path):
    for label, freq in (("high", 2000.0), ("low", 400.0)):
        (tmp_path / label).mkdir()
        for i in range(4):
            write_wav(tmp_path / label / f"{i}.wav", tone(freq + 10 * i, 0.5, 16000), 16000)
    (tmp_path / "low" / "notes.txt").write_text("not a sound")
    source = open_source(f"audio:{tmp_path}")
    info = source.info
    assert info.image_shape == (64, 64, 1) and info.num_classes == 2
    assert info.class_names == ("high", "low") and info.audio == S
    assert sum(info.splits.values()) == 8
    x, y = np.concatenate([source.arrays(s)[0] for s in info.splits]), \
        np.concatenate([source.arrays(s)[1] for s in info.splits])
    rows = np.argmax(x[..., 32, 0], axis=1)  # brightest band of the middle frame
    assert (rows[y == 0] < rows[y == 1]).all()  # high tones sit higher up the image


def test_a_folder_of_loose_files_is_unlabeled_and_stereo_96k_is_mixed_down(tmp_path):
    for i in range(4):
        left = tone(1000 + 50 * i, 0.6, 96000)
        stereo = np.stack([left, left * 0.5], axis=1).reshape(-1)  # interleaved
        write_wav(tmp_path / f"{i}.wav", stereo, 96000, channels=2)
    samples, rate = audio.read_clip(tmp_path / "0.wav")
    assert rate == 96000 and samples.ndim == 1 and len(samples) == int(0.6 * 96000)
    source = open_source(f"audio:{tmp_path}")
    assert source.info.num_classes is None and sum(source.info.splits.values()) == 4
    x = np.concatenate([source.arrays(s)[0] for s in source.info.splits])
    assert (np.argmax(x[..., 32, 0], axis=1) == 63 - 16).any()  # 1000 Hz -> band 16


def _corrupt(folder):
    (folder / "bad.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage" + bytes(64))
    return "not a readable audio file"


def _empty(folder):
    write_wav(folder / "empty.wav", np.zeros(0), 8000)
    return "an empty clip"


def _ten_hours(folder):
    # A real 10-hour header over a sparse file: refused before a sample is read.
    path = folder / "long.wav"
    frames = 10 * 3600 * 8000
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(8000)
        f.setnframes(frames)
        f.writeframes(b"\x00\x00")
    with open(path, "r+b") as f:
        f.seek(4)
        f.write((36 + 2 * frames).to_bytes(4, "little"))
        f.seek(40)
        f.write((2 * frames).to_bytes(4, "little"))
        f.truncate(44 + 2 * frames)
    return "10.0 hours long"


def _silent(folder):
    write_wav(folder / "quiet.wav", np.zeros(4000), 8000)
    return "silent clip"


def _no_audio(folder):
    (folder / "readme.txt").write_text("nothing to hear")
    (folder / "picture.png").write_bytes(b"\x89PNG")
    return "no WAV/FLAC/OGG files found"


@pytest.mark.parametrize("make", [_corrupt, _empty, _ten_hours, _silent, _no_audio])
def test_bad_audio_is_one_error_line_and_nothing_is_written(tmp_path, make, capsys):
    folder = tmp_path / "clips"
    folder.mkdir()
    if make is not _no_audio:
        write_wav(folder / "good.wav", tone(700, 0.5), 8000)
    expected = make(folder)
    before, cache = listing(tmp_path), os.environ["KERAS_AEGAN_CACHE"]
    cached = sorted(os.listdir(cache))
    with pytest.raises(DataError, match=expected) as error:
        open_source(f"audio:{folder}")
    assert "\n" not in str(error.value)
    # Through the CLI: exit 2, one line, no run folder.
    runs = tmp_path / "runs"
    code = cli.main(["--model", "conv_ae", "--dataset", f"audio:{folder}", "--epochs", "1",
                     "--run-dir", str(runs)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and expected in err and len(err.splitlines()) == 1
    assert listing(tmp_path) == before and sorted(os.listdir(cache)) == cached


def test_audio_sources_keep_their_one_representation(tmp_path):
    with pytest.raises(DataError, match="one representation here, 64x64x1"):
        open_source(f"audio:{tmp_path}", image_shape=(32, 32, 1))
    with pytest.raises(DataError, match="not a folder"):
        open_source(f"audio:{tmp_path / 'nope'}")


# ------------------------------------------------------------------------- spoken_digits


def test_the_voice_order_splits_by_variant_and_interleaves_the_splits():
    voices = spoken.voice_order()
    assert len(voices) == len(set(voices)) == len(spoken.ACCENTS) * len(spoken.VARIANTS)
    by_split = {}
    for accent, variant in voices:
        by_split.setdefault(spoken.variant_split(variant), set()).add(variant)
    assert set(by_split) == {"train", "validation", "test"}
    assert not (by_split["train"] & by_split["test"] or by_split["train"]
                & by_split["validation"] or by_split["test"] & by_split["validation"])
    first = [spoken.variant_split(v) for _, v in voices[:10]]
    assert first[:3] == ["train", "test", "validation"] and first.count("train") == 7


def test_without_espeak_one_line_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(spoken.shutil, "which", lambda name: None)
    with pytest.raises(DataError, match="apt-get install espeak-ng") as error:
        spoken.synthesize_voices(3, cache_dir=tmp_path)
    assert "\n" not in str(error.value) and not list(tmp_path.iterdir())


@pytest.mark.parametrize("spec, match", [("spoken_digits:20", "clips must be 30 to 10560"),
                                         ("spoken_digits:many", "must be a whole number")])
def test_spoken_digits_refuses_a_size_it_cannot_give(spec, match):
    with pytest.raises(DataError, match=match):
        open_source(spec)


@needs_espeak
def test_spoken_digits_are_split_by_voice(tmp_path, capsys):
    clips = spoken.spoken_digit_clips(40, cache_dir=tmp_path)
    assert "synthesizing 4 voices" in capsys.readouterr().out
    voices = {split: set(names) for split, (_, _, names) in clips.items()}
    assert {len(v) for v in voices.values()} == {1, 2} and sum(map(len, voices.values())) == 4
    assert not (voices["train"] & voices["test"] or voices["train"] & voices["validation"]
                or voices["test"] & voices["validation"])
    variants = {s: {v.split("+")[1] for v in names} for s, names in voices.items()}
    assert not variants["train"] & variants["test"]
    waves, labels, _ = clips["train"]
    assert waves.shape == (20, S.samples) and labels.tolist() == list(range(10)) * 2
    assert np.abs(waves).max(axis=1) == pytest.approx(0.9)
    # Cached: a second call synthesizes nothing and gives the same clips.
    again = spoken.spoken_digit_clips(35, cache_dir=tmp_path)
    assert capsys.readouterr().out == ""
    assert np.array_equal(again["train"][0][:10], waves[:10]) and len(again["train"][0]) == 15


@needs_espeak
def test_conv_ae_trains_a_step_on_spoken_digits(tmp_path):
    source = open_source("spoken_digits:30")
    assert source.info.splits == {"train": 10, "validation": 10, "test": 10}
    assert source.info.image_shape == (64, 64, 1) and source.info.audio == S
    assert source.info.class_names[7] == "seven"
    config = RunConfig(model="conv_ae", dataset="spoken_digits:30", epochs=1,
                       steps_per_epoch=1, batch_size=8, run_dir=str(tmp_path),
                       grid_seconds=None)
    result = train(config, verbose=0)
    assert result.model.image_shape == (64, 64, 1)
    assert np.isfinite(result.history["loss"][-1])


@needs_asterisk
def test_asterisk_digits_are_a_test_set_of_real_recordings(tmp_path):
    source = open_source("asterisk_digits")
    info = source.info
    voices = len(spoken.asterisk_voices())
    assert info.splits == {"train": 0, "validation": 0, "test": 10 * voices}
    x, y = source.arrays("test")
    assert x.shape == (10 * voices, 64, 64, 1) and y.tolist() == list(range(10)) * voices
    assert x.reshape(len(x), -1).std(axis=1).min() > 0.05  # sound, not silence
    with pytest.raises(DataError, match="no training examples"):
        train(RunConfig(model="conv_ae", dataset="asterisk_digits", epochs=1,
                        run_dir=str(tmp_path)), verbose=0)
