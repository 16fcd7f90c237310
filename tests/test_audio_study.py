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


def tones(folder, per_class=6, labelled=True):
    """`audio:DIR` of two kinds of tones (a low and a high one), 8 kHz, 0.8 s: in a
    sub-folder each (two classes), or side by side (`labelled=False`: unlabeled sound)."""
    rng = np.random.default_rng(0)
    for label, base in (("low", 300.0), ("high", 1500.0)):
        where = folder / label if labelled else folder
        where.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            t = np.arange(6400) / 8000
            wave = 0.5 * np.sin(2 * np.pi * (base + 40 * i) * t) * np.hanning(len(t))
            soundfile.write(where / f"{label}-{i}.wav", wave + rng.normal(0, 0.01, len(t)),
                            8000, subtype="PCM_16")
    return folder


@pytest.fixture(scope="module")
def tone_run(tmp_path_factory):
    """A dcgan trained one step on `audio:DIR` of tones: a run of sound in seconds
    (unlabeled, so no evaluator is trained to watch the GAN's classes)."""
    root = tmp_path_factory.mktemp("tones")
    data = tones(root / "tones", labelled=False)
    assert cli.main(["--model", "dcgan", "--dataset", f"audio:{data}", "--epochs", "1",
                     "--steps-per-epoch", "1", "--batch-size", "8", "--run-dir",
                     str(root / "runs"), "--name", "r", "--quiet"]) == 0
    return root / "runs" / "r"


def test_sample_writes_wavs_for_a_run_on_sound(tone_run, tmp_path, capsys):
    runs = tone_run.parent
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


def test_the_audio_study_is_picked_by_its_datasets():
    from keras_aegan.studies import get_study_kind, kind_for_dataset

    assert kind_for_dataset("spoken_digits") == "audio"
    assert kind_for_dataset("spoken_digits:300") == "audio"
    assert kind_for_dataset("audio:/some/folder") == "audio"
    assert kind_for_dataset("digits") == "images"
    kind = get_study_kind("audio")
    assert kind.models == ("dcgan", "vae", "conv_ae", "pca")
    assert kind.options["two_sample"] is True


def test_the_audio_study_refuses_images_and_bad_options(tmp_path):
    from keras_aegan.config import StudyConfig
    from keras_aegan.errors import UserError
    from keras_aegan.studies import run_study

    said = []
    with pytest.raises(UserError, match="needs a source of sound"):
        run_study(StudyConfig(dataset="digits", task="audio", models=("pca",),
                              eval_samples=50, run_dir=str(tmp_path), export=False),
                  log=said.append)
    assert said == []  # refused at once: no evaluator trained for the wrong data first
    with pytest.raises(UserError, match="wavs must be a whole number"):
        run_study(StudyConfig(dataset="digits", task="audio", models=("pca",),
                              task_options={"wavs": 99}, run_dir=str(tmp_path),
                              export=False), log=lambda line: None)
    assert not any(tmp_path.iterdir())


@pytest.fixture(scope="module")
def tiny_audio_study(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("the speech synthesizer espeak-ng is not installed "
                    "(apt-get install espeak-ng)")
    from keras_aegan.config import StudyConfig
    from keras_aegan.studies import run_study

    root = tmp_path_factory.mktemp("audio_study")
    config = StudyConfig(dataset="spoken_digits:60", models=("dcgan", "pca"), steps=1,
                         eval_samples=20, probe_train=10, probe_test=10,
                         task_options={"wavs": 2}, run_dir=str(root), name="tiny",
                         export=False)
    logs = []
    return config, run_study(config, log=logs.append), logs


@pytest.mark.ci
def test_a_tiny_audio_study_writes_its_report_with_players_and_wavs(tiny_audio_study):
    config, results, logs = tiny_audio_study
    assert results["kind"] == "audio"
    assert results["evaluator"]["test_accuracy"] is not None
    names = [e["model"] for e in results["calibration"]]
    assert names == ["real training spectrograms", "real + noise sigma 0.1",
                     "real + noise sigma 0.2"]
    for entry in [*results["summary"], *results["calibration"]]:
        assert 0 <= entry["confident"] <= 1 and np.isfinite(entry["fid"])
        assert len(entry["class_shares"]) == 10
        assert sum(entry["class_shares"]) == pytest.approx(1.0)
    md = open(os.path.join(config.path, "report.md")).read()
    assert "## Do the samples say digits?" in md and "SpecGAN-style" in md
    assert "real + noise sigma 0.2" in md and "read as a digit" in md
    for model in ("real", "dcgan", "pca"):
        wavs = sorted(os.listdir(os.path.join(config.path, "samples", model)))
        assert wavs == ["sample-000.wav", "sample-001.wav"]
        info = soundfile.info(os.path.join(config.path, "samples", model, wavs[0]))
        assert (info.samplerate, info.frames) == (S.rate, S.samples)
    page = open(os.path.join(config.path, "report.html")).read()
    assert page.count("<audio controls") == 6
    assert 'src="samples/dcgan/sample-001.wav"' in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_AUDIO_CHECK = """<script>
window.addEventListener("load", () => {
  const players = [...document.querySelectorAll("audio")];
  const ready = players.map(a => new Promise(done => {
    if (a.readyState >= 1) return done();
    a.addEventListener("loadedmetadata", done);
    a.addEventListener("error", done);
    a.load();
  }));
  Promise.all(ready).then(() => {
    document.body.dataset.players = players.length;
    document.body.dataset.durations = players.map(a => a.duration).join(",");
    document.body.dataset.unready = players.filter(a => !(a.readyState >= 1))
      .map(a => a.getAttribute("src")).join(",");
  });
});
</script></body>"""


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs "
                                             "Debian's chromium package)")
@pytest.mark.ci
def test_the_report_plays_its_wavs_in_a_real_browser(tiny_audio_study, tmp_path):
    """report.html in headless Chromium: every audio element loads its WAV and knows its
    duration (1.024 s)."""
    import re
    import subprocess

    config, _, _ = tiny_audio_study
    page = os.path.join(config.path, "audio-check.html")
    html = open(os.path.join(config.path, "report.html")).read()
    with open(page, "w") as f:
        f.write(html.replace("</body>", _AUDIO_CHECK))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--autoplay-policy=no-user-gesture-required",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", f"file://{page}"],
                         capture_output=True, text=True, timeout=120).stdout
    found = dict(re.findall(r'data-(players|durations|unready)="([^"]*)"', dom))
    assert found.get("players") == "6", found
    assert found["unready"] == "", f"players that did not load: {found['unready']}"
    durations = [float(d) for d in found["durations"].split(",")]
    assert durations == pytest.approx([S.samples / S.rate] * 6, abs=0.01)


def test_the_generator_exports_with_the_inverse_beside_it(tone_run, tmp_path):
    import json

    import tensorflow as tf

    out = tmp_path / "export"
    assert cli.main(["export", str(tone_run), "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["parts"]) >= {"generator"}
    waveform = manifest["waveform"]
    assert [a["ok"] for a in waveform["artifacts"]] == [True]
    assert waveform["outputs"]["waveform"]["rate"] == S.rate
    # TF Lite's built-in ops cannot take the inverse FFT: said, not written.
    assert "IRFFT" in waveform["tflite"] and not (out / "waveform.tflite").exists()
    # Noise -> spectrogram -> waveform, each a SavedModel a user loads elsewhere.
    generator = tf.saved_model.load(str(out / "generator")).signatures["serving_default"]
    (name, port), = manifest["parts"]["generator"]["inputs"].items()
    z = tf.random.normal((2, *port["shape"][1:]), seed=1)
    images = next(iter(generator(**{name: z}).values()))
    assert images.shape == (2, *S.image_shape)
    invert = tf.saved_model.load(str(out / "waveform")).signatures["serving_default"]
    waves = invert(spectrogram=images)["waveform"].numpy()
    assert waves.shape == (2, S.samples) and np.all(np.isfinite(waves))
    assert np.abs(waves).max() > 0
