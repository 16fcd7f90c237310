"""Each GAN loss against a value computed by hand."""

import math

import numpy as np
import pytest
import tensorflow as tf

from keras_aegan.models import losses
from keras_aegan.errors import UserError


def softplus(x):
    return math.log1p(math.exp(x))


def value(x):
    return float(np.asarray(x))


def test_minimax_discriminator_loss_at_even_odds():
    # D = sigmoid(0) = 0.5 on both: -log(0.5) - log(1 - 0.5) = 2 ln 2.
    assert value(losses.minimax_discriminator_loss([0.0], [0.0])) == pytest.approx(
        2 * math.log(2), rel=1e-6)


def test_minimax_discriminator_loss_is_mean_binary_cross_entropy():
    real, fake = [2.0, 0.0], [-1.0, 3.0]
    # -log(sigmoid(l)) = softplus(-l);  -log(1 - sigmoid(l)) = softplus(l)
    expected = (softplus(-2.0) + softplus(0.0)) / 2 + (softplus(-1.0) + softplus(3.0)) / 2
    assert value(losses.minimax_discriminator_loss(real, fake)) == pytest.approx(expected,
                                                                                 rel=1e-6)


def test_minimax_discriminator_loss_label_smoothing():
    # Real target 0.9: 0.9 * -log(sigmoid(2)) + 0.1 * -log(1 - sigmoid(2)).
    expected = 0.9 * softplus(-2.0) + 0.1 * softplus(2.0) + softplus(-3.0)
    got = losses.minimax_discriminator_loss([2.0], [-3.0], label_smoothing=0.1)
    assert value(got) == pytest.approx(expected, rel=1e-6)


def test_minimax_discriminator_loss_finite_for_saturated_logits():
    confident = value(losses.minimax_discriminator_loss([100.0], [-100.0]))
    wrong = value(losses.minimax_discriminator_loss([-100.0], [100.0]))
    assert confident == pytest.approx(0.0, abs=1e-6)
    assert wrong == pytest.approx(200.0, rel=1e-6)


def test_minimax_generator_loss():
    # log(1 - D(G(z))) with D = 0.5 is log(0.5) = -ln 2.
    assert value(losses.minimax_generator_loss([0.0])) == pytest.approx(-math.log(2), rel=1e-6)
    assert value(losses.minimax_generator_loss([1.0, -1.0])) == pytest.approx(
        -(softplus(1.0) + softplus(-1.0)) / 2, rel=1e-6)


def test_non_saturating_generator_loss():
    assert value(losses.non_saturating_generator_loss([0.0])) == pytest.approx(math.log(2),
                                                                               rel=1e-6)
    # -log(sigmoid(-1)) = log(1 + e), -log(sigmoid(1)) = log(1 + 1/e).
    assert value(losses.non_saturating_generator_loss([-1.0, 1.0])) == pytest.approx(
        (math.log(1 + math.e) + math.log(1 + 1 / math.e)) / 2, rel=1e-6)


def test_non_saturating_gradient_does_not_vanish_when_generator_loses():
    logits = tf.constant([-20.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logits)
        saturating = losses.minimax_generator_loss(logits)
        non_saturating = losses.non_saturating_generator_loss(logits)
    assert abs(float(tape.gradient(saturating, logits)[0])) < 1e-8
    assert float(tape.gradient(non_saturating, logits)[0]) == pytest.approx(-1.0, rel=1e-6)


def test_least_squares_losses():
    # 0.5 * mean([(1-1)^2, (0-1)^2]) + 0.5 * mean([0^2, 1^2]) = 0.25 + 0.25
    assert value(losses.least_squares_discriminator_loss([1.0, 0.0], [0.0, 1.0])) == \
        pytest.approx(0.5)
    # 0.5 * mean([(0-1)^2, (1-1)^2]) = 0.25
    assert value(losses.least_squares_generator_loss([0.0, 1.0])) == pytest.approx(0.25)


def test_hinge_losses():
    # real: relu(1-2)=0, relu(1-0.5)=0.5 -> 0.25; fake: relu(1-2)=0, relu(1+0.5)=1.5 -> 0.75
    assert value(losses.hinge_discriminator_loss([2.0, 0.5], [-2.0, 0.5])) == pytest.approx(1.0)
    assert value(losses.hinge_generator_loss([1.0, 3.0])) == pytest.approx(-2.0)


def test_wasserstein_losses():
    # E[D(fake)] - E[D(real)] = 1 - 2
    assert value(losses.wasserstein_discriminator_loss([1.0, 3.0], [0.0, 2.0])) == \
        pytest.approx(-1.0)
    assert value(losses.wasserstein_generator_loss([0.0, 2.0])) == pytest.approx(-1.0)


def test_losses_accept_float16_and_return_float32():
    out = losses.minimax_discriminator_loss(tf.constant([1.0], tf.float16),
                                            tf.constant([-1.0], tf.float16))
    assert out.dtype == tf.float32


def test_safe_norm_value_and_finite_gradient_at_zero():
    assert value(losses.safe_norm(tf.constant([[3.0, 4.0]]), axis=1)[0]) == pytest.approx(5.0)
    zero = tf.zeros((1, 3))
    with tf.GradientTape() as tape:
        tape.watch(zero)
        norm = losses.safe_norm(zero, axis=1)
    grad = tape.gradient(norm, zero)
    assert np.all(np.isfinite(grad.numpy()))
    with tf.GradientTape() as tape:
        tape.watch(zero)
        plain = tf.norm(zero, axis=1)
    assert not np.all(np.isfinite(tape.gradient(plain, zero).numpy())), \
        "the plain norm's gradient at 0 should be NaN (what safe_norm avoids)"


def test_gradient_penalty_of_a_linear_critic():
    # D(x) = 3 x0 + 4 x1 has gradient (3, 4) everywhere: (||(3, 4)|| - 1)^2 = 16.
    w = tf.constant([3.0, 4.0])

    def critic(x, training=True):
        return tf.reduce_sum(tf.reshape(x, (-1, 2)) * w, axis=1, keepdims=True)

    real = tf.zeros((2, 1, 2, 1))
    fake = tf.ones((2, 1, 2, 1))
    penalty = losses.gradient_penalty(critic, real, fake, alpha=tf.constant([0.3, 0.9]))
    assert value(penalty) == pytest.approx(16.0, rel=1e-5)


def test_gradient_penalty_uses_the_interpolation_weights():
    # D(x) = sum(x^2): gradient 2 x_hat, x_hat = alpha (real = 0, fake = 1, one pixel).
    # alpha = (0.5, 0.25): norms 1 and 0.5 -> mean((0)^2, (-0.5)^2) = 0.125.
    def critic(x, training=True):
        return tf.reduce_sum(tf.square(x), axis=[1, 2, 3])

    penalty = losses.gradient_penalty(critic, tf.zeros((2, 1, 1, 1)), tf.ones((2, 1, 1, 1)),
                                      alpha=tf.constant([0.5, 0.25]))
    assert value(penalty) == pytest.approx(0.125, rel=1e-5)


def test_gradient_penalty_is_differentiable_where_the_critic_is_flat():
    # A critic with a zero kernel has a zero input gradient: the plain norm's derivative
    # would be NaN there.
    import keras

    critic = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
                               keras.layers.Dense(1, kernel_initializer="zeros")])
    with tf.GradientTape() as tape:
        penalty = losses.gradient_penalty(critic, tf.zeros((3, 2, 2, 1)), tf.ones((3, 2, 2, 1)),
                                          alpha=tf.constant([0.1, 0.5, 0.9]))
    grads = tape.gradient(penalty, critic.trainable_variables)
    assert value(penalty) == pytest.approx(1.0, rel=1e-4)
    assert all(np.all(np.isfinite(g.numpy())) for g in grads if g is not None)


def test_gan_losses_registry():
    for name, (d_loss, g_loss) in losses.GAN_LOSSES.items():
        assert np.isfinite(value(d_loss([0.5, -0.5], [0.1, 0.2]))), name
        assert np.isfinite(value(g_loss([0.1, 0.2]))), name
    with pytest.raises(UserError, match="unknown GAN loss 'bogus'"):
        losses.get_gan_loss("bogus")
