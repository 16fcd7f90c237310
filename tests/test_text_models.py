"""Models of text: the character VAE and the relaxed text GAN train a step, save, sample
deterministically and export; `train.py sample` writes one item a line; the text study
runs end to end on a user's file; the runner refuses text to image models and back."""

import json
import os

import keras
import numpy as np
import pytest
from conftest import assert_config_round_trip, assert_one_step_trains, assert_save_load_equal

from keras_aegan import cli, protocol, registry
from keras_aegan.data.text import END, PAD, text_source
from keras_aegan.errors import UserError
from keras_aegan.models.ngram import CharNGram
from keras_aegan.models.text import decode
from keras_aegan.studies.text import hits_at, hits_at_novelty

WORDS = ["ana", "bob", "cleo", "dan", "eve", "fay", "gus", "hal", "ivy", "jon", "kai", "lea",
         "mo", "ned", "ola", "pia", "quin", "rex", "sam", "tess", "uma", "val", "wes",
         "xia", "yul", "zoe", "abe", "bea", "cal", "dee", "eli", "flo", "gil", "hana"]
SMALL = {"units": 8, "embedding_dim": 4}


@pytest.fixture(scope="module")
def source():
    return text_source(WORDS, "tiny")


@pytest.fixture(scope="module")
def names_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "names.txt"
    path.write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    return str(path)


def build(name, source, **options):
    keras.utils.set_random_seed(0)
    model = registry.get_model_entry(name).builder(
        source.info.image_shape, latent_dim=4, vocabulary=source.info.vocabulary,
        **{**SMALL, **options})
    model.compile()
    return model


@pytest.mark.parametrize("name", ["char_vae", "char_gan"])
def test_a_step_trains_saves_and_declares(name, source, tmp_path):
    model = build(name, source)
    spec = protocol.describe(model)
    assert spec.vocabulary == source.info.vocabulary and spec.sample_temperature
    assert spec.image_shape == source.info.image_shape
    assert registry.get_model_entry(name).data == "text"
    ids = source.ids("train")
    assert_one_step_trains(model, source.dataset("train", 8, seed=0).take(1))
    assert_config_round_trip(model)
    if name == "char_vae":
        inputs = ids[:4]
    else:
        rng = np.random.default_rng(0)
        inputs = [rng.standard_normal((4, 4)).astype("float32"),
                  rng.random((4, *spec.part("generator").inputs[1].shape)).astype("float32")]
    loaded = assert_save_load_equal(model, inputs, tmp_path / f"{name}.keras")
    assert np.array_equal(loaded.sample(6, seed=3), model.sample(6, seed=3))


@pytest.mark.parametrize("name", ["char_vae", "char_gan"])
def test_sampling_is_deterministic_under_a_seed(name, source):
    model = build(name, source)
    length = source.info.image_shape[0]
    first = model.sample(50, seed=7, temperature=0.8)
    assert first.shape == (50, length) and first.dtype == np.int32
    assert np.array_equal(first, model.sample(50, seed=7, temperature=0.8))
    assert not np.array_equal(first, model.sample(50, seed=8, temperature=0.8))
    assert not np.array_equal(first, model.sample(50, seed=7, temperature=2.0))
    # Every row ends (END at most at the last position), never pads before its end, and
    # pads after it.
    for row in first:
        end = list(row).index(END)
        assert PAD not in row[:end] and set(row[end + 1:]) <= {PAD}
    items = decode(first, model.vocabulary)
    assert all(set(item) <= set(source.info.vocabulary) for item in items)
    assert all(len(item) < length for item in items)
    with pytest.raises(UserError, match="temperature"):
        model.sample(3, seed=0, temperature=0)


def test_the_vae_loss_anneals_its_kl_and_word_dropout_hides_characters(source):
    model = build("char_vae", source, kl_anneal_steps=10, word_dropout=0.5)
    assert float(model.kl_weight()) == 0.0
    model.optimizer.iterations.assign(5)
    assert float(model.kl_weight()) == pytest.approx(0.5)
    model.optimizer.iterations.assign(50)
    assert float(model.kl_weight()) == pytest.approx(1.0)
    ids = source.ids("train")
    previous = np.asarray(model._previous(ids, training=True))
    assert (previous[:, 0] == END).all()
    hidden = previous == model.dropped_id
    assert 0.3 < hidden[:, 1:].mean() < 0.7 and not hidden[:, 0].any()
    assert np.array_equal(np.asarray(model._previous(ids, training=False))[:, 1:], ids[:, :-1])


def test_the_gan_sees_real_items_as_one_hots_and_sharpens_its_relaxation(source):
    model = build("char_gan", source, max_sharpness=100, sharpness_steps=10)
    real, _ = model._unpack(source.ids("train")[:3])
    assert real.shape == (3, *model.generator.output_shape[1:])
    assert np.allclose(np.asarray(real).sum(-1), 1.0)
    assert float(model.sharpness()) == pytest.approx(1.0)
    model.g_optimizer.iterations.assign(5)
    assert float(model.sharpness()) == pytest.approx(10.0)
    relaxed = np.asarray(model._generate(np.zeros((3, 4), "float32"), None, training=False))
    # Straight through: the discriminator sees exact one-hots of the drawn ids.
    onehots = np.eye(relaxed.shape[-1])[relaxed.argmax(-1)]
    assert np.allclose(relaxed, onehots, atol=1e-6)
    soft = build("char_gan", source, straight_through=False)
    relaxed = np.asarray(soft._generate(np.zeros((3, 4), "float32"), None, training=False))
    assert np.allclose(relaxed.sum(-1), 1.0, atol=1e-5) and relaxed.max() < 1.0


def test_generated_rows_are_read_up_to_their_first_end_or_pad():
    from keras_aegan.models.text import end_rows

    rows = np.array([[5, 6, END, 7, 8], [5, PAD, 6, END, 7], [5, 6, 7, 8, 9],
                     [END, 5, 6, 7, 8]])
    assert np.asarray(end_rows(rows)).tolist() == [
        [5, 6, END, PAD, PAD], [5, END, PAD, PAD, PAD], [5, 6, 7, 8, END],
        [END, PAD, PAD, PAD, PAD]]


def test_text_and_image_models_refuse_each_others_data(names_file, tmp_path):
    from keras_aegan.config import RunConfig
    from keras_aegan.training.runner import build_model

    text = RunConfig(model="conv_ae", dataset=f"text:{names_file}", run_dir=str(tmp_path))
    with pytest.raises(UserError, match="does not model text.*char_gan, char_vae"):
        build_model(text, text.open_data().info)
    images = RunConfig(model="char_vae", dataset="digits", run_dir=str(tmp_path))
    with pytest.raises(UserError, match="needs a text source"):
        build_model(images, images.open_data().info)


def test_train_and_sample_write_one_item_a_line(names_file, tmp_path, capsys):
    run_dir = tmp_path / "runs"
    assert cli.main(["--model", "char_vae", "--dataset", f"text:{names_file}", "--epochs",
                     "1", "--steps-per-epoch", "2", "--run-dir", str(run_dir), "--option",
                     "units=8", "--name", "r", "--quiet"]) == 0
    run = run_dir / "r"
    assert (run / "model.keras").exists() and (run / "images" / "latest.png").exists()
    out = tmp_path / "samples"
    assert cli.main(["sample", str(run), "--n", "25", "--out", str(out), "--temperature",
                     "0.7"]) == 0
    lines = (out / "samples.txt").read_text(encoding="utf-8").split("\n")
    assert len(lines) == 26 and lines[-1] == ""  # 25 items, each ending its line
    assert "wrote 25 samples" in capsys.readouterr().out
    assert cli.main(["sample", str(run), "--n", "3", "--out", str(out)]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert cli.main(["sample", str(run), "--n", "3", "--out", str(out), "--overwrite",
                     "--seed", "4"]) == 0
    assert len((out / "samples.txt").read_text().splitlines()) == 3


def test_sample_writes_images_and_refuses_what_it_cannot_draw(tmp_path, capsys):
    from keras_aegan.apply.samples import sample_run
    from keras_aegan.config import RunConfig
    from keras_aegan.training.runner import train

    run = train(RunConfig(model="dense_ae", dataset="digits", epochs=1, steps_per_epoch=1,
                          run_dir=str(tmp_path), grid_seconds=None), verbose=0)
    result = sample_run(run.path, tmp_path / "digits", n=3)
    assert sorted(os.listdir(tmp_path / "digits")) == [f"sample_0000{i}.png" for i in (1, 2, 3)]
    assert "wrote 3 samples" in result.summary()
    with pytest.raises(UserError, match="no temperature"):
        sample_run(run.path, tmp_path / "other", n=3, temperature=0.5)
    with pytest.raises(UserError, match="no such run folder"):
        sample_run(tmp_path / "missing", n=3)


def test_series_are_written_as_csv_a_row_per_step(tmp_path):
    from keras_aegan.apply.samples import write_series

    windows = np.arange(12, dtype="float32").reshape(2, 3, 2) / 10
    [path] = write_series(windows, str(tmp_path), None, overwrite=False)
    lines = open(path).read().splitlines()
    assert lines[0] == "sample,step,channel_0,channel_1"
    assert lines[1:3] == ["0,0,0,0.1", "0,1,0.2,0.3"] and lines[-1] == "1,2,1,1.1"
    with pytest.raises(UserError, match="exists"):
        write_series(windows, str(tmp_path), None, overwrite=False)


def test_the_curve_is_read_at_the_novelty_bar_and_at_a_given_novelty():
    novelty, hits = [0.3, 0.7, 0.9], [0.10, 0.06, 0.02]  # in temperature order
    best, there = hits_at_novelty(novelty, hits, 0.5)
    assert there == 0.5 and best == pytest.approx(0.08)  # halfway from 0.3 to 0.7
    assert hits_at_novelty(novelty, hits, 0.8) == (pytest.approx(0.04), 0.8)
    assert hits_at_novelty(novelty, hits, 0.95) == (None, None)
    assert hits_at_novelty([0.7], [0.06], 0.5) == (0.06, 0.7)
    # A copier (novelty 0 everywhere) never reaches the bar.
    assert hits_at_novelty([0.0] * 3, hits, 0.5) == (None, None)
    assert hits_at(novelty, hits, 0.8) == (pytest.approx(0.04), 0.8)
    assert hits_at(novelty, hits, 0.95) == (0.02, 0.9)  # beyond the curve: its end
    assert hits_at(novelty, hits, 0.1) == (0.10, 0.3)


@pytest.mark.ci
def test_the_text_study_runs_on_a_users_file(names_file, tmp_path):
    from keras_aegan.config import StudyConfig
    from keras_aegan.studies import run_study

    config = StudyConfig(dataset=f"text:{names_file}", task="text", steps=2, export=False,
                         task_options={"samples": 30, "temperatures": [0.5, 2.0],
                                       "two_sample_steps": 3, "shown": 5, **SMALL},
                         run_dir=str(tmp_path), name="t")
    results = run_study(config, log=lambda *_: None)
    summary = {e["model"]: e for e in results["summary"]}
    assert set(summary) == {"char_vae", "char_gan", "trigram", "fourgram",
                            "real (validation items)"}
    for name in ("char_vae", "char_gan", "trigram", "fourgram"):
        entry = summary[name]
        assert 0 <= entry["held_out_hits"] <= 1 and 0 <= entry["novelty"] <= 1
        assert 0 <= entry["two_sample"] <= 1 and entry["length_distance"] >= 0
    rows = {r["model"]: r for r in results["rows"]}
    assert [p["temperature"] for p in rows["char_vae"]["sweep"]] == [0.5, 1.0, 2.0]
    assert rows["trigram"]["parameters"] == CharNGram(3).fit(
        text_source(WORDS, "tiny").items("train")).num_parameters
    report = (tmp_path / "t" / "report.md").read_text()
    assert "![held-out hits against novelty](curve.png)" in report
    assert (tmp_path / "t" / "curve.png").stat().st_size > 1000
    assert "| char_vae | char_gan | trigram | fourgram |" in report
    assert len(results["pictures"]["samples"]["char_gan"]) == 5
    for key in ("hits @ novelty ≥ 0.5", "two-sample acc.", "length EMD", "2-gram JS"):
        assert key in report
    json.loads((tmp_path / "t" / "results.json").read_text())


def test_the_text_sources_pick_the_text_study():
    from keras_aegan.config import StudyConfig

    for spec in ("surnames", "first_names", "words", "text:names.txt"):
        assert StudyConfig(dataset=spec).kind.name == "text", spec
    assert StudyConfig(dataset="surnames", task="text").study_name == "study-surnames"
    assert StudyConfig(dataset="digits").kind.name == "images"


def test_the_reference_row_draws_validation_items_from_the_whole_list():
    from keras_aegan.studies.text import TextData, TextStudy

    # A sorted list: the first half short, the second long; test items of both lengths.
    validation = [f"a{i:02d}" for i in range(50)] + [f"b{i:02d}xxxxx" for i in range(50)]
    data = TextData(None, ["c00"], ["a99", "b99xxxxx"], validation, {},
                    {"samples": 50, "two_sample_steps": 2})
    [row] = TextStudy().references(None, data)
    # The first 50 items would all be 3 long against test items of 3 and 8: 2.5 apart.
    assert row["length_distance"] < 1.0
    assert "two_sample" not in row  # two test items cannot be split in halves


def test_the_gan_is_placed_on_the_first_column_ties_sharing_a_rank():
    from keras_aegan.studies.text_report import place_at_bar

    summary = [{"model": "vae", "family": "autoencoder", "hits_at_novelty": 0.05},
               {"model": "gan", "family": "gan", "hits_at_novelty": 0.05},
               {"model": "trigram", "family": "baseline", "hits_at_novelty": 0.08},
               {"model": "copier", "family": "baseline", "hits_at_novelty": None},
               {"model": "real", "family": "reference"}]
    assert place_at_bar(summary[1], summary, 0.5) == "rank 2 of 3 (tied)"
    assert place_at_bar(summary[2], summary, 0.5) == "rank 1 of 3"
    assert place_at_bar(summary[3], summary, 0.5) == "never reaches novelty 0.5"


def test_the_text_study_refuses_images_and_image_models(tmp_path, names_file):
    from keras_aegan.config import StudyConfig
    from keras_aegan.studies import run_study

    with pytest.raises(UserError, match="needs a text source"):
        run_study(StudyConfig(dataset="digits", task="text", models=("trigram",),
                              run_dir=str(tmp_path)), log=lambda *_: None)
    with pytest.raises(UserError, match="does not generate text"):
        run_study(StudyConfig(dataset=f"text:{names_file}", task="text",
                              models=("conv_ae",), run_dir=str(tmp_path)),
                  log=lambda *_: None)


@pytest.mark.ci
@pytest.mark.parametrize("name,parts", [("char_vae", {"encoder", "decoder", "autoencoder"}),
                                        ("char_gan", {"generator"})])
def test_export_runs_the_samplers_in_tf_lite(name, parts, source, tmp_path):
    from keras_aegan.export import export_model, run_tflite

    model = build(name, source)
    result = export_model(model, tmp_path / name, examples={"tokens": source.ids("test")})
    manifest = result.manifest
    assert set(manifest["parts"]) == parts
    assert manifest["model"]["vocabulary"]["symbols"] == source.info.vocabulary
    part = "decoder" if name == "char_vae" else "generator"
    spec = protocol.describe(model).part(part)
    assert [p.kind for p in spec.inputs][1:] == ["uniform", "temperature"]
    rng = np.random.default_rng(1)
    feed = {p.name: (np.full((5, 1), 0.7) if p.kind == "temperature" else
                     rng.random((5, *p.shape)) if p.kind == "uniform" else
                     rng.standard_normal((5, *p.shape))).astype("float32")
            for p in spec.inputs}
    got = run_tflite(str(tmp_path / name / f"{part}.tflite"), feed)[spec.output.name]
    want = np.asarray(spec.fn(*[feed[p.name] for p in spec.inputs]))
    assert got.dtype == np.int32 and np.array_equal(got, want)
