"""Tests for keras_aegan.models.layers: hand-computed values, training-only behaviour, configs."""

import keras
import numpy as np
import pytest

from keras_aegan.models import layers
from keras_aegan.errors import UserError


def _round_trip(layer):
    return layer.__class__.from_config(layer.get_config())


def test_sampling_shape_statistics_and_config():
    mean = np.full((4000, 3), 2.0, "float32")
    log_var = np.zeros((4000, 3), "float32")
    z = np.asarray(layers.Sampling(seed=1)([mean, log_var]))
    assert z.shape == (4000, 3)
    assert abs(z.mean() - 2.0) < 0.05 and abs(z.std() - 1.0) < 0.05
    # A tiny variance collapses the sample onto the mean.
    tight = np.asarray(layers.Sampling(seed=1)([mean, np.full_like(log_var, -30.0)]))
    np.testing.assert_allclose(tight, mean, atol=1e-5)
    assert _round_trip(layers.Sampling(seed=7)).seed == 7


def test_kl_divergence_hand_computed():
    layer = layers.KLDivergence(beta=2.0)
    mean = np.array([[1.0, 0.0], [0.0, 0.0]], "float32")
    log_var = np.array([[0.0, 0.0], [np.log(2.0), 0.0]], "float32")
    out = layer([mean, log_var])
    np.testing.assert_allclose(np.asarray(out), mean)
    # KL per example: 0.5 * sum(mu^2 + var - log var - 1) -> [0.5, 0.5 * (1 - ln 2)].
    expected = 2.0 * np.mean([0.5, 0.5 * (1.0 - np.log(2.0))])
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-5)
    assert _round_trip(layer).beta == 2.0
    with pytest.raises(UserError, match="beta"):
        layers.KLDivergence(beta=-1)


def test_dense_transpose_uses_the_shared_kernel():
    dense = keras.layers.Dense(3)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    dense(x)
    tied = layers.DenseTranspose(dense, activation="sigmoid")
    h = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")
    out = np.asarray(tied(h))
    kernel = np.asarray(dense.kernel)
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-(h @ kernel.T))), rtol=1e-5, atol=1e-6)
    assert [w.name for w in tied._trainable_variables] == ["bias"]
    dense.kernel.assign(kernel * 2.0)  # the decoder follows the encoder's kernel
    np.testing.assert_allclose(np.asarray(tied(h)), 1 / (1 + np.exp(-(h @ (2 * kernel).T))),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["gaussian", "dropout"])
def test_corruption_only_in_training(kind):
    x = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
    layer = layers.Corruption(kind, 0.3, seed=3)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    noisy = np.asarray(layer(x, training=True))
    assert noisy.shape == x.shape and not np.allclose(noisy, x)
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0
    if kind == "dropout":
        dropped = np.mean(noisy == 0.0)
        assert 0.25 < dropped < 0.35
        kept = noisy != 0
        np.testing.assert_array_equal(noisy[kept], x[kept])
    assert _round_trip(layer).get_config()["kind"] == kind


def test_corruption_bad_arguments():
    with pytest.raises(UserError, match="noise"):
        layers.Corruption("salt", 0.1)
    with pytest.raises(UserError, match="noise_level"):
        layers.Corruption("dropout", 1.0)


def test_sparsity_regularizer_values():
    h = np.array([[0.1, 0.5], [0.3, 0.5]], "float32")
    l1 = layers.SparsityRegularizer(l1=0.5)
    np.testing.assert_allclose(float(l1(h)), 0.5 * np.mean([0.6, 0.8]), rtol=1e-6)
    kl = layers.SparsityRegularizer(kl_weight=1.0, target=0.2)
    rate = np.array([0.2, 0.5])
    expected = np.sum(0.2 * np.log(0.2 / rate) + 0.8 * np.log(0.8 / (1 - rate)))
    np.testing.assert_allclose(float(kl(h)), expected, rtol=1e-5)
    assert float(kl(np.full((4, 2), 0.2, "float32"))) == pytest.approx(0.0, abs=1e-6)
    again = keras.regularizers.deserialize(keras.regularizers.serialize(kl))
    assert again.get_config() == kl.get_config()


@pytest.mark.parametrize("target", [0.0, 1.0, -0.1, 1.5])
def test_sparsity_target_outside_unit_interval(target):
    with pytest.raises(UserError, match="sparsity_target"):
        layers.SparsityRegularizer(kl_weight=1.0, target=target)


def test_arguments_config_adds_the_named_attributes_to_the_base_config():
    class Scale(layers.ArgumentsConfig, keras.layers.Layer):
        config_arguments = ("factor", "offset")

        def __init__(self, factor=2.0, offset=0.0, **kwargs):
            super().__init__(**kwargs)
            self.factor, self.offset = factor, offset

    config = Scale(3.0, offset=1.0, name="scale").get_config()
    assert config["factor"] == 3.0 and config["offset"] == 1.0
    assert config["name"] == "scale" and "dtype" in config  # the Keras base's keys stay
    again = Scale.from_config(config)
    assert (again.factor, again.offset, again.name) == (3.0, 1.0, "scale")
