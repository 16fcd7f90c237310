"""Study kinds: a new kind runs through the one runner; the catalogue's declarations."""

import dataclasses
import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

from keras_aegan import cli
from keras_aegan.errors import UserError
from keras_aegan.studies import kinds, report


class MeanImageStudy(kinds.StudyKind):
    """A tiny kind, as a user would write one: the mean training image (a baseline) vs a
    linear autoencoder, on reconstruction error."""

    name = "mean_image"
    description = "the mean image vs a linear autoencoder"
    models = ("mean", "linear_ae")
    baselines = ("mean",)
    options = {"test_images": 40}
    columns = {"mse": kinds.Column("MSE", "low", "{:.4f}", "mean squared error per pixel."),
               "train_seconds": kinds.TRAIN_SECONDS}
    title = "Mean-image study {study}"

    def prepare(self, config, options, log):
        source = config.open_data()
        train, _ = source.arrays("train")
        test, _ = source.arrays("test", limit=int(options["test_images"]))
        log(f"mean_image on {source.info.name}")
        return SimpleNamespace(info=source.info, train=train, test=test)

    def baseline(self, config, data, name, seed):
        answer = np.broadcast_to(data.train.mean(0), data.test.shape)
        return {"status": "computed", "train_seconds": 0.0}, answer, None

    def answer(self, config, data, name, model, seed):
        from keras_aegan import protocol

        return np.asarray(protocol.describe(model).part("autoencoder").fn(data.test))

    def score(self, config, data, answer, seed):
        return {"mse": float(np.mean((answer - data.test) ** 2))}

    def export_inputs(self, data, model):
        return {"images": data.test[:8]}

    def report(self, config, results, tables):
        return ["## Results", "", *tables.table(), "", *tables.legend(), "",
                report.exports_line(results["rows"], config.path)]


@pytest.fixture
def mean_image_kind(monkeypatch):
    monkeypatch.setattr(kinds, "STUDY_KINDS", dict(kinds.STUDY_KINDS))
    return kinds.register_study_kind(MeanImageStudy())


@pytest.mark.ci
def test_a_registered_kind_runs_from_the_command_line(mean_image_kind, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the CLI exports to export/<study>/
    argv = ["study", "--task", "mean_image", "--dataset", "digits", "--epochs", "1",
            "--task-option", "test_images=30", "--run-dir", str(tmp_path), "--name", "m"]
    assert cli.main(argv) == 0
    folder = tmp_path / "m"
    text = (folder / "report.md").read_text()
    assert text.startswith("# Mean-image study m\n")
    assert "| mean | baseline |" in text and "| linear_ae | autoencoder |" in text
    assert "- **MSE** ↓: mean squared error per pixel." in text
    assert "<table>" in (folder / "report.html").read_text()
    results = json.loads((folder / "results.json").read_text())
    rows = {r["model"]: r for r in results["rows"]}
    assert rows["mean"]["status"] == "computed" and rows["linear_ae"]["status"] == "trained"
    assert all(np.isfinite(r["mse"]) for r in rows.values())
    # The runner trained, stored, exported and summarised: the kind did none of it.
    assert (folder / "models" / "linear_ae-seed0" / "model.keras").exists()
    assert rows["linear_ae"]["export"] == os.path.join("export", "m", "linear_ae-seed0")
    assert (tmp_path / "export" / "m" / "linear_ae-seed0" / "manifest.json").exists()
    header = (folder / "results.csv").read_text().splitlines()[0]
    assert header == "model,family,seeds,mse,train_seconds,mse_std,train_seconds_std"
    assert cli.main(argv) == 0
    again = json.loads((folder / "results.json").read_text())
    assert {r["model"]: r["status"] for r in again["rows"]} == {"mean": "computed",
                                                                "linear_ae": "reused"}
    assert again["summary"][1]["mse"] == results["summary"][1]["mse"]


class KeptMeanStudy(MeanImageStudy):
    """The mean image as a row computed without a model, kept for a rerun."""

    name = "kept_mean"
    models = baselines = ("mean",)
    keeps_rows = True

    def scoring(self, config, data):
        return {"test_images": len(data.test)}


def test_kept_rows_are_reused_and_remade_when_made_another_way(tmp_path, monkeypatch):
    from keras_aegan.config import StudyConfig
    from keras_aegan.studies import run_study

    monkeypatch.setattr(kinds, "STUDY_KINDS", dict(kinds.STUDY_KINDS))
    kinds.register_study_kind(KeptMeanStudy())
    config = StudyConfig(dataset="digits", task="kept_mean", epochs=1, export=False,
                         run_dir=str(tmp_path), name="k", task_options={"test_images": 30})

    def status(config):
        return [(r["status"], r["scoring"]) for r in run_study(config,
                                                               log=lambda *_: None)["rows"]]

    assert status(config) == [("computed", {"test_images": 30})]
    assert (tmp_path / "k" / "models" / "mean-seed0" / "results.json").exists()
    assert status(config) == [("reused", {"test_images": 30})]
    other = dataclasses.replace(config, task_options={"test_images": 20})
    assert status(other) == [("computed", {"test_images": 20})]


def test_a_kind_refuses_an_option_nobody_takes(mean_image_kind, tmp_path):
    from keras_aegan.config import StudyConfig
    from keras_aegan.studies import run_study

    config = StudyConfig(dataset="digits", task="mean_image", task_options={"tset": 3},
                         epochs=1, run_dir=str(tmp_path))
    with pytest.raises(UserError, match="task option.s. tset: not an option of the "
                                        "mean_image study .test_images."):
        run_study(config, log=lambda *_: None)
    assert not os.listdir(tmp_path)


def test_unknown_kind_is_a_one_line_error(capsys):
    from keras_aegan.config import StudyConfig

    with pytest.raises(UserError) as error:
        StudyConfig(task="nxt_frame")
    assert "unknown study kind 'nxt_frame'" in str(error.value)
    assert "next_frame" in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["study", "--task", "timeserie"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "timeseries" in err and err.count("\n") == 1


def test_every_kind_declares_itself():
    names = kinds.study_kind_names()
    assert {"images", "super_resolution", "colorize", "inpaint", "sketch", "next_frame",
            "timeseries", "augment", "robust", "reduction", "pretraining"} <= set(names)
    for name in names:
        kind = kinds.get_study_kind(name)
        assert kind.name == name and kind.description and kind.models, name
        assert set(kind.baselines) <= set(kind.models), name
        assert isinstance(kind.options, dict), name
        assert kind.columns, name
        for key, column in kind.columns.items():
            assert column.better in ("low", "high", None), (name, key)
            assert column.meaning.strip() and column.header, (name, key)
        # At least one column says which way is better: a study has a contest.
        assert any(c.better and c.contest for c in kind.columns.values()), name


def test_translation_kinds_declare_their_tasks_options():
    from keras_aegan.data import tasks

    for task in tasks.IMAGE_TASK_NAMES:
        kind = kinds.get_study_kind(task)
        assert kind.options == tasks.task_class(task).OPTIONS
        assert kind.baselines == tuple(tasks.task_class(task).BASELINES)


@pytest.mark.ci
def test_a_sequence_study_exports_where_export_dir_says(tmp_path, monkeypatch):
    from keras_aegan.config import StudyConfig
    from keras_aegan.studies import run_study

    monkeypatch.chdir(tmp_path)
    config = StudyConfig(dataset="sines", task="timeseries", models=("recurrent_vae",),
                         task_options={"repeats": 1, "disc_iterations": 5,
                                       "pred_iterations": 5, "synthetic": 50,
                                       "pictures": 30, "units": 4},
                         budget_seconds=1, batch_size=8, run_dir=str(tmp_path / "runs"),
                         export_dir=str(tmp_path / "elsewhere"), name="s")
    row = run_study(config, log=lambda *_: None)["rows"][0]
    out = tmp_path / "elsewhere" / "s" / "recurrent_vae-seed0"
    assert row["export"] == str(out) and (out / "manifest.json").exists()
    assert not (tmp_path / "export").exists()


def test_kinds_build_their_columns_from_their_options():
    robust = kinds.get_study_kind("robust")
    columns = robust.study_columns({**robust.options, "eval_epsilons": "0.1,0.3"})
    assert list(columns) == ["clean", "fgsm_0.1", "pgd_0.1", "fgsm_0.3", "pgd_0.3",
                             "train_seconds"]
    assert columns["pgd_0.3"].header == "PGD 0.3" and columns["pgd_0.3"].better == "high"
    assert "ε = 0.3" in columns["pgd_0.3"].meaning
    pretraining = kinds.get_study_kind("pretraining")
    columns = pretraining.study_columns({**pretraining.options, "fractions": [0.1]})
    assert [c.header for c in columns.values()][:5] == [
        "scratch 10/class", "frozen 10/class", "fine-tuned 10/class", "1-NN 10/class",
        "gain 10/class"]
    assert len(columns) == 11 and columns["gain_0.1"].fmt == "{:+.2%}"
    augment = kinds.get_study_kind("augment")
    assert augment.computes("cgan") and augment.keeps_rows and not robust.keeps_rows
    assert robust.computes("robust") and not kinds.get_study_kind("images").computes("vae")


@pytest.mark.ci
def test_the_pretraining_study_scores_each_models_features(tmp_path):
    from keras_aegan.config import StudyConfig
    from keras_aegan.studies import run_study

    config = StudyConfig(dataset="digits", task="pretraining", models=("dense_ae",),
                         latent_dim=8, epochs=2, export=False, run_dir=str(tmp_path),
                         name="p", task_options={"per_class": 0, "fractions": 0.2,
                                                 "head_steps": 40, "finetune_steps": 10,
                                                 "test_images": 150})
    lines = []
    row = run_study(config, log=lines.append)["rows"][0]
    for key in ("0.2",):
        # The trunk's architecture from scratch learns from 290 labels; every score is an
        # accuracy with its binomial standard error, and gain is fine-tuned - scratch.
        assert row[f"scratch_{key}"] > 0.3, row
        assert all(0 <= row[f"{s}_{key}"] <= 1 for s in ("frozen", "finetuned", "knn"))
        assert row[f"gain_{key}"] == pytest.approx(row[f"finetuned_{key}"]
                                                   - row[f"scratch_{key}"])
        assert row[f"knn_{key}_se"] > 0
    assert any(line.startswith("  20% (") and "scratch" in line for line in lines)
    text = (tmp_path / "p" / "report.md").read_text()
    assert "## 20% labels" in text and "/class" not in text
    assert "| dense_ae | autoencoder |" in text and "fine-tuned 20% ↑" in text
    # Other few-label settings rescore the reused model; its training is kept.
    changed = dataclasses.replace(config, task_options={**config.task_options,
                                                        "head_steps": 20})
    again = run_study(changed, log=lambda *_: None)["rows"][0]
    assert again["status"] == "reused" and again["train_seconds"] == row["train_seconds"]
    assert again["scoring"]["head_steps"] == 20
