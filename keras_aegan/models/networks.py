"""Network builders for an image shape: encoders, decoders (and later generators,
discriminators). Networks know nothing of data sources or training."""

import math

import keras

from keras_aegan import errors
from keras_aegan.errors import UserError, check_int

FEATURES_LAYER = "features"


def check_latent_dim(latent_dim):
    return check_int("latent_dim", latent_dim)


def check_image_shape(image_shape):
    """An image shape `(H, W, C)` a network can take (any channel count)."""
    return errors.check_image_shape(image_shape, channels=None)


def check_activation(activation):
    """A Keras activation name (`relu`, `swish`, ...) or function, else a `UserError`."""
    try:
        keras.activations.get(activation)
    except ValueError:
        raise UserError(f"activation: unknown activation {activation!r} (a Keras name, e.g. "
                        "relu, swish, gelu, elu, tanh)") from None
    return activation


def from_config(cls, config, names):
    """`cls(**config)` with the sub-networks `names` rebuilt from their serialized configs:
    the `from_config` of a model that holds networks (and saves them with
    `keras.layers.serialize` in `get_config`)."""
    config = dict(config)
    for name in names:
        config[name] = keras.layers.deserialize(config[name])
    return cls(**config)


def check_input_shape(input_shape):
    """An image `(H, W, C)` or a sequence `(time, features)` shape, as a tuple."""
    return errors.check_image_shape(input_shape, sequences=True, channels=None)


def dense_encoder(image_shape, latent_dim, units=(256, 128), activation="relu",
                  code_activation=None, activity_regularizer=None, batch_norm=False,
                  name="encoder", code_name="code"):
    """Fully connected encoder: flattened images -> hidden layers -> a code of `latent_dim`.

    Args:
        image_shape: `(H, W, C)` of the input images (any shape: it is flattened).
        latent_dim: size of the code.
        units: widths of the hidden layers; `()` for a single linear map.
        activation: activation of the hidden layers.
        code_activation: activation of the code (`None`: linear; `"sigmoid"` for a
            sparse code).
        activity_regularizer: optional regularizer of the code activations.
        batch_norm: batch-normalize each hidden layer before its activation.
        name: model name.
        code_name: name of the code layer (a VAE calls its mean head `z_mean`).

    Returns:
        A functional `keras.Model`; its first `Dense` layer is named `dense0` (or the code
        layer when `units` is empty), which is what feature-detector pictures show.
    """
    shape = check_input_shape(image_shape)
    check_latent_dim(latent_dim)
    inputs = keras.Input(shape, name="images")
    x = keras.layers.Flatten()(inputs)
    for i, u in enumerate(units):
        x = _dense_block(x, u, activation, batch_norm, f"dense{i}")
    code = keras.layers.Dense(latent_dim, activation=code_activation,
                              activity_regularizer=activity_regularizer, name=code_name)(x)
    return keras.Model(inputs, code, name=name)


def dense_decoder(image_shape, latent_dim, units=(128, 256), activation="relu",
                  output_activation="sigmoid", batch_norm=False, name="decoder"):
    """Fully connected decoder: code -> hidden layers -> images of `image_shape`.

    Args:
        image_shape: shape of the images to produce.
        latent_dim: size of the code.
        units: widths of the hidden layers (mirror the encoder's: reversed).
        activation: activation of the hidden layers.
        output_activation: `"sigmoid"` for pixels in [0, 1]; `None` for a linear output
            (the linear autoencoder).
        batch_norm: batch-normalize each hidden layer before its activation.
        name: model name.

    Its hidden layers are named `decode0`, `decode1`, ...: distinct from an encoder's, so
    an autoencoder's variables have distinct names (checkpoints key by them).
    """
    shape = check_input_shape(image_shape)
    check_latent_dim(latent_dim)
    inputs = keras.Input((latent_dim,), name="code")
    x = inputs
    for i, u in enumerate(units):
        x = _dense_block(x, u, activation, batch_norm, f"decode{i}")
    x = keras.layers.Dense(math.prod(shape), activation=output_activation, name="pixels")(x)
    return keras.Model(inputs, keras.layers.Reshape(shape)(x), name=name)


def _dense_block(x, units, activation, batch_norm, name):
    check_activation(activation)
    if not batch_norm:
        return keras.layers.Dense(units, activation=activation, name=name)(x)
    x = keras.layers.Dense(units, use_bias=False, name=name)(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.Activation(activation, name=f"{name}_act")(x)


def recurrent_encoder(input_shape, latent_dim, units=64, cell="lstm", name="encoder"):
    """Recurrent encoder: a sequence `(time, features)` -> a code of `latent_dim`.

    An image `(H, W, C)` is read as `H` rows of `W * C` features each.

    Args:
        input_shape: `(time, features)` or an image shape `(H, W, C)`.
        latent_dim: size of the code.
        units: units of the recurrent layer (an int, or a tuple for stacked layers).
        cell: `"lstm"` or `"gru"`.
        name: model name.
    """
    shape = check_input_shape(input_shape)
    check_latent_dim(latent_dim)
    rnn = _recurrent_layer(cell)
    units = (units,) if isinstance(units, int) else tuple(units)
    inputs = keras.Input(shape, name="images" if len(shape) == 3 else "sequences")
    x = inputs if len(shape) == 2 else keras.layers.Reshape((shape[0], shape[1] * shape[2]))(inputs)
    for i, u in enumerate(units):
        x = rnn(u, return_sequences=i < len(units) - 1, name=f"{cell}{i}")(x)
    code = keras.layers.Dense(latent_dim, name="code")(x)
    return keras.Model(inputs, code, name=name)


def recurrent_decoder(output_shape, latent_dim, units=64, cell="lstm",
                      output_activation="sigmoid", name="decoder"):
    """Recurrent decoder: a code repeated over time -> a sequence (or image rows).

    Args:
        output_shape: `(time, features)` or an image shape `(H, W, C)`.
        latent_dim: size of the code.
        units: units of the recurrent layer (an int, or a tuple for stacked layers).
        cell: `"lstm"` or `"gru"`.
        output_activation: per-step activation (`"sigmoid"` for pixels in [0, 1],
            `None` for unbounded series).
        name: model name.
    """
    shape = check_input_shape(output_shape)
    check_latent_dim(latent_dim)
    rnn = _recurrent_layer(cell)
    units = (units,) if isinstance(units, int) else tuple(units)
    steps, features = shape[0], math.prod(shape[1:])
    inputs = keras.Input((latent_dim,), name="code")
    x = keras.layers.RepeatVector(steps)(inputs)
    for i, u in enumerate(units):
        x = rnn(u, return_sequences=True, name=f"{cell}_decode{i}")(x)
    x = keras.layers.Dense(features, activation=output_activation, name="steps")(x)
    if len(shape) == 3:
        x = keras.layers.Reshape(shape)(x)
    return keras.Model(inputs, x, name=name)


def _recurrent_layer(cell):
    layers = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
    if cell not in layers:
        raise UserError(f"cell must be one of {', '.join(layers)}, got {cell!r}")
    return layers[cell]


def residual_blocks(x, blocks, prefix, activation="relu"):
    """`blocks` residual blocks at `x`'s resolution and width:
    `act(x + conv(act(conv(x))))`.

    Capacity where the feature map is smallest, so it costs least; the skip connection (He
    et al. 2016) keeps the gradient flowing past the added depth.
    """
    width = x.shape[-1]
    for i in range(blocks):
        r = keras.layers.Conv2D(width, 3, padding="same", activation=activation,
                                name=f"{prefix}{i}_conv0")(x)
        r = keras.layers.Conv2D(width, 3, padding="same", name=f"{prefix}{i}_conv1")(r)
        x = keras.layers.Activation(activation, name=f"{prefix}{i}_act")(
            keras.layers.Add(name=f"{prefix}{i}_add")([x, r]))
    return x


def conv_encoder(image_shape, latent_dim, filters=(32, 64), name="encoder", outputs=1,
                 residual=0, activation="relu"):
    """Strided-convolution encoder: images in [0, 1] -> `outputs` dense heads of `latent_dim`.

    Args:
        image_shape: `(H, W, C)` of the input images.
        latent_dim: size of the code.
        filters: channels of each stride-2 convolution (each halves the side, rounding up).
        name: model name.
        outputs: number of dense heads (2 for a VAE's mean and log-variance).
        residual: residual blocks after the last convolution (see `residual_blocks`).
        activation: activation of the hidden layers.

    Returns:
        A functional `keras.Model`.
    """
    image_shape = check_image_shape(image_shape)
    check_latent_dim(latent_dim)
    check_activation(activation)
    inputs = keras.Input(image_shape, name="images")
    x = inputs
    for i, f in enumerate(filters):
        x = keras.layers.Conv2D(f, 3, strides=2, padding="same", activation=activation,
                                name=f"conv{i}")(x)
    x = residual_blocks(x, check_int("residual", residual, 0), "encode_res", activation)
    x = keras.layers.Flatten()(x)
    heads = [keras.layers.Dense(latent_dim, name=head)(x)
             for head in (("code",) if outputs == 1 else ("z_mean", "z_log_var"))]
    return keras.Model(inputs, heads[0] if outputs == 1 else heads, name=name)


def conv_decoder(image_shape, latent_dim, filters=(64, 32), name="decoder", residual=0,
                 activation="relu"):
    """Transposed-convolution decoder: code -> images in [0, 1] of `image_shape`.

    The code is projected to a grid `2**len(filters)` times smaller than the image
    (rounded up), refined by `residual` residual blocks (see `residual_blocks`), upsampled
    by stride-2 transposed convolutions, and center-cropped when the image side is not a
    multiple of that factor. `activation` is the hidden layers'; the pixels' is sigmoid.
    """
    height, width, channels = check_image_shape(image_shape)
    check_latent_dim(latent_dim)
    check_activation(activation)
    factor = 2 ** len(filters)
    h0, w0 = math.ceil(height / factor), math.ceil(width / factor)
    inputs = keras.Input((latent_dim,), name="code")
    x = keras.layers.Dense(h0 * w0 * filters[0], activation=activation, name="project")(inputs)
    x = keras.layers.Reshape((h0, w0, filters[0]))(x)
    x = residual_blocks(x, check_int("residual", residual, 0), "decode_res", activation)
    for i, f in enumerate(filters):
        x = keras.layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation=activation,
                                         name=f"deconv{i}")(x)
    x = keras.layers.Conv2D(channels, 3, padding="same", activation="sigmoid", name="pixels")(x)
    extra_h, extra_w = h0 * factor - height, w0 * factor - width
    if extra_h or extra_w:
        x = keras.layers.Cropping2D(((extra_h // 2, extra_h - extra_h // 2),
                                     (extra_w // 2, extra_w - extra_w // 2)))(x)
    return keras.Model(inputs, x, name=name)


# ---------------------------------------------------------------- GAN generators / discriminators
# A discriminator's last hidden layer, before the logit, is named FEATURES_LAYER: the GAN
# family declares it as its representation (`protocol.ModelSpec.features`).
# GAN networks speak [0, 1] at their edges like every model here, and [-1, 1] inside: the
# generator ends in tanh rescaled to [0, 1], the discriminator rescales its input to [-1, 1].
# Their last layers run in float32 so that mixed precision keeps logits and pixels exact.


def gan_stages(image_shape, max_stages=4):
    """Stride-2 stages of a DCGAN for an image shape: the side halves down to about 4-7.

    28x28 -> 2 stages (7x7 seed), 32x32 -> 3 (4x4), 64x64 -> 4 (4x4), 8x8 -> 1 (4x4).
    """
    height, width, _ = check_image_shape(image_shape)
    side = min(height, width)
    return max(0, min(max_stages, int(math.floor(math.log2(side / 4))) if side >= 8 else 0))


def _label_input(num_classes):
    check_int("num_classes", num_classes, minimum=2)
    return keras.Input((), dtype="int32", name="labels")


def _crop_to(x, height, width):
    extra_h, extra_w = x.shape[1] - height, x.shape[2] - width
    if extra_h or extra_w:
        x = keras.layers.Cropping2D(((extra_h // 2, extra_h - extra_h // 2),
                                     (extra_w // 2, extra_w - extra_w // 2)))(x)
    return x


def _to_unit_pixels(x):
    x = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.layers.Rescaling(0.5, offset=0.5, dtype="float32", name="pixels")(x)


def _batch_norm(name):
    # Synchronized: under MirroredStrategy the batch statistics are those of the global
    # batch, so one and several replicas train the same network.
    return keras.layers.BatchNormalization(momentum=0.9, synchronized=True, name=name)


def dcgan_generator(image_shape, latent_dim, width=64, num_classes=None, name="generator"):
    """DCGAN generator (Radford et al. 2015): noise -> images in [0, 1] of `image_shape`.

    A dense projection to a small grid, then stride-2 transposed convolutions (kernel 4)
    with batch norm and ReLU, each doubling the side and halving the channels, and a tanh
    output rescaled to [0, 1]. The number of stages follows `gan_stages(image_shape)`;
    sides that are not a multiple of the grid are center-cropped.

    Args:
        image_shape: `(H, W, C)` of the images to generate.
        latent_dim: size of the noise vector.
        width: channels of the last hidden stage; earlier stages double it.
        num_classes: for a conditional generator, the number of classes; the model then
            takes `[noise, labels]` (int labels of shape `(batch,)`), the label embedded
            and concatenated to the noise.
        name: model name.

    Returns:
        A functional `keras.Model`.
    """
    height, width_px, channels = check_image_shape(image_shape)
    check_latent_dim(latent_dim)
    stages = gan_stages(image_shape)
    h0, w0 = math.ceil(height / 2 ** stages), math.ceil(width_px / 2 ** stages)
    inputs, x = _generator_inputs(latent_dim, num_classes)
    ch = width * 2 ** max(stages - 1, 0)
    x = keras.layers.Dense(h0 * w0 * ch, use_bias=False, name="project")(x)
    x = _batch_norm("project_bn")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Reshape((h0, w0, ch))(x)
    for i in range(stages - 1):
        ch //= 2
        x = keras.layers.Conv2DTranspose(ch, 4, strides=2, padding="same", use_bias=False,
                                         name=f"deconv{i}")(x)
        x = _batch_norm(f"deconv{i}_bn")(x)
        x = keras.layers.ReLU()(x)
    if stages:
        x = keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same",
                                         name=f"deconv{stages - 1}")(x)
    else:
        x = keras.layers.Conv2D(channels, 3, padding="same", name="conv_out")(x)
    x = _crop_to(_to_unit_pixels(x), height, width_px)
    return keras.Model(inputs, x, name=name)


def dcgan_discriminator(image_shape, width=64, num_classes=None, normalization="batch",
                        dropout=0.0, logit_bias=True, name="discriminator"):
    """DCGAN discriminator: images in [0, 1] -> one logit per image.

    Stride-2 convolutions (kernel 4) with LeakyReLU(0.2), doubling the channels, the
    mirror image of `dcgan_generator`; normalization on all but the first.

    Args:
        image_shape: `(H, W, C)` of the input images.
        width: channels of the first convolution.
        num_classes: for a conditional discriminator, the number of classes; the model
            takes `[images, labels]` and adds a projection term `<embed(label), h>` to the
            logit (Miyato & Koyama 2018).
        normalization: `"batch"` (the DCGAN recipe), `"layer"` (for a WGAN-GP critic,
            whose penalty is per-sample) or `None`.
        dropout: dropout rate before the logit.
        logit_bias: give the logit a bias; a Wasserstein critic's bias gets no gradient
            (it cancels between real and fake), so WGAN-GP leaves it out.
        name: model name.

    Returns:
        A functional `keras.Model` with float32 logits of shape `(batch, 1)`.
    """
    image_shape = check_image_shape(image_shape)
    if normalization not in ("batch", "layer", None):
        raise UserError(f"normalization must be 'batch', 'layer' or None, got {normalization!r}")
    stages = gan_stages(image_shape)
    images = keras.Input(image_shape, name="images")
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_signed")(images)
    for i in range(max(stages, 1)):
        # No bias before a normalization, and none on the first convolution either: with
        # one, Grappler's remapper fuses Conv2D+BiasAdd+LeakyRelu, finds the LeakyReluGrad
        # of the backward pass still reading the BiasAdd it removed, and gives up on the
        # whole training step ("remapper failed: ... missing node .../conv0/BiasAdd",
        # TF 2.21). The first layer loses 8-64 parameters and nothing measurable.
        x = keras.layers.Conv2D(width * 2 ** i, 4, strides=2 if stages else 1, padding="same",
                                use_bias=normalization is None, name=f"conv{i}")(x)
        if i and normalization == "batch":
            x = _batch_norm(f"conv{i}_bn")(x)
        elif i and normalization == "layer":
            x = keras.layers.LayerNormalization(name=f"conv{i}_ln")(x)
        x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.Flatten(name=FEATURES_LAYER)(x)
    if dropout:
        x = keras.layers.Dropout(dropout)(x)
    logits = keras.layers.Dense(1, use_bias=logit_bias, dtype="float32", name="logit")(x)
    return _discriminator_model(images, x, logits, num_classes, name)


def dense_generator(image_shape, latent_dim, units=(256, 512), num_classes=None,
                    name="generator"):
    """Fully connected generator (Goodfellow et al. 2014): noise -> images in [0, 1].

    Args:
        image_shape: `(H, W, C)` of the images to generate.
        latent_dim: size of the noise vector.
        units: widths of the hidden layers (LeakyReLU 0.2).
        num_classes: for a conditional generator, takes `[noise, labels]`.
        name: model name.
    """
    shape = check_image_shape(image_shape)
    check_latent_dim(latent_dim)
    inputs, x = _generator_inputs(latent_dim, num_classes)
    for i, u in enumerate(units):
        x = keras.layers.Dense(u, name=f"dense{i}")(x)
        x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.Dense(math.prod(shape), name="dense_out")(x)
    x = keras.layers.Reshape(shape)(_to_unit_pixels(x))
    return keras.Model(inputs, x, name=name)


def dense_discriminator(image_shape, units=(512, 256), num_classes=None, dropout=0.0,
                        name="discriminator"):
    """Fully connected discriminator: images in [0, 1] -> one float32 logit per image.

    Args:
        image_shape: `(H, W, C)` of the input images.
        units: widths of the hidden layers (LeakyReLU 0.2).
        num_classes: for a conditional discriminator, takes `[images, labels]` (projection).
        dropout: dropout rate after each hidden layer.
        name: model name.
    """
    image_shape = check_image_shape(image_shape)
    images = keras.Input(image_shape, name="images")
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_signed")(images)
    x = keras.layers.Flatten()(x)
    for i, u in enumerate(units):
        x = keras.layers.Dense(u, name=f"dense{i}")(x)
        x = keras.layers.LeakyReLU(0.2)(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    x = keras.layers.Identity(name=FEATURES_LAYER)(x)
    logits = keras.layers.Dense(1, dtype="float32", name="logit")(x)
    return _discriminator_model(images, x, logits, num_classes, name)


def _discriminator_model(images, features, logits, num_classes, name):
    """The discriminator `Model`; with `num_classes`, conditioned by a projection: the
    label's embedding dotted with the features is added to the logit (Miyato & Koyama 2018)."""
    if num_classes is None:
        return keras.Model(images, logits, name=name)
    labels = _label_input(num_classes)
    embedded = keras.layers.Embedding(num_classes, features.shape[-1],
                                      name="label_embedding")(labels)
    projection = keras.layers.Dot(axes=1, dtype="float32", name="projection")(
        [embedded, features])
    logits = keras.layers.Add(dtype="float32", name="logit_and_projection")([logits, projection])
    return keras.Model([images, labels], logits, name=name)


def _generator_inputs(latent_dim, num_classes):
    """`(inputs, x)`: the noise input, and with `num_classes` a label input whose
    embedding is concatenated to the noise."""
    z = keras.Input((latent_dim,), name="noise")
    if num_classes is None:
        return z, z
    labels = _label_input(num_classes)
    embedded = keras.layers.Embedding(num_classes, latent_dim, name="label_embedding")(labels)
    return [z, labels], keras.layers.Concatenate(name="noise_and_label")([z, embedded])
