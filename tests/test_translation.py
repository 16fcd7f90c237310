"""Image-to-image translation: the tasks' degradations on known images, one real step of
each model on each task, save/resume, export parity, the photo source and the task study.

Networks are tiny (width 4) and the data is the bundled 8x8 digits or 16x16 photo
patches, so the file stays fast.
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import (ROOT, assert_config_round_trip, assert_one_step_trains,
                      assert_save_load_equal)

from keras_aegan import protocol, registry
from keras_aegan.models import translation
from keras_aegan.data import tasks
from keras_aegan.errors import UserError
from keras_aegan.training.runner import RunConfig, train

SHAPE = (8, 8, 1)
TINY = {"width": 4, "blocks": 1}
TASKS = {"super_resolution": {"factor": 2}, "colorize": {}, "inpaint": {}, "sketch": {}}
BUILDERS = {"unet_ae": translation.build_unet_ae, "pix2pix": translation.build_pix2pix}


@pytest.fixture(scope="module")
def photo_images():
    from keras_aegan.data import open_source

    x, _ = open_source("photos:16").arrays("train", limit=64)
    return x


def images_for(task, digits_images, photo_images):
    return photo_images if task == "colorize" else digits_images[0][:64]


def build(name, task, shape, **options):
    return BUILDERS[name](shape, task=task, **{**TINY, **TASKS[task], **options})


def pairs_dataset(model, images, batch=16):
    return tf.data.Dataset.from_tensor_slices(images).batch(batch).map(model.task.pairs())


# ----------------------------------------------------------------------- degradations


def test_super_resolution_input_is_the_area_downsampled_image():
    task = tasks.make_task("super_resolution", (4, 4, 1), factor=2)
    image = np.arange(16, dtype="float32").reshape(1, 4, 4, 1) / 16
    small, = task.make_inputs(image)
    assert small.shape == (1, 2, 2, 1)
    expected = image[0, :, :, 0].reshape(2, 2, 2, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(np.asarray(small)[0, :, :, 0], expected, atol=1e-6)
    port, = task.input_ports()
    assert (port.name, port.shape, port.kind) == ("low_resolution", (2, 2, 1), "low_resolution")


def test_colorize_input_is_one_channel_luminance():
    task = tasks.make_task("colorize", (2, 2, 3))
    image = np.array([[[[1, 0, 0], [0, 1, 0]], [[0, 0, 1], [1, 1, 1]]]], "float32")
    grey, = task.make_inputs(image)
    assert grey.shape == (1, 2, 2, 1)
    np.testing.assert_allclose(np.asarray(grey)[0, :, :, 0],
                               [[0.299, 0.587], [0.114, 1.0]], atol=2e-3)


@pytest.mark.parametrize("kind", ["box", "strokes", "mixed"])
def test_inpaint_holes_are_the_pixels_the_mask_names(kind, digits_images):
    task = tasks.make_task("inpaint", SHAPE, mask=kind, box=4)
    x = digits_images[0][:32]
    holed, mask = (np.asarray(t) for t in task.make_inputs(x))
    assert set(np.unique(mask)) <= {0.0, 1.0} and mask.shape == (32, 8, 8, 1)
    assert (mask.reshape(32, -1).sum(1) > 0).all()  # every image has a hole
    np.testing.assert_array_equal(holed[mask == 1], 0.0)
    np.testing.assert_array_equal(holed[mask == 0], x[mask == 0])
    if kind == "box":
        assert (mask.reshape(32, -1).sum(1) == 16).all()
        rows, cols = np.nonzero(mask[0, :, :, 0])
        assert rows.max() - rows.min() == 3 and cols.max() - cols.min() == 3
    # Pure: the same batch gets the same masks; another batch (or seed) others.
    again = np.asarray(task.make_inputs(x)[1])
    np.testing.assert_array_equal(mask, again)
    other = np.asarray(task.make_inputs(x[::-1])[1])
    reseeded = np.asarray(tasks.make_task("inpaint", SHAPE, mask=kind, box=4,
                                          seed=1).make_inputs(x)[1])
    assert not np.array_equal(mask, other[::-1]) and not np.array_equal(mask, reseeded)


@pytest.mark.parametrize("shape,eye_row,rows", [
    ((32, 32, 1), 0.45, (10, 18)),   # the faces default: a quarter of the height at 0.45
    ((25, 25, 1), 0.32, (5, 11)),    # lfw_faces' eyes sit higher
    ((16, 16, 1), 1.0, (12, 16)),    # a band asked at the edge stays inside the picture
])
def test_eye_band_is_a_full_width_band_inside_the_picture(shape, eye_row, rows):
    task = tasks.make_task("inpaint", shape, mask="eyes", eye_row=eye_row)
    x = np.random.default_rng(0).random((3, *shape), dtype="float32")
    mask = np.asarray(task.make_inputs(x)[1])[..., 0]
    covered = np.nonzero(mask[0].all(axis=1))[0]
    assert (covered.min(), covered.max() + 1) == rows == task.band_rows()
    assert mask[0].sum() == (rows[1] - rows[0]) * shape[1]  # nothing outside the band
    np.testing.assert_array_equal(mask, np.repeat(mask[:1], 3, axis=0))  # the same on all
    assert task.band == round(shape[0] / 4)
    # Scaled to a user's larger picture, the band keeps its place.
    top, bottom = task.band_rows(shape[0] * 4)
    assert bottom - top == 4 * (rows[1] - rows[0]) and abs(top - 4 * rows[0]) <= 2


@pytest.mark.parametrize("side", [4, 8, 11, 16])
def test_box_covers_the_share_asked(side):
    task = tasks.make_task("inpaint", (16, 16, 1), mask="box", box=side)
    x = np.random.default_rng(1).random((16, 16, 16, 1), dtype="float32")
    mask = np.asarray(task.make_inputs(x)[1])
    np.testing.assert_array_equal(mask.mean(axis=(1, 2, 3)), side * side / 256)
    # Placed at random, inside the picture: the boxes are not all in one place.
    tops = [np.nonzero(m[..., 0].any(axis=1))[0][0] for m in mask]
    assert len(set(tops)) > 1 or side == 16


def test_sketch_edges_of_a_flat_image_are_empty_and_a_step_has_edges():
    task = tasks.make_task("sketch", (8, 8, 3))
    flat = np.full((2, 8, 8, 3), 0.7, "float32")
    assert not np.asarray(task.make_inputs(flat)[0]).any()
    step = np.zeros((1, 8, 8, 3), "float32")
    step[:, :, 4:] = 1.0
    edges = np.asarray(task.make_inputs(step)[0])[0, :, :, 0]
    assert edges.shape == (8, 8)
    assert edges[:, 3:5].all() and not edges[:, :3].any() and not edges[:, 5:].any()


def test_pairs_in_tf_data_resume_exactly(digits_source):
    task = tasks.make_task("inpaint", SHAPE)
    ds = digits_source.dataset("train", 16, seed=3, passes=2).map(task.pairs())
    elements = list(ds.take(6).as_numpy_iterator())
    resumed = next(iter(ds.skip(5).as_numpy_iterator()))
    for a, b in zip(elements[5][0], resumed[0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(elements[5][1], resumed[1])


@pytest.mark.parametrize("name,shape,options,match", [
    ("super_resolution", (28, 28, 1), {"factor": 3}, "factor 3 does not divide .* 28x28"),
    ("super_resolution", (28, 28, 1), {"factor": 5}, "factor must be one of"),
    ("colorize", (28, 28, 1), {}, "colorize needs colour"),
    ("inpaint", (28, 28, 1), {"box": 40}, "box must be an integer in"),
    ("inpaint", (28, 28, 1), {"mask": "circle"}, "mask must be one of"),
    ("inpaint", (28, 28, 1), {"band": 29}, "band must be an integer in"),
    ("inpaint", (28, 28, 1), {"eye_row": 1.5}, "eye_row must be"),
    ("sketch", (28, 28, 1), {"factor": 2}, "the sketch task has no option factor"),
    ("sketch", (28, 28, 1), {"threshold": 0}, "threshold must be positive"),
    ("deblur", (28, 28, 1), {}, "unknown task 'deblur'"),
])
def test_bad_task_options(name, shape, options, match):
    with pytest.raises(UserError, match=match):
        tasks.make_task(name, shape, **options)


def test_baselines_on_known_inputs():
    task = tasks.make_task("inpaint", (4, 4, 1), box=2)
    image = np.full((1, 4, 4, 1), 0.5, "float32")
    mask = np.zeros((1, 4, 4, 1), "float32")
    mask[0, 1:3, 1:3] = 1
    for name in ("mean_fill", "biharmonic"):
        np.testing.assert_allclose(task.baseline(name, (image * (1 - mask), mask)), image,
                                   atol=1e-5)
    sr = tasks.make_task("super_resolution", (4, 4, 1), factor=2)
    flat = np.full((1, 2, 2, 1), 0.25, "float32")
    np.testing.assert_allclose(sr.baseline("bicubic", (flat,)), 0.25, atol=1e-5)
    with pytest.raises(UserError, match="has no baseline 'bicubic'"):
        task.baseline("bicubic", (image, mask))


# ---------------------------------------------------------------------------- models


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", BUILDERS)
def test_one_real_step_of_each_model_on_each_task(name, task, digits_images, photo_images):
    images = images_for(task, digits_images, photo_images)[:32]
    model = build(name, task, images.shape[1:])
    model.compile(run_eagerly=True)  # one step: tracing would cost more than it saves
    spec = protocol.describe(model)
    assert spec.family == registry.get_model_entry(name).family
    assert spec.task["name"] == task and spec.part_names == ("translator",)
    history = assert_one_step_trains(model, pairs_dataset(model, images, batch=32))
    keys = {"loss"} if name == "unet_ae" else {"d_loss", "g_loss", "l1", "adversarial"}
    assert keys <= set(history)
    inputs = model.task.make_input_arrays(images[:3])
    part = spec.part("translator")
    assert [p.shape for p in part.inputs] == [x.shape[1:] for x in inputs]
    out = np.asarray(part.fn(*inputs))
    assert out.shape == (3, *images.shape[1:]) and out.min() >= 0 and out.max() <= 1
    if task == "inpaint":  # the known pixels are kept exactly
        holed, mask = inputs
        np.testing.assert_allclose(out[mask[..., 0] == 0], holed[mask[..., 0] == 0], atol=1e-6)
    if task == "colorize":  # so is the luminance, where no channel is clipped
        grey = np.asarray(tf.image.rgb_to_grayscale(out))
        inside = ((out > 0) & (out < 1)).all(-1)
        np.testing.assert_allclose(grey[inside], inputs[0][inside], atol=1e-5)


def test_pix2pix_save_load_keeps_both_optimizers_and_resumes(digits_images, tmp_path):
    keras.utils.set_random_seed(0)
    model = build("pix2pix", "super_resolution", SHAPE)
    model.compile(learning_rate=5e-4, run_eagerly=True)
    data = pairs_dataset(model, digits_images[0][:16])
    model.fit(data, epochs=1, verbose=0)
    inputs = model.task.make_input_arrays(digits_images[0][:4])
    loaded = assert_save_load_equal(model, inputs[0], tmp_path / "p.keras")
    assert_config_round_trip(model)
    assert protocol.describe(loaded).task == model.task.describe()
    for attr in ("d_optimizer", "g_optimizer"):
        a, b = getattr(model, attr), getattr(loaded, attr)
        assert int(b.iterations) == int(a.iterations) == 1
        assert float(b.learning_rate) == pytest.approx(5e-4)
        for va, vb in zip(a.variables, b.variables):
            np.testing.assert_array_equal(np.array(va), np.array(vb))
    for m in (model, loaded):
        m.fit(data, epochs=1, verbose=0)
    for va, vb in zip(model.weights, loaded.weights):
        np.testing.assert_allclose(np.array(va), np.array(vb), atol=1e-5, err_msg=va.path)


def test_unet_ae_save_load_round_trip(digits_images, tmp_path):
    model = build("unet_ae", "inpaint", SHAPE)
    model.compile(run_eagerly=True)
    model.fit(pairs_dataset(model, digits_images[0][:32]), epochs=1, verbose=0)
    inputs = list(model.task.make_input_arrays(digits_images[0][:4]))
    loaded = assert_save_load_equal(model, inputs, tmp_path / "u.keras")
    assert int(loaded.optimizer.iterations) == 2
    assert_config_round_trip(model)


@pytest.mark.ci
def test_runner_trains_and_resumes_a_translator_from_its_checkpoint(tmp_path):
    # Unlabeled photo patches: no evaluator to train for the GAN's collapse watch.
    def config(epochs, name):
        return RunConfig(model="pix2pix", dataset="photos:8", epochs=epochs, steps_per_epoch=3,
                         batch_size=8, checkpoint_every=2, run_dir=str(tmp_path), name=name,
                         validation_fraction=0.02,
                         model_options={"task": "inpaint", "mask": "box", **TINY})

    whole = train(config(2, "whole"), verbose=0)
    train(config(1, "resumed"), verbose=0)
    messages = []
    resumed = train(config(2, "resumed"), verbose=1, log=messages.append)
    assert any("resuming resumed from" in m and "(step 3 of 6)" in m for m in messages)
    assert resumed.steps == 3 and "val_l1" in whole.history
    for a, b in zip(whole.model.weights, resumed.model.weights):
        np.testing.assert_allclose(np.array(a), np.array(b), atol=1e-5, err_msg=a.path)
    assert os.path.exists(tmp_path / "whole" / "images" / "latest.png")


def test_mixed_precision_wraps_both_optimizers(digits_images):
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = build("pix2pix", "sketch", SHAPE)
        model.compile(run_eagerly=True)
        assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer)
        history = model.fit(pairs_dataset(model, digits_images[0][:32]), verbose=0).history
        assert np.isfinite(history["g_loss"][-1]) and np.isfinite(history["d_loss"][-1])
        inputs = model.task.make_input_arrays(digits_images[0][:2])
        assert model.translate(*inputs).dtype == "float32"
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


@pytest.mark.slow
def test_one_and_two_replicas_train_pix2pix_alike():
    # Logical devices must be configured before TensorFlow initializes: a fresh process.
    script = textwrap.dedent("""
        import json
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import keras, numpy as np
        from keras_aegan import compat
        from keras_aegan.models import translation
        from keras_aegan.data import open_source

        x, _ = open_source("digits").arrays("train", limit=48)

        def run(devices):
            keras.utils.set_random_seed(0)
            strategy = compat.mirrored_strategy(devices)
            with strategy.scope():
                model = translation.build_pix2pix((8, 8, 1), task="inpaint", width=4,
                                                  blocks=1)
                model.compile(learning_rate=1e-3)
            ds = tf.data.Dataset.from_tensor_slices(x).batch(16, drop_remainder=True)
            history = model.fit(ds.map(model.task.pairs()), epochs=1, verbose=0).history
            return (strategy.num_replicas_in_sync, history,
                    [w.numpy() for w in model.trainable_weights])

        n1, h1, w1 = run(["/cpu:0"])
        n2, h2, w2 = run(["/cpu:0", "/cpu:1"])
        print(json.dumps({
            "replicas": [n1, n2],
            "loss_diff": max(abs(h1[k][-1] - h2[k][-1]) for k in ("d_loss", "g_loss")),
            "weight_diff": max(float(np.max(np.abs(a - b))) for a, b in zip(w1, w2))}))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["replicas"] == [1, 2]
    assert result["loss_diff"] < 1e-3 and result["weight_diff"] < 1e-4, result


def test_bad_model_input_is_refused(digits_images):
    with pytest.raises(UserError, match="factor 4 does not divide the image size 30x30"):
        translation.build_pix2pix((30, 30, 1), task="super_resolution", factor=4)
    with pytest.raises(UserError, match="colorize needs colour"):
        translation.build_unet_ae(SHAPE, task="colorize")
    model = build("unet_ae", "super_resolution", SHAPE)
    with pytest.raises(UserError, match=r"low_resolution: .* \(batch, 4, 4, 1\), got \(2, 8, "):
        model.translate(np.zeros((2, 8, 8, 1), "float32"))
    pix = build("pix2pix", "super_resolution", SHAPE)
    pix.compile()
    with pytest.raises(UserError, match=r"\(inputs, images\) pairs"):
        pix.fit(digits_images[0][:16], batch_size=16, verbose=0)


# ---------------------------------------------------------------------------- export


@pytest.mark.parametrize("task", [pytest.param("super_resolution", marks=pytest.mark.slow),
                                  "inpaint"])
def test_export_parity_of_the_translator(task, digits_images, tmp_path):
    from keras_aegan import export

    model = build("unet_ae", task, SHAPE)
    model.compile(run_eagerly=True)
    model.fit(pairs_dataset(model, digits_images[0][:32]), epochs=1, verbose=0)
    images = digits_images[0][:32]
    result = export.export_model(model, tmp_path / "out", images=images,
                                 examples=model.task.examples(images))
    part = result.manifest["parts"]["translator"]
    assert all(a["ok"] for a in part["artifacts"])
    ports = model.task.input_ports()
    assert list(part["inputs"]) == [p.name for p in ports]
    assert task in part["about"]
    # Reloaded as a user elsewhere would, at another batch size.
    batch = model.task.make_input_arrays(images[:7])
    feed = {p.name: x for p, x in zip(ports, batch)}
    want = np.asarray(model.translate(*batch))
    loaded = tf.saved_model.load(str(tmp_path / "out" / "translator"))
    got = loaded.signatures["serving_default"](**{k: tf.constant(v) for k, v in feed.items()})
    np.testing.assert_allclose(got["translation"].numpy(), want, atol=1e-5)
    lite = export.run_tflite(str(tmp_path / "out" / "translator.tflite"), feed)
    np.testing.assert_allclose(lite["translation"], want, atol=1e-5)
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["model"]["family"] \
        == "autoencoder"


# ---------------------------------------------------------------------- data and study


def test_photo_patches_are_split_by_photograph():
    from keras_aegan.data import open_source, photos

    source = open_source("photos:16")
    assert source.info.image_shape == (16, 16, 3) and not source.info.labeled
    train_count = sum(photos.PATCHES_PER_PHOTO[s] for _, s in photos.PHOTOS.values()
                      if s == "train")
    assert source.info.splits["test"] == 500 * len(photos.TEST_PHOTOS)
    assert source.info.splits["train"] + source.info.splits["validation"] == train_count
    test, _ = source.arrays("test")
    chelsea = photos.cut_patches(photos.load_photo("chelsea"), 16, 500,
                                 photos._SEED + 1000 * list(photos.PHOTOS).index("chelsea") + 16)
    np.testing.assert_allclose(test[:500], chelsea / 255.0, atol=1e-6)  # same seeded patches
    again, _ = open_source("photos:16").arrays("test")
    np.testing.assert_array_equal(test, again)
    with pytest.raises(UserError, match="patch size must be 8 to 256"):
        open_source("photos:4")


@pytest.mark.slow  # the benchmark's --smoke mode (tests/test_benchmarks.py) runs a study too
def test_task_study_writes_its_table_and_grid(tmp_path):
    from keras_aegan.studies import StudyConfig, run_study

    config = StudyConfig(dataset="digits", task="super_resolution",
                         task_options={"factor": 2, **TINY}, budget_seconds=0.5, batch_size=64,
                         eval_samples=64, export=False, run_dir=str(tmp_path), name="sr")
    results = run_study(config, log=lambda *_: None)
    rows = {e["model"]: e for e in results["summary"]}
    assert set(rows) == {"bicubic", "unet_ae", "pix2pix", "truth"}
    for name in ("bicubic", "unet_ae", "pix2pix"):
        assert {"psnr", "ssim", "fid", "accuracy"} <= set(rows[name])
    report = (tmp_path / "sr" / "report.md").read_text()
    assert "| bicubic | baseline |" in report and "![grid](grid.png)" in report
    assert "columns: input, bicubic, unet_ae, pix2pix, truth" in report
    assert (tmp_path / "sr" / "grid.png").exists() and (tmp_path / "sr" / "report.html").exists()
    with pytest.raises(UserError, match="factor 3 does not divide"):
        run_study(StudyConfig(dataset="digits", task="super_resolution",
                              task_options={"factor": 3}, epochs=1, export=False,
                              run_dir=str(tmp_path), name="bad"), log=lambda *_: None)
