"""The autoencoder family: Keras models trained with plain `compile()` + `fit()`.

Every autoencoder holds an `encoder` (images -> code) and a `decoder` (code -> images in
[0, 1]) and exposes `encode(x)`, `decode(z)` and `call(x)` (the reconstruction). What keeps
each from copying its input: a narrow code (`dense_ae`, `linear_ae`, `tied_ae`, `conv_ae`,
`recurrent_ae`), noise on the input (`denoising_ae`), a sparsity penalty (`sparse_ae`), a
prior on the code (`vae`).

Every autoencoder declares itself (`describe()`, see `keras_aegan.protocol`): parts
`encoder`, `decoder` and `autoencoder`; it reconstructs directly; it samples by decoding a
Gaussian fitted to its training codes (the VAE: from its prior); its features are its code.
"""

import dataclasses

import keras
import numpy as np
from keras import ops

from keras_aegan import compat, protocol
from keras_aegan.models import networks
from keras_aegan.models import layers as layers_lib
from keras_aegan.errors import UserError, check_int, check_number


@keras.saving.register_keras_serializable(package="keras_aegan")
def summed_binary_crossentropy(y_true, y_pred):
    """Binary cross-entropy summed over every non-batch axis: one value per example.

    The VAE's reconstruction term, on the same per-example scale as its KL divergence.
    """
    y_pred = ops.clip(y_pred, 1e-7, 1.0 - 1e-7)
    bce = -(y_true * ops.log(y_pred) + (1.0 - y_true) * ops.log(1.0 - y_pred))
    return ops.sum(ops.reshape(bce, (ops.shape(bce)[0], -1)), axis=-1)


@keras.saving.register_keras_serializable(package="keras_aegan")
class Autoencoder(keras.Model):
    """An encoder and a decoder trained to reconstruct their input.

    Args:
        encoder: a model mapping images `(H, W, C)` in [0, 1] to codes `(latent_dim,)`.
        decoder: a model mapping codes back to images in [0, 1].
        output_range: what the decoder's outputs are bounded to (`None`: unbounded).
        loss: the reconstruction loss `compile()` uses by default (a Keras loss name).
        learning_rate: Adam's learning rate `compile()` uses by default.

    Example:
        >>> ae = Autoencoder(networks.conv_encoder((28, 28, 1), 16),
        ...                  networks.conv_decoder((28, 28, 1), 16))
        >>> ae.compile()
        >>> ae.fit(images, images, epochs=1)
    """

    family = "autoencoder"
    # The encoder layer whose output is the code (the probes' features).
    code_layer = "code"
    sampler = protocol.SAMPLES_CODE_GAUSSIAN

    def __init__(self, encoder, decoder, output_range=(0.0, 1.0), loss="mse",
                 learning_rate=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        try:
            keras.losses.get(loss)
        except ValueError:
            raise UserError(f"loss: {loss!r} is not a Keras loss (e.g. mse, "
                            "binary_crossentropy)") from None
        self.loss_name = loss
        self.learning_rate = check_number("learning_rate", learning_rate, 0, 10, low_open=True,
                                          high_open=True)
        # What the decoder's outputs are bounded to (`None`: unbounded, a linear decoder).
        self.output_range = None if output_range is None else tuple(output_range)
        self.image_shape = tuple(encoder.input_shape[1:])
        self.latent_dim = int(decoder.input_shape[-1])
        # The parts are built functional models, so the whole is built too.
        self.built = True

    def call(self, inputs, training=False):
        self.check_images(inputs)
        return self.decoder(self.encoder(inputs, training=training), training=training)

    def encode(self, images):
        """Images in [0, 1] -> codes (deterministic)."""
        self.check_images(images)
        return self.encoder(images, training=False)

    def reconstruct(self, images):
        """Images in [0, 1] -> their reconstructions (deterministic)."""
        return self(images, training=False)

    def describe(self):
        """The autoencoder's `protocol.ModelSpec`."""
        if len(self.image_shape) == 3:
            image = protocol.image_port(self.image_shape)
        else:  # a (time, features) series: unbounded values
            image = protocol.Port("sequences", self.image_shape, "sequences")
        code = protocol.code_port(self.latent_dim)
        decoded = dataclasses.replace(image, range=self.output_range)
        out = dataclasses.replace(decoded, name="reconstruction")
        parts = (
            protocol.Part("encoder", "encode", self.encode, (image,), code,
                          f"{image.kind} -> code (deterministic)"),
            protocol.Part("decoder", "decode", self.decode, (code,), decoded,
                          f"code -> {image.kind}"),
            protocol.Part("autoencoder", "reconstruct", self.reconstruct, (image,), out,
                          f"{image.kind} -> reconstruction"),
        )
        return protocol.ModelSpec(
            family=self.family, image_shape=self.image_shape, latent_dim=self.latent_dim,
            parts=parts, sampler=self.sampler,
            reconstruction=protocol.RECONSTRUCTS_DIRECT, features=("encoder", self.code_layer),
            networks={"encoder": self.encoder, "decoder": self.decoder},
            losses={"loss": "autoencoder"},
            optimizers={"optimizer": self.optimizer} if self.compiled else {})

    def decode(self, codes):
        """Codes `(batch, latent_dim)` -> images in [0, 1]."""
        if codes.shape[-1] is not None and int(codes.shape[-1]) != self.latent_dim:
            raise UserError(f"latent_dim: this model's codes have {self.latent_dim} units, "
                            f"got codes of shape {tuple(codes.shape)}")
        return self.decoder(codes, training=False)

    def mean_activation(self, images, batch_size=256):
        """Mean code activation over `images` (numpy) and code units, as a float.

        For a sparse autoencoder's sigmoid code this is the achieved activation rate.
        """
        images = np.asarray(images, "float32")
        total = 0.0
        for start in range(0, len(images), batch_size):
            codes = keras.ops.convert_to_numpy(self.encode(images[start:start + batch_size]))
            total += float(codes.sum())
        return total / (len(images) * self.latent_dim)

    def check_images(self, images):
        if tuple(images.shape[1:]) != self.image_shape:
            raise UserError(f"image_shape: this model was built for inputs of shape "
                            f"{self.image_shape}, got {tuple(images.shape[1:])}")

    def compile(self, optimizer=None, loss=None, learning_rate=None, **kwargs):
        """Adam and the loss the model was made with unless told otherwise."""
        rate = self.learning_rate if learning_rate is None else learning_rate
        super().compile(optimizer=optimizer or keras.optimizers.Adam(rate),
                        loss=loss or self.loss_name, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # With no target, an autoencoder reconstructs its input: `fit(images)` works like
        # `fit(images, images)`.
        return super().compute_loss(x, compat.reconstruction_target(x, y), y_pred,
                                    sample_weight, training=training)

    def compile_from_config(self, config):
        compat.compile_on_load(self, config)

    def preview(self, images):
        """Rows of an image grid showing progress: inputs over their reconstructions."""
        return [images, keras.ops.convert_to_numpy(self(images, training=False))]

    def get_config(self):
        config = super().get_config()
        config.update(encoder=keras.layers.serialize(self.encoder),
                      decoder=keras.layers.serialize(self.decoder),
                      output_range=self.output_range, **self.compile_defaults())
        return config

    def compile_defaults(self):
        """What `compile()` uses unless told, as constructor arguments (saved with it)."""
        return {"loss": self.loss_name, "learning_rate": self.learning_rate}

    @classmethod
    def from_config(cls, config):
        return networks.from_config(cls, config, ("encoder", "decoder"))


def conv_ae(image_shape, latent_dim=16, num_classes=None, filters=(32, 64), residual=1,
            activation="swish", loss="binary_crossentropy", learning_rate=2e-3):
    """Convolutional autoencoder: strided convolutions down, transposed convolutions up.

    `residual` residual blocks at the smallest feature map, on each side (see
    `networks.residual_blocks`), `activation` in the hidden layers (swish, `x *
    sigmoid(x)`), trained on binary cross-entropy (`loss`) by Adam at `learning_rate` (the
    runner anneals it, at batch 32). These defaults reconstruct full MNIST better in the
    same time than the same network with ReLU, or the plain ReLU network on MSE at a
    constant rate (the figures are in the README).

    How the defaults were chosen, on the same number of training images each: swish beat
    ReLU (gelu was a little better per image, but its steps cost more; elu and batch norm
    no better); a higher learning rate, a second residual block, or the blocks' last
    convolutions starting at zero: no better. Batch 16 does better per image on one thread,
    but with two threads a batch-16 step costs nearly a batch-32 step, so it does worse in
    the same time. A residual block helps. On MSE the ReLU network with a block saturated
    its sigmoid and lost its units (a blank image); cross-entropy keeps them alive.
    """
    del num_classes  # unsupervised
    return Autoencoder(
        networks.conv_encoder(image_shape, latent_dim, filters, residual=residual,
                              activation=activation),
        networks.conv_decoder(image_shape, latent_dim, tuple(reversed(filters)),
                              residual=residual, activation=activation),
        loss=loss, learning_rate=learning_rate, name="conv_ae")


@keras.saving.register_keras_serializable(package="keras_aegan")
class TiedAutoencoder(Autoencoder):
    """A dense autoencoder whose decoder uses the transposed encoder kernels.

    The decoder owns only biases (`layers.DenseTranspose`), so the model has about half the
    parameters of the untied `dense_ae` of the same widths. Built from its hyperparameters
    (not from saved sub-models) because the decoder refers to the encoder's layers.

    Args:
        image_shape: `(H, W, C)` of the images.
        latent_dim: size of the code.
        units: widths of the encoder's hidden layers (the decoder mirrors them).
        activation: activation of the hidden layers and of the code.
        output_activation: activation of the reconstruction (`"sigmoid"` for [0, 1]).

    Example:
        >>> ae = TiedAutoencoder((28, 28, 1), 32, units=(256,))
    """

    def __init__(self, image_shape, latent_dim, units=(256, 128), activation="relu",
                 output_activation="sigmoid", **kwargs):
        image_shape = networks.check_input_shape(image_shape)
        networks.check_latent_dim(latent_dim)
        self.units = tuple(units)
        self.activation = activation
        self.output_activation = output_activation
        encoder = networks.dense_encoder(image_shape, latent_dim, self.units, activation,
                                         code_activation=activation)
        dense = [encoder.get_layer(f"dense{i}") for i in range(len(self.units))]
        dense.append(encoder.get_layer("code"))
        codes = keras.Input((latent_dim,), name="code")
        x = codes
        for i, layer in enumerate(reversed(dense)):
            last = i == len(dense) - 1
            x = layers_lib.DenseTranspose(
                layer, activation=output_activation if last else activation,
                name=f"tied_{layer.name}")(x)
        decoder = keras.Model(codes, keras.layers.Reshape(image_shape)(x), name="decoder")
        super().__init__(encoder, decoder, **kwargs)

    def get_config(self):
        config = super(Autoencoder, self).get_config()
        config.pop("encoder", None)
        config.pop("decoder", None)
        config.update(image_shape=self.image_shape, latent_dim=self.latent_dim,
                      units=self.units, activation=self.activation,
                      output_activation=self.output_activation)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="keras_aegan")
class DenoisingAutoencoder(Autoencoder):
    """An autoencoder that reconstructs clean images from corrupted ones.

    The input is corrupted (`layers.Corruption`) only when `training=True`; `encode`,
    `decode` and inference calls see clean inputs and are deterministic.

    Args:
        encoder: images -> codes.
        decoder: codes -> images in [0, 1].
        noise: `"gaussian"` or `"dropout"`.
        noise_level: Gaussian standard deviation, or dropout rate.
        seed: seed of the corruption's random generator.
    """

    def __init__(self, encoder, decoder, noise="gaussian", noise_level=0.3, seed=None, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        self.noise = noise
        self.noise_level = noise_level
        self.seed = seed
        self.corruption = layers_lib.Corruption(noise, noise_level, seed=seed, name="corruption")

    def call(self, inputs, training=False):
        self.check_images(inputs)
        corrupted = self.corruption(inputs, training=training)
        return self.decoder(self.encoder(corrupted, training=training), training=training)

    def corrupt(self, images):
        """The training-time corruption applied to `images` (for denoising studies)."""
        return self.corruption(images, training=True)

    def get_config(self):
        config = super().get_config()
        config.update(noise=self.noise, noise_level=self.noise_level, seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="keras_aegan")
class VariationalAutoencoder(Autoencoder):
    """A (beta-)VAE trained with plain `fit`.

    The encoder outputs `[z_mean, z_log_var]`; the KL divergence from the prior `N(0, I)`,
    times `beta`, is added with `add_loss`, and the compiled loss (by default binary
    cross-entropy summed over pixels) is the reconstruction term. `fit` reports `loss`
    (their sum), `reconstruction_loss` and `kl_loss` (the beta-weighted KL term) separately.
    During training the decoder sees a sample of the code; `call(x, training=False)` and
    `encode` use the mean, so inference is deterministic.

    Args:
        encoder: images -> `[z_mean, z_log_var]`, each `(latent_dim,)`.
        decoder: codes -> images in [0, 1].
        beta: weight of the KL term (1: the VAE; > 1: a beta-VAE).
        seed: seed of the sampling layer.

    Example:
        >>> vae = registry.get_model_entry("vae").builder((28, 28, 1), latent_dim=8)
        >>> vae.compile()
        >>> vae.fit(images, images, epochs=1)
        >>> samples = vae.sample(16)
    """

    code_layer = "z_mean"
    sampler = protocol.SAMPLES_OWN

    def __init__(self, encoder, decoder, beta=1.0, seed=None, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        self.beta = beta
        self.seed = seed
        self.kl_divergence = layers_lib.KLDivergence(beta, name="kl_divergence")
        self.sampling = layers_lib.Sampling(seed, name="sampling")
        self.prior_seed = keras.random.SeedGenerator(None if seed is None else seed + 1)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    def call(self, inputs, training=False):
        self.check_images(inputs)
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z_mean = self.kl_divergence([z_mean, z_log_var])
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        return self.decoder(z, training=training)

    def encode(self, images):
        """Images -> the mean of the code's posterior (deterministic)."""
        self.check_images(images)
        return self.encoder(images, training=False)[0]

    def encode_distribution(self, images):
        """Images -> `(z_mean, z_log_var)` of the code's Gaussian posterior."""
        self.check_images(images)
        z_mean, z_log_var = self.encoder(images, training=False)
        return z_mean, z_log_var

    def sample(self, n, seed=None):
        """Decode `n` codes drawn from the prior `N(0, I)`; `seed` fixes the draw."""
        n = check_int("n", n)
        z = keras.random.normal((n, self.latent_dim),
                                seed=self.prior_seed if seed is None else seed)
        return self.decode(z)

    def compile(self, optimizer=None, loss=None, learning_rate=None, **kwargs):
        """Adam; pixel-summed binary cross-entropy unless told otherwise."""
        super().compile(optimizer=optimizer, loss=loss or summed_binary_crossentropy,
                        learning_rate=learning_rate, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        total = super().compute_loss(x, y, y_pred, sample_weight, training=training)
        added = self.losses
        kl = ops.sum(ops.stack([ops.cast(v, total.dtype) for v in self.kl_divergence.losses]))
        extra = ops.sum(ops.stack([ops.cast(v, total.dtype) for v in added]))
        self.kl_tracker.update_state(kl)
        self.reconstruction_tracker.update_state(total - extra)
        return total

    def preview(self, images):
        """Inputs, their reconstructions, and samples from a fixed draw of the prior."""
        rows = super().preview(images)
        samples = self.sample(len(images), seed=1234)
        return [*rows, keras.ops.convert_to_numpy(samples)]

    def get_config(self):
        config = super().get_config()
        config.update(beta=self.beta, seed=self.seed)
        return config


def _sigmoid_or_linear(image_shape, output_activation):
    # Images are in [0, 1]; a (time, features) series is unbounded.
    if output_activation == "auto":
        return "sigmoid" if len(tuple(image_shape)) == 3 else None
    return output_activation


def dense_ae(image_shape, latent_dim=16, num_classes=None, units=(256, 128), activation="relu",
             output_activation="sigmoid", batch_norm=False):
    """Undercomplete stacked dense autoencoder: hidden layers down to a linear code."""
    del num_classes
    units = tuple(units)
    return Autoencoder(
        networks.dense_encoder(image_shape, latent_dim, units, activation,
                               batch_norm=batch_norm),
        networks.dense_decoder(image_shape, latent_dim, tuple(reversed(units)), activation,
                               output_activation, batch_norm=batch_norm),
        name="dense_ae")


def linear_ae(image_shape, latent_dim=16, num_classes=None):
    """Linear autoencoder (no activations, MSE): learns PCA's principal subspace."""
    del num_classes
    return Autoencoder(
        networks.dense_encoder(image_shape, latent_dim, units=()),
        networks.dense_decoder(image_shape, latent_dim, units=(), output_activation=None),
        output_range=None, name="linear_ae")


def tied_ae(image_shape, latent_dim=16, num_classes=None, units=(256, 128), activation="relu",
            output_activation="sigmoid"):
    """Dense autoencoder with tied weights: the decoder uses the transposed encoder kernels."""
    del num_classes
    return TiedAutoencoder(image_shape, latent_dim, units, activation, output_activation,
                           name="tied_ae")


def recurrent_ae(image_shape, latent_dim=16, num_classes=None, units=64, cell="lstm",
                 output_activation="auto"):
    """Recurrent (LSTM) autoencoder: images read as rows, or any (time, features) input."""
    del num_classes
    activation = _sigmoid_or_linear(image_shape, output_activation)
    return Autoencoder(
        networks.recurrent_encoder(image_shape, latent_dim, units, cell),
        networks.recurrent_decoder(image_shape, latent_dim, units, cell, activation),
        name="recurrent_ae")


def denoising_ae(image_shape, latent_dim=16, num_classes=None, noise="gaussian",
                 noise_level=0.3, backbone="conv", filters=(32, 64), units=(256, 128), seed=None):
    """Denoising autoencoder: Gaussian noise or dropout on the input while training."""
    del num_classes
    encoder, decoder = _backbone(image_shape, latent_dim, backbone, filters, units)
    return DenoisingAutoencoder(encoder, decoder, noise, noise_level, seed=seed,
                                name="denoising_ae")


def sparse_ae(image_shape, latent_dim=16, num_classes=None, units=(256,), l1=0.0,
              kl_weight=0.1, sparsity_target=0.05, activation="relu"):
    """Sparse autoencoder: sigmoid code with L1 and KL-divergence sparsity penalties."""
    del num_classes
    regularizer = layers_lib.SparsityRegularizer(l1=l1, kl_weight=kl_weight,
                                                 target=sparsity_target)
    units = tuple(units)
    return Autoencoder(
        networks.dense_encoder(image_shape, latent_dim, units, activation,
                               code_activation="sigmoid", activity_regularizer=regularizer),
        networks.dense_decoder(image_shape, latent_dim, tuple(reversed(units)), activation),
        name="sparse_ae")


def vae(image_shape, latent_dim=16, num_classes=None, beta=1.0, backbone="conv",
        filters=(32, 64), units=(256, 128), seed=None):
    """Variational autoencoder (beta-VAE by `beta`): KL via add_loss, samples from the prior."""
    del num_classes
    encoder, decoder = _backbone(image_shape, latent_dim, backbone, filters, units, heads=2)
    return VariationalAutoencoder(encoder, decoder, beta=beta, seed=seed, name="vae")


def _backbone(image_shape, latent_dim, backbone, filters, units, heads=1):
    if backbone == "conv":
        return (networks.conv_encoder(image_shape, latent_dim, tuple(filters), outputs=heads),
                networks.conv_decoder(image_shape, latent_dim, tuple(reversed(filters))))
    if backbone == "dense":
        units = tuple(units)
        encoder = networks.dense_encoder(image_shape, latent_dim, units,
                                         code_name="z_mean" if heads == 2 else "code")
        if heads == 2:
            # Second head for the log-variance, beside the code (the mean).
            hidden = encoder.get_layer("z_mean").input
            log_var = keras.layers.Dense(latent_dim, name="z_log_var")(hidden)
            encoder = keras.Model(encoder.input, [encoder.output, log_var], name="encoder")
        return encoder, networks.dense_decoder(image_shape, latent_dim, tuple(reversed(units)))
    raise UserError(f"backbone must be 'conv' or 'dense', got {backbone!r}")
