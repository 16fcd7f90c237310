"""Network builders for an image shape: encoders, decoders (and later generators,
discriminators). Networks know nothing of data sources or training."""

import math

import keras

from keras_aegan.errors import UserError


def check_latent_dim(latent_dim):
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
        raise UserError(f"latent_dim must be an integer >= 1, got {latent_dim!r}")
    return latent_dim


def check_image_shape(image_shape):
    shape = tuple(image_shape)
    if len(shape) != 3 or any(not isinstance(d, int) or d < 1 for d in shape):
        raise UserError(f"image_shape must be (height, width, channels), got {image_shape!r}")
    return shape


def conv_encoder(image_shape, latent_dim, filters=(32, 64), name="encoder", outputs=1):
    """Strided-convolution encoder: images in [0, 1] -> `outputs` dense heads of `latent_dim`.

    Args:
        image_shape: `(H, W, C)` of the input images.
        latent_dim: size of the code.
        filters: channels of each stride-2 convolution (each halves the side, rounding up).
        name: model name.
        outputs: number of dense heads (2 for a VAE's mean and log-variance).

    Returns:
        A functional `keras.Model`.
    """
    image_shape = check_image_shape(image_shape)
    check_latent_dim(latent_dim)
    inputs = keras.Input(image_shape, name="images")
    x = inputs
    for i, f in enumerate(filters):
        x = keras.layers.Conv2D(f, 3, strides=2, padding="same", activation="relu",
                                name=f"conv{i}")(x)
    x = keras.layers.Flatten()(x)
    heads = [keras.layers.Dense(latent_dim, name=head)(x)
             for head in (("code",) if outputs == 1 else ("z_mean", "z_log_var"))]
    return keras.Model(inputs, heads[0] if outputs == 1 else heads, name=name)


def conv_decoder(image_shape, latent_dim, filters=(64, 32), name="decoder"):
    """Transposed-convolution decoder: code -> images in [0, 1] of `image_shape`.

    The code is projected to a grid `2**len(filters)` times smaller than the image
    (rounded up), upsampled by stride-2 transposed convolutions, and center-cropped when
    the image side is not a multiple of that factor.
    """
    height, width, channels = check_image_shape(image_shape)
    check_latent_dim(latent_dim)
    factor = 2 ** len(filters)
    h0, w0 = math.ceil(height / factor), math.ceil(width / factor)
    inputs = keras.Input((latent_dim,), name="code")
    x = keras.layers.Dense(h0 * w0 * filters[0], activation="relu", name="project")(inputs)
    x = keras.layers.Reshape((h0, w0, filters[0]))(x)
    for i, f in enumerate(filters):
        x = keras.layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu",
                                         name=f"deconv{i}")(x)
    x = keras.layers.Conv2D(channels, 3, padding="same", activation="sigmoid", name="pixels")(x)
    extra_h, extra_w = h0 * factor - height, w0 * factor - width
    if extra_h or extra_w:
        x = keras.layers.Cropping2D(((extra_h // 2, extra_h - extra_h // 2),
                                     (extra_w // 2, extra_w - extra_w // 2)))(x)
    return keras.Model(inputs, x, name=name)
