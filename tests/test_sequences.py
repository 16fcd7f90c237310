"""Sequences: Moving MNIST and series sources, the frame predictors, TimeGAN and the
recurrent VAE, their yardsticks, export and `apply`, and bad input."""

import os

import numpy as np
import pytest

from conftest import (assert_config_round_trip, assert_one_step_trains,
                      assert_save_load_equal)

# Tiny shapes keep every model test to a few seconds on 2 CPU cores.
FRAMES = (16, 16, 1)   # patch 2: the U-Net works on an 8x8 grid, then 4x4
SEQUENCE = (6, *FRAMES)
OBSERVED, PREDICTED = 3, 3
WINDOW = (6, 2)


def _digits(n, value, size=28):
    """`n` square "digits" of one grey `value` (0-255), with a 2 px empty border."""
    x = np.zeros((n, size, size), "uint8")
    x[:, 2:-2, 2:-2] = value
    return x


# ------------------------------------------------------------------------ Moving MNIST


def test_moving_mnist_frames_in_range_digits_inside_and_seeded():
    from keras_aegan.data import synthetic

    rng = np.random.default_rng(0)
    for _ in range(200):
        positions = synthetic.bouncing_positions(rng, 20, (36, 36))
        assert positions.min() >= 0 and positions.max() <= 36
    digits = _digits(4, 255)
    videos = synthetic.moving_mnist(digits, 6, seed=3, num_digits=1)
    assert videos.shape == (6, 20, 64, 64, 1) and videos.dtype == np.float32
    assert videos.min() == 0.0 and videos.max() == 1.0
    # One digit, never clipped by the frame: every frame holds all of its pixels.
    np.testing.assert_allclose(videos.sum((2, 3, 4)), (digits[0] > 0).sum())
    # It moves (a bounce can hold a digit in place for one frame, as in the paper's code).
    assert np.mean(np.abs(np.diff(videos, axis=1)).sum((2, 3, 4)) > 0) > 0.9
    again = synthetic.moving_mnist(digits, 6, seed=3, num_digits=1)
    np.testing.assert_array_equal(videos, again)
    other = synthetic.moving_mnist(digits, 6, seed=4, num_digits=1)
    assert not np.array_equal(videos, other)
    # Sequence i depends on (seed, i) alone: a split can be made in pieces.
    np.testing.assert_array_equal(synthetic.moving_mnist(digits, 2, seed=3, num_digits=1,
                                                         start=4), videos[4:])


def test_moving_mnist_source_test_set_fixed_and_from_test_digits_only(tmp_path):
    from keras_aegan.data import synthetic

    path = tmp_path / "squares.npz"
    np.savez(path, x=_digits(50, 255), x_test=_digits(20, 100))  # test digits are dimmer
    source = synthetic.moving_mnist_source(f"npz:{path}", frame_shape=(32, 32),
                                           sizes={"train": 40, "validation": 8, "test": 10})
    assert source.info.image_shape == (20, 32, 32, 1)
    assert source.info.splits == {"train": 40, "validation": 8, "test": 10}
    test, labels = source.arrays("test")
    assert labels is None and test.shape == (10, 20, 32, 32, 1)
    assert abs(test.max() - 100 / 255) < 1e-6  # only the test digits
    np.testing.assert_array_equal(test, np.concatenate(list(
        source.dataset("test", 4, seed=7).as_numpy_iterator())))
    train = list(source.dataset("train", 8, seed=1, passes=2).as_numpy_iterator())
    assert len(train) == 10 and train[0].max() == 1.0  # training digits
    assert not np.array_equal(train[0], train[5])  # each pass draws fresh sequences
    resumed = list(source.dataset("train", 8, seed=1, passes=2).skip(6).as_numpy_iterator())
    np.testing.assert_array_equal(resumed[0], train[6])  # resuming finds the same stream


def test_sines_match_timegan_recipe():
    from keras_aegan.data import open_source, synthetic

    x = synthetic.sines(500, seed=1)
    assert x.shape == (500, 24, 5) and 0 <= x.min() and x.max() <= 1
    # sin(f t + p) with f, p in [0, 0.1]: starts in [0.5, 0.55], and rises.
    assert 0.5 <= x[:, 0].min() and x[:, 0].max() <= 0.5 + 0.5 * np.sin(0.1) + 1e-6
    np.testing.assert_array_equal(x, synthetic.sines(500, seed=1))
    source = open_source("sines")
    assert source.info.image_shape == (24, 5) and source.info.splits["train"] == 10_000


# ------------------------------------------------------------------------------ series


def test_csv_source_splits_by_time(tmp_path):
    from keras_aegan.data import open_source

    path = tmp_path / "series.csv"
    steps = np.arange(300, dtype="float32")
    path.write_text("a,b\n" + "\n".join(f"{t:g},{2 * t:g}" for t in steps) + "\n")
    source = open_source(f"csv:{path}")
    # 70 / 10 / 20 % of the steps by time (210 / 30 / 60), each cut into windows of 24.
    assert source.info.image_shape == (24, 2) and source.info.num_classes is None
    assert source.info.splits == {"train": 187, "validation": 7, "test": 37}
    train, _ = source.arrays("train")
    test, _ = source.arrays("test")
    # Scaled by the training part's min and max: train in [0, 1], the later test above it.
    assert train.min() == 0.0 and train.max() == 1.0 and test.min() > 1.0
    np.testing.assert_allclose(train[1, 0], train[0, 1])  # overlapping windows, stride 1
    assert np.all(np.diff(train[:, :, 0], axis=1) > 0)  # in time order


@pytest.mark.parametrize("text, message", [
    ("a,b\n1,2\n3,x\n", "row 3, column 2: 'x' is not a number"),
    ("1,2\n3\n", "ragged rows: row 2 has 1 cells"),
    ("a,b\n", "an empty series"),
    ("", "an empty series"),
    ("1\n2\n3\n", "too few to cut windows"),
])
def test_bad_csv_one_error_line_exit_2_nothing_written(tmp_path, capsys, text, message):
    from keras_aegan.cli import main

    path = tmp_path / "bad.csv"
    path.write_text(text)
    runs = tmp_path / "runs"
    code = main(["train", "--model", "recurrent_vae", "--dataset", f"csv:{path}",
                 "--run-dir", str(runs)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ")
    assert message in err[0]
    assert not runs.exists()


def test_statsmodels_real_series():
    from keras_aegan.data import open_source

    source = open_source("statsmodels:elnino")
    # 732 months: 512 / 73 / 147 steps by time, windows of 24.
    assert source.info.image_shape == (24, 1)
    assert source.info.splits == {"train": 512 - 23, "validation": 73 - 23, "test": 147 - 23}


# ------------------------------------------------------------------------------ models


@pytest.fixture(scope="module")
def tiny_videos():
    """Real Moving MNIST sequences (bundled digits) in 16x16 frames: 6 frames each."""
    from keras_aegan.data import synthetic

    source = synthetic.moving_mnist_source("digits", frame_shape=FRAMES[:2], length=6,
                                           sizes={"train": 16, "validation": 4, "test": 8})
    x, _ = source.arrays("test")
    return x


def _video_model(name, **options):
    from keras_aegan.registry import get_model_entry

    model = get_model_entry(name).builder(SEQUENCE, observed=OBSERVED, predicted=PREDICTED,
                                          patch=2, width=8, blocks=1, **options)
    # Eager: one real step without the minutes a graph of the step takes to build under
    # load; the graph path is the runner's (test_runner_trains_and_resumes_sequence_models).
    model.compile(run_eagerly=True)
    return model


def _pairs(model, videos):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(videos).batch(4).map(model.task.pairs())


@pytest.mark.parametrize("name, family", [("frame_predictor", "autoencoder"),
                                          ("adversarial_predictor", "gan")])
def test_frame_predictors_one_step_save_load(tmp_path, tiny_videos, name, family):
    from keras_aegan import protocol

    model = _video_model(name)
    spec = protocol.describe(model)
    assert spec.family == family and spec.part_names == ("predictor",)
    assert spec.task == {"name": "next_frames", "observed": OBSERVED, "predicted": PREDICTED}
    history = assert_one_step_trains(model, _pairs(model, tiny_videos).take(1))
    assert "mse_per_frame" in history
    observed = tiny_videos[:2, :OBSERVED]
    future = np.asarray(model.predict_next(observed))
    assert future.shape == (2, PREDICTED, *FRAMES) and 0 <= future.min() and future.max() <= 1
    rows = model.preview(tiny_videos)
    assert len(rows) == 9 and rows[2].shape == (PREDICTED, *FRAMES)
    assert_config_round_trip(model)
    loaded = assert_save_load_equal(model, observed, tmp_path / "model.keras")
    assert protocol.describe(loaded).task == spec.task


def test_frame_predictor_rejects_images_and_wrong_frames():
    from keras_aegan.errors import UserError
    from keras_aegan.models.video import frame_predictor

    with pytest.raises(UserError, match="needs a source of frame sequences"):
        frame_predictor((8, 8, 1))
    with pytest.raises(UserError, match="do not fit"):
        frame_predictor((6, 16, 16, 1), observed=4, predicted=4, patch=2)
    model = _video_model("frame_predictor")
    with pytest.raises(UserError, match="takes batches of 3 frames"):
        model.predict_next(np.zeros((1, 2, *FRAMES), "float32"))


def test_saturated_predictor_still_gets_a_gradient_from_the_pixel_loss():
    # A predictor pushed to black frames (all logits -30) must still learn from the
    # cross-entropy: Keras computes it from the logits only when the sigmoid is the last op.
    import keras
    import tensorflow as tf

    from keras_aegan.models.video import predictor_network

    net = predictor_network(FRAMES, OBSERVED, PREDICTED, patch=2, width=4, blocks=1)
    bias = net.get_layer("logits").bias
    bias.assign(np.full(bias.shape, -30.0, "float32"))
    observed = np.random.default_rng(0).random((2, OBSERVED, *FRAMES)).astype("float32")
    future = np.ones((2, PREDICTED, *FRAMES), "float32")
    loss = keras.losses.get("binary_crossentropy")

    @tf.function
    def gradient():
        with tf.GradientTape() as tape:
            value = tf.reduce_mean(loss(future, net(observed, training=True)))
        return tape.gradient(value, bias)

    assert float(tf.reduce_max(tf.abs(gradient()))) > 1e-3


def test_adversarial_predictor_clips_its_gradient_and_slows_its_discriminator(tmp_path):
    # Both keep the game from blowing up (see AdversarialFramePredictor.compile); they must
    # survive saving, and bad values are the user's error.
    import keras

    from keras_aegan.errors import UserError

    model = _video_model("adversarial_predictor")
    model.compile(learning_rate=5e-4)
    assert model.optimizer.global_clipnorm == 1.0
    assert float(model.d_optimizer.learning_rate) == pytest.approx(1e-4)
    model.compile(learning_rate=5e-4, d_learning_rate=3e-4, clipnorm=None)
    assert model.optimizer.global_clipnorm is None
    assert float(model.d_optimizer.learning_rate) == pytest.approx(3e-4)
    model.compile(clipnorm=0.5)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert loaded.optimizer.global_clipnorm == 0.5
    assert float(loaded.d_optimizer.learning_rate) == pytest.approx(2e-4)
    for bad in ({"clipnorm": 0}, {"d_learning_rate": -1.0}):
        with pytest.raises(UserError):
            model.compile(**bad)


def _series_model(name):
    from keras_aegan.registry import get_model_entry

    options = {"timegan": {"hidden": 4, "layers": 1, "warmup_steps": 0},
               "recurrent_gan": {"units": 4, "d_units": 4}}.get(name, {"units": 4})
    model = get_model_entry(name).builder(WINDOW, latent_dim=3, **options)
    model.compile(run_eagerly=True)
    return model


@pytest.mark.parametrize("name, family", [("timegan", "gan"), ("recurrent_gan", "gan"),
                                          ("recurrent_vae", "autoencoder")])
def test_series_models_one_step_sample_save_load(tmp_path, name, family):
    import tensorflow as tf

    from keras_aegan import protocol
    from keras_aegan.data import synthetic

    windows = synthetic.sines(16, seed=0, length=WINDOW[0], channels=WINDOW[1])
    model = _series_model(name)
    spec = protocol.describe(model)
    assert spec.family == family and spec.image_shape == WINDOW
    assert spec.sampler == protocol.SAMPLES_OWN
    assert_one_step_trains(model, tf.data.Dataset.from_tensor_slices(windows).batch(16))
    samples = np.asarray(model.sample(5, seed=1))
    assert samples.shape == (5, *WINDOW) and 0 <= samples.min() and samples.max() <= 1
    np.testing.assert_array_equal(samples, np.asarray(model.sample(5, seed=1)))
    grid = model.preview(windows[:4])
    assert all(np.asarray(row).ndim == 4 and np.asarray(row).shape[-1] == 3 for row in grid)
    assert_config_round_trip(model)
    inputs = windows[:4] if name == "recurrent_vae" else np.random.default_rng(0).standard_normal(
        (4, *spec.parts[0].inputs[0].shape)).astype("float32")
    assert_save_load_equal(model, inputs, tmp_path / "model.keras")


def test_moment_loss_measures_the_gap_in_means_and_spreads():
    from keras_aegan.models.timeseries import moment_loss

    rng = np.random.default_rng(0)
    real = rng.uniform(size=(64, *WINDOW)).astype("float32")
    assert float(moment_loss(real, real)) == pytest.approx(0, abs=1e-6)
    # Shifted by 0.1: the means differ by 0.1, the spreads not at all.
    assert float(moment_loss(real, real + 0.1)) == pytest.approx(0.1, abs=1e-5)
    # Every window the batch's mean: the means agree, the spreads differ by the real ones'.
    collapsed = np.broadcast_to(real.mean(0), real.shape)
    assert float(moment_loss(real, collapsed)) == pytest.approx(
        float(np.mean(np.sqrt(real.var(0) + 1e-6) - np.sqrt(1e-6))), rel=1e-3)


def test_recurrent_gan_adds_the_weighted_moment_loss_to_the_adversarial_one():
    import keras
    import tensorflow as tf

    from keras_aegan.data import synthetic
    from keras_aegan.errors import UserError
    from keras_aegan.models.timeseries import recurrent_gan

    windows = synthetic.sines(32, seed=0, length=WINDOW[0], channels=WINDOW[1])
    logs = {}
    for weight in (0.0, 100.0):
        keras.utils.set_random_seed(0)
        model = recurrent_gan(WINDOW, latent_dim=3, units=4, d_units=4, moment_weight=weight,
                              seed=0)
        model.compile(run_eagerly=True)
        logs[weight] = model.evaluate(tf.data.Dataset.from_tensor_slices(windows).batch(32),
                                      return_dict=True, verbose=0)
    # Same seed, same networks, same noise: only the moment term differs.
    assert logs[0.0]["moment_loss"] == pytest.approx(logs[100.0]["moment_loss"], rel=1e-5)
    assert logs[0.0]["moment_loss"] > 0.01
    assert logs[100.0]["g_loss"] == pytest.approx(
        logs[0.0]["g_loss"] + 100.0 * logs[0.0]["moment_loss"], rel=1e-4)
    # One noise vector per window: the generator unrolls it over time.
    assert model.generator.input_shape == (None, 3)
    with pytest.raises(UserError, match="windows of shape"):
        model.train_step(np.zeros((2, WINDOW[0] + 1, WINDOW[1]), "float32"))


def test_timegan_warmup_trains_embedding_and_supervisor_only():
    import tensorflow as tf

    from keras_aegan.data import synthetic
    from keras_aegan.models.timegan import timegan

    model = timegan(WINDOW, latent_dim=3, hidden=4, layers=1, warmup_steps=5)
    model.compile(run_eagerly=True)
    before = [np.array(w) for w in model.generator.trainable_weights
              + model.discriminator.trainable_weights]
    windows = synthetic.sines(16, seed=0, length=WINDOW[0], channels=WINDOW[1])
    assert_one_step_trains(model, tf.data.Dataset.from_tensor_slices(windows).batch(16),
                           networks=("embedder", "recovery", "supervisor"))
    after = [np.array(w) for w in model.generator.trainable_weights
             + model.discriminator.trainable_weights]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


# --------------------------------------------------------------------------- yardsticks


def test_frame_scores_and_copy_last_frame(tiny_videos):
    from keras_aegan.evaluation import sequence_metrics

    observed, future = tiny_videos[:, :OBSERVED], tiny_videos[:, OBSERVED:]
    perfect = sequence_metrics.frame_scores(future, future)
    assert perfect["mse_per_frame"] == 0.0 and abs(perfect["ssim"] - 1.0) < 1e-6
    copy = sequence_metrics.copy_last_frame(observed, PREDICTED)
    np.testing.assert_array_equal(copy[:, 1], observed[:, -1])
    scores = sequence_metrics.frame_scores(future, copy)
    manual = ((future - copy) ** 2).sum((2, 3, 4)).mean()
    assert abs(scores["mse_per_frame"] - manual) < 1e-3 * manual
    assert len(scores["mse_per_step"]) == PREDICTED
    # Digits move away from where they were: later frames are further off.
    assert scores["mse_per_step"][-1] > scores["mse_per_step"][0]


@pytest.mark.ci
def test_discriminative_score_real_vs_real_and_noise():
    from keras_aegan.evaluation import sequence_metrics
    from keras_aegan.data import synthetic

    real = synthetic.sines(1000, seed=1)
    same = sequence_metrics.discriminative_score(real[:500], real[500:], iterations=200)
    noise = np.random.default_rng(0).random(real.shape).astype("float32")
    apart = sequence_metrics.discriminative_score(real, noise, iterations=200)
    assert same < 0.06 and apart > 0.45


@pytest.mark.ci
def test_discriminative_score_of_one_channel_needs_more_units_than_the_papers():
    from keras_aegan.evaluation import sequence_metrics
    from keras_aegan.data import synthetic
    from keras_aegan.errors import UserError

    real = synthetic.sines(1000, seed=1)[:, :, :1]
    reversed_ = real[:, ::-1].copy()  # plainly not the data, once read in order
    weak = sequence_metrics.discriminative_score(real, reversed_, iterations=200)
    strong = sequence_metrics.discriminative_score(real, reversed_, iterations=200, units=16)
    assert weak < 0.1 and strong > 0.45  # the paper's 1-unit GRU cannot tell; 16 units can
    with pytest.raises(UserError, match="units"):
        sequence_metrics.discriminative_score(real, reversed_, units=0)


@pytest.mark.ci
def test_predictive_score_learns_from_real_not_from_flat_windows():
    from keras_aegan.evaluation import sequence_metrics
    from keras_aegan.data import synthetic

    train, test = synthetic.sines(1000, seed=1), synthetic.sines(300, seed=2)
    score = sequence_metrics.predictive_score(train, test, iterations=300)
    flat = np.full_like(train, 0.1)
    assert score < 0.2
    assert sequence_metrics.predictive_score(flat, test, iterations=100) > score + 0.2


@pytest.mark.slow
def test_predictive_score_of_real_sines_matches_published():
    from keras_aegan.evaluation import sequence_metrics
    from keras_aegan.data import synthetic

    # TimeGAN's "real data" figure on sines is 0.094 (5,000 steps, 10,000 windows).
    score = sequence_metrics.predictive_score(synthetic.sines(10_000, seed=1),
                                              synthetic.sines(1_000, seed=2))
    assert abs(score - 0.094) < 0.005


# ------------------------------------------------------------------------------ export


@pytest.mark.parametrize("name", ["frame_predictor", "timegan", "recurrent_gan"])
def test_export_parity_predictor_and_sequence_generator(tmp_path, tiny_videos, name):
    from keras_aegan import export

    if name == "frame_predictor":
        model = _video_model(name)
        examples = {"frames": tiny_videos[:4, :OBSERVED]}
        part = "predictor"
    else:
        model = _series_model(name)
        examples = {}
        part = "generator"
    result = export.export_model(model, tmp_path / "export", examples=examples)
    artifacts = result.manifest["parts"][part]["artifacts"]
    assert {a["kind"] for a in artifacts} == {"saved_model", "tflite"}
    assert all(a["ok"] for a in artifacts), result.summary()
    # Reloaded as a user elsewhere would, at another batch size.
    import tensorflow as tf

    loaded = tf.saved_model.load(str(tmp_path / "export" / part))
    if name == "frame_predictor":
        feed = tiny_videos[:3, :OBSERVED]
        got = loaded.signatures["serving_default"](frames=tf.constant(feed))["future"]
        want = model.predict_next(feed)
    else:
        noise = (WINDOW[0], 3) if name == "timegan" else (3,)
        feed = np.random.default_rng(1).standard_normal((3, *noise)).astype("float32")
        got = loaded.signatures["serving_default"](z=tf.constant(feed))["sequences"]
        want = model.generate(feed)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-5)
    tflite = export.run_tflite(str(tmp_path / "export" / f"{part}.tflite"),
                               {"frames" if part == "predictor" else "z": feed})
    np.testing.assert_allclose(next(iter(tflite.values())), np.asarray(want), atol=1e-4)


# ------------------------------------------------------------------------------- apply


def test_predict_files_from_folder_and_npy(tmp_path, tiny_videos):
    from PIL import Image

    from keras_aegan.apply.frames import predict_files

    model = _video_model("frame_predictor")
    folder = tmp_path / "frames"
    folder.mkdir()
    # Five frames (more than observed: the last three are used), named so that plain
    # sorting would misorder them; 32x32 RGB, resized and made grey for the model.
    for i, frame in enumerate(tiny_videos[0, :5]):
        big = np.repeat(np.repeat(frame, 2, 0), 2, 1)
        Image.fromarray(np.uint8(np.repeat(big, 3, -1) * 255)).save(folder / f"f{i * 5}.png")
    written = predict_files(model, folder, tmp_path / "out")
    assert [os.path.basename(p) for p in written] == [
        "frame_000.png", "frame_001.png", "frame_002.png", "strip.png"]
    np.save(tmp_path / "seq.npy", tiny_videos[0, :OBSERVED, ..., 0])
    (out,) = predict_files(model, tmp_path / "seq.npy", tmp_path / "future.npy")
    future = np.load(out)
    np.testing.assert_allclose(future, np.asarray(model.predict_next(
        tiny_videos[:1, :OBSERVED]))[0], atol=1e-5)


def test_predict_files_bad_input_nothing_written(tmp_path, tiny_videos):
    from PIL import Image

    from keras_aegan.errors import DataError
    from keras_aegan.apply.frames import predict_files

    model = _video_model("frame_predictor")
    np.save(tmp_path / "short.npy", tiny_videos[0, :OBSERVED - 1, ..., 0])
    with pytest.raises(DataError, match=f"has {OBSERVED - 1} frames; the model needs at "
                                        f"least the {OBSERVED}"):
        predict_files(model, tmp_path / "short.npy", tmp_path / "out")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for i, side in enumerate((16, 16, 20, 16)):
        Image.fromarray(np.zeros((side, side), "uint8")).save(mixed / f"{i}.png")
    with pytest.raises(DataError, match="frames of mixed sizes"):
        predict_files(model, mixed, tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no PNG/JPEG frames"):
        predict_files(model, tmp_path / "empty", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_apply_command_runs_a_predictor_run_folder(tmp_path, tiny_videos):
    """`train.py apply RUN --input seq.npy --output out/` finds the predictor through the
    model's declared parts, as it finds a translator."""
    from keras_aegan import cli

    model = _video_model("frame_predictor")
    run = tmp_path / "run"
    run.mkdir()
    model.save(run / "model.keras")
    np.save(tmp_path / "seq.npy", tiny_videos[0, :OBSERVED, ..., 0])
    assert cli.main(["apply", str(run), "--input", str(tmp_path / "seq.npy"),
                     "--output", str(tmp_path / "out")]) == 0
    assert sorted(os.listdir(tmp_path / "out")) == [
        "frame_000.png", "frame_001.png", "frame_002.png", "strip.png"]
    assert cli.main(["apply", str(run), "--input", str(tmp_path / "seq.npy"),
                     "--output", str(tmp_path / "out2"), "--mask", "m.png"]) == 2
    assert not (tmp_path / "out2").exists()


# ------------------------------------------------------- runner, study, CLI (graph path)


@pytest.mark.slow
@pytest.mark.parametrize("model, dataset, options", [
    ("frame_predictor", "moving_mnist:digits",
     {"observed": 3, "predicted": 3, "patch": 2, "width": 8, "blocks": 1}),
    ("timegan", "sines", {"hidden": 4, "layers": 1, "warmup_steps": 1}),
    ("recurrent_gan", "sines", {"units": 4, "d_units": 4}),
])
def test_runner_trains_and_resumes_sequence_models(tmp_path, model, dataset, options):
    """Interrupted after one epoch and rerun with more, a run ends where an uninterrupted
    one does (checkpoints hold every network, optimizer and the noise seed).

    Without the cosine anneal (on for autoencoders): it follows the run's length, so a run
    of 1 epoch extended to 2 anneals unlike one of 2 from the start (resuming annealed runs:
    `test_training_defaults.py`)."""
    from keras_aegan.config import RunConfig
    from keras_aegan.training.runner import train

    def config(epochs, name):
        return RunConfig(model=model, dataset=dataset, image_shape=(16, 16, 1)
                         if dataset.startswith("moving") else None, epochs=epochs,
                         steps_per_epoch=2, batch_size=4, latent_dim=3, seed=1,
                         deterministic=True, model_options=options, run_dir=str(tmp_path),
                         name=name, anneal=False)

    train(config(1, "split"), verbose=0)
    resumed = train(config(2, "split"), verbose=0).model
    straight = train(config(2, "straight"), verbose=0).model
    for a, b in zip(resumed.weights, straight.weights):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)
    assert os.path.isfile(tmp_path / "split" / "images" / "latest.png")


@pytest.mark.slow
@pytest.mark.parametrize("argv", [
    ["study", "--task", "next_frame", "--dataset", "digits", "--image-shape", "16x16x1",
     "--task-option", "test_sequences=8", "--task-option", "patch=2",
     "--task-option", "width=8", "--task-option", "blocks=1"],
    ["study", "--task", "timeseries", "--dataset", "sines", "--task-option", "repeats=2",
     "--task-option", "disc_iterations=20", "--task-option", "pred_iterations=20",
     "--task-option", "synthetic=100", "--task-option", "pictures=50",
     "--task-option", "hidden=4", "--task-option", "layers=1", "--task-option", "units=4"],
])
def test_task_studies_write_reports(tmp_path, monkeypatch, argv):
    from keras_aegan.cli import main

    monkeypatch.chdir(tmp_path)  # the study exports to export/<study>/
    code = main([*argv, "--budget-seconds", "2", "--batch-size", "8", "--name", "s",
                 "--run-dir", str(tmp_path)])
    assert code == 0
    text = (tmp_path / "s" / "report.md").read_text()
    pictures = ("strip.png", "per_step.png") if "next_frame" in argv else \
        ("embeddings.png", "samples.png")
    for picture in pictures:
        assert f"({picture})" in text and (tmp_path / "s" / picture).stat().st_size > 1000
    assert "ConvLSTM" in text if "next_frame" in argv else "0.011" in text
    assert "Exports:" in text and "failed" not in text


@pytest.mark.slow
@pytest.mark.parametrize("script", ["next_frame.py", "timeseries.py"])
def test_benchmark_smoke(tmp_path, script):
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, os.path.join(root, "benchmarks", script),
                           "--smoke", "--out", str(tmp_path / "bench")],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "published" in done.stdout and (tmp_path / "bench-smoke" / "report.md").exists()


# Three studies, each scoring with freshly traced unrolled GRUs (about a minute on 2 cores):
# an end-to-end check, run by CI after the default suite (-m ci).
@pytest.mark.ci
def test_timeseries_study_rescores_a_reused_run_only_if_scored_otherwise(tmp_path):
    from keras_aegan.config import StudyConfig
    from keras_aegan.studies import run_study

    options = {"repeats": 1, "disc_iterations": 5, "pred_iterations": 5, "synthetic": 50,
               "pictures": 30, "units": 4}

    def study(**scoring):
        config = StudyConfig(dataset="sines", task="timeseries",
                             task_options={**options, **scoring}, models=("recurrent_vae",),
                             budget_seconds=1, batch_size=8, export=False,
                             run_dir=str(tmp_path), name="s")
        return run_study(config, log=lambda m: None)["rows"][0]

    first, again, other = study(), study(), study(disc_units=3)
    assert [r["status"] for r in (first, again, other)] == ["trained", "reused", "reused"]
    assert again["discriminative_repeats"] == first["discriminative_repeats"]
    assert first["scoring"]["disc_units"] is None and other["scoring"]["disc_units"] == 3
    assert "a GRU of 3 units" in (tmp_path / "s" / "report.md").read_text()
