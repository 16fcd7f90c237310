"""Reconstruction: MSE, PSNR, SSIM per batch and per image, a generator's reconstruction
by latent optimisation (for models without an encoder), and denoising (`add_noise`,
`denoising_psnr`)."""

import keras
import numpy as np
import tensorflow as tf

from keras_aegan.errors import UserError, check_int



def mse(images, reconstructions, per_image=False):
    """Mean squared error of images in [0, 1].

    Args:
        images, reconstructions: arrays of the same shape `(N, ...)`.
        per_image: `False` gives the mean over every pixel; `True` the mean over images of
            the per-image sum of squared errors.

    Returns:
        A float.
    """
    a, b = _check_images_pair(images, reconstructions)
    squared = (a - b) ** 2
    if per_image:
        return float(squared.reshape(len(a), -1).sum(1).mean())
    return float(squared.mean())


def psnr(images, reconstructions, max_val=1.0):
    """Mean over images of `10 log10(max_val² / MSE_i)` in dB; `inf` for exact copies."""
    return float(per_image_psnr(images, reconstructions, max_val).mean())


def per_image_psnr(images, reconstructions, max_val=1.0):
    """`(N,)` PSNR of each image in dB (`inf` for an exact copy)."""
    a, b = _check_images_pair(images, reconstructions)
    per_image = ((a - b) ** 2).reshape(len(a), -1).mean(1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(max_val ** 2 / per_image)


def ssim(images, reconstructions, max_val=1.0):
    """Mean structural similarity (`tf.image.ssim`) of `(N, H, W, C)` images; 1 when equal.

    The Gaussian window shrinks from the standard 11 px (sigma 1.5) to fit small images.
    """
    return float(per_image_ssim(images, reconstructions, max_val).mean())


def per_image_ssim(images, reconstructions, max_val=1.0):
    """`(N,)` structural similarity of each image (see `ssim`)."""
    a, b = _check_images_pair(images, reconstructions)
    if a.ndim != 4:
        raise UserError(f"ssim needs (N, H, W, C) images, got shape {a.shape}")
    size = min(11, a.shape[1], a.shape[2])
    value = tf.image.ssim(tf.constant(a, tf.float32), tf.constant(b, tf.float32),
                          max_val=max_val, filter_size=size, filter_sigma=1.5 * size / 11)
    return value.numpy().astype("float64")


def reconstruction_scores(images, reconstructions, standard_errors=False):
    """`mse`, `sse_per_image`, `psnr` and `ssim` of a batch, as a dict of floats.

    With `standard_errors`, also `mse_se`, `psnr_se` and `ssim_se`: the standard error of
    each mean over the images (how much it would move with other test images).
    """
    a, b = _check_images_pair(images, reconstructions)
    squared = ((a - b) ** 2).reshape(len(a), -1)
    values = {"mse": squared.mean(1), "sse_per_image": squared.sum(1),
              "psnr": per_image_psnr(a, b), "ssim": per_image_ssim(a, b)}
    scores = {k: float(v.mean()) for k, v in values.items()}
    if standard_errors:
        for key in ("mse", "psnr", "ssim"):
            finite = values[key][np.isfinite(values[key])]
            scores[f"{key}_se"] = _standard_error(finite)
    return scores


def _standard_error(values):
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def latent_optimisation_reconstruction(generator_fn, images, latent_dim, steps=200, *,
                                       learning_rate=0.05, batch_size=256, seed=0,
                                       jit_compile=False):
    """Reconstruct images with a generator by gradient descent on its latent code.

    Gives a GAN a reconstruction score: for each image, find `z` minimising
    `|G(z) - x|²` with Adam, starting from `z ~ N(0, I)`.

    Args:
        generator_fn: callable `(B, latent_dim)` tensor -> `(B, H, W, C)` images (e.g. a
            Keras generator; called with plain tensors).
        images: `(N, H, W, C)` target images in [0, 1].
        latent_dim: size of `z`.
        steps: descent steps per batch.
        learning_rate: Adam learning rate.
        batch_size: images optimised together.
        seed: seed of the starting codes.
        jit_compile: compile each descent step with XLA (on a CPU, faster for a small
            generator: `studies.subjects.Subject` turns it on where the training does).

    Returns:
        `(reconstructions, latents)`: `(N, H, W, C)` and `(N, latent_dim)` numpy arrays.
    """
    x = np.asarray(images, "float32")
    if x.ndim != 4 or not len(x):
        raise UserError(f"images must be a non-empty (N, H, W, C) array, got shape {x.shape}")
    check_int("latent_dim", latent_dim)
    check_int("steps", steps)
    check_int("batch_size", batch_size)
    rng = np.random.default_rng(seed)
    recons, latents = [], []
    for i in range(0, len(x), batch_size):
        target = tf.constant(x[i:i + batch_size])
        z = tf.Variable(rng.standard_normal((len(target), latent_dim)).astype("float32"))
        optimizer = keras.optimizers.Adam(learning_rate)

        @tf.function(jit_compile=jit_compile)
        def step(z=z, target=target, optimizer=optimizer):
            with tf.GradientTape() as tape:
                out = tf.cast(generator_fn(z), tf.float32)
                loss = tf.reduce_mean(tf.reduce_sum(tf.square(out - target), axis=[1, 2, 3]))
            optimizer.apply([tape.gradient(loss, z)], [z])
            return loss

        for _ in range(steps):
            step()
        out = np.asarray(generator_fn(tf.constant(z.numpy())), "float32")
        if out.shape != tuple(target.shape):
            raise UserError(f"generator_fn returned shape {out.shape} for images of shape "
                            f"{tuple(target.shape)}")
        recons.append(out)
        latents.append(z.numpy())
    return np.concatenate(recons), np.concatenate(latents)


def _check_images_pair(images, reconstructions):
    a, b = np.asarray(images, "float64"), np.asarray(reconstructions, "float64")
    if a.shape != b.shape:
        raise UserError(f"images and reconstructions differ in shape: {a.shape} vs {b.shape}")
    if a.ndim < 2 or not len(a):
        raise UserError(f"images must be a non-empty batch (N, ...), got shape {a.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise UserError("images contain NaN or Inf")
    return a, b


def add_noise(images, noise="gaussian", level=0.3, seed=0):
    """Corrupt images (numpy) the way `layers.Corruption` does, reproducibly."""
    rng = np.random.default_rng(seed)
    images = np.asarray(images, "float32")
    if noise == "gaussian":
        return np.clip(images + rng.normal(0.0, level, images.shape), 0.0, 1.0).astype("float32")
    if noise == "dropout":
        return np.where(rng.random(images.shape) >= level, images, 0.0).astype("float32")
    raise UserError(f"noise must be 'gaussian' or 'dropout', got {noise!r}")


def denoising_psnr(model, images, noise="gaussian", level=0.3, seed=0):
    """PSNR (dB) of noisy test images and of the model's reconstructions of them.

    Returns:
        `{"noisy": dB, "denoised": dB}` against the clean images.
    """
    noisy = add_noise(images, noise, level, seed)
    denoised = _predict(lambda x: model(x, training=False), noisy)
    return {"noisy": psnr(images, noisy), "denoised": psnr(images, denoised)}


def _predict(fn, x, batch_size=512):
    return np.concatenate([keras.ops.convert_to_numpy(fn(x[i:i + batch_size]))
                           for i in range(0, len(x), batch_size)])
