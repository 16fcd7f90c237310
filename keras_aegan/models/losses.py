"""GAN losses as pure functions of discriminator outputs.

Every function takes the discriminator's raw outputs (*logits*: any real number, no
sigmoid applied) on a batch of real and/or generated images and returns a scalar: the
mean over the batch. Generator losses are minimised by the generator, discriminator
losses by the discriminator (or critic). Nothing here holds state or draws random
numbers; the gradient penalty takes its interpolation weights from the caller.

`GAN_LOSSES` maps a name to its `(discriminator_loss, generator_loss)` pair.
"""

import keras
import tensorflow as tf

from keras_aegan.errors import UserError


def _f32(x):
    # Losses are computed in float32 even when the networks run in float16.
    return keras.ops.cast(x, "float32")


def minimax_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """Binary cross-entropy: `-E[log D(x)] - E[log(1 - D(G(z)))]`, with `D = sigmoid(logits)`.

    Computed from logits with softplus, so it stays finite where a sigmoid would saturate
    (`-log(sigmoid(l)) = softplus(-l)`, `-log(1 - sigmoid(l)) = softplus(l)`).

    Args:
        real_logits: discriminator logits on real images, shape `(batch,)` or `(batch, 1)`.
        fake_logits: discriminator logits on generated images.
        label_smoothing: one-sided smoothing; real targets become `1 - label_smoothing`.

    Returns:
        A float32 scalar.
    """
    real_logits, fake_logits = _f32(real_logits), _f32(fake_logits)
    target = 1.0 - label_smoothing
    real = target * keras.ops.softplus(-real_logits) + (1.0 - target) * keras.ops.softplus(
        real_logits)
    return keras.ops.mean(real) + keras.ops.mean(keras.ops.softplus(fake_logits))


def minimax_generator_loss(fake_logits):
    """The original minimax generator loss `E[log(1 - D(G(z)))]` (= `-E[softplus(l)]`).

    Saturates when the discriminator wins (its gradient vanishes as `D(G(z)) -> 0`); kept
    for completeness and comparison, `non_saturating_generator_loss` trains better.
    """
    return -keras.ops.mean(keras.ops.softplus(_f32(fake_logits)))


def non_saturating_generator_loss(fake_logits):
    """`-E[log D(G(z))]` (= `E[softplus(-l)]`): strong gradients when the generator loses."""
    return keras.ops.mean(keras.ops.softplus(-_f32(fake_logits)))


def least_squares_discriminator_loss(real_logits, fake_logits):
    """LSGAN (Mao et al. 2017): `0.5 E[(D(x) - 1)^2] + 0.5 E[D(G(z))^2]` on raw outputs."""
    real_logits, fake_logits = _f32(real_logits), _f32(fake_logits)
    return 0.5 * keras.ops.mean(keras.ops.square(real_logits - 1.0)) + 0.5 * keras.ops.mean(
        keras.ops.square(fake_logits))


def least_squares_generator_loss(fake_logits):
    """LSGAN generator loss: `0.5 E[(D(G(z)) - 1)^2]`."""
    return 0.5 * keras.ops.mean(keras.ops.square(_f32(fake_logits) - 1.0))


def hinge_discriminator_loss(real_logits, fake_logits):
    """Hinge loss (Lim & Ye 2017; SAGAN): `E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]`."""
    real_logits, fake_logits = _f32(real_logits), _f32(fake_logits)
    return keras.ops.mean(keras.ops.relu(1.0 - real_logits)) + keras.ops.mean(
        keras.ops.relu(1.0 + fake_logits))


def hinge_generator_loss(fake_logits):
    """Hinge generator loss: `-E[D(G(z))]`."""
    return -keras.ops.mean(_f32(fake_logits))


def wasserstein_discriminator_loss(real_logits, fake_logits):
    """Critic loss of WGAN: `E[D(G(z))] - E[D(x)]` (the negated Wasserstein estimate).

    Meaningful only with a Lipschitz constraint on the critic, e.g. `gradient_penalty`.
    """
    return keras.ops.mean(_f32(fake_logits)) - keras.ops.mean(_f32(real_logits))


def wasserstein_generator_loss(fake_logits):
    """WGAN generator loss: `-E[D(G(z))]`."""
    return -keras.ops.mean(_f32(fake_logits))


def safe_norm(x, axis=-1, epsilon=1e-12):
    """Euclidean norm `sqrt(sum(x^2) + epsilon)` over `axis`, with a finite gradient at 0.

    `sqrt` has an infinite derivative at zero, so the plain norm of an all-zero vector
    back-propagates NaN; the `epsilon` inside the root keeps it finite.
    """
    x = _f32(x)
    return keras.ops.sqrt(keras.ops.sum(keras.ops.square(x), axis=axis) + epsilon)


def gradient_penalty(critic, real, fake, alpha, target=1.0, epsilon=1e-12, training=True):
    """WGAN-GP penalty (Gulrajani et al. 2017): `E[(||grad D(x_hat)||_2 - target)^2]`.

    `x_hat = real + alpha * (fake - real)` interpolates between real and generated images.

    Args:
        critic: a callable `images -> logits` (the discriminator). For a conditional
            critic pass a closure that adds the labels.
        real: real images `(batch, H, W, C)`.
        fake: generated images of the same shape.
        alpha: interpolation weights, shape `(batch,)` or broadcastable to `real`; the
            caller draws them, uniformly in [0, 1] for WGAN-GP.
        target: the gradient norm the penalty pulls towards.
        epsilon: added under the square root of the norm (see `safe_norm`).
        training: passed to `critic`.

    Returns:
        A float32 scalar. Differentiable with respect to the critic's weights (it is
        computed with its own inner `GradientTape`).
    """
    real = _f32(real)
    fake = _f32(fake)
    alpha = _f32(alpha)
    if len(alpha.shape) == 1:
        alpha = keras.ops.reshape(alpha, (-1,) + (1,) * (len(real.shape) - 1))
    interpolated = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        scores = _f32(critic(interpolated, training=training))
    grads = tape.gradient(scores, interpolated)
    norms = safe_norm(keras.ops.reshape(grads, (keras.ops.shape(grads)[0], -1)), axis=1,
                      epsilon=epsilon)
    return keras.ops.mean(keras.ops.square(norms - target))


GAN_LOSSES = {
    "minimax": (minimax_discriminator_loss, minimax_generator_loss),
    "non_saturating": (minimax_discriminator_loss, non_saturating_generator_loss),
    "least_squares": (least_squares_discriminator_loss, least_squares_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
    "wasserstein": (wasserstein_discriminator_loss, wasserstein_generator_loss),
}


def get_gan_loss(name):
    """`(discriminator_loss, generator_loss)` for a name in `GAN_LOSSES`."""
    if name not in GAN_LOSSES:
        raise UserError(f"unknown GAN loss {name!r}; known: {', '.join(GAN_LOSSES)}")
    return GAN_LOSSES[name]
