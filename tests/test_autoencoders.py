"""Tests for the autoencoder family: shapes, .keras round trips, one fit step, what keeps
each model from copying its input (linear AE = PCA, VAE KL term, sparsity), bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import assert_config_round_trip, assert_one_step_trains, assert_save_load_equal
from keras_aegan import registry
from keras_aegan.models import autoencoders, layers
from keras_aegan.errors import UserError

AUTOENCODERS = ["conv_ae", "dense_ae", "linear_ae", "tied_ae", "recurrent_ae", "denoising_ae",
                "sparse_ae", "vae"]


def build(name, image_shape=(8, 8, 1), latent_dim=4, **options):
    model = registry.get_model_entry(name).builder(image_shape, latent_dim=latent_dim, **options)
    model.compile()
    return model


def test_every_autoencoder_is_registered():
    for name in AUTOENCODERS:
        entry = registry.get_model_entry(name)
        assert entry.family == "autoencoder" and entry.consumes == "images"
        assert entry.validated
        assert entry.description


@pytest.mark.parametrize("name", AUTOENCODERS)
def test_fit_step_changes_weights_and_keras_round_trip(name, digits_images, tmp_path):
    x, _ = digits_images
    keras.utils.set_random_seed(0)
    model = build(name)
    assert_config_round_trip(model)
    history = assert_one_step_trains(model, x, batch_size=64)
    assert np.isfinite(history["loss"][-1])

    assert tuple(model(x[:5]).shape) == (5, 8, 8, 1)
    codes = np.asarray(model.encode(x[:5]))
    assert codes.shape == (5, 4) and model.latent_dim == 4 and model.image_shape == (8, 8, 1)
    decoded = np.asarray(model.decode(codes))
    assert decoded.shape == (5, 8, 8, 1)
    if name != "linear_ae":
        assert decoded.min() >= 0.0 and decoded.max() <= 1.0

    loaded = assert_save_load_equal(model, x[:16], tmp_path / f"{name}.keras")
    np.testing.assert_allclose(np.asarray(loaded.encode(x[:16])), np.asarray(model.encode(x[:16])),
                               atol=1e-6)
    # The optimizer state travels too, so training resumes where it stopped.
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) > 0
    loaded.fit(x, x, batch_size=64, epochs=1, verbose=0)


@pytest.mark.parametrize("name", AUTOENCODERS)
@pytest.mark.parametrize("image_shape", [(28, 28, 1), (32, 32, 3)])
def test_any_image_shape(name, image_shape):
    model = build(name, image_shape, latent_dim=3)
    x = np.random.default_rng(0).uniform(size=(2, *image_shape)).astype("float32")
    assert tuple(model(x).shape) == (2, *image_shape)
    assert tuple(model.encode(x).shape) == (2, 3)


@pytest.mark.parametrize("name", AUTOENCODERS)
def test_exported_calls_are_deterministic_graphs(name):
    model = build(name)
    x = np.random.default_rng(0).uniform(size=(3, 8, 8, 1)).astype("float32")
    spec = tf.TensorSpec([None, 8, 8, 1], tf.float32)
    reconstruct = tf.function(lambda t: model(t, training=False), input_signature=[spec])
    encode = tf.function(model.encode, input_signature=[spec])
    decode = tf.function(model.decode, input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    np.testing.assert_allclose(reconstruct(x).numpy(), reconstruct(x).numpy())
    np.testing.assert_allclose(reconstruct(x).numpy(), np.asarray(model(x)), atol=1e-6)
    codes = encode(x).numpy()
    np.testing.assert_allclose(codes, encode(x).numpy())
    assert decode(codes).shape == (3, 8, 8, 1)


@pytest.mark.parametrize("name", AUTOENCODERS)
@pytest.mark.parametrize("latent_dim", [0, -3, 2.5])
def test_latent_dim_must_be_positive(name, latent_dim):
    with pytest.raises(UserError, match="latent_dim"):
        registry.get_model_entry(name).builder((8, 8, 1), latent_dim=latent_dim)


@pytest.mark.parametrize("name", AUTOENCODERS)
def test_wrong_image_shape_names_image_shape(name):
    model = build(name)
    with pytest.raises(UserError, match="image_shape"):
        model(np.zeros((2, 28, 28, 1), "float32"))
    with pytest.raises(UserError, match="image_shape"):
        model.encode(np.zeros((2, 8, 8, 3), "float32"))
    with pytest.raises(UserError, match="latent_dim"):
        model.decode(np.zeros((2, 5), "float32"))


def test_compile_learning_rate():
    model = registry.get_model_entry("dense_ae").builder((8, 8, 1), latent_dim=4)
    model.compile(learning_rate=0.0123)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0123)


def test_linear_autoencoder_learns_the_pca_subspace(digits_source):
    from sklearn.decomposition import PCA

    x, _ = digits_source.arrays("train")
    x_test, _ = digits_source.arrays("test")
    k = 8
    flat_test = x_test.reshape(len(x_test), -1)
    pca = PCA(k).fit(x.reshape(len(x), -1))
    pca_error = np.mean(np.sum((pca.inverse_transform(pca.transform(flat_test)) - flat_test) ** 2,
                               axis=1))
    keras.utils.set_random_seed(0)
    model = registry.get_model_entry("linear_ae").builder((8, 8, 1), latent_dim=k)
    steps = 600
    schedule = keras.optimizers.schedules.CosineDecay(0.05, steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule))
    data = tf.data.Dataset.from_tensor_slices((x, x)).repeat().shuffle(2048, seed=0).batch(256)
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    reconstruction = np.asarray(model(x_test)).reshape(len(x_test), -1)
    ae_error = np.mean(np.sum((reconstruction - flat_test) ** 2, axis=1))
    # Same reconstruction error as PCA within 3% (a random 8-d subspace is ~3x worse) ...
    assert ae_error < 1.03 * pca_error
    # ... because the decoder spans the principal subspace: principal angles are small.
    basis, _ = np.linalg.qr(np.asarray(model.decoder.get_layer("pixels").kernel).T)
    cosines = np.linalg.svd(basis.T @ pca.components_.T, compute_uv=False)
    assert np.mean(cosines ** 2) > 0.8
    first = pca.components_[0]
    assert np.linalg.norm(basis.T @ first) > 0.99


def test_tied_autoencoder_shares_kernels_and_halves_parameters():
    tied = build("tied_ae", units=(32,))
    untied = build("dense_ae", units=(32,))
    assert tied.count_params() < 0.55 * untied.count_params()
    encoder_kernels = {id(w) for w in tied.encoder.trainable_weights}
    tied_layers = [l for l in tied.decoder.layers if isinstance(l, layers.DenseTranspose)]
    assert len(tied_layers) == 2
    assert all(id(l.dense.kernel) in encoder_kernels for l in tied_layers)


def test_denoising_corrupts_only_while_training(digits_images):
    x, _ = digits_images
    model = build("denoising_ae", noise="dropout", noise_level=0.5, seed=1)
    clean = np.asarray(model(x[:8], training=False))
    np.testing.assert_array_equal(clean, np.asarray(model(x[:8], training=False)))
    assert not np.allclose(np.asarray(model(x[:8], training=True)), clean)
    corrupted = np.asarray(model.corrupt(x[:8]))
    assert np.mean(corrupted == 0) > np.mean(x[:8] == 0)
    assert model.get_config()["noise"] == "dropout"


def test_recurrent_autoencoder_takes_time_series(tmp_path):
    t = np.linspace(0, 4 * np.pi, 20, dtype="float32")
    phases = np.random.default_rng(0).uniform(0, 2 * np.pi, size=(32, 1, 1)).astype("float32")
    series = np.concatenate([np.sin(t[None, :, None] + phases),
                             3.0 * np.cos(t[None, :, None] + phases)], axis=-1)  # (32, 20, 2)
    model = build("recurrent_ae", image_shape=(20, 2), latent_dim=3, units=16)
    model.fit(series, series, batch_size=16, epochs=1, verbose=0)
    out = np.asarray(model(series))
    assert out.shape == (32, 20, 2)
    # Unbounded series get a linear output, not a sigmoid squashed into [0, 1].
    assert model.decoder.get_layer("steps").activation is keras.activations.linear
    path = str(tmp_path / "rae.keras")
    model.save(path)
    np.testing.assert_allclose(np.asarray(keras.saving.load_model(path)(series)), out, atol=1e-6)
    with pytest.raises(UserError, match="image_shape"):
        model(np.zeros((2, 21, 2), "float32"))


def test_vae_kl_term_metrics_and_sampling(digits_images):
    x, _ = digits_images
    keras.utils.set_random_seed(0)
    model = build("vae", beta=1.0, seed=3)
    model(x[:32], training=True)
    assert len(model.losses) == 1
    kl = float(model.losses[0])
    assert np.isfinite(kl) and kl >= 0.0
    history = model.fit(x, x, batch_size=32, epochs=2, verbose=0).history
    for key in ("loss", "reconstruction_loss", "kl_loss"):
        assert key in history and np.all(np.isfinite(history[key]))
    assert history["kl_loss"][-1] > 0.0
    # loss = reconstruction + KL (epoch means of the same batches).
    np.testing.assert_allclose(history["loss"][-1],
                               history["reconstruction_loss"][-1] + history["kl_loss"][-1],
                               rtol=1e-4)
    evaluation = model.evaluate(x, x, verbose=0, return_dict=True)
    assert evaluation["kl_loss"] > 0.0
    # encode returns the (deterministic) mean; training calls sample.
    np.testing.assert_array_equal(np.asarray(model.encode(x[:8])), np.asarray(model.encode(x[:8])))
    z_mean, _ = model.encode_distribution(x[:8])
    np.testing.assert_allclose(np.asarray(model.encode(x[:8])), np.asarray(z_mean))
    assert not np.allclose(np.asarray(model(x[:8], training=True)),
                           np.asarray(model(x[:8], training=True)))
    samples = np.asarray(model.sample(6, seed=1))
    assert samples.shape == (6, 8, 8, 1) and 0.0 <= samples.min() and samples.max() <= 1.0
    np.testing.assert_allclose(samples, np.asarray(model.sample(6, seed=1)))
    assert len(model.preview(x[:4])) == 3


def test_vae_beta_scales_the_kl_term(digits_images):
    x, _ = digits_images
    keras.utils.set_random_seed(0)
    one = build("vae", beta=1.0)
    four = autoencoders.VariationalAutoencoder.from_config({**one.get_config(), "beta": 4.0})
    four.set_weights(one.get_weights())
    one(x[:16]), four(x[:16])
    np.testing.assert_allclose(float(four.losses[0]), 4.0 * float(one.losses[0]), rtol=1e-5)


def test_sparsity_penalty_lowers_mean_activation(digits_images):
    x, _ = digits_images
    rates = {}
    for kl_weight in (0.0, 3.0):
        keras.utils.set_random_seed(0)
        model = build("sparse_ae", latent_dim=32, units=(32,), kl_weight=kl_weight,
                      sparsity_target=0.05)
        model.compile(learning_rate=3e-3)
        model.fit(x, x, batch_size=32, epochs=8, verbose=0)
        rates[kl_weight] = model.mean_activation(x)
    assert rates[3.0] < 0.5 * rates[0.0]
    assert rates[3.0] < 0.2


@pytest.mark.parametrize("target", [0.0, 1.0, 1.2])
def test_sparse_target_outside_unit_interval(target):
    with pytest.raises(UserError, match="sparsity_target"):
        registry.get_model_entry("sparse_ae").builder((8, 8, 1), sparsity_target=target)


@pytest.mark.parametrize("name", ["vae", "denoising_ae"])
def test_dense_backbone_round_trip(name, digits_images, tmp_path):
    x, _ = digits_images
    model = build(name, backbone="dense", units=(16,))
    assert_one_step_trains(model, x, batch_size=64)
    assert not any(isinstance(l, keras.layers.Conv2D) for l in model.encoder.layers)
    assert_save_load_equal(model, x[:8], tmp_path / f"{name}.keras")
    with pytest.raises(UserError, match="backbone"):
        build(name, backbone="transformer")


def test_dense_ae_batch_norm_round_trip(digits_images, tmp_path):
    x, _ = digits_images
    model = build("dense_ae", units=(16, 8), batch_norm=True)
    assert any(isinstance(l, keras.layers.BatchNormalization) for l in model.encoder.layers)
    assert_one_step_trains(model, x, batch_size=64)
    assert_save_load_equal(model, x[:8], tmp_path / "bn.keras")


def test_conv_ae_residual_blocks_sit_at_the_smallest_feature_map():
    def blocks(model, network):
        layers = getattr(model, network).layers
        return [layer for layer in layers if layer.name.endswith("_add")]

    plain, default, deeper = (build("conv_ae", (28, 28, 1), 30, residual=r) for r in (0, 1, 2))
    assert [len(blocks(m, "encoder")) for m in (plain, default, deeper)] == [0, 1, 2]
    assert [len(blocks(m, "decoder")) for m in (plain, default, deeper)] == [0, 1, 2]
    # Each block is two 3x3 convolutions of the 7x7x64 map, on each side.
    per_block = 2 * (3 * 3 * 64 * 64 + 64)
    assert default.count_params() - plain.count_params() == 2 * per_block
    assert tuple(blocks(default, "encoder")[0].output.shape) == (None, 7, 7, 64)
    with pytest.raises(UserError, match="residual"):
        build("conv_ae", residual=-1)


def test_conv_ae_hidden_layers_take_the_activation_option():
    def activations(model):
        return {layer.activation.__name__ for network in (model.encoder, model.decoder)
                for layer in network.layers if hasattr(layer, "activation")}

    # Every hidden layer (convolutions, residual blocks, projection), not the code or pixels.
    assert activations(build("conv_ae")) == {"silu", "linear", "sigmoid"}
    assert activations(build("conv_ae", activation="relu")) == {"relu", "linear", "sigmoid"}
    for name in ("conv_ae", "dense_ae"):
        with pytest.raises(UserError, match="unknown activation 'swoosh'"):
            build(name, activation="swoosh")


def test_an_autoencoder_keeps_its_default_loss(tmp_path):
    model = build("conv_ae")
    assert model.loss == "binary_crossentropy"
    assert build("conv_ae", loss="mse").loss == "mse" and build("dense_ae").loss == "mse"
    model.save(tmp_path / "ae.keras")
    loaded = keras.saving.load_model(tmp_path / "ae.keras")
    assert loaded.loss_name == "binary_crossentropy"
    with pytest.raises(UserError, match="not a Keras loss"):
        build("conv_ae", loss="hinge_of_doom")
