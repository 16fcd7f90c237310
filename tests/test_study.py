"""The comparative study end to end (tiny), its reuse on rerun, and its bad input."""

import dataclasses
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from keras_aegan import cli
from keras_aegan.errors import UserError
from keras_aegan.studies import StudyConfig, run_study, winners
from keras_aegan.studies.image_columns import COLUMNS


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    config = StudyConfig(dataset="digits", models=("conv_ae", "dcgan", "pca"), epochs=1,
                         eval_samples=100, run_dir=str(root), name="tiny", export=False)
    logs = []
    results = run_study(config, log=logs.append)
    return config, results, logs


def test_tiny_study_writes_the_report(tiny_study):
    config, results, logs = tiny_study
    path = config.path
    for name in ("report.md", "report.html", "results.json", "results.csv", "samples.png",
                 "reconstructions.png", "interpolations.png", "embeddings.png", "curves.png"):
        assert os.path.getsize(os.path.join(path, name)) > 0, name
    rows = {r["model"]: r for r in results["rows"]}
    assert set(rows) == {"conv_ae", "dcgan", "pca"}
    for model, row in rows.items():
        # The same yardsticks for every family.
        for key in ("fid", "kid", "precision", "recall", "coverage", "classes_seen", "mse",
                    "psnr", "ssim", "linear_probe", "knn", "train_seconds", "parameters",
                    "images_per_second", "evaluate_seconds"):
            assert np.isfinite(row[key]), (model, key)
        assert 0 <= row["linear_probe"] <= 1 and row["classes_seen"] <= 10
        # Unconditional models: CAS with the evaluator's labels, marked as such.
        assert 0 <= row["cas_evaluator_labels"] <= 1 and "cas" not in row, model
    assert rows["pca"]["family"] == "baseline" and rows["dcgan"]["family"] == "gan"
    report = open(os.path.join(path, "report.md")).read()
    assert "CAS (evaluator labels)" in report
    assert "| conv_ae | autoencoder |" in report and "| dcgan | gan |" in report
    assert "![samples](samples.png)" in report and "Who won what" in report
    assert "Samples (rows, top to bottom: conv_ae, dcgan, pca)" in report
    assert "<table>" in open(os.path.join(path, "report.html")).read()
    # The machine beside the figures: in results.json and the report's first lines.
    assert results["machine"]["speed_index_gflops"] > 0
    assert re.search(r"^Run on .*speed index [\d.]+ GFLOP/s, 1 seed\(s\), 1 epochs of "
                     r"training per model\.$", report, re.M)
    assert "time budget" not in report
    # One progress line per model, with elapsed time and an ETA.
    progress = [line for line in logs if line.startswith("[")]
    assert len(progress) == 3 and all("elapsed" in p and "ETA" in p for p in progress)
    # Before training, a plan from a few timed steps of each model; then what each does.
    plan, = [line for line in logs if line.startswith("plan: ")]
    assert re.match(r"plan: conv_ae 41 steps x \d+ ms; dcgan 21 steps x \d+ ms: about "
                    r"\d+:\d\d of training, \d+:\d\d with evaluation and export$", plan), plan
    for model in ("conv_ae", "dcgan", "pca"):
        assert f"{model} seed 0: evaluating..." in logs


def test_rerun_reuses_finished_models(tiny_study):
    config, first, _ = tiny_study
    before = os.path.getmtime(os.path.join(config.path, "models", "dcgan-seed0", "model.keras"))
    again = run_study(config, log=lambda _: None)
    trained = {r["model"]: r["status"] for r in again["rows"] if r["model"] != "pca"}
    assert trained == {"conv_ae": "reused", "dcgan": "reused"}
    assert os.path.getmtime(os.path.join(config.path, "models", "dcgan-seed0",
                                         "model.keras")) == before
    fid = {r["model"]: r["fid"] for r in first["rows"]}
    assert {r["model"]: r["fid"] for r in again["rows"] if r["model"] != "pca"} == \
        {k: v for k, v in fid.items() if k != "pca"}


def test_a_model_made_with_other_options_is_not_reused_under_its_name(tiny_study):
    # e.g. an inpainter trained on mask=eyes asked again for mask=box in the same folder.
    config, _, _ = tiny_study
    other = dataclasses.replace(config, models=("conv_ae",),
                                task_options={"filters": [4]})
    with pytest.raises(UserError, match=r"conv_ae-seed0 holds a different run "
                                        r"\(model_options: \{\} -> \{'filters': \[4\]\}\); "
                                        r"give this study another --name"):
        run_study(other, log=lambda _: None)


def test_a_row_without_its_model_is_not_reused(tiny_study):
    config, first, _ = tiny_study
    folder = os.path.join(config.path, "models", "conv_ae-seed0")
    os.remove(os.path.join(folder, "model.keras"))
    again = run_study(config, log=lambda _: None)
    status = {r["model"]: r["status"] for r in again["rows"]}
    assert status["conv_ae"] == "trained" and status["dcgan"] == "reused"
    assert os.path.exists(os.path.join(folder, "model.keras"))
    # The fresh row is reported (and stored), not the old one.
    stored = json.loads(open(os.path.join(folder, "results.json")).read())
    row = {r["model"]: r for r in again["rows"]}["conv_ae"]
    assert stored == row
    assert stored["train_seconds"] != {r["model"]: r for r in first["rows"]}["conv_ae"][
        "train_seconds"]


def test_a_model_saved_before_its_row_reports_the_whole_run(tiny_study):
    """A study stopped after a model was saved but before its row was written (during
    evaluation or export) reports the steps and seconds that model trained, not 0."""
    config, first, _ = tiny_study
    folder = os.path.join(config.path, "models", "conv_ae-seed0")
    os.remove(os.path.join(folder, "results.json"))
    again = run_study(config, log=lambda _: None)
    before, row = ({r["model"]: r for r in rows}["conv_ae"]
                   for rows in (first["rows"], again["rows"]))
    assert row["status"] == "trained" and row["steps"] == before["steps"] > 0
    assert row["train_seconds"] >= 0.5 * before["train_seconds"] > 0


def test_study_exports_the_parts_a_user_takes_away_with_parity(tmp_path):
    # The closed-form baseline keeps this quick; test_export covers trained models.
    config = StudyConfig(dataset="digits", models=("pca",), epochs=1,
                         eval_samples=20, run_dir=str(tmp_path / "runs"),
                         export_dir=str(tmp_path / "export"), name="ex")
    results = run_study(config, log=lambda _: None)
    for row in results["rows"]:
        out = tmp_path / "export" / "ex" / f"{row['model']}-seed0"
        assert row["export"] == str(out)
        manifest = json.loads((out / "manifest.json").read_text())
        # The image study's parts: codes and decoders (the composed autoencoder is left
        # to `train.py export`).
        assert set(manifest["parts"]) == {"encoder", "decoder"}
        assert manifest["model"]["family"] == row["family"]
        assert all(a["ok"] for p in manifest["parts"].values() for a in p["artifacts"])
        assert row["export_seconds"] > 0 and row["evaluate_seconds"] > 0
    report = open(os.path.join(config.path, "report.md")).read()
    # Linked relative to the report, which may be opened from anywhere.
    assert "pca: `../../export/ex/pca-seed0`" in report


def test_a_damaged_evaluator_cache_is_retrained_with_a_note(tmp_path, digits_source):
    from keras_aegan.evaluation import metrics

    first = metrics.get_evaluator(digits_source, cache_dir=tmp_path, epochs=1)
    assert first.trained  # an empty cache: trained, then cached
    (first.path / "model.keras").write_bytes(b"not a zip")
    notes = []
    again = metrics.get_evaluator(digits_source, cache_dir=tmp_path, epochs=1, log=notes.append)
    assert again.trained and again.path == first.path
    # The warning, then the usual "training the evaluator" note.
    assert len(notes) == 2 and "damaged" in notes[0] and str(first.path) in notes[0]
    assert notes[1].startswith("training the evaluator of digits")
    quiet = []
    assert not metrics.get_evaluator(digits_source, cache_dir=tmp_path, log=quiet.append).trained
    assert quiet == []


def test_unlabeled_dataset_skips_label_metrics(tmp_path, digits_images):
    x, _ = digits_images
    np.savez(tmp_path / "unlabeled.npz", x=x[..., 0])
    config = StudyConfig(dataset=f"npz:{tmp_path / 'unlabeled.npz'}", models=("conv_ae", "pca"),
                         epochs=1, eval_samples=20, run_dir=str(tmp_path), export=False)
    results = run_study(config, log=lambda _: None)
    assert any("no labels" in note for note in results["notes"])
    for row in results["rows"]:
        assert "linear_probe" not in row and "classes_seen" not in row
        assert np.isfinite(row["fid"])
    assert "no labels" in open(os.path.join(config.path, "report.md")).read()


def test_winners_name_the_best_of_each_family():
    summary = [{"model": "a", "family": "autoencoder", "fid": 3.0, "psnr": 20.0},
               {"model": "g", "family": "gan", "fid": 1.0, "psnr": 15.0}]
    lines = winners(summary, COLUMNS)
    assert "- **FID**: g (gan) 1.00; best autoencoder a 3.00" in lines
    assert lines[0] == "Columns won, by family: gan 1, autoencoder 1."
    assert "- **recon PSNR**: a (autoencoder) 20.00; best gan g 15.00" in lines
    summary[1]["psnr"] = 20.0
    assert "- **recon PSNR**: a tie at 20.00 (a, g)" in winners(summary, COLUMNS)


@pytest.mark.parametrize("kwargs,message", [
    ({"models": ("conv_ae", "nope")}, "unknown model 'nope' in the study"),
    ({"budget_seconds": 0}, "budget_seconds must be positive"),
    ({"epochs": 2, "budget_seconds": 10.0}, "one budget"),
    ({"models": ()}, "at least one model"),
])
def test_bad_study_configs(kwargs, message):
    args = {"epochs": 1, **kwargs}
    if kwargs.get("budget_seconds") == 0:
        args["epochs"] = None
    with pytest.raises(UserError, match=message):
        StudyConfig(**args)


def test_cli_study_bad_input(capsys, tmp_path):
    assert cli.main(["study", "--models", "conv_ae,zzz", "--run-dir", str(tmp_path)]) == 2
    assert "unknown model 'zzz'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["study", "--budget-seconds", "0"])
    assert exit_info.value.code == 2
    assert "expected a positive number of seconds" in capsys.readouterr().err
    assert not os.listdir(tmp_path)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_PAGE_CHECK = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0));
  document.body.dataset.images = images.length;
  document.body.dataset.broken = broken.map(i => i.getAttribute("src")).join(",");
  document.body.dataset.width = document.documentElement.scrollWidth;
});
</script></body>"""


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs "
                                             "Debian's chromium package)")
def test_html_report_in_a_real_browser(tiny_study, tmp_path):
    """The report opened in headless Chromium at a laptop's 1400 px: every image loads and
    no table runs off the right edge; a screenshot is kept beside the report."""
    config, _, _ = tiny_study
    page = os.path.join(config.path, "browser-check.html")
    html = open(os.path.join(config.path, "report.html")).read()
    with open(page, "w") as f:
        f.write(html.replace("</body>", _PAGE_CHECK))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,900",
             "--virtual-time-budget=10000"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", f"file://{page}"],
                         capture_output=True, text=True, timeout=120).stdout
    found = dict(re.findall(r'data-(images|broken|width)="([^"]*)"', dom))
    assert int(found["images"]) >= 6, found  # samples, quality, interpolations, ...
    assert found["broken"] == "", f"images that did not load: {found['broken']}"
    assert int(found["width"]) <= 1400, f"the page is {found['width']} px wide"
    shot = os.path.join(config.path, "report-screenshot.png")
    subprocess.run([CHROMIUM, *flags[:-2], "--window-size=1400,5000",
                    f"--screenshot={shot}", f"file://{os.path.join(config.path, 'report.html')}"],
                   capture_output=True, timeout=120, check=True)
    assert os.path.getsize(shot) > 50_000  # a rendered page, not a blank one


def test_quality_timeline_measures_at_given_training_times(tmp_path, digits_source,
                                                          digits_evaluator):
    # The study's timeline, at explicit times (as benchmarks/gan_quality.py uses it): FID
    # and class shares of the samples, a grid per point, measuring not charged to training.
    import time
    from types import SimpleNamespace

    import tensorflow as tf

    from keras_aegan.training.callbacks import TimeBudget
    from keras_aegan.registry import get_model_entry
    from keras_aegan.studies.timeline import QualityTimeline

    evaluator = digits_evaluator
    x, _ = digits_source.arrays("train")
    test_x, _ = digits_source.arrays("test")
    data = SimpleNamespace(evaluator=evaluator, train_x=x, test_x=test_x)
    budget, lines = TimeBudget(3.0), []
    watch = QualityTimeline("dcgan", data, budget=budget, times=[1.0, 2.0], samples=150,
                            images_dir=str(tmp_path / "grids"), log=lines.append)
    model = get_model_entry("dcgan").builder(x.shape[1:], latent_dim=8)
    model.compile()
    started = time.perf_counter()
    model.fit(tf.data.Dataset.from_tensor_slices(x).batch(32).repeat(), steps_per_epoch=10,
              epochs=10_000, verbose=0, shuffle=False, callbacks=[budget, watch])
    wall = time.perf_counter() - started
    points = watch.measurements
    # Two points when due, one at the end of the budget.
    assert len(points) == 3 and len(lines) == 3
    # Each at or after its time (how long after depends on the machine's load: a point
    # waits for the epoch end that follows its time, and on a busy machine one epoch can
    # span two times, which are then measured at the same step).
    assert all(point["seconds"] >= due for point, due in zip(points, (1.0, 2.0, 3.0)))
    steps = [point["steps"] for point in points]
    assert 0 < steps[0] and steps == sorted(steps)
    for point in points:
        assert np.isfinite(point["fid"]) and os.path.exists(point["grid"])
        assert len(point["shares"]) == 10 and abs(sum(point["shares"]) - 1) < 1e-9
    # Measuring (three FIDs of 150 samples) was excluded from the 3 s of training.
    assert watch.spent > 0 and wall >= 3.0 + watch.spent - 0.5


def test_cas_column_of_a_conditional_model(digits_source, digits_evaluator):
    # A conditional model's CAS uses its own class-balanced samples: the plain column.
    from types import SimpleNamespace

    from keras_aegan.registry import get_model_entry
    from keras_aegan.studies.images import classification_accuracy_score
    from keras_aegan.studies.subjects import Subject

    evaluator = digits_evaluator
    x, _ = digits_source.arrays("train")
    test_x, test_y = digits_source.arrays("test")
    cgan = get_model_entry("cgan").builder(x.shape[1:], latent_dim=8, num_classes=10)
    subject = Subject("cgan", cgan, x)
    data = SimpleNamespace(evaluator=evaluator, test_x=test_x, test_y=test_y)
    scores = classification_accuracy_score(subject, data, subject.sample(64), seed=0)
    assert set(scores) == {"cas", "cas_se"} and 0 <= scores["cas"] <= 1


def test_report_header_says_what_a_time_budget_means():
    from keras_aegan.studies.run import _header

    machine = {"cpu": "Test CPU", "cores": 2, "flags": ["avx2"], "speed_index_gflops": 40.0}
    timed = _header(StudyConfig(dataset="digits", budget_seconds=30, epochs=None), machine)
    assert timed[0] == ("Run on Test CPU, 2 cores (avx2), speed index 40.0 GFLOP/s, 1 seed(s), "
                        "30 s of training per model.")
    assert "who gets good faster here" in timed[1]
    counted = _header(StudyConfig(dataset="digits", epochs=3), machine)
    assert len(counted) == 3 and "3 epochs of training" in counted[0]
    assert "fixed amount of work" in counted[1] and counted[2] == ""
    default = _header(StudyConfig(dataset="digits"), machine)
    assert "1,200 steps of training per model" in default[0]
    shared = _header(StudyConfig(dataset="digits"), machine, setup=71.4)
    assert shared[:3] == default and shared[3].startswith("Set-up shared by every model")
    assert ": 71 s;" in shared[3]
