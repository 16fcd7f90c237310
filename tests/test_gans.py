"""The GAN family: one real step per model, isolation of the two updates, bad input,
divergence, save/resume, mixed precision, determinism and MirroredStrategy.

Networks are tiny and the data is the bundled 8x8 digits, so the whole file stays fast.
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

from conftest import ROOT, weights_changed
from keras_aegan.models import gan_variants, networks
from keras_aegan.training.callbacks import DivergenceGuard, TrainingDiverged
from keras_aegan.errors import UserError
from keras_aegan.registry import get_model_entry, model_names
from keras_aegan.training.runner import RunConfig, train

SHAPE = (8, 8, 1)
LATENT = 8
TINY = {"gan": {"units": (32, 32)}, "dcgan": {"width": 8}, "wgan_gp": {"width": 8, "d_steps": 2},
        "cgan": {"width": 8}}
MODELS = tuple(TINY)


def build(name, **options):
    return get_model_entry(name).builder(SHAPE, latent_dim=LATENT, num_classes=10,
                                         **{**TINY[name], **options})


def fit_args(name, digits_images, n=32):
    x, y = digits_images
    return (x[:n], y[:n]) if name == "cgan" else (x[:n], None)


def trainable(network):
    return [np.array(v) for v in network.trainable_weights]


def run_subprocess(script, timeout=240):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3",
           "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- registry


def test_registered_with_targets():
    names = model_names()
    for name in MODELS:
        assert name in names
        assert get_model_entry(name).family == "gan"
    assert get_model_entry("cgan").consumes == "labeled_images"
    assert get_model_entry("cgan").validated
    assert {get_model_entry(n).consumes for n in ("gan", "dcgan", "wgan_gp")} == {"images"}
    assert not any(get_model_entry(n).validated for n in ("gan", "dcgan", "wgan_gp"))


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (32, 32, 3), (64, 64, 3), (30, 20, 3)])
def test_dcgan_networks_sized_to_the_image(shape):
    g = networks.dcgan_generator(shape, LATENT, width=4)
    d = networks.dcgan_discriminator(shape, width=4)
    assert g.output_shape == (None, *shape)
    assert d.input_shape == (None, *shape) and d.output_shape == (None, 1)
    images = np.asarray(g(np.random.normal(size=(2, LATENT)).astype("float32")))
    assert images.min() >= 0.0 and images.max() <= 1.0


def test_conditional_networks_take_labels():
    g = networks.dense_generator(SHAPE, LATENT, (16,), num_classes=3)
    d = networks.dense_discriminator(SHAPE, (16,), num_classes=3)
    images = g([np.zeros((2, LATENT), "float32"), np.array([0, 2])])
    assert d([np.asarray(images), np.array([0, 2])]).shape == (2, 1)


# ------------------------------------------------------------------------- one real step


@pytest.mark.parametrize("name", MODELS)
def test_one_fit_step_trains_both_networks(name, digits_images):
    model = build(name)
    model.compile()
    g_before, d_before = trainable(model.generator), trainable(model.discriminator)
    x, y = fit_args(name, digits_images)
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"][0]) and np.isfinite(history["g_loss"][0])
    assert weights_changed(g_before, trainable(model.generator))
    assert weights_changed(d_before, trainable(model.discriminator))
    assert int(model.g_optimizer.iterations) == 1
    assert int(model.d_optimizer.iterations) == (2 if name == "wgan_gp" else 1)
    images = model.sample(3, seed=1)
    assert images.shape == (3, *SHAPE) and 0.0 <= images.min() and images.max() <= 1.0


@pytest.mark.parametrize("name", MODELS)
def test_each_update_leaves_the_other_network_alone(name, digits_images):
    x, y = fit_args(name, digits_images)
    for frozen in ("generator", "discriminator"):
        keras.utils.set_random_seed(0)
        model = build(name)
        # A zero learning rate isolates the other optimizer's update.
        zero, adam = keras.optimizers.Adam(0.0), keras.optimizers.Adam(1e-3)
        model.compile(d_optimizer=zero if frozen == "discriminator" else adam,
                      g_optimizer=zero if frozen == "generator" else adam)
        other = "discriminator" if frozen == "generator" else "generator"
        before = {n: trainable(getattr(model, n)) for n in (frozen, other)}
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        after = {n: trainable(getattr(model, n)) for n in (frozen, other)}
        for a, b in zip(before[frozen], after[frozen]):
            np.testing.assert_array_equal(a, b, err_msg=f"{name}: {frozen} moved")
        assert weights_changed(before[other], after[other]), f"{name}: {other} did not train"


@pytest.mark.ci
def test_runner_trains_dcgan_and_writes_a_grid(tmp_path):
    result = train(RunConfig(model="dcgan", dataset="digits", epochs=1, steps_per_epoch=2,
                             batch_size=16, latent_dim=LATENT, run_dir=str(tmp_path)),
                   verbose=0)
    assert os.path.exists(os.path.join(result.path, "images", "epoch_001.png"))
    assert np.isfinite(result.history["g_loss"][-1])
    reloaded = keras.models.load_model(os.path.join(result.path, "model.keras"))
    z = np.random.default_rng(0).normal(size=(4, LATENT)).astype("float32")
    np.testing.assert_allclose(reloaded.generate(z), result.model.generate(z), atol=1e-6)


def test_runner_trains_cgan_with_validation(tmp_path):
    result = train(RunConfig(model="cgan", dataset="digits", epochs=1, steps_per_epoch=2,
                             batch_size=16, latent_dim=LATENT, learning_rate=1e-3,
                             run_dir=str(tmp_path)), verbose=0)
    assert "val_d_loss" in result.history
    assert result.model.num_classes == 10
    assert float(result.model.g_optimizer.learning_rate) == pytest.approx(1e-3)
    assert os.path.exists(os.path.join(result.path, "images", "latest.png"))


# ------------------------------------------------------------------ generate / bad input


def test_generate_is_deterministic_and_checks_latent_size():
    model = build("dcgan")
    z = np.random.default_rng(0).normal(size=(5, LATENT)).astype("float32")
    np.testing.assert_array_equal(model.generate(z), model.generate(z))
    np.testing.assert_array_equal(model.sample(4, seed=3), model.sample(4, seed=3))
    rows = model.preview(None)
    assert [len(r) for r in rows] == [16] * 4
    np.testing.assert_array_equal(rows[0], model.preview(None)[0])
    with pytest.raises(UserError, match=r"latent size.*\(batch, 8\).*\(5, 3\)"):
        model.generate(np.zeros((5, 3)))
    with pytest.raises(UserError, match="latent size"):
        model.generate(np.zeros((LATENT,)))


def test_conditional_generate_checks_labels():
    model = build("cgan")
    z = np.zeros((4, LATENT), "float32")
    assert model.generate(z, [0, 1, 2, 3]).shape == (4, *SHAPE)
    with pytest.raises(UserError, match="label count: got 3 labels for 4"):
        model.generate(z, [0, 1, 2])
    with pytest.raises(UserError, match=r"labels must be in 0\.\.9"):
        model.generate(z, [0, 1, 2, 10])
    with pytest.raises(UserError, match="latent size"):
        model.generate(np.zeros((4, 2)), [0, 1, 2, 3])
    rows = model.preview(None)
    assert len(rows) == 10 and rows[0].shape == (16, *SHAPE)


def test_conditional_gan_needs_labels(digits_images):
    model = build("cgan")
    model.compile()
    with pytest.raises(UserError, match=r"\(images, labels\)"):
        model.fit(digits_images[0][:16], batch_size=16, verbose=0)
    with pytest.raises(UserError, match="needs class labels"):
        gan_variants.build_cgan(SHAPE, latent_dim=LATENT, num_classes=None)


def test_images_of_the_wrong_shape_are_refused():
    model = build("dcgan")
    model.compile()
    with pytest.raises(UserError, match=r"built for images of shape \(8, 8, 1\)"):
        model.fit(np.zeros((4, 28, 28, 1), "float32"), batch_size=4, verbose=0)


@pytest.mark.parametrize("d_steps", [0, -1, 1.5, "3"])
def test_bad_d_steps(d_steps):
    with pytest.raises(UserError, match="d_steps must be an integer >= 1"):
        build("wgan_gp", d_steps=d_steps)


def test_bad_loss_and_learning_rate():
    with pytest.raises(UserError, match="unknown GAN loss"):
        build("dcgan", loss="mse")
    with pytest.raises(UserError, match="learning_rate"):
        build("dcgan").compile(learning_rate=-1.0)


# ----------------------------------------------------------------------------- divergence


def test_nan_loss_stops_training_naming_the_discriminator(digits_images):
    model = build("dcgan")
    model.compile()
    x = digits_images[0][:64].copy()
    x[40] = np.nan  # in the third batch of 16
    with pytest.raises(TrainingDiverged,
                       match=r"discriminator diverged at step 3 \(epoch 1\): d_loss became nan "
                             r"in step 3; non-finite weights in the discriminator;"):
        model.fit(x, batch_size=16, epochs=2, shuffle=False, verbose=0,
                  callbacks=[DivergenceGuard()])
    assert model.stop_training


def test_divergence_guard_names_the_generator():
    model = build("dcgan")
    guard = DivergenceGuard()
    guard.set_model(model)
    guard.on_train_begin()
    guard.on_epoch_begin(0)
    guard.on_train_batch_end(0, {"d_loss": 0.7, "g_loss": 0.9})
    with pytest.raises(TrainingDiverged,
                       match=r"generator diverged at step 2 \(epoch 1\): g_loss became inf in "
                             r"step 2; weights still finite"):
        guard.on_train_batch_end(1, {"d_loss": 0.7, "g_loss": float("inf")})


# ------------------------------------------------------------------- save, resume, config


@pytest.mark.parametrize("name", ["dcgan", "wgan_gp", "cgan"])
def test_save_reload_keeps_both_optimizers_and_resumes(name, digits_images, tmp_path):
    keras.utils.set_random_seed(0)
    model = build(name, seed=7)
    model.compile(learning_rate=5e-4)
    x, y = fit_args(name, digits_images)
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    assert json.dumps(loaded.get_config()) == json.dumps(model.get_config())
    for attr in ("d_optimizer", "g_optimizer"):
        a, b = getattr(model, attr), getattr(loaded, attr)
        assert int(b.iterations) == int(a.iterations) > 0
        assert float(b.learning_rate) == pytest.approx(5e-4)
        assert len(a.variables) == len(b.variables) > 2
        for va, vb in zip(a.variables, b.variables):
            np.testing.assert_array_equal(np.array(va), np.array(vb), err_msg=f"{attr} {va.path}")
    # Training resumes from the same state: the same next steps give the same weights.
    for m in (model, loaded):
        m.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    # atol: multi-threaded CPU reductions (the gradient penalty's second derivative) differ
    # in the last bits between runs, ~1e-5 after 4 steps; a lost Adam state moves a weight by
    # about the learning rate (5e-4) per step, far beyond it.
    for va, vb in zip(model.weights, loaded.weights):
        np.testing.assert_allclose(np.array(va), np.array(vb), atol=1e-4, err_msg=va.path)
    assert int(loaded.g_optimizer.iterations) == 4


def test_mixed_precision_wraps_both_optimizers(digits_images, tmp_path):
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = build("dcgan")
        model.compile()
        assert isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
        g_before, d_before = trainable(model.generator), trainable(model.discriminator)
        history = model.fit(digits_images[0][:32], batch_size=16, epochs=1, verbose=0).history
        assert np.isfinite(history["d_loss"][-1]) and np.isfinite(history["g_loss"][-1])
        assert weights_changed(g_before, trainable(model.generator))
        assert weights_changed(d_before, trainable(model.discriminator))
        assert model.generate(np.zeros((2, LATENT), "float32")).dtype == "float32"
        path = str(tmp_path / "mixed.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
        assert isinstance(loaded.g_optimizer, keras.optimizers.LossScaleOptimizer)
        assert int(loaded.g_optimizer.iterations) == int(model.g_optimizer.iterations)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


# ------------------------------------------------- determinism and distribution (subprocesses)


# Op determinism is process-wide and logical devices must be configured before TensorFlow
# initializes: both checks run in one fresh interpreter (one TensorFlow start, not two).
FRESH_PROCESS = """
    import json
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, numpy as np
    from keras_aegan import compat
    from keras_aegan.data import open_source
    from keras_aegan.models.gan_variants import build_wgan_gp
    from keras_aegan.models.gans import build_dcgan

    source = open_source("digits")
    # The augmented DCGAN draws its transforms from the model's seed generator too, and each
    # replica transforms its own slice of the step's draws.
    augmented = lambda *a, **k: build_dcgan(*a, diffaugment="translation,cutout", **k)
    builders = (("dcgan", build_dcgan), ("wgan_gp", build_wgan_gp),
                ("dcgan_diffaugment", augmented))

    # One and two replicas (before op determinism: it is not what makes them agree).
    x, _ = source.arrays("train", limit=48)

    def run_replicas(builder, devices):
        keras.utils.set_random_seed(0)
        strategy = compat.mirrored_strategy(devices)
        with strategy.scope():
            model = builder((8, 8, 1), latent_dim=8, width=8, seed=5)
            model.compile(learning_rate=1e-3)
        ds = tf.data.Dataset.from_tensor_slices(x).batch(16, drop_remainder=True)
        history = model.fit(ds, epochs=1, verbose=0).history
        return (strategy.num_replicas_in_sync, history,
                [w.numpy() for w in model.trainable_weights])

    replicas = {}
    for name, builder in builders:
        n1, h1, w1 = run_replicas(builder, ["/cpu:0"])
        n2, h2, w2 = run_replicas(builder, ["/cpu:0", "/cpu:1"])
        replicas[name] = {
            "replicas": [n1, n2],
            "loss_diff": max(abs(h1[k][-1] - h2[k][-1]) for k in ("d_loss", "g_loss")),
            "weight_diff": max(float(np.max(np.abs(a - b))) for a, b in zip(w1, w2)),
            "weight_change": max(float(np.max(np.abs(a))) for a in w1),
        }

    # Two seeded runs, bitwise.
    tf.config.experimental.enable_op_determinism()

    def run(builder):
        keras.utils.set_random_seed(42)
        x = source.dataset("train", 16, seed=3, take=64)
        model = builder((8, 8, 1), latent_dim=8, width=8)
        model.compile()
        model.fit(x.map(lambda images, labels: images), epochs=1, verbose=0)
        return [w.numpy() for w in model.weights]

    seeded = {}
    for name, builder in builders:
        a, b = run(builder), run(builder)
        seeded[name] = all(np.array_equal(u, v) for u, v in zip(a, b))
        keras.utils.set_random_seed(43)
        c = build_dcgan((8, 8, 1), latent_dim=8, width=8).weights
        seeded[name + "_differs_with_seed"] = not all(
            np.array_equal(u, v.numpy()) for u, v in zip(a, c))
    print(json.dumps({"seeded": seeded, "replicas": replicas}))
"""


@pytest.fixture(scope="module")
def fresh_process():
    return run_subprocess(FRESH_PROCESS, timeout=400)


@pytest.mark.ci
def test_two_seeded_runs_give_identical_weights(fresh_process):
    assert fresh_process["seeded"] == {
        "dcgan": True, "dcgan_differs_with_seed": True, "wgan_gp": True,
        "wgan_gp_differs_with_seed": True, "dcgan_diffaugment": True,
        "dcgan_diffaugment_differs_with_seed": True}


@pytest.mark.ci
def test_one_and_two_replicas_train_alike(fresh_process):
    result = fresh_process["replicas"]
    assert set(result) == {"dcgan", "wgan_gp", "dcgan_diffaugment"}
    for name, r in result.items():
        assert r["replicas"] == [1, 2], name
        # Two replicas sum their gradients in another order than one device does; through
        # WGAN-GP's nine critic updates and second-order penalty that reached the logged
        # losses' fourth decimal once in CI (5.4e-4, weights 2.8e-5 apart). A replica
        # drawing the wrong noise or scaling its loss wrongly moves them far more.
        assert r["loss_diff"] < 1e-3, (name, r)
        assert r["weight_diff"] < 1e-4, (name, r)


@pytest.mark.parametrize("name", ["dcgan", "cgan"])
def test_ema_generator_averages_samples_from_the_average_and_saves(name, digits_images,
                                                                   tmp_path):
    keras.utils.set_random_seed(0)
    model = build(name, ema_decay=0.9, seed=3)
    model.compile(learning_rate=1e-3)
    gen, ema = model.generator, model.ema_generator
    assert ema is not None and not ema.trainable and ema.name.endswith("_ema")
    before = [np.array(w) for w in gen.weights]
    for w, a in zip(before, ema.weights):
        np.testing.assert_array_equal(w, np.array(a))
    x, y = fit_args(name, digits_images)
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    # The average moved towards the trained weights, but lags behind them.
    after = [np.array(w) for w in gen.weights]
    averaged = [np.array(a) for a in ema.weights]
    kernel = next(i for i, w in enumerate(gen.weights) if w.path.endswith("kernel"))
    moved = np.abs(after[kernel] - before[kernel]).sum()
    assert 0 < np.abs(averaged[kernel] - before[kernel]).sum() < moved
    assert not np.allclose(averaged[kernel], after[kernel])
    # Samples come from the average.
    z = np.random.default_rng(0).normal(size=(4, LATENT)).astype("float32")
    inputs = [z, np.arange(4) % 10] if name == "cgan" else [z]
    want = np.array(ema(inputs if name == "cgan" else z, training=False))
    got = np.array(model.generate(*inputs))
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert not np.allclose(got, np.array(gen(inputs if name == "cgan" else z, training=False)))
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.ema_decay == 0.9
    for a, b in zip(ema.weights, loaded.ema_generator.weights):
        np.testing.assert_array_equal(np.array(a), np.array(b))


def test_ema_decay_is_checked():
    with pytest.raises(UserError, match="ema_decay"):
        build("dcgan", ema_decay=1.0)


def test_dcgan_discriminator_normalization_is_an_option(digits_images):
    # 8x8 images get one convolution, which is never normalized: train on 28x28 ones
    # (the digits scaled up), whose second convolution is.
    model = get_model_entry("dcgan").builder((28, 28, 1), latent_dim=LATENT, width=8,
                                             d_normalization="layer")
    kinds = {type(layer).__name__ for layer in model.discriminator.layers}
    assert "LayerNormalization" in kinds and "BatchNormalization" not in kinds
    model.compile()
    before = trainable(model.discriminator)
    images = np.asarray(tf.image.resize(digits_images[0][:32], (28, 28)))
    model.fit(images, batch_size=32, epochs=1, verbose=0)
    assert weights_changed(before, trainable(model.discriminator))
    with pytest.raises(UserError, match="normalization"):
        build("dcgan", d_normalization="group")


def test_dcgan_generator_is_twice_as_wide_as_its_discriminator_unless_told():
    def widths(model):
        g = [layer.filters for layer in model.generator.layers
             if isinstance(layer, keras.layers.Conv2DTranspose)]
        d = [layer.filters for layer in model.discriminator.layers
             if isinstance(layer, keras.layers.Conv2D)]
        return g, d

    default = get_model_entry("dcgan").builder((28, 28, 1), latent_dim=LATENT)
    assert widths(default) == ([64, 1], [32, 64])
    narrow = get_model_entry("dcgan").builder((28, 28, 1), latent_dim=LATENT, g_width=32)
    assert widths(narrow) == ([32, 1], [32, 64])
    with pytest.raises(UserError, match="g_width"):
        build("dcgan", g_width=0)
