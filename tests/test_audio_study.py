"""Sound the models make: `sample` writes WAVs for a run on audio data, the audio study
(`--task audio`, picked by `--dataset spoken_digits`) writes its report with players and
WAVs, and the generator exports with the waveform inversion beside it."""

import os
import shutil

import numpy as np
import pytest
import soundfile

from keras_aegan import cli
from keras_aegan.data import audio

S = audio.SPECTROGRAM

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="the speech synthesizer espeak-ng is not installed (apt-get install espeak-ng)")


def tones(folder, per_class=6):
    """`audio:DIR` of two classes of tones (a low and a high one), 8 kHz, 0.8 s."""
    rng = np.random.default_rng(0)
    for label, base in (("low", 300.0), ("high", 1500.0)):
        (folder / label).mkdir(parents=True)
        for i in range(per_class):
            t = np.arange(6400) / 8000
            wave = 0.5 * np.sin(2 * np.pi * (base + 40 * i) * t) * np.hanning(len(t))
            soundfile.write(folder / label / f"{i}.wav", wave + rng.normal(0, 0.01, len(t)),
                            8000, subtype="PCM_16")
    return folder


def test_sample_writes_wavs_for_a_run_on_sound(tmp_path, capsys):
    data = tones(tmp_path / "tones")
    runs = tmp_path / "runs"
    assert cli.main(["--model", "dcgan", "--dataset", f"audio:{data}", "--epochs", "1",
                     "--steps-per-epoch", "1", "--batch-size", "8", "--run-dir", str(runs),
                     "--name", "r", "--quiet"]) == 0
    out = tmp_path / "heard"
    assert cli.main(["sample", str(runs / "r"), "--n", "3", "--out", str(out)]) == 0
    assert "wrote 3 samples" in capsys.readouterr().out
    assert sorted(os.listdir(out)) == [f"sample_0000{i}.wav" for i in (1, 2, 3)]
    for name in os.listdir(out):
        info = soundfile.info(out / name)
        assert (info.samplerate, info.frames, info.channels) == (S.rate, S.samples, 1)
        assert info.subtype == "PCM_16"
        wave, _ = soundfile.read(out / name)
        assert 0.5 < np.abs(wave).max() <= 0.91  # peak-normalised sound, not silence
    # Written once; again only with --overwrite.
    assert cli.main(["sample", str(runs / "r"), "--n", "3", "--out", str(out)]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
