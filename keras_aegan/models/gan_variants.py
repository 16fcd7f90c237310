"""GANs that change the base `gans.GAN`'s loss or its inputs.

- `WGANGP` (Gulrajani et al. 2017): `d_steps` critic updates with a gradient penalty per
  generator update; built by `build_wgan_gp`.
- `ConditionalGAN`: class labels to both networks, `generate(z, labels)`; built by
  `build_cgan`.

They keep everything else of `gans.GAN`: its noise, weight averaging, distribution and
protocol (see that module).
"""

import keras
import numpy as np
import tensorflow as tf

from keras_aegan import compat, protocol
from keras_aegan.models import networks
from keras_aegan.models import labels as labels_lib
from keras_aegan.models import losses as losses_lib
from keras_aegan.errors import UserError, check_int, check_number
from keras_aegan.models.gans import GAN, PREVIEW_COLUMNS

@keras.saving.register_keras_serializable(package="keras_aegan")
class WGANGP(GAN):
    """Wasserstein GAN with gradient penalty (Gulrajani et al. 2017).

    Each step makes `d_steps` critic updates on the step's real batch (fresh noise each
    time), then one generator update. The critic loss is `E[D(fake)] - E[D(real)] +
    gp_weight * E[(||grad D(x_hat)|| - 1)^2]` with `x_hat` drawn uniformly on the line
    between a real and a generated image.

    Args:
        generator: noise -> images in [0, 1].
        discriminator: the critic, images -> one unbounded score; no batch norm (the
            penalty is per sample).
        d_steps: critic updates per generator update (>= 1).
        gp_weight: weight of the gradient penalty.
        **kwargs: see `GAN`.
    """

    default_loss = "wasserstein"
    default_learning_rate = 2e-4
    default_betas = (0.5, 0.9)

    def __init__(self, generator, discriminator, d_steps=3, gp_weight=10.0, **kwargs):
        self.d_steps = check_int("d_steps", d_steps, 1)
        self.gp_weight = check_number("gp_weight", gp_weight, 0)
        super().__init__(generator, discriminator, **kwargs)

    def _make_trackers(self):
        return {name: keras.metrics.Mean(name=name)
                for name in ("d_loss", "g_loss", "gradient_penalty", "w_distance")}

    def get_config(self):
        config = super().get_config()
        config.update(d_steps=self.d_steps, gp_weight=self.gp_weight)
        return config

    def _uniform(self, batch):
        return compat.per_replica_random(
            lambda shape: keras.random.uniform(shape, seed=self.seed_generator), batch)

    def _critic_losses(self, real, fake, labels, training):
        real_scores = self._discriminate(real, labels, training=training)
        fake_scores = self._discriminate(fake, labels, training=training)
        d_cost = self.d_loss_fn(real_scores, fake_scores)
        penalty = losses_lib.gradient_penalty(
            lambda x, training: self._discriminate(x, labels, training=training),
            real, fake, self._uniform(tf.shape(real)[0]), training=training)
        w_distance = keras.ops.mean(keras.ops.cast(real_scores, "float32")) - keras.ops.mean(
            keras.ops.cast(fake_scores, "float32"))
        return d_cost + self.gp_weight * penalty, penalty, w_distance

    def train_step(self, data):
        real, labels = self._unpack(data)
        batch = tf.shape(real)[0]
        replicas, _ = compat.replica_info()
        critic_vars = self.discriminator.trainable_variables
        for _ in range(self.d_steps):
            fake = self._generate(self._noise(batch), labels, training=True)
            with tf.GradientTape() as tape:
                d_loss, penalty, w_distance = self._critic_losses(real, fake, labels, True)
                scaled = self.d_optimizer.scale_loss(d_loss / replicas)
            self._update(self.d_optimizer, tape, scaled, critic_vars)
        z = self._noise(batch)
        with tf.GradientTape() as tape:
            fake_scores = self._discriminate(self._generate(z, labels, training=True), labels,
                                             training=True)
            g_loss = self.g_loss_fn(fake_scores)
            scaled = self.g_optimizer.scale_loss(g_loss / replicas)
        self._update(self.g_optimizer, tape, scaled, self.generator.trainable_variables)
        self._update_ema()
        return self._log_w(d_loss, g_loss, penalty, w_distance)

    def test_step(self, data):
        real, labels = self._unpack(data)
        fake = self._generate(self._noise(tf.shape(real)[0]), labels, training=False)
        d_loss, penalty, w_distance = self._critic_losses(real, fake, labels, False)
        g_loss = self.g_loss_fn(self._discriminate(fake, labels, training=False))
        return self._log_w(d_loss, g_loss, penalty, w_distance)

    def _log_w(self, d_loss, g_loss, penalty, w_distance):
        return self._record({"d_loss": d_loss, "g_loss": g_loss,
                             "gradient_penalty": penalty, "w_distance": w_distance})


@keras.saving.register_keras_serializable(package="keras_aegan")
class ConditionalGAN(GAN):
    """A GAN whose networks both see the class label (Mirza & Osindero 2014).

    Trained on `(images, labels)` batches; the fakes of a step use the real batch's
    labels, so the classes are generated as often as the data holds them.

    Args:
        generator: a model `[noise, labels] -> images in [0, 1]`.
        discriminator: a model `[images, labels] -> logits`.
        num_classes: number of classes (int labels `0 .. num_classes - 1`).
        **kwargs: see `GAN`.

    Example:
        >>> cgan = build_cgan((28, 28, 1), latent_dim=16, num_classes=10)
        >>> cgan.compile()
        >>> cgan.fit(dataset_of_images_and_labels)
        >>> sevens = cgan.generate(np.random.normal(size=(8, 16)), np.full(8, 7))
    """

    def __init__(self, generator, discriminator, num_classes, **kwargs):
        self.num_classes = check_int("num_classes", num_classes, 2)
        super().__init__(generator, discriminator, **kwargs)
        if len(self._generator_inputs()) != 2 or len(self._discriminator_inputs()) != 2:
            raise UserError("a conditional GAN needs networks taking [noise, labels] and "
                            "[images, labels]")

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes)
        return config

    def describe(self):
        """The conditional GAN's `protocol.ModelSpec`: its generator takes labels too."""
        inputs = (protocol.noise_port(self.latent_dim), protocol.label_port())
        generator = protocol.Part(
            "generator", "generate", self.generate, inputs,
            protocol.image_port(self.image_shape),
            f"standard-normal noise z and an int class label in 0..{self.num_classes - 1} "
            "-> images in [0, 1]")
        # Its discriminator's features depend on the label: no label-free representation.
        return self._spec(parts=(generator,), conditional=True, num_classes=self.num_classes)

    def _unpack(self, data):
        return self._image_batch(data, labels_for="a conditional GAN")

    def _generate(self, z, labels, training):
        return self.generator([z, labels], training=training)

    def _discriminate(self, images, labels, training):
        return self.discriminator([images, labels], training=training)

    def call(self, inputs, training=False):
        z, labels = inputs
        network = self.generator if training else self.sampling_generator
        return network([z, labels], training=training)

    def generate(self, z, labels):
        """Noise `(batch, latent_dim)` and int labels `(batch,)` -> images in [0, 1].

        Deterministic (no random ops). A `UserError` for a wrong latent size or a label
        count different from the noise count.
        """
        z = self._check_noise(z)
        labels = labels_lib.check_labels(labels, z.shape[0], self.num_classes, column=True)
        return self.sampling_generator([z, labels], training=False)

    def sample(self, n, labels=None, seed=None):
        """`n` images (numpy); `labels` default to `0, 1, ..., num_classes - 1, 0, ...`."""
        n = check_int("n", n, 1)
        if labels is None:
            labels = np.arange(n) % self.num_classes
        z = keras.random.normal((n, self.latent_dim), seed=seed)
        return keras.ops.convert_to_numpy(self.generate(z, labels))

    def preview(self, images=None):
        """One row per class (the first 16 classes), the same fixed noise along each column."""
        del images
        z = self.preview_noise[:PREVIEW_COLUMNS]
        return [keras.ops.convert_to_numpy(
                    self.generate(z, np.full(len(z), c, "int32")))
                for c in range(min(self.num_classes, 16))]


# ---------------------------------------------------------------------------- builders


def build_wgan_gp(image_shape, latent_dim=16, num_classes=None, width=32, d_steps=3,
                  gp_weight=10.0, seed=None, ema_decay=None):
    """WGAN-GP (Gulrajani et al. 2017): a layer-normalized critic with a gradient penalty.

    `width` 32, as the DCGAN's: a step costs 3 critic updates with the penalty (the
    penalty's second derivatives make each dearer than a plain one) and a generator update,
    several DCGAN steps of the same width; width 64 costs several times more again and gave
    worse samples in the same time (see the README).
    """
    del num_classes  # unconditional
    return WGANGP(networks.dcgan_generator(image_shape, latent_dim, width),
                  networks.dcgan_discriminator(image_shape, width, normalization="layer",
                                               logit_bias=False, name="critic"),
                  d_steps=d_steps, gp_weight=gp_weight, seed=seed, ema_decay=ema_decay,
                  name="wgan_gp")


def build_cgan(image_shape, latent_dim=16, num_classes=10, width=64, loss=None,
               label_smoothing=0.0, seed=None, ema_decay=None):
    """Conditional DCGAN: the label embedded into the generator, projected in the discriminator."""
    if num_classes is None:
        raise UserError("cgan needs class labels, and the dataset has none")
    return ConditionalGAN(
        networks.dcgan_generator(image_shape, latent_dim, width, num_classes=num_classes),
        networks.dcgan_discriminator(image_shape, width, num_classes=num_classes),
        num_classes=num_classes, loss=loss, label_smoothing=label_smoothing, seed=seed,
        ema_decay=ema_decay, name="cgan")
