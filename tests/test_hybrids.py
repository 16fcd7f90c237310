"""The adversarial autoencoders: both phases of a real step change the intended weights,
the codes move towards the prior, save/load and export round trips, and bad input.

Networks are tiny and the data is the bundled 8x8 digits.
"""

import keras
import numpy as np
import pytest
from conftest import (
    assert_config_round_trip,
    assert_one_step_trains,
    assert_save_load_equal,
    weights_changed,
)

from keras_aegan import protocol
from keras_aegan.models import hybrids
from keras_aegan.errors import UserError
from keras_aegan.registry import get_model_entry

SHAPE = (8, 8, 1)
LATENT = 4
TINY = {"filters": (8, 16), "discriminator_units": (16, 16)}


def build(name="aae", **options):
    keras.utils.set_random_seed(0)
    model = get_model_entry(name).builder(SHAPE, latent_dim=LATENT, num_classes=10,
                                          **{**TINY, **options})
    return model


def snapshot(network):
    return [np.array(w) for w in network.trainable_weights]


def fit_data(name, digits_images, n=32):
    x, y = digits_images
    return (x[:n], y[:n]) if name == "caae" else (x[:n],)


@pytest.mark.parametrize("name", ["aae", "caae"])
def test_one_real_step_trains_every_network(name, digits_images):
    model = build(name)
    model.compile()
    history = assert_one_step_trains(model, fit_data(name, digits_images)[0],
                                     y=fit_data(name, digits_images)[1]
                                     if name == "caae" else None, batch_size=32)
    assert set(history) == {"reconstruction_loss", "d_loss", "g_loss", "d_accuracy"}
    assert model.ae_optimizer.iterations.numpy() == 1
    assert model.d_optimizer.iterations.numpy() == 1 == model.g_optimizer.iterations.numpy()


def test_reconstruction_phase_moves_encoder_and_decoder_only(digits_images):
    """With the regularisation phase's optimizers frozen (learning rate 0), a step changes
    encoder and decoder and leaves the discriminator alone."""
    model = build()
    model.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
    before = {n: snapshot(getattr(model, n)) for n in ("encoder", "decoder", "discriminator")}
    model.fit(digits_images[0][:32], batch_size=32, epochs=1, verbose=0)
    assert weights_changed(before["encoder"], snapshot(model.encoder))
    assert weights_changed(before["decoder"], snapshot(model.decoder))
    assert all(np.array_equal(a, b) for a, b in
               zip(before["discriminator"], snapshot(model.discriminator)))


def test_regularisation_phase_moves_discriminator_and_encoder_not_decoder(digits_images):
    model = build()
    model.compile(ae_optimizer=keras.optimizers.SGD(0.0))
    before = {n: snapshot(getattr(model, n)) for n in ("encoder", "decoder", "discriminator")}
    d_before = keras.ops.convert_to_numpy(model.discriminator(model.encode(
        digits_images[0][:32])))
    model.fit(digits_images[0][:32], batch_size=32, epochs=1, verbose=0)
    assert weights_changed(before["discriminator"], snapshot(model.discriminator))
    assert weights_changed(before["encoder"], snapshot(model.encoder))
    assert all(np.array_equal(a, b) for a, b in zip(before["decoder"], snapshot(model.decoder)))
    # The encoder's adversarial update made its codes look more like prior draws to the
    # discriminator it faced... and the discriminator learnt to call them fake: the
    # logits moved.
    d_after = keras.ops.convert_to_numpy(model.discriminator(model.encode(
        digits_images[0][:32])))
    assert not np.allclose(d_before, d_after)


def _gaussian_kl_to_prior(codes):
    """KL(N(mean, cov of the codes) || N(0, I)): 0 when the codes look like the prior."""
    mean, cov = codes.mean(0), np.cov(codes, rowvar=False)
    return 0.5 * (np.trace(cov) + mean @ mean - len(mean) - np.linalg.slogdet(cov)[1])


@pytest.mark.slow
def test_regularisation_pulls_the_codes_towards_the_prior(digits_source):
    """Six epochs on the digits: the AAE's codes are much closer to N(0, I) than those of
    the same model whose adversarial encoder updates are switched off."""
    x, _ = digits_source.arrays("train")
    kl = {}
    for regularised in (True, False):
        model = build(filters=(16, 32), discriminator_units=(64, 64))
        model.compile(learning_rate=2e-3, **({} if regularised else
                                             {"g_optimizer": keras.optimizers.SGD(0.0)}))
        model.fit(x, batch_size=64, epochs=6, verbose=0)
        kl[regularised] = _gaussian_kl_to_prior(
            keras.ops.convert_to_numpy(model.encode(x[:512])))
    assert kl[True] < 0.6 * kl[False], kl


def test_declares_itself_next_to_the_vae():
    model = build()
    model.compile()
    spec = protocol.describe(model)
    assert spec.family == "autoencoder" and spec.sampler == protocol.SAMPLES_OWN
    assert spec.part_names == ("encoder", "decoder", "autoencoder")
    assert spec.reconstruction == protocol.RECONSTRUCTS_DIRECT
    assert spec.features == ("encoder", "code")
    assert set(spec.networks) == {"encoder", "decoder", "discriminator"}
    assert spec.losses == {"reconstruction_loss": "autoencoder", "d_loss": "discriminator",
                           "g_loss": "encoder"}
    assert set(spec.optimizers) == {"ae_optimizer", "d_optimizer", "g_optimizer"}


def test_samples_from_its_prior_repeatably():
    model = build()
    a = np.asarray(model.sample(5, seed=3))
    b = np.asarray(model.sample(5, seed=3))
    assert a.shape == (5, *SHAPE) and a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, np.asarray(model.sample(5, seed=4)))


@pytest.mark.parametrize("name", ["aae", "caae"])
def test_config_and_save_load_round_trip(name, digits_images, tmp_path):
    model = build(name)
    model.compile()
    if name == "aae":  # one step, so that there is optimizer and seed state to restore
        model.fit(*fit_data(name, digits_images), batch_size=32, epochs=1, verbose=0)
    rebuilt = assert_config_round_trip(model)
    assert type(rebuilt) is type(model)
    x, y = digits_images
    inputs = (x[:4], y[:4]) if name == "caae" else x[:4]
    loaded = assert_save_load_equal(model, inputs, tmp_path / f"{name}.keras")
    # The optimizers' state and the prior's seed state come back too.
    assert loaded.ae_optimizer.iterations.numpy() == model.ae_optimizer.iterations.numpy()
    np.testing.assert_array_equal(loaded.prior_seed.state.numpy(),
                                  model.prior_seed.state.numpy())


def test_conditional_generates_the_asked_class_shapes_and_checks_labels():
    model = build("caae")
    model.compile()
    spec = protocol.describe(model)
    assert spec.conditional and spec.num_classes == 10
    assert spec.part_names == ("encoder", "generator") and spec.reconstruction is None
    z = np.zeros((3, LATENT), "float32")
    images = np.asarray(model.generate(z, np.array([0, 1, 2])))
    assert images.shape == (3, *SHAPE)
    # Same code, different labels: different images (the label reaches the decoder).
    assert not np.allclose(images[0], images[1])
    with pytest.raises(UserError, match="labels must be in 0..9"):
        model.generate(z, np.array([0, 1, 10]))
    with pytest.raises(UserError, match="label count"):
        model.generate(z, np.array([0, 1]))
    with pytest.raises(UserError, match="decodes codes together with class labels"):
        model.decode(z)


def test_conditional_refuses_batches_without_labels(digits_images):
    model = build("caae")
    model.compile()
    with pytest.raises(UserError, match=r"\(images, labels\) batches"):
        model.train_step(keras.ops.convert_to_tensor(digits_images[0][:32]))


def test_bad_options_are_user_errors():
    with pytest.raises(UserError, match="reconstruction_loss must be one of"):
        build(reconstruction_loss="l1")
    with pytest.raises(UserError, match="backbone must be"):
        build(backbone="resnet")
    with pytest.raises(UserError, match="caae needs class labels"):
        hybrids.caae(SHAPE, LATENT, num_classes=None)
    with pytest.raises(UserError, match="code discriminator takes codes of 5"):
        model = build()
        hybrids.AdversarialAutoencoder(model.encoder, model.decoder,
                                       hybrids.code_discriminator(5))


@pytest.mark.slow
def test_trains_through_the_runner_and_exports(tmp_path):
    from keras_aegan.config import RunConfig
    from keras_aegan.training.runner import export_run, train

    result = train(RunConfig(model="aae", dataset="digits", epochs=1, steps_per_epoch=3,
                             batch_size=16, latent_dim=LATENT, run_dir=str(tmp_path),
                             name="aae", model_options=dict(TINY)), verbose=0)
    assert set(result.history) >= {"reconstruction_loss", "val_reconstruction_loss"}
    out = export_run(result.path, tmp_path / "export")
    assert set(out.manifest["parts"]) == {"encoder", "decoder", "autoencoder"}
    assert all(a["ok"] for p in out.manifest["parts"].values() for a in p["artifacts"])
