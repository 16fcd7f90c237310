"""The adversarial autoencoder (Makhzani et al. 2015): the bridge between the two families.

An autoencoder whose code distribution is pushed towards a prior by a discriminator that
looks at codes, not images: reconstruction comes from the autoencoder family, matching of
distributions from the GAN family. The VAE matches its prior with a KL term; the AAE
matches it adversarially, so any prior it can sample from works, and the encoder stays
deterministic.

Each training step has two phases, as in the paper:

1. *Reconstruction*: encoder and decoder minimise the pixel reconstruction loss
   (`ae_optimizer`).
2. *Regularisation*: the code discriminator learns to tell prior draws `z ~ N(0, I)` from
   the codes of real images (`d_optimizer`), and the encoder, as the generator, learns to
   make its codes pass for prior draws (`g_optimizer`; non-saturating loss).

Family: `"autoencoder"`. It is compared within the autoencoder family, next to the VAE,
because what it offers a user is the autoencoder's: `encoder`, `decoder` and `autoencoder`
parts, direct reconstruction, and features = its code. Unlike a plain autoencoder it
samples from its own prior (`protocol.SAMPLES_OWN`), like the VAE.

- `AdversarialAutoencoder` (`aae`): unconditional.
- `ConditionalAdversarialAutoencoder` (`caae`): the paper's *supervised* AAE (section 5):
  the decoder also sees the class label, so the prior-matched code holds the style and the
  label the class; `decoder([z ~ prior, label])` draws a chosen class. It declares an
  `encoder` part and a `generator` part (noise and label -> images), the same kind of part
  as the conditional GAN's, which is what the augmentation comparison uses.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from keras_aegan import protocol
from keras_aegan.models import networks
from keras_aegan.models import labels as labels_lib
from keras_aegan.models import losses as losses_lib
from keras_aegan.models.adversarial import (AdversarialModel, check_learning_rate,
                                            discriminator_accuracy)
from keras_aegan.models.autoencoders import Autoencoder
from keras_aegan.errors import UserError, check_int, check_number

RECONSTRUCTION_LOSSES = ("mse", "bce")
PREVIEW_COLUMNS = 16


def code_discriminator(latent_dim, units=(256, 256), name="code_discriminator"):
    """A dense discriminator on codes: `(latent_dim,)` -> one float32 logit.

    Args:
        latent_dim: size of the codes it judges.
        units: widths of the hidden layers (LeakyReLU 0.2).
        name: model name (distinct from the encoder's and decoder's: checkpoints key
            variables by network name).

    Returns:
        A functional `keras.Model`; its last hidden layer is named `features`.
    """
    networks.check_latent_dim(latent_dim)
    codes = keras.Input((int(latent_dim),), name="code")
    x = codes
    for i, width in enumerate(units):
        x = keras.layers.Dense(check_int("units", width), name=f"dense{i}")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"leaky{i}")(x)
    x = keras.layers.Identity(name=networks.FEATURES_LAYER)(x)
    logits = keras.layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(codes, logits, name=name)


def conditional_conv_decoder(image_shape, latent_dim, num_classes, filters=(64, 32),
                             name="decoder"):
    """A transposed-convolution decoder of `[code, label]`: the label is embedded and
    concatenated to the code, then decoded as by `networks.conv_decoder`.

    Args:
        image_shape: `(H, W, C)` of the images to produce.
        latent_dim: size of the code.
        num_classes: number of classes (int labels of shape `(batch,)`).
        filters: channels of the transposed convolutions.
        name: model name.
    """
    networks.check_latent_dim(latent_dim)
    num_classes = check_int("num_classes", num_classes, 2)
    codes = keras.Input((int(latent_dim),), name="code")
    labels = keras.Input((), dtype="int32", name="labels")
    # An embedding (a gather), not a one-hot op: TF Lite converts it without Flex ops.
    embedded = keras.layers.Embedding(num_classes, int(latent_dim),
                                      name="label_embedding")(labels)
    joined = keras.layers.Concatenate(name="code_and_label")([codes, embedded])
    body = networks.conv_decoder(image_shape, 2 * int(latent_dim), tuple(filters),
                                 name="decoder_body")
    return keras.Model([codes, labels], body(joined), name=name)


@keras.saving.register_keras_serializable(package="keras_aegan")
class AdversarialAutoencoder(AdversarialModel, Autoencoder):
    """An autoencoder whose codes are matched to `N(0, I)` by a code discriminator.

    Args:
        encoder: images in [0, 1] -> codes `(latent_dim,)` (deterministic).
        decoder: codes -> images in [0, 1].
        discriminator: codes -> one logit (prior draw or encoder code?).
        reconstruction_loss: `"mse"` (mean squared error per pixel) or `"bce"` (binary
            cross-entropy per pixel).
        seed: seed of the prior draws (`None`: from the global seed).

    Example:
        >>> aae = registry.get_model_entry("aae").builder((28, 28, 1), latent_dim=8)
        >>> aae.compile()
        >>> aae.fit(images, epochs=1)
        >>> samples = aae.sample(16)
    """

    seed_attribute, seed_state_key = "prior_seed", "prior_seed_state"
    optimizer_networks = {"ae_optimizer": ("encoder", "decoder"),
                          "d_optimizer": ("discriminator",), "g_optimizer": ("encoder",)}
    network_names = ("encoder", "decoder", "discriminator")

    sampler = protocol.SAMPLES_OWN
    # The default adversarial learning rate, as a share of the reconstruction's: the
    # regularisation must not overwhelm the reconstruction (both move the encoder).
    adversarial_ratio = 0.2

    def __init__(self, encoder, decoder, discriminator, reconstruction_loss="mse", seed=None,
                 **kwargs):
        # Not `Autoencoder.__init__`: it reads the code size from a one-input decoder, and
        # the conditional AAE's decoder takes [codes, labels]; the encoder's output says it.
        output_range = kwargs.pop("output_range", (0.0, 1.0))
        keras.Model.__init__(self, **kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.output_range = None if output_range is None else tuple(output_range)
        self.image_shape = tuple(encoder.input_shape[1:])
        self.latent_dim = int(encoder.output_shape[-1])
        self.built = True
        self.discriminator = discriminator
        if int(discriminator.input_shape[-1]) != self.latent_dim:
            raise UserError(f"the code discriminator takes codes of {discriminator.input_shape[-1]}"
                            f" units, the encoder makes {self.latent_dim}")
        if reconstruction_loss not in RECONSTRUCTION_LOSSES:
            raise UserError(f"reconstruction_loss must be one of "
                            f"{', '.join(RECONSTRUCTION_LOSSES)}, got {reconstruction_loss!r}")
        self.reconstruction_loss = reconstruction_loss
        self.seed = seed
        self.prior_seed = keras.random.SeedGenerator(seed, name="prior_seed")
        # Fixed at construction (not a weight): the same prior draw every epoch.
        self.preview_noise = np.random.default_rng(1234).standard_normal(
            (PREVIEW_COLUMNS, self.latent_dim)).astype("float32")
        self._trackers = {name: keras.metrics.Mean(name=name) for name in
                          ("reconstruction_loss", "d_loss", "g_loss", "d_accuracy")}
        self.ae_optimizer = self.d_optimizer = self.g_optimizer = None

    # Which network each logged loss trains, in update order (for `DivergenceGuard`).
    loss_networks = {"reconstruction_loss": "autoencoder", "d_loss": "discriminator",
                     "g_loss": "encoder"}

    def describe(self):
        """The AAE's `protocol.ModelSpec`: the autoencoder's parts, its own sampler."""
        spec = super().describe()
        return dataclasses.replace(
            spec, networks={"encoder": self.encoder, "decoder": self.decoder,
                            "discriminator": self.discriminator},
            losses=self.loss_networks, optimizers=self.optimizers())

    # ------------------------------------------------------------------ compile / save

    def compile(self, ae_optimizer=None, d_optimizer=None, g_optimizer=None,
                learning_rate=1e-3, adversarial_learning_rate=None, **kwargs):
        """Set the three optimizers.

        Args:
            ae_optimizer: the reconstruction phase's optimizer (encoder and decoder);
                default Adam at `learning_rate`.
            d_optimizer: the code discriminator's; default Adam(0.5, 0.999) at
                `adversarial_learning_rate`.
            g_optimizer: the encoder's adversarial updates; same default.
            learning_rate: learning rate of the default reconstruction optimizer.
            adversarial_learning_rate: learning rate of the default adversarial
                optimizers; `None`: `adversarial_ratio * learning_rate` (1/5 for the AAE,
                1 for the conditional AAE).
            **kwargs: passed to `keras.Model.compile` (`run_eagerly`, `jit_compile`, ...).
        """
        rate = check_learning_rate(learning_rate)
        if adversarial_learning_rate is None:
            adversarial = self.adversarial_ratio * rate
        else:
            adversarial = check_number("adversarial_learning_rate", adversarial_learning_rate,
                                       0, 10, low_open=True, high_open=True)

        def adam(optimizer, rate, beta_1, name):
            return keras.optimizers.Adam(rate, beta_1=beta_1, name=name) \
                if optimizer is None else optimizer

        super().compile(ae_optimizer=adam(ae_optimizer, rate, 0.9, "ae_optimizer"),
                        d_optimizer=adam(d_optimizer, adversarial, 0.5, "d_optimizer"),
                        g_optimizer=adam(g_optimizer, adversarial, 0.5, "g_optimizer"),
                        **kwargs)

    def compile_defaults(self):
        return {}  # its own `compile()`, and `reconstruction_loss` below

    def get_config(self):
        config = super().get_config()
        config.update(reconstruction_loss=self.reconstruction_loss, seed=self.seed)
        return config

    # ------------------------------------------------------------------------ training

    def _unpack(self, data):
        """`(images, labels)`; labels are `None` for the unconditional AAE."""
        return self._image_batch(data)

    def _decode(self, codes, labels, training):
        return self.decoder(codes, training=training)

    def _pixel_loss(self, images, reconstructions):
        images = keras.ops.cast(images, "float32")
        reconstructions = keras.ops.cast(reconstructions, "float32")
        if self.reconstruction_loss == "bce":
            clipped = keras.ops.clip(reconstructions, 1e-7, 1.0 - 1e-7)
            return -keras.ops.mean(images * keras.ops.log(clipped)
                                   + (1.0 - images) * keras.ops.log(1.0 - clipped))
        return keras.ops.mean(keras.ops.square(images - reconstructions))

    def _prior(self, batch):
        return keras.random.normal((batch, self.latent_dim), seed=self.prior_seed)

    def train_step(self, data):
        images, labels = self._unpack(data)
        batch = tf.shape(images)[0]
        # Optimizers sum the replicas' gradients: each replica contributes its share.
        ctx = tf.distribute.get_replica_context()
        replicas = 1 if ctx is None else ctx.num_replicas_in_sync
        # Phase 1, reconstruction: encoder and decoder.
        ae_vars = self.trainable_variables_of("ae_optimizer")
        with tf.GradientTape() as tape:
            reconstructions = self._decode(self.encoder(images, training=True), labels, True)
            rec_loss = self._pixel_loss(images, reconstructions)
            rec_scaled = rec_loss / replicas
        self.ae_optimizer.apply(tape.gradient(rec_scaled, ae_vars), ae_vars)
        # Phase 2, regularisation: the discriminator tells prior draws from codes, the
        # encoder (the generator here) learns to fool it. One forward pass serves both.
        prior = self._prior(batch)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            codes = self.encoder(images, training=True)
            real_logits = self.discriminator(prior, training=True)
            fake_logits = self.discriminator(codes, training=True)
            d_loss = losses_lib.minimax_discriminator_loss(real_logits, fake_logits)
            g_loss = losses_lib.non_saturating_generator_loss(fake_logits)
            d_scaled, g_scaled = d_loss / replicas, g_loss / replicas
        d_vars = self.trainable_variables_of("d_optimizer")
        self.d_optimizer.apply(d_tape.gradient(d_scaled, d_vars), d_vars)
        g_vars = self.trainable_variables_of("g_optimizer")
        self.g_optimizer.apply(g_tape.gradient(g_scaled, g_vars), g_vars)
        return self._log(rec_loss, d_loss, g_loss, real_logits, fake_logits)

    def test_step(self, data):
        images, labels = self._unpack(data)
        codes = self.encoder(images, training=False)
        rec_loss = self._pixel_loss(images, self._decode(codes, labels, False))
        real_logits = self.discriminator(self._prior(tf.shape(images)[0]), training=False)
        fake_logits = self.discriminator(codes, training=False)
        return self._log(rec_loss,
                         losses_lib.minimax_discriminator_loss(real_logits, fake_logits),
                         losses_lib.non_saturating_generator_loss(fake_logits),
                         real_logits, fake_logits)

    def _log(self, rec_loss, d_loss, g_loss, real_logits, fake_logits):
        return self._record({"reconstruction_loss": rec_loss, "d_loss": d_loss,
                             "g_loss": g_loss,
                             "d_accuracy": discriminator_accuracy(real_logits, fake_logits)})

    # ------------------------------------------------------------------------ inference

    def sample(self, n, seed=None):
        """Decode `n` codes drawn from the prior `N(0, I)`; `seed` fixes the draw."""
        n = check_int("n", n)
        z = keras.random.normal((n, self.latent_dim),
                                seed=self.prior_seed if seed is None else seed)
        return self.decode(z)

    def preview(self, images):
        """Inputs, their reconstructions, and decoded draws of a fixed prior sample."""
        rows = super().preview(images)
        return [*rows, keras.ops.convert_to_numpy(self.decode(self.preview_noise))]


@keras.saving.register_keras_serializable(package="keras_aegan")
class ConditionalAdversarialAutoencoder(AdversarialAutoencoder):
    """The supervised AAE (Makhzani et al. 2015, section 5): the decoder sees the label.

    Trained on `(images, labels)` batches. The encoder sees images only; its codes are
    matched to `N(0, I)`, so they carry what the label does not (the style), and
    `generate(z, labels)` with `z ~ N(0, I)` draws images of the chosen classes.

    It declares an `encoder` part (images -> code) and a `generator` part (noise and
    labels -> images); no `autoencoder` part (reconstruction needs the label too, which
    `protocol.RECONSTRUCTS_DIRECT` does not take), so the study does not score its
    reconstructions.

    Args:
        encoder: images -> codes.
        decoder: `[codes, labels]` -> images in [0, 1].
        discriminator: codes -> one logit.
        num_classes: number of classes (int labels `0 .. num_classes - 1`).
        **kwargs: see `AdversarialAutoencoder`.

    Example:
        >>> caae = registry.get_model_entry("caae").builder((28, 28, 1), 8, num_classes=10)
        >>> caae.compile()
        >>> caae.fit(images, labels, epochs=1)
        >>> sevens = caae.generate(np.random.normal(size=(8, 8)), np.full(8, 7))
    """

    # The decoder can read the class from the label or from the code; only a code pushed
    # hard towards the (class-free) prior leaves the class to the label. On a few labelled
    # MNIST digits, equal rates gave a clearly better CAS than a fifth, whose samples
    # mostly ignored their label.
    adversarial_ratio = 1.0

    def __init__(self, encoder, decoder, discriminator, num_classes, **kwargs):
        self.num_classes = check_int("num_classes", num_classes, 2)
        if not isinstance(decoder.inputs, (list, tuple)) or len(decoder.inputs) != 2:
            raise UserError("a conditional AAE needs a decoder taking [codes, labels]")
        super().__init__(encoder, decoder, discriminator, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes)
        return config

    def describe(self):
        """The encoder and a conditional generator (`decode([z ~ prior, label])`)."""
        image = protocol.image_port(self.image_shape)
        code = protocol.code_port(self.latent_dim)
        inputs = (protocol.noise_port(self.latent_dim), protocol.label_port())
        parts = (
            protocol.Part("encoder", "encode", self.encode, (image,), code,
                          "images -> code (the style: what the label does not say)"),
            protocol.Part("generator", "generate", self.generate, inputs, image,
                          f"standard-normal noise z and an int class label in "
                          f"0..{self.num_classes - 1} -> images in [0, 1]"),
        )
        return protocol.ModelSpec(
            family=self.family, image_shape=self.image_shape, latent_dim=self.latent_dim,
            parts=parts, conditional=True, num_classes=self.num_classes,
            sampler=protocol.SAMPLES_OWN, reconstruction=None,
            features=("encoder", self.code_layer),
            networks={"encoder": self.encoder, "decoder": self.decoder,
                      "discriminator": self.discriminator},
            losses=self.loss_networks, optimizers=self.optimizers())

    def _unpack(self, data):
        return self._image_batch(data, labels_for="a conditional AAE")

    def _decode(self, codes, labels, training):
        return self.decoder([codes, labels], training=training)

    def call(self, inputs, training=False):
        images, labels = inputs
        self.check_images(images)
        labels = labels_lib.class_indices(labels)
        return self._decode(self.encoder(images, training=training), labels, training)

    def reconstruct(self, images, labels):
        """Images and their labels -> reconstructions (deterministic)."""
        return self((images, labels), training=False)

    def decode(self, codes, labels=None):
        """Codes and int labels `(batch,)` -> images in [0, 1]."""
        if labels is None:
            raise UserError("a conditional AAE decodes codes together with class labels")
        return self.generate(codes, labels)

    def generate(self, z, labels):
        """Codes or prior draws `(batch, latent_dim)` and int labels `(batch,)` -> images.

        Deterministic (no random ops). A `UserError` for a wrong code size, a label count
        different from the code count, or labels outside `0 .. num_classes - 1`.
        """
        z = keras.ops.cast(keras.ops.convert_to_tensor(z), "float32")
        if len(z.shape) != 2 or z.shape[-1] != self.latent_dim:
            raise UserError(f"latent size: this model takes codes of shape (batch, "
                            f"{self.latent_dim}), got {tuple(z.shape)}")
        labels = labels_lib.check_labels(labels, z.shape[0], self.num_classes, per="code")
        return self.decoder([z, labels], training=False)

    def sample(self, n, labels=None, seed=None):
        """`n` images from prior draws; `labels` default to `0, 1, ..., num_classes - 1,
        0, ...`."""
        n = check_int("n", n)
        if labels is None:
            labels = np.arange(n) % self.num_classes
        z = keras.random.normal((n, self.latent_dim),
                                seed=self.prior_seed if seed is None else seed)
        return self.generate(z, np.asarray(labels, "int32"))

    def preview(self, images=None):
        """One row per class (the first 16), the same prior draw along each column."""
        del images
        z = self.preview_noise
        return [keras.ops.convert_to_numpy(self.generate(z, np.full(len(z), c, "int32")))
                for c in range(min(self.num_classes, 16))]


# ---------------------------------------------------------------------------- builders


def _encoder_decoder(image_shape, latent_dim, backbone, filters, units):
    if backbone == "conv":
        return (networks.conv_encoder(image_shape, latent_dim, tuple(filters)),
                networks.conv_decoder(image_shape, latent_dim, tuple(reversed(filters))))
    if backbone == "dense":
        units = tuple(units)
        return (networks.dense_encoder(image_shape, latent_dim, units),
                networks.dense_decoder(image_shape, latent_dim, tuple(reversed(units))))
    raise UserError(f"backbone must be 'conv' or 'dense', got {backbone!r}")


def aae(image_shape, latent_dim=16, num_classes=None, backbone="conv", filters=(32, 64),
        units=(256, 128), discriminator_units=(256, 256), reconstruction_loss="mse",
        seed=None):
    """Adversarial autoencoder (Makhzani et al. 2015): codes matched to N(0, I) by a code
    discriminator; samples from the prior."""
    del num_classes  # unsupervised
    encoder, decoder = _encoder_decoder(image_shape, latent_dim, backbone, filters, units)
    return AdversarialAutoencoder(encoder, decoder,
                                  code_discriminator(latent_dim, tuple(discriminator_units)),
                                  reconstruction_loss=reconstruction_loss, seed=seed,
                                  name="aae")


def caae(image_shape, latent_dim=16, num_classes=10, filters=(32, 64),
         discriminator_units=(256, 256), reconstruction_loss="mse", seed=None):
    """Supervised (conditional) AAE: the label joins the code in the decoder; draws a
    chosen class from the prior."""
    if num_classes is None:
        raise UserError("caae needs class labels, and the dataset has none")
    return ConditionalAdversarialAutoencoder(
        networks.conv_encoder(image_shape, latent_dim, tuple(filters)),
        conditional_conv_decoder(image_shape, latent_dim, num_classes,
                                 tuple(reversed(filters))),
        code_discriminator(latent_dim, tuple(discriminator_units)),
        num_classes=num_classes, reconstruction_loss=reconstruction_loss, seed=seed,
        name="caae")
