"""The one classifier builder, the fixed-step trainer and the labelled subsets: the
built-in networks keep their layers (the evaluator's decide every cached evaluator), the
trainer runs exactly the steps asked for, stops at its budget, learns an easy problem and
says how far it is."""

import keras
import numpy as np
import pytest

from keras_aegan.data import subsets
from keras_aegan.evaluation import classifiers, evaluator
from keras_aegan.studies import robust
from keras_aegan.training import fixed_steps
from keras_aegan.errors import UserError


def _blobs(n=256, seed=0):
    """Two well separated classes of 4x4 images: dark (0) and bright (1)."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype("int32")
    x = np.clip(0.25 + 0.5 * y[:, None, None, None] + 0.1 * rng.standard_normal((n, 4, 4, 1)),
                0, 1).astype("float32")
    return x, y


def _tiny(num_classes=2):
    keras.utils.set_random_seed(0)
    return classifiers.build_classifier((4, 4, 1), num_classes, width=4, hidden=8)


@pytest.mark.parametrize("kind,shape,params", [
    # Wong et al. 2020's MNIST network (the robustness experiment's default).
    ("cnn", (28, 28, 1), 166_406),
    # The evaluators: these counts are those of every cached evaluator (EVALUATOR_VERSION 2).
    ("evaluator", (28, 28, 1), 242_730),
    ("evaluator", (8, 8, 1), 356_906),
    ("evaluator", (32, 32, 3), 359_018),
])
def test_built_in_networks_keep_their_layers(kind, shape, params):
    if kind == "cnn":
        net = classifiers.build_classifier(shape, 10)
    else:
        net = evaluator._build_classifier(shape, 10)
    assert net.count_params() == params
    assert net.get_layer("features").output.shape == (None, 128 if kind == "evaluator" else 100)
    logits = net(np.zeros((2, *shape), "float32"))
    assert logits.shape == (2, 10) and logits.dtype == "float32"


def test_the_experiments_networks_are_the_one_builder():
    adversarial = robust.build_adversarial_classifier((8, 8, 1), num_classes=10, width=8,
                                                      hidden=32)
    keras.utils.set_random_seed(0)
    direct = classifiers.build_classifier((8, 8, 1), 10, width=8, hidden=32)
    assert [type(l).__name__ for l in adversarial.network.layers] == \
        [type(l).__name__ for l in direct.layers]
    assert adversarial.network.count_params() == direct.count_params() == 4610


def test_shifts_act_only_in_training():
    keras.utils.set_random_seed(0)
    plain = classifiers.build_classifier((8, 8, 1), 10, width=4, hidden=8)
    shifted = classifiers.build_classifier((8, 8, 1), 10, width=4, hidden=8, shifts=True)
    shifted.set_weights(plain.get_weights())  # the shift layers have no weights
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(shifted(x, training=False), plain(x, training=False),
                               atol=1e-6)
    assert not np.allclose(shifted(x, training=True), plain(x, training=False), atol=1e-3)


def test_a_given_trunk_is_standardised_on_the_given_images():
    inputs = keras.Input((4, 4, 1))
    code = keras.layers.Dense(3)(keras.layers.Flatten()(inputs))
    trunk = keras.Model(inputs, [code, code])  # a VAE-like pair: the first is classified
    x, _ = _blobs(64)
    net = classifiers.build_classifier(num_classes=2, trunk=trunk, standardize_on=x)
    standardized = keras.Model(net.input, net.get_layer("standardize").output)(x)
    standardized = keras.ops.convert_to_numpy(standardized)
    np.testing.assert_allclose(standardized.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(standardized.std(0), 1, atol=1e-2)
    with pytest.raises(UserError, match="differs from the trunk's input"):
        classifiers.build_classifier((8, 8, 1), 2, trunk=trunk)
    with pytest.raises(UserError, match="trunk must be"):
        classifiers.build_classifier((8, 8, 1), 2, trunk="resnet")


def test_the_trainer_runs_exactly_the_steps_asked_for():
    x, y = _blobs()
    model = _tiny()
    history, seconds = fixed_steps.fit_classifier(
        model, fixed_steps.batches(x, y, batch_size=32), 7, epochs=3)
    assert int(model.optimizer.iterations) == 21 and len(history["loss"]) == 3
    assert seconds > 0
    # One pass a epoch: 256 / 100 -> 3 batches, the last of 56.
    model = _tiny()
    data = fixed_steps.batches(x, y, batch_size=100, whole_epochs=True)
    fixed_steps.fit_classifier(model, data, 3, epochs=2)
    assert int(model.optimizer.iterations) == 6


def test_the_trainer_stops_at_its_budget():
    x, y = _blobs()
    model = _tiny()
    _, seconds = fixed_steps.fit_classifier(model, fixed_steps.batches(x, y, batch_size=32),
                                            10**6, budget_seconds=1.0)
    assert 0 < int(model.optimizer.iterations) < 10**6 and seconds < 60


def test_the_trainer_learns_an_easy_problem():
    x, y = _blobs()
    model = _tiny()
    history, _ = fixed_steps.fit_classifier(model, fixed_steps.batches(x, y, batch_size=32),
                                            30, epochs=4, learning_rate=1e-2)
    assert history["loss"][-1] < 0.5 * history["loss"][0], history["loss"]
    assert classifiers.accuracy(model, *_blobs(seed=1)) > 0.95


def test_the_trainer_says_how_far_it_is():
    x, y = _blobs()
    lines = []
    fixed_steps.fit_classifier(_tiny(), fixed_steps.batches(x, y, batch_size=32), 5,
                               log=lines.append, what="tiny", every_seconds=0.0)
    assert len(lines) == 5 and lines[-1].startswith("  tiny: step 5 of 5 (100%), ")
    assert "loss " in lines[-1]
    lines.clear()  # a short training is quiet with the default interval
    fixed_steps.fit_classifier(_tiny(), fixed_steps.batches(x, y, batch_size=32), 5,
                               log=lines.append)
    assert lines == []


def test_labeled_subsets_are_stratified():
    y = np.repeat(np.arange(10), 50)
    index = subsets.labeled_subset(y, 0.1)
    assert len(index) == 50 and np.all(np.bincount(y[index]) == 5)
    assert np.all(np.bincount(y[subsets.labeled_subset(y, 0.001)]) == 1)
    with pytest.raises(UserError, match="fraction"):
        subsets.labeled_subset(y, 0.0)
    with pytest.raises(UserError, match="fewer than 60"):
        subsets.per_class_subset(y, 60)
