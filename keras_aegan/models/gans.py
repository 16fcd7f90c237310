"""The GAN family: `keras.Model` subclasses that override `train_step`.

Users keep `fit`, callbacks, TensorBoard, checkpoints and `tf.distribute`. Every GAN holds
a `generator` (noise -> images in [0, 1]) and a `discriminator` (images in [0, 1] ->
logits), draws its noise from a `keras.random.SeedGenerator`, and exposes
`generate(z)` (deterministic: the caller draws `z`), `sample(n)` and `preview(images)`.
Compiling and saving (both optimizers, their state, the noise's seed state) come from
`keras_aegan.models.adversarial.AdversarialModel`. The runner watches training with a
`callbacks.DivergenceGuard`; pass one to `fit` when training by hand.

- `GAN`: both networks updated at once from one forward pass per step (the TensorFlow
  DCGAN tutorial's scheme: one generator pass and two discriminator passes per step, a
  third less compute than alternating updates). Used by the `gan` (dense) and `dcgan`
  builders, with any loss of `keras_aegan.models.losses.GAN_LOSSES`.
- `WGANGP` and `ConditionalGAN` (in `keras_aegan.models.gan_variants`): a critic with a gradient
  penalty; class labels to both networks.

Every GAN declares itself (`describe()`, see `keras_aegan.protocol`): one part, the
`generator`; it samples from its own noise; it reconstructs an image only by searching its
noise; its features are the discriminator's `features` layer (none for the conditional
GAN, whose discriminator needs the label).

Under `tf.distribute.MirroredStrategy`, each replica's losses are divided by the number of
replicas (the optimizers sum the replicas' gradients), and the noise of a step is drawn
for the global batch and sliced per replica, so one and several replicas train alike
(batch norm is synchronized across replicas, see `networks.dcgan_generator`). Build and
compile inside `strategy.scope()`. On several CPU devices, pass
`cross_device_ops=tf.distribute.ReductionToOneDevice()`: with TensorFlow 2.21 the default
collective all-reduce can pair different tensors across replicas when a step holds both
batch-norm updates and two optimizers' reductions ("Shape mismatch in the collective
instance").
"""


import keras
import numpy as np
import tensorflow as tf

from keras_aegan import compat, protocol
from keras_aegan.models import networks
from keras_aegan.models import losses as losses_lib
from keras_aegan.models.adversarial import AdversarialModel, discriminator_accuracy
from keras_aegan.models.diffaugment import DiffAugment
from keras_aegan.errors import UserError, check_int, check_number

PREVIEW_COLUMNS = 16


@keras.saving.register_keras_serializable(package="keras_aegan")
class GAN(AdversarialModel):
    """A generator and a discriminator trained against each other by `fit`.

    Args:
        generator: a model mapping noise `(latent_dim,)` to images in [0, 1].
        discriminator: a model mapping images in [0, 1] to one logit per image.
        loss: default loss name from `keras_aegan.models.losses.GAN_LOSSES` (`compile` may
            override it).
        label_smoothing: one-sided label smoothing of the real targets (minimax losses).
        seed: seed of the training noise (`None`: from the global seed, so
            `keras.utils.set_random_seed` makes runs repeatable).
        preview_size: images in `preview()`, drawn from noise fixed at construction.
        preview_seed: seed of that fixed noise.
        ema_decay: keep an exponential moving average of the generator's weights with
            this decay (e.g. 0.999) and sample from it (`generate`, `sample`,
            `preview`, the exported `generator` part); `None`: sample from the trained
            generator itself. See `ema_generator`.
        diffaugment: a `keras_aegan.models.diffaugment` policy (e.g. `"translation,cutout"`):
            the discriminator sees the real and the generated images through the same
            kind of random, differentiable transforms while training (Zhao et al. 2020);
            `None`: as they are.

    The average (`ema_generator`, a copy of the generator named `<name>_ema`) is updated
    after every generator update, with its decay ramped up from 0.1 as
    `min(ema_decay, (1 + t) / (10 + t))` at generator step `t`, so early samples follow
    the fast-moving weights; it averages the batch-norm statistics too. It is a
    non-trainable part of the model: `.keras` files and checkpoints hold it.

    Example:
        >>> gan = GAN(networks.dcgan_generator((28, 28, 1), 16),
        ...           networks.dcgan_discriminator((28, 28, 1)))
        >>> gan.compile()
        >>> gan.fit(images_dataset, epochs=1)
        >>> images = gan.generate(np.random.normal(size=(8, 16)))
    """

    family = "gan"

    default_loss = "non_saturating"
    default_learning_rate = 2e-4
    default_betas = (0.5, 0.999)
    optimizer_networks = {"d_optimizer": ("discriminator",), "g_optimizer": ("generator",)}
    network_names = ("generator", "discriminator")
    scales_losses = True
    seed_attribute, seed_state_key = "seed_generator", "noise_seed_state"

    def __init__(self, generator, discriminator, loss=None, label_smoothing=0.0, seed=None,
                 preview_size=64, preview_seed=0, ema_decay=None, diffaugment=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.loss_name = loss or self.default_loss
        losses_lib.get_gan_loss(self.loss_name)
        self.label_smoothing = check_number("label_smoothing", label_smoothing, 0, 1,
                                            high_open=True)
        self.seed = seed
        self.preview_size = check_int("preview_size", preview_size, 1)
        self.preview_seed = preview_seed
        self.ema_decay = None if ema_decay is None else check_number(
            "ema_decay", ema_decay, 0, 1, low_open=True, high_open=True)
        self.image_shape = tuple(int(d) for d in generator.output_shape[1:])
        self.latent_dim = int(self._generator_inputs()[0].shape[-1])
        d_shape = tuple(self._discriminator_inputs()[0].shape[1:])
        if d_shape != self.image_shape:
            raise UserError(f"the generator makes images of shape {self.image_shape} but the "
                            f"discriminator takes {d_shape}")
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        self.diffaugment = diffaugment or None
        # Shares the noise's seed generator, whose state checkpoints already save.
        self.augment = DiffAugment(self.diffaugment, seed=self.seed_generator)
        # Fixed at construction (not a weight): the same noise every epoch shows progress.
        self.preview_noise = np.random.default_rng(preview_seed).standard_normal(
            (preview_size, self.latent_dim)).astype("float32")
        self._trackers = self._make_trackers()
        self.gan_loss = self.loss_name
        self.d_optimizer = self.g_optimizer = None
        self.ema_generator = (None if self.ema_decay is None
                              else averaged_copy(generator, f"{generator.name}_ema"))
        # The parts are built functional models, so the whole is built too.
        self.built = True

    @property
    def sampling_generator(self):
        """The network that draws samples: the moving average when the GAN keeps one."""
        return self.generator if self.ema_generator is None else self.ema_generator

    # Which network each logged loss trains, in update order (for `DivergenceGuard`).
    loss_networks = {"d_loss": "discriminator", "g_loss": "generator"}

    def describe(self):
        """The GAN's `protocol.ModelSpec`."""
        noise = protocol.noise_port(self.latent_dim)
        generator = protocol.Part("generator", "generate", self.generate, (noise,),
                                  protocol.image_port(self.image_shape),
                                  "standard-normal noise z -> images in [0, 1]")
        return self._spec(parts=(generator,), reconstruction=protocol.RECONSTRUCTS_BY_SEARCH,
                          features=("discriminator", networks.FEATURES_LAYER))

    def _spec(self, **declared):
        return protocol.ModelSpec(
            family=self.family, image_shape=self.image_shape, latent_dim=self.latent_dim,
            sampler=protocol.SAMPLES_OWN,
            networks={"generator": self.generator, "discriminator": self.discriminator},
            losses=self.loss_networks,
            optimizers=self.optimizers(),
            **declared)

    def _make_trackers(self):
        return {name: keras.metrics.Mean(name=name)
                for name in ("d_loss", "g_loss", "d_accuracy")}

    def _generator_inputs(self):
        inputs = self.generator.inputs
        return inputs if isinstance(inputs, (list, tuple)) else [inputs]

    def _discriminator_inputs(self):
        inputs = self.discriminator.inputs
        return inputs if isinstance(inputs, (list, tuple)) else [inputs]

    # ------------------------------------------------------------------ compile / save

    def compile(self, d_optimizer=None, g_optimizer=None, loss=None, learning_rate=None,
                **kwargs):
        """Set the two optimizers and the loss.

        Args:
            d_optimizer: discriminator optimizer (an instance, name or config); default
                Adam at `learning_rate` with the model's betas (0.5, 0.999 for DCGAN).
            g_optimizer: generator optimizer; same default.
            loss: a name from `keras_aegan.models.losses.GAN_LOSSES`; default: the model's.
            learning_rate: learning rate of the default optimizers (default 2e-4).
            **kwargs: passed to `keras.Model.compile` (`run_eagerly`, `jit_compile`, ...).

        Under a `mixed_float16` policy both optimizers are wrapped in a
        `keras.optimizers.LossScaleOptimizer`. The optimizers are built here, so call
        `compile` inside the strategy scope when distributing.
        """
        self.gan_loss = loss or self.loss_name
        self.d_loss_fn, self.g_loss_fn = losses_lib.get_gan_loss(self.gan_loss)
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer,
                        learning_rate=learning_rate, **kwargs)

    def compile_options(self):
        return {"loss": self.gan_loss}

    def get_config(self):
        config = super().get_config()
        config.update(loss=self.loss_name, label_smoothing=self.label_smoothing,
                      seed=self.seed, preview_size=self.preview_size,
                      preview_seed=self.preview_seed, ema_decay=self.ema_decay,
                      diffaugment=self.diffaugment)
        return config

    # ------------------------------------------------------------------------ training

    def _unpack(self, data):
        return self._image_batch(data)

    def check_images(self, images):
        """A `UserError` when `images` are not `(batch, *image_shape)`."""
        shape = tuple(images.shape[1:])
        if len(images.shape) != 4 or shape != self.image_shape:
            raise UserError(f"image_shape: this model was built for images of shape "
                            f"{self.image_shape}, got batches of shape {tuple(images.shape)}")

    def _noise(self, batch):
        return compat.per_replica_random(
            lambda shape: keras.random.normal(shape, seed=self.seed_generator), batch,
            (self.latent_dim,))

    def _generate(self, z, labels, training):
        return self.generator(z, training=training)

    def _discriminate(self, images, labels, training):
        return self.discriminator(images, training=training)

    def _d_loss(self, real_logits, fake_logits):
        if self.gan_loss in ("minimax", "non_saturating") and self.label_smoothing:
            return self.d_loss_fn(real_logits, fake_logits, label_smoothing=self.label_smoothing)
        return self.d_loss_fn(real_logits, fake_logits)

    def _g_loss(self, fake_logits, real, fake):
        """The generator's loss: the adversarial one (subclasses may add terms on the real
        and generated batches)."""
        del real, fake
        return self.g_loss_fn(fake_logits)

    def _update(self, optimizer, tape, loss, variables):
        grads = tape.gradient(loss, variables)
        optimizer.apply(grads, variables)

    def _update_ema(self):
        """Move the averaged generator towards the trained one (after a generator step)."""
        if self.ema_generator is None:
            return
        step = keras.ops.cast(self.g_optimizer.iterations, "float32")
        decay = keras.ops.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        update_average(self.ema_generator.weights, self.generator.weights, decay)

    def train_step(self, data):
        real, labels = self._unpack(data)
        batch = tf.shape(real)[0]
        replicas, _ = compat.replica_info()
        z = self._noise(batch)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake = self._generate(z, labels, training=True)
            real_logits = self._discriminate(self.augment(real), labels, training=True)
            fake_logits = self._discriminate(self.augment(fake), labels, training=True)
            d_loss = self._d_loss(real_logits, fake_logits)
            g_loss = self._g_loss(fake_logits, real, fake)
            # Optimizers sum the replicas' gradients: each replica's share of the mean.
            d_scaled = self.d_optimizer.scale_loss(d_loss / replicas)
            g_scaled = self.g_optimizer.scale_loss(g_loss / replicas)
        self._update(self.d_optimizer, d_tape, d_scaled, self.discriminator.trainable_variables)
        self._update(self.g_optimizer, g_tape, g_scaled, self.generator.trainable_variables)
        self._update_ema()
        return self._log(d_loss, g_loss, real_logits, fake_logits)

    def test_step(self, data):
        real, labels = self._unpack(data)
        z = self._noise(tf.shape(real)[0])
        fake = self._generate(z, labels, training=False)
        real_logits = self._discriminate(real, labels, training=False)
        fake_logits = self._discriminate(fake, labels, training=False)
        return self._log(self._d_loss(real_logits, fake_logits),
                         self._g_loss(fake_logits, real, fake), real_logits, fake_logits)

    def _log(self, d_loss, g_loss, real_logits, fake_logits):
        return self._record({"d_loss": d_loss, "g_loss": g_loss,
                             "d_accuracy": discriminator_accuracy(real_logits, fake_logits)})

    # ------------------------------------------------------------------------ inference

    def call(self, inputs, training=False):
        # Training runs the trained generator; inference draws from the sampling one.
        network = self.generator if training else self.sampling_generator
        return network(inputs, training=training)

    def _check_noise(self, z):
        z = keras.ops.cast(keras.ops.convert_to_tensor(z), "float32")
        if len(z.shape) != 2 or z.shape[-1] != self.latent_dim:
            raise UserError(f"latent size: this generator takes noise of shape (batch, "
                            f"{self.latent_dim}), got {tuple(z.shape)}")
        return z

    def generate(self, z):
        """Noise `(batch, latent_dim)` -> images in [0, 1]; deterministic (no random ops).

        Args:
            z: noise, e.g. `np.random.normal(size=(n, model.latent_dim))`.

        Returns:
            A float32 tensor `(batch, *image_shape)`.
        """
        return self.sampling_generator(self._check_noise(z), training=False)

    def sample(self, n, seed=None):
        """`n` images in [0, 1] (numpy) from fresh standard-normal noise.

        Args:
            n: number of images.
            seed: an int for repeatable samples; `None` draws new noise each call.
        """
        n = check_int("n", n, 1)
        z = keras.random.normal((n, self.latent_dim), seed=seed)
        return keras.ops.convert_to_numpy(self.generate(z))

    def preview(self, images=None):
        """Rows of generated images (numpy, [0, 1]) from the fixed preview noise.

        `images` (real images, passed by the `ImageGrid` callback) are not used: the
        same noise every epoch shows the generator's progress.
        """
        del images
        out = keras.ops.convert_to_numpy(self.generate(self.preview_noise))
        return [out[i:i + PREVIEW_COLUMNS] for i in range(0, len(out), PREVIEW_COLUMNS)]


# ------------------------------------------------------------------- weight averaging


def averaged_copy(network, name):
    """A non-trainable copy of a functional `network` (same layers, same weights) under
    another name, to hold the moving average of its weights."""
    config = network.get_config()
    config["name"] = name
    copy = type(network).from_config(config)
    copy.set_weights(network.get_weights())
    copy.trainable = False
    # `update_average` pairs the weights by position: the copy must list them alike.
    if [w.path for w in copy.weights] != [w.path for w in network.weights]:
        raise UserError(f"cannot average {network.name}: its copy lists its weights in "
                        "another order")
    return copy


def update_average(averages, weights, decay):
    """`average <- decay * average + (1 - decay) * weight` for each pair of float variables.

    Under a `tf.distribute` strategy the update runs on each device in cross-replica
    context, as optimizers apply theirs (the replicas' weights agree).
    """
    pairs = [(a, w) for a, w in zip(averages, weights) if "float" in str(a.dtype)]

    def assign(average, weight, decay):
        weight = keras.ops.cast(weight, average.dtype)
        average.assign(weight + keras.ops.cast(decay, average.dtype) * (average - weight))

    if not tf.distribute.has_strategy() or tf.distribute.in_cross_replica_context():
        for average, weight in pairs:
            assign(average, weight, decay)
        return

    def distributed(strategy, decay):
        for average, weight in pairs:
            strategy.extended.update(average.value, assign, args=(weight.value, decay),
                                     group=False)

    tf.distribute.get_replica_context().merge_call(distributed, args=(decay,))


# ---------------------------------------------------------------------------- builders


def build_gan(image_shape, latent_dim=16, num_classes=None, units=(256, 512), loss=None,
              dropout=0.0, seed=None, ema_decay=None):
    """Dense GAN (Goodfellow et al. 2014): fully connected generator and discriminator."""
    del num_classes  # unconditional
    return GAN(networks.dense_generator(image_shape, latent_dim, units),
               networks.dense_discriminator(image_shape, tuple(reversed(units)),
                                            dropout=dropout),
               loss=loss, seed=seed, ema_decay=ema_decay, name="gan")


def build_dcgan(image_shape, latent_dim=16, num_classes=None, width=32, loss=None,
                label_smoothing=0.0, seed=None, ema_decay=None, d_normalization="batch",
                diffaugment=None, g_width=None):
    """DCGAN (Radford et al. 2015): strided convolutions with batch norm, sized to the images.

    `width` is the channels of the discriminator's first convolution, `g_width` those of
    the generator's last hidden one (`None`: twice `width`). A discriminator of width 32
    gives better samples per CPU second than 64 on MNIST-sized images; the generator is the
    one that needs the capacity: a wider generator gives a lower FID and a better balance
    of the digits in fewer steps (with both at 32, the scarcest digit stayed scarce whatever
    else was tried; figures in the README). `d_normalization` is the
    discriminator's (`"batch"`, `"layer"` or `None`, see `networks.dcgan_discriminator`).
    `diffaugment` is a `keras_aegan.models.diffaugment` policy (see `GAN`).
    """
    del num_classes  # unconditional
    g_width = 2 * width if g_width is None else check_int("g_width", g_width)
    return GAN(networks.dcgan_generator(image_shape, latent_dim, g_width),
               networks.dcgan_discriminator(image_shape, width, normalization=d_normalization),
               loss=loss, label_smoothing=label_smoothing, seed=seed,
               ema_decay=ema_decay, diffaugment=diffaugment, name="dcgan")
