"""The adversarial base: every multi-optimizer model declares its optimizers once, and
saving restores each one's state; a compile config missing one is refused."""

import re

import keras
import numpy as np
import pytest
from conftest import ROOT

from keras_aegan import protocol, registry
from keras_aegan.studies import robust
from keras_aegan.models import labels as labels_lib
from keras_aegan.models.adversarial import AdversarialModel, discriminator_accuracy
from keras_aegan.errors import UserError

# Every adversarial model kind, with the keys its compile config has always had (files
# saved before the base existed hold these, and must still load).
KINDS = {
    "gan": {"d_optimizer", "g_optimizer", "loss"},
    "dcgan": {"d_optimizer", "g_optimizer", "loss"},
    "wgan_gp": {"d_optimizer", "g_optimizer", "loss"},
    "cgan": {"d_optimizer", "g_optimizer", "loss"},
    "recurrent_gan": {"d_optimizer", "g_optimizer", "loss"},
    "char_gan": {"d_optimizer", "g_optimizer", "loss"},
    "aae": {"ae_optimizer", "d_optimizer", "g_optimizer"},
    "caae": {"ae_optimizer", "d_optimizer", "g_optimizer"},
    "timegan": {"e_optimizer", "g_optimizer", "d_optimizer"},
    "pix2pix": {"d_optimizer", "g_optimizer"},
    "adversarial_predictor": {"optimizer", "d_optimizer", "loss"},
    "adversarial_classifier": {"optimizer"},
}


def build(name):
    keras.utils.set_random_seed(0)
    if name == "adversarial_classifier":
        return robust.build_adversarial_classifier((8, 8, 1), num_classes=10, width=4,
                                                   hidden=8)
    entry = registry.get_model_entry(name)
    return entry.builder(registry.DATA_KINDS[entry.data], latent_dim=4, num_classes=10)


def test_every_multi_optimizer_model_derives_from_the_base():
    for name in registry.model_names():
        entry = registry.get_model_entry(name)
        model = entry.builder(registry.DATA_KINDS[entry.data], latent_dim=4, num_classes=10)
        model.compile()
        several = len(protocol.describe(model).optimizers) > 1
        assert several == (name in KINDS), name
        assert isinstance(model, AdversarialModel) == (name in KINDS), name


@pytest.mark.parametrize("name", sorted(KINDS))
def test_saving_restores_every_optimizers_state(name, tmp_path):
    model = build(name)
    model.compile()
    declared = model.optimizers()
    assert list(protocol.describe(model).optimizers) == list(model.optimizer_networks)
    assert set(model.get_compile_config()) == KINDS[name]
    # Each optimizer is built on its own networks' variables, so it has a slot per weight.
    for key, optimizer in declared.items():
        assert optimizer.built, key
        assert len(optimizer.variables) > len(model.trainable_variables_of(key)), key
    # A distinct state in every optimizer variable: a mix-up or a lost one shows.
    rng = np.random.default_rng(0)
    for i, optimizer in enumerate(declared.values()):
        optimizer.iterations.assign(7 + i)
        for variable in optimizer.variables:
            if variable is not optimizer.iterations and "float" in str(variable.dtype):
                variable.assign(rng.uniform(0.1, 1.0, variable.shape).astype(variable.dtype))
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    for key, optimizer in declared.items():
        restored = loaded.optimizers()[key]
        assert type(restored) is type(optimizer) and restored.name == optimizer.name
        assert int(restored.iterations.numpy()) == int(optimizer.iterations.numpy()), key
        for want, got in zip(optimizer.variables, restored.variables, strict=True):
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=key)
    # The sub-networks came back from the config, with their weights.
    for network in model.network_names:
        for want, got in zip(getattr(model, network).weights, getattr(loaded, network).weights,
                             strict=True):
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_a_compile_config_without_one_optimizer_is_refused():
    model = build("aae")
    model.compile()
    config = model.get_compile_config()
    del config["g_optimizer"]
    with pytest.raises(UserError, match="has no g_optimizer; it holds ae_optimizer, "
                                        "d_optimizer"):
        build("aae").compile_from_config(config)


def test_compile_keeps_each_models_keyword_names():
    gan = build("dcgan")
    gan.compile(d_optimizer="sgd", g_optimizer=keras.optimizers.RMSprop(1e-3),
                loss="hinge", learning_rate=1e-3)
    assert isinstance(gan.d_optimizer, keras.optimizers.SGD)
    assert isinstance(gan.g_optimizer, keras.optimizers.RMSprop)
    assert gan.get_compile_config()["loss"] == "hinge"
    aae = build("aae")
    aae.compile(ae_optimizer="sgd", learning_rate=1e-2, adversarial_learning_rate=1e-4)
    assert isinstance(aae.ae_optimizer, keras.optimizers.SGD)
    assert np.isclose(float(aae.d_optimizer.learning_rate.numpy()), 1e-4)
    timegan = build("timegan")
    timegan.compile(e_optimizer="sgd", learning_rate=3e-3)
    assert isinstance(timegan.e_optimizer, keras.optimizers.SGD)
    assert np.isclose(float(timegan.g_optimizer.learning_rate.numpy()), 3e-3)
    with pytest.raises(TypeError):
        gan.compile(x_optimizer="sgd")
    with pytest.raises(UserError, match="learning_rate"):
        timegan.compile(learning_rate=0.0)


def test_only_models_that_scale_their_losses_get_a_loss_scale_optimizer():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        gan, aae = build("dcgan"), build("aae")
        gan.compile()
        aae.compile()
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert all(isinstance(o, keras.optimizers.LossScaleOptimizer)
               for o in gan.optimizers().values())
    # The AAE's train step does not scale its losses: a wrapped optimizer would divide its
    # gradients by a scale they never had.
    assert not any(isinstance(o, keras.optimizers.LossScaleOptimizer)
                   for o in aae.optimizers().values())


def test_no_model_module_imports_the_training_callbacks():
    modules = sorted((ROOT / "keras_aegan" / "models").glob("*.py"))
    assert len(modules) > 10
    offending = [f"{module.name}: {line}" for module in modules
                 for line in module.read_text().splitlines()
                 if re.match(r"\s*(from|import) .*(callbacks|keras_aegan\.training)", line)]
    assert offending == []


def test_discriminator_accuracy_hand_computed():
    # Real: 2 of 4 above 0 (0.5); generated: 1 of 2 below 0 (0.5) -> 0.5. Real: 3 of 4
    # (0.75); generated: 2 of 2 (1.0) -> 0.875: each side weighs half, whatever its size.
    assert float(discriminator_accuracy(np.array([1.0, -1.0, 2.0, -3.0]),
                                        np.array([-1.0, 1.0]))) == 0.5
    assert float(discriminator_accuracy(np.array([1.0, 0.5, 2.0, 0.0]),
                                        np.array([-1.0, -2.0]))) == 0.875


def test_check_labels_shapes_counts_and_range():
    np.testing.assert_array_equal(labels_lib.check_labels([0, 2, 1], 3, 3), [0, 2, 1])
    column = np.array([[1], [0]])
    np.testing.assert_array_equal(labels_lib.check_labels(column, 2, 3, column=True), [1, 0])
    with pytest.raises(UserError, match="vector of class indices"):
        labels_lib.check_labels(column, 2, 3)  # a column only where the caller takes one
    with pytest.raises(UserError, match="3 labels for 2 codes; give one label per code"):
        labels_lib.check_labels([0, 1, 2], 2, 3, per="code")
    with pytest.raises(UserError, match="for 2 noise vectors; give one label per noise"):
        labels_lib.check_labels([0, 1, 2], 2, 3)
    with pytest.raises(UserError, match=r"labels must be in 0\.\.2, got 0\.\.3"):
        labels_lib.check_labels([0, 3], None, 3)
