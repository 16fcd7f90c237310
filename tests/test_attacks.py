"""Attacks raise the loss, stay within epsilon and [0, 1], and hurt accuracy; the natural
failure search finds exactly the images the classifier gets wrong and the judge right.

A tiny classifier trained for a few seconds on the bundled 8x8 digits is attacked.
"""

import keras
import numpy as np
import pytest

from keras_aegan.evaluation import attacks, classifiers
from keras_aegan.errors import UserError


@pytest.fixture(scope="module")
def trained(digits_source):
    x, y = digits_source.arrays("train")
    xt, yt = digits_source.arrays("test", limit=200)
    keras.utils.set_random_seed(0)
    net = classifiers.build_classifier(x.shape[1:], 10, width=8, hidden=32)
    net.compile(optimizer=keras.optimizers.Adam(3e-3),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    net.fit(x, y, batch_size=64, epochs=15, verbose=0)
    return net, xt, yt


def losses(net, x, y):
    return keras.ops.convert_to_numpy(keras.losses.sparse_categorical_crossentropy(
        y, net(x, training=False), from_logits=True))


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
def test_attack_raises_the_loss_within_epsilon_and_the_unit_range(trained, attack):
    net, x, y = trained
    epsilon = 0.1
    if attack == "fgsm":
        adversarial = attacks.fgsm(net, x, y, epsilon)
    else:
        adversarial = attacks.pgd(net, x, y, epsilon, steps=10, seed=1)
    assert adversarial.shape == x.shape and adversarial.dtype == np.float32
    assert np.abs(adversarial - x).max() <= epsilon + 1e-6
    assert adversarial.min() >= 0.0 and adversarial.max() <= 1.0
    # Pixels at 0 or 1 that the gradient pushes outwards stay put: [0, 1] is kept.
    assert np.any((x == 0.0) & (adversarial == 0.0))
    clean_loss, adv_loss = losses(net, x, y), losses(net, adversarial, y)
    assert adv_loss.mean() > clean_loss.mean() + 0.5
    assert np.mean(adv_loss >= clean_loss - 1e-5) > 0.95  # nearly every example


def test_pgd_is_at_least_as_strong_as_fgsm_and_accuracy_falls_with_epsilon(trained):
    net, x, y = trained
    clean = attacks.robust_accuracy(net, x, y, epsilon=0.0)
    assert clean > 0.85
    fgsm = attacks.robust_accuracy(net, x, y, attack="fgsm", epsilon=0.1)
    pgd_small = attacks.robust_accuracy(net, x, y, attack="pgd", epsilon=0.05, steps=10)
    pgd = attacks.robust_accuracy(net, x, y, attack="pgd", epsilon=0.1, steps=10)
    assert pgd <= fgsm < clean
    assert pgd <= pgd_small < clean
    rows = attacks.robustness_rows(net, x[:64], y[:64], epsilons=(0.1,), pgd_steps=5)
    assert rows[0]["epsilon"] == 0.1 and rows[0]["pgd_attack"] == \
        "PGD-5, step 0.01, 1 random start"


def test_pgd_restarts_only_add_failures(trained):
    net, x, y = trained
    one = attacks.pgd(net, x, y, 0.05, steps=3, restarts=1, seed=2)
    three = attacks.pgd(net, x, y, 0.05, steps=3, restarts=3, seed=2)
    wrong_one = attacks.predict_classes(net, one) != y
    wrong_three = attacks.predict_classes(net, three) != y
    assert wrong_three.sum() >= wrong_one.sum()
    assert np.abs(three - x).max() <= 0.05 + 1e-6


@pytest.mark.parametrize("epsilon", [-0.1, 1.5, float("nan")])
def test_bad_epsilon_is_a_user_error(trained, epsilon):
    net, x, y = trained
    with pytest.raises(UserError, match=r"epsilon must be in \[0, 1\]"):
        attacks.fgsm(net, x[:2], y[:2], epsilon)
    with pytest.raises(UserError, match=r"epsilon must be in \[0, 1\]"):
        attacks.robust_accuracy(net, x[:2], y[:2], epsilon=epsilon)


def test_bad_batches_are_user_errors(trained):
    net, x, y = trained
    with pytest.raises(UserError, match="images must be in"):
        attacks.fgsm(net, x[:2] * 3.0, y[:2], 0.1)
    with pytest.raises(UserError, match="2 images and 3 labels"):
        attacks.pgd(net, x[:2], y[:3], 0.1)
    with pytest.raises(UserError, match="attack must be one of"):
        attacks.robust_accuracy(net, x[:2], y[:2], attack="cw")


# ---------------------------------------------------------------- natural failures


def _mean_pixel_classifier(threshold, scale=20.0, judge=False):
    """A hand-made 2-class network on 8x8 images: class 1 when the mean pixel exceeds
    `threshold` (as a judge: class 0 below it)."""
    inputs = keras.Input((8, 8, 1))
    dense = keras.layers.Dense(2)
    outputs = dense(keras.layers.Flatten()(inputs))
    kernel = np.zeros((64, 2), "float32")
    kernel[:, 1] = scale / 64
    dense.set_weights([kernel, np.array([0.0, -scale * threshold], "float32")])
    return keras.Model(inputs, outputs)


def _constant_images(codes, labels):
    del labels
    values = np.clip(np.asarray(codes)[:, :1], 0.0, 1.0)
    return np.broadcast_to(values[:, :, None, None], (len(values), 8, 8, 1)).astype("float32")


def test_natural_failures_are_wrong_for_the_classifier_and_right_for_the_judge():
    """Images are flat grey at the level of the code; the classifier calls 1 above 0.5,
    the judge above 0.7. Starts at 0.3 (class 0) have failures at levels 0.5..0.59 (the
    judge's 0.9 confidence); starts far away have none within the radii."""
    classifier = _mean_pixel_classifier(0.5)
    judge = _mean_pixel_classifier(0.7)
    codes = np.array([[0.3]] * 6 + [[-2.0]] * 2, "float32")
    intended = np.zeros(8, "int32")
    found = attacks.natural_failures(_constant_images, codes, intended, classifier, judge,
                                     radii=(0.0, 0.1, 0.3), tries=64, seed=0)
    assert found.found.tolist() == [True] * 6 + [False] * 2
    assert found.count == 6 and found.tried == 8 + 2 * 8 * 64
    levels = found.images[:6].mean(axis=(1, 2, 3))
    assert np.all((levels > 0.5) & (levels < 0.6)), levels
    assert np.all(found.predicted[:6] == 1) and np.all(found.judge_confidence[:6] >= 0.9)
    assert np.all((found.distance[:6] > 0.2) & (found.distance[:6] <= 0.3))
    np.testing.assert_allclose(found.codes[:6, 0] - 0.3, found.distance[:6], atol=1e-6)
    images, labels = found.take()
    assert len(images) == 6 and np.all(labels == 0)
    summary = attacks.summarize_failures(found)
    assert summary["found"] == 6 and summary["starts"] == 8
    assert len(attacks.failure_grid_rows(found)) == 1


def test_natural_failure_search_checks_its_input():
    classifier = _mean_pixel_classifier(0.5)
    with pytest.raises(UserError, match="radii must increase"):
        attacks.natural_failures(_constant_images, np.zeros((2, 1)), [0, 0], classifier,
                                 classifier, radii=(0.5, 0.1))
    with pytest.raises(UserError, match="one intended class each"):
        attacks.natural_failures(_constant_images, np.zeros((2, 1)), [0], classifier,
                                 classifier)
