"""TimeGAN (Yoon, Jarrett and van der Schaar, NeurIPS 2019): series generated in a learned
embedding, with a supervisor carrying the data's step-to-step dynamics.

`TimeGAN` (`timegan`, GAN family) has five recurrent networks. An *embedder* and a
*recovery* network form an autoencoder of the series into a latent sequence; the
*generator* turns noise into latent sequences, the
*supervisor* predicts the next latent step (and so carries the data's step-to-step
dynamics into generated sequences), and the *discriminator* tells real latent sequences
from generated ones, per time step. Its losses are the paper's: reconstruction
`10 sqrt(MSE)`, supervised `MSE(h[t+1], s(h)[t])`, the adversarial losses on both the
generator's and the supervisor's outputs, and the first two moments of generated vs
real windows. The paper trains in three phases (embedding, supervised, joint); here one
`train_step` updates all three groups from one forward pass, and the adversarial and
moment terms switch on after `warmup_steps` (until then the embedding and the
supervisor learn alone, as in the paper's first phases).

The shared pieces of the series models (the recurrent network builder, the moment loss,
the pictures of windows) live in `timeseries`.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_aegan import protocol
from keras_aegan.compat import xla_by_default
from keras_aegan.errors import UserError, check_int, check_number
from keras_aegan.models import losses as losses_lib
from keras_aegan.models.adversarial import AdversarialModel, discriminator_accuracy
from keras_aegan.models.timeseries import (PREVIEW_WINDOWS, check_series_shape,
                                           check_windows, moment_loss, preview_rows,
                                           recurrent_network)


def _split(stacked, batch, parts=2):
    return [stacked[i * batch:(i + 1) * batch] for i in range(parts)]


@keras.saving.register_keras_serializable(package="keras_aegan")
class TimeGAN(AdversarialModel):
    """TimeGAN: a GAN in a learned embedding of the series, with a supervised loss.

    Args:
        embedder: windows `(T, C)` -> latent sequences `(T, H)` in [0, 1].
        recovery: latent sequences -> windows `(T, C)` in [0, 1].
        generator: noise `(T, Z)` -> latent sequences `(T, H)`.
        supervisor: latent sequences -> the next step's latent sequences `(T, H)`.
        discriminator: latent sequences -> one logit per step `(T, 1)`.
        gamma: weight of the adversarial loss on the generator's own outputs (before the
            supervisor), as in the paper.
        moment_weight: weight of the moment losses (the paper's 100).
        supervised_weight: weight of `sqrt(supervised loss)` in the generator loss (100).
        warmup_steps: steps of embedding and supervised training before the adversarial
            and moment losses switch on.
        d_threshold: the discriminator is updated only while its loss is above this (the
            paper's 0.15), so it does not overpower the generator.
        seed: seed of the training noise.
        preview_seed: seed of the fixed noise of `preview()`.

    Example:
        >>> model = timegan((24, 5), latent_dim=5)
        >>> model.compile()
        >>> model.fit(windows_dataset, epochs=1)
        >>> windows = model.sample(100, seed=0)
    """

    family = "gan"

    loss_networks = {"e_loss": "embedder", "g_loss": "generator", "d_loss": "discriminator"}
    optimizer_networks = {"e_optimizer": ("embedder", "recovery"),
                          "g_optimizer": ("generator", "supervisor"),
                          "d_optimizer": ("discriminator",)}
    network_names = ("embedder", "recovery", "generator", "supervisor", "discriminator")
    seed_attribute, seed_state_key = "seed_generator", "noise_seed_state"
    # The paper's Adam: 1e-3, default betas.
    default_learning_rate = 1e-3
    default_betas = (0.9, 0.999)

    def __init__(self, embedder, recovery, generator, supervisor, discriminator, gamma=1.0,
                 moment_weight=100.0, supervised_weight=100.0, warmup_steps=500,
                 d_threshold=0.15, seed=None, preview_seed=0, **kwargs):
        super().__init__(**kwargs)
        self.embedder, self.recovery = embedder, recovery
        self.generator, self.supervisor = generator, supervisor
        self.discriminator = discriminator
        self.gamma = check_number("gamma", gamma, 0)
        self.moment_weight = check_number("moment_weight", moment_weight, 0)
        self.supervised_weight = check_number("supervised_weight", supervised_weight, 0)
        self.warmup_steps = check_int("warmup_steps", warmup_steps, minimum=0)
        self.d_threshold = check_number("d_threshold", d_threshold, 0)
        self.seed = seed
        self.preview_seed = preview_seed
        self.image_shape = tuple(int(d) for d in embedder.input_shape[1:])
        self.latent_dim = int(generator.input_shape[-1])
        if tuple(recovery.output_shape[1:]) != self.image_shape:
            raise UserError(f"the recovery network makes {recovery.output_shape[1:]}, the "
                            f"embedder takes {self.image_shape}")
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        self.preview_noise = np.random.default_rng(preview_seed).standard_normal(
            (PREVIEW_WINDOWS, self.image_shape[0], self.latent_dim)).astype("float32")
        self._trackers = {name: keras.metrics.Mean(name=name) for name in
                          ("e_loss", "g_loss", "d_loss", "reconstruction_loss",
                           "supervised_loss", "moment_loss", "d_accuracy")}
        self.e_optimizer = self.g_optimizer = self.d_optimizer = None
        self.built = True

    def describe(self):
        """TimeGAN's `protocol.ModelSpec`: one part, the `generator` (noise -> windows)."""
        steps = self.image_shape[0]
        noise = protocol.Port("z", (steps, self.latent_dim), "noise")
        out = protocol.Port("sequences", self.image_shape, "sequences",
                            range=protocol.UNIT_RANGE)
        part = protocol.Part("generator", "generate", self.generate, (noise,), out,
                             f"standard-normal noise z ({steps} steps x {self.latent_dim}) "
                             "-> windows in [0, 1]")
        return protocol.ModelSpec(
            family=self.family, image_shape=self.image_shape, latent_dim=self.latent_dim,
            parts=(part,), sampler=protocol.SAMPLES_OWN,
            networks={"embedder": self.embedder, "recovery": self.recovery,
                      "generator": self.generator, "supervisor": self.supervisor,
                      "discriminator": self.discriminator},
            losses=self.loss_networks, optimizers=self.optimizers())

    # ------------------------------------------------------------------ compile / save

    def compile(self, e_optimizer=None, g_optimizer=None, d_optimizer=None,
                learning_rate=None, **kwargs):
        """Adam at `learning_rate` (the paper's default 1e-3) for each of the three groups:
        embedder + recovery (`e_optimizer`), generator + supervisor (`g_optimizer`),
        discriminator (`d_optimizer`); compiled with XLA unless told otherwise."""
        super().compile(e_optimizer=e_optimizer, g_optimizer=g_optimizer,
                        d_optimizer=d_optimizer, learning_rate=learning_rate,
                        **xla_by_default(kwargs))

    def get_config(self):
        config = super().get_config()
        config.update(gamma=self.gamma, moment_weight=self.moment_weight,
                      supervised_weight=self.supervised_weight,
                      warmup_steps=self.warmup_steps, d_threshold=self.d_threshold,
                      seed=self.seed, preview_seed=self.preview_seed)
        return config

    # ------------------------------------------------------------------------ training

    def check_series(self, windows):
        check_windows(windows, self.image_shape)

    def _noise(self, batch):
        return keras.random.normal((batch, self.image_shape[0], self.latent_dim),
                                   seed=self.seed_generator)

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        self.check_series(x)
        x = keras.ops.cast(x, "float32")
        z = self._noise(tf.shape(x)[0])
        joint = keras.ops.cast(self.g_optimizer.iterations >= self.warmup_steps, "float32")
        with tf.GradientTape() as e_tape, tf.GradientTape() as g_tape, \
                tf.GradientTape() as d_tape:
            losses = self._timegan_losses(x, z, training=True)
            reconstruction, supervised = losses["reconstruction_loss"], losses["supervised_loss"]
            e_loss = 10.0 * keras.ops.sqrt(reconstruction + 1e-12) + 0.1 * joint * supervised
            g_loss = (joint * (losses["g_adversarial"] + self.moment_weight * losses["moments"])
                      + self.supervised_weight * keras.ops.sqrt(supervised + 1e-12))
            d_loss = losses["d_loss"]
            # The paper updates the discriminator only while it is not already winning.
            d_gate = joint * keras.ops.cast(d_loss > self.d_threshold, "float32")
            gated_d_loss = d_gate * d_loss
        for name, tape, loss in (("e_optimizer", e_tape, e_loss),
                                 ("g_optimizer", g_tape, g_loss),
                                 ("d_optimizer", d_tape, gated_d_loss)):
            variables = self.trainable_variables_of(name)
            grads = tape.gradient(loss, variables)
            getattr(self, name).apply([g if g is not None else tf.zeros_like(v)
                                       for g, v in zip(grads, variables)], variables)
        return self._log(e_loss, g_loss, losses)

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        self.check_series(x)
        losses = self._timegan_losses(keras.ops.cast(x, "float32"), self._noise(tf.shape(x)[0]),
                              training=False)
        e_loss = 10.0 * keras.ops.sqrt(losses["reconstruction_loss"] + 1e-12)
        g_loss = losses["g_adversarial"] + self.moment_weight * losses["moments"]
        return self._log(e_loss, g_loss, losses)

    def _timegan_losses(self, x, z, training):
        # Each network runs once per step on the real and generated batches stacked: a
        # recurrent layer's cost on a CPU is mostly per-op overhead, not arithmetic.
        batch = keras.ops.shape(x)[0]
        h = self.embedder(x, training=training)
        e_hat = self.generator(z, training=training)
        h_supervised, h_hat = _split(self.supervisor(keras.ops.concatenate([h, e_hat], 0),
                                                     training=training), batch)
        x_tilde, x_hat = _split(self.recovery(keras.ops.concatenate([h, h_hat], 0),
                                              training=training), batch)
        real_logits, fake_logits, fake_e_logits = _split(self.discriminator(
            keras.ops.concatenate([h, h_hat, e_hat], 0), training=training), batch, 3)
        moments = moment_loss(x, x_hat)
        g_adversarial = (losses_lib.non_saturating_generator_loss(fake_logits)
                         + self.gamma * losses_lib.non_saturating_generator_loss(fake_e_logits))
        d_loss = (losses_lib.minimax_discriminator_loss(real_logits, fake_logits)
                  + self.gamma * keras.ops.mean(keras.ops.softplus(fake_e_logits)))
        return {"reconstruction_loss": keras.ops.mean(keras.ops.square(x - x_tilde)),
                "supervised_loss": keras.ops.mean(keras.ops.square(
                    h[:, 1:] - h_supervised[:, :-1])),
                "moments": moments, "g_adversarial": g_adversarial, "d_loss": d_loss,
                "d_accuracy": discriminator_accuracy(real_logits, fake_logits)}

    def _log(self, e_loss, g_loss, losses):
        values = {"e_loss": e_loss, "g_loss": g_loss, "d_loss": losses["d_loss"],
                  "reconstruction_loss": losses["reconstruction_loss"],
                  "supervised_loss": losses["supervised_loss"],
                  "moment_loss": losses["moments"], "d_accuracy": losses["d_accuracy"]}
        return self._record(values)

    # ------------------------------------------------------------------------ inference

    def call(self, z, training=False):
        return self.recovery(self.supervisor(self.generator(z, training=training),
                                             training=training), training=training)

    def generate(self, z):
        """Noise `(batch, time, latent_dim)` -> windows `(batch, time, channels)` in [0, 1];
        deterministic."""
        z = keras.ops.cast(keras.ops.convert_to_tensor(z), "float32")
        want = (self.image_shape[0], self.latent_dim)
        if len(z.shape) != 3 or tuple(z.shape[1:]) != want:
            raise UserError(f"this generator takes noise of shape (batch, {want[0]}, "
                            f"{want[1]}), got {tuple(z.shape)}")
        return self(z, training=False)

    def sample(self, n, seed=None):
        """`n` windows (numpy) from fresh standard-normal noise; `seed` fixes the draw."""
        n = check_int("n", n)
        z = keras.random.normal((n, self.image_shape[0], self.latent_dim), seed=seed)
        return keras.ops.convert_to_numpy(self.generate(z))

    def preview(self, windows=None):
        """Rows of a progress grid: real windows over windows from fixed noise (charts)."""
        return preview_rows(windows, self.generate(self.preview_noise))


def timegan(image_shape, latent_dim=None, num_classes=None, hidden=24, layers=3, cell="gru",
            gamma=1.0, moment_weight=100.0, supervised_weight=100.0, warmup_steps=500,
            d_threshold=0.15, unroll=False, seed=None):
    """TimeGAN (Yoon et al. 2019) for `(time, channels)` windows.

    `latent_dim` is the noise per time step (the paper uses the channel count; `None`:
    the channel count); `hidden` and `layers` size every network (the paper: 24 and 3);
    `unroll` unrolls the recurrent layers over the window (see `recurrent_network`).
    """
    del num_classes
    steps, channels = check_series_shape(image_shape, "timegan")
    noise = channels if latent_dim is None else check_int("latent_dim", latent_dim)
    hidden, layers = check_int("hidden", hidden), check_int("layers", layers)
    def network(shape, out, activation, name, depth=layers, input_name="latent"):
        return recurrent_network(shape, hidden, depth, out, activation, name, cell,
                                 input_name=input_name, unroll=unroll)

    return TimeGAN(
        network((steps, channels), hidden, "sigmoid", "embedder", input_name="sequences"),
        network((steps, hidden), channels, "sigmoid", "recovery"),
        network((steps, noise), hidden, "sigmoid", "generator", input_name="z"),
        network((steps, hidden), hidden, "sigmoid", "supervisor", depth=max(1, layers - 1)),
        network((steps, hidden), 1, None, "discriminator"),
        gamma=gamma, moment_weight=moment_weight, supervised_weight=supervised_weight,
        warmup_steps=warmup_steps, d_threshold=d_threshold, seed=seed, name="timegan")
