"""Time-series generation, both families: TimeGAN, a recurrent GAN and a recurrent VAE.

Series are windows `(time, channels)` in [0, 1] (see `keras_aegan.data.series`).

- `TimeGAN` (`timegan`, GAN family; Yoon, Jarrett and van der Schaar, NeurIPS 2019): five
  recurrent networks. An *embedder* and a *recovery* network form an autoencoder of the
  series into a latent sequence; the *generator* turns noise into latent sequences, the
  *supervisor* predicts the next latent step (and so carries the data's step-to-step
  dynamics into generated sequences), and the *discriminator* tells real latent sequences
  from generated ones, per time step. Its losses are the paper's: reconstruction
  `10 sqrt(MSE)`, supervised `MSE(h[t+1], s(h)[t])`, the adversarial losses on both the
  generator's and the supervisor's outputs, and the first two moments of generated vs
  real windows. The paper trains in three phases (embedding, supervised, joint); here one
  `train_step` updates all three groups from one forward pass, and the adversarial and
  moment terms switch on after `warmup_steps` (until then the embedding and the
  supervisor learn alone, as in the paper's first phases).
- `RecurrentGAN` (`recurrent_gan`, GAN family): the base `gans.GAN` over windows, in data
  space. Its generator is the recurrent VAE's decoder network (one noise vector per window,
  unrolled over time by a GRU), its discriminator a GRU with a logit per step (RCGAN's), and
  the generator's loss adds TimeGAN's moment loss. On the sines, in the same CPU time, it
  reaches TimeGAN's published discriminative score where `TimeGAN` does not (see the
  README).
- `RecurrentVAE` (`recurrent_vae`, autoencoder family): a GRU encoder to a Gaussian code
  and a GRU decoder, trained by plain `fit` as the image VAE is (it is one, with recurrent
  networks); it samples from its prior.

All draw new windows with `sample(n, seed=...)`; TimeGAN's exported `generator` part maps
standard-normal noise `(time, latent_dim)` to windows (the paper draws uniform noise; the
project's noise ports are standard normal), the recurrent GAN's `generator` maps noise
`(latent_dim,)` to windows, the VAE's `decoder` maps codes to windows.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_aegan import protocol
from keras_aegan.models import autoencoders
from keras_aegan.models import losses as losses_lib
from keras_aegan.models.adversarial import AdversarialModel
from keras_aegan.errors import UserError, check_int, check_number
from keras_aegan.models.gans import GAN

PREVIEW_WINDOWS = 16
# Colours of the channels in the pictures of series (matplotlib's tab10).
_COLOURS = np.array([[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40],
                     [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127],
                     [188, 189, 34], [23, 190, 207]], "float32") / 255.0


def series_images(windows, height=32, step_width=2):
    """Windows `(n, time, channels)` -> small line charts `(n, height, time * step_width,
    3)` in [0, 1], one colour per channel, on white (for progress grids).

    Values are drawn on a fixed [0, 1] scale (the sources' scale); values outside are
    clipped to the border.
    """
    windows = np.asarray(windows, "float32")
    n, steps, channels = windows.shape
    width = steps * step_width
    images = np.ones((n, height, width, 3), "float32")
    xs = np.arange(width) / step_width
    rows = np.arange(height)[:, None]
    for c in range(channels):
        colour = _COLOURS[c % len(_COLOURS)]
        for i in range(n):
            values = np.interp(xs, np.arange(steps), windows[i, :, c])
            y = np.clip(np.round((1.0 - values) * (height - 1)), 0, height - 1)
            # Fill between consecutive points so steep lines stay connected.
            low = np.minimum(y, np.roll(y, 1))
            high = np.maximum(y, np.roll(y, 1))
            low[0] = high[0] = y[0]
            mask = (rows >= low[None, :]) & (rows <= high[None, :])
            images[i][mask] = colour
    return images


def _check_series_shape(image_shape, model):
    shape = tuple(int(d) for d in image_shape)
    if len(shape) != 2 or min(shape) < 1:
        raise UserError(f"{model} generates series: it needs a source of (time, channels) "
                        "windows such as sines, statsmodels:elnino or csv:FILE, got examples "
                        f"of shape {shape}")
    if shape[0] < 2:
        raise UserError(f"{model}: windows need at least 2 time steps, got {shape[0]}")
    return shape


def _check_windows(windows, image_shape):
    """A `UserError` unless `windows` is a batch `(batch, *image_shape)`."""
    if len(windows.shape) != 3 or tuple(windows.shape[1:]) != image_shape:
        raise UserError(f"this model was built for windows of shape {image_shape}, "
                        f"got batches of shape {tuple(windows.shape)}")


def _cell(name):
    rnn = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}.get(name)
    if rnn is None:
        raise UserError(f"cell must be 'gru' or 'lstm', got {name!r}")
    return rnn


def recurrent_network(input_shape, units, layers, out_dim, out_activation, name, cell="gru",
                      input_name="sequences", unroll=False):
    """A stack of recurrent layers (every step out) and a per-step dense output.

    Args:
        input_shape: `(time, features)`.
        units: units of each recurrent layer.
        layers: number of recurrent layers.
        out_dim: features of the output at each step.
        out_activation: activation of the output (`"sigmoid"`, or `None` for logits).
        name: model name.
        cell: `"gru"` or `"lstm"`.
        input_name: name of the input.
        unroll: unroll the recurrent layers (a static graph: slower to build, faster to
            run on a CPU for short windows).
    """
    rnn = _cell(cell)
    inputs = keras.Input(tuple(input_shape), name=input_name)
    x = inputs
    for i in range(check_int("layers", layers)):
        x = rnn(units, return_sequences=True, unroll=unroll, name=f"{name}_{cell}{i}")(x)
    # Layer names carry the network's: networks sharing an optimizer need distinct slot names.
    outputs = keras.layers.Dense(out_dim, activation=out_activation, name=f"{name}_out")(x)
    return keras.Model(inputs, outputs, name=name)


def moment_loss(real, generated):
    """TimeGAN's moment loss: the mean absolute gap between the per-(step, channel) standard
    deviations of a real and a generated batch, plus that between their means."""
    mean_real, var_real = keras.ops.mean(real, 0), keras.ops.var(real, 0)
    mean_fake, var_fake = keras.ops.mean(generated, 0), keras.ops.var(generated, 0)
    return (keras.ops.mean(keras.ops.abs(keras.ops.sqrt(var_fake + 1e-6)
                                         - keras.ops.sqrt(var_real + 1e-6)))
            + keras.ops.mean(keras.ops.abs(mean_fake - mean_real)))


def _xla_by_default(compile_kwargs):
    """`compile` keyword arguments with `jit_compile` on where Keras' `"auto"` leaves it off.

    XLA fuses a recurrent loop's many small ops, so TimeGAN's steps run faster on a CPU.
    Not under a distribution strategy (XLA fails under
    `MirroredStrategy` on CPU), nor when running eagerly.
    """
    kwargs = dict(compile_kwargs)
    if kwargs.get("jit_compile", "auto") == "auto" and not kwargs.get("run_eagerly"):
        kwargs["jit_compile"] = not tf.distribute.has_strategy()
    return kwargs


def _preview_rows(windows, generated):
    """Progress-grid rows: up to `PREVIEW_WINDOWS` real windows over generated ones."""
    rows = []
    if windows is not None and len(windows):
        rows.append(series_images(np.asarray(windows)[:PREVIEW_WINDOWS]))
    rows.append(series_images(keras.ops.convert_to_numpy(generated)))
    return rows


def _repeated_decoder(latent_dim, steps, channels, units, layers, cell, unroll, name,
                      prefix, input_name):
    """Codes `(latent_dim,)` repeated over `steps` into a recurrent stack, a sigmoid output
    per step: the recurrent VAE's decoder and the recurrent GAN's generator."""
    rnn = _cell(cell)
    codes = keras.Input((latent_dim,), name=input_name)
    x = keras.layers.RepeatVector(steps, name="repeat")(codes)
    for i in range(check_int("layers", layers)):
        x = rnn(check_int("units", units), return_sequences=True, unroll=unroll,
                name=f"{prefix}{i}")(x)
    return keras.Model(codes, keras.layers.Dense(channels, activation="sigmoid",
                                                 name="steps")(x), name=name)


# ------------------------------------------------------------------------------ TimeGAN


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

    @property
    def metrics(self):
        return list(self._trackers.values())

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
                        **_xla_by_default(kwargs))

    def get_config(self):
        config = super().get_config()
        config.update(gamma=self.gamma, moment_weight=self.moment_weight,
                      supervised_weight=self.supervised_weight,
                      warmup_steps=self.warmup_steps, d_threshold=self.d_threshold,
                      seed=self.seed, preview_seed=self.preview_seed)
        return config

    # ------------------------------------------------------------------------ training

    def check_series(self, windows):
        _check_windows(windows, self.image_shape)

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
        accuracy = 0.5 * (keras.ops.mean(keras.ops.cast(real_logits > 0, "float32"))
                          + keras.ops.mean(keras.ops.cast(fake_logits < 0, "float32")))
        return {"reconstruction_loss": keras.ops.mean(keras.ops.square(x - x_tilde)),
                "supervised_loss": keras.ops.mean(keras.ops.square(
                    h[:, 1:] - h_supervised[:, :-1])),
                "moments": moments, "g_adversarial": g_adversarial, "d_loss": d_loss,
                "d_accuracy": accuracy}

    def _log(self, e_loss, g_loss, losses):
        values = {"e_loss": e_loss, "g_loss": g_loss, "d_loss": losses["d_loss"],
                  "reconstruction_loss": losses["reconstruction_loss"],
                  "supervised_loss": losses["supervised_loss"],
                  "moment_loss": losses["moments"], "d_accuracy": losses["d_accuracy"]}
        for name, value in values.items():
            self._trackers[name].update_state(value)
        return {name: m.result() for name, m in self._trackers.items()}

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
        return _preview_rows(windows, self.generate(self.preview_noise))


def timegan(image_shape, latent_dim=None, num_classes=None, hidden=24, layers=3, cell="gru",
            gamma=1.0, moment_weight=100.0, supervised_weight=100.0, warmup_steps=500,
            d_threshold=0.15, unroll=False, seed=None):
    """TimeGAN (Yoon et al. 2019) for `(time, channels)` windows.

    `latent_dim` is the noise per time step (the paper uses the channel count; `None`:
    the channel count); `hidden` and `layers` size every network (the paper: 24 and 3);
    `unroll` unrolls the recurrent layers over the window (see `recurrent_network`).
    """
    del num_classes
    steps, channels = _check_series_shape(image_shape, "timegan")
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


# ---------------------------------------------------------------------------- recurrent GAN


@keras.saving.register_keras_serializable(package="keras_aegan")
class RecurrentGAN(GAN):
    """A recurrent GAN of `(time, channels)` windows, in data space, with TimeGAN's moment loss.

    The base `gans.GAN`'s adversarial loop (its noise, losses, weight averaging, saving and
    distribution) over windows: the generator draws one noise vector per window and a
    recurrent network unrolls it over time (as the recurrent VAE's decoder unrolls a code);
    a recurrent discriminator gives one logit per step (RCGAN's, Esteban et al. 2017). The
    generator's loss adds TimeGAN's moment loss (`moment_loss`) times `moment_weight`.

    Args:
        generator: noise `(latent_dim,)` -> windows `(time, channels)` in [0, 1].
        discriminator: windows -> logits (one per step, or one per window).
        moment_weight: weight of the moment loss in the generator's loss.
        **kwargs: see `gans.GAN` (`loss`, `seed`, `ema_decay`, ...).

    Example:
        >>> model = recurrent_gan((24, 5))
        >>> model.compile()
        >>> model.fit(windows_dataset, epochs=1)
        >>> windows = model.sample(100, seed=0)
    """

    default_learning_rate = 1e-3

    def __init__(self, generator, discriminator, moment_weight=100.0, **kwargs):
        self.moment_weight = check_number("moment_weight", moment_weight, 0)
        kwargs.setdefault("preview_size", PREVIEW_WINDOWS)
        super().__init__(generator, discriminator, **kwargs)

    def _make_trackers(self):
        return {name: keras.metrics.Mean(name=name)
                for name in ("d_loss", "g_loss", "moment_loss", "d_accuracy")}

    def describe(self):
        """One part, the `generator` (standard-normal noise -> windows)."""
        out = protocol.Port("sequences", self.image_shape, "sequences",
                            range=protocol.UNIT_RANGE)
        part = protocol.Part("generator", "generate", self.generate,
                             (protocol.noise_port(self.latent_dim),), out,
                             "standard-normal noise z -> windows in [0, 1]")
        return self._spec(parts=(part,))

    def compile(self, *args, **kwargs):
        """`gans.GAN.compile` (Adam at 1e-3, betas 0.5 and 0.999), compiled with XLA."""
        super().compile(*args, **_xla_by_default(kwargs))

    def get_config(self):
        config = super().get_config()
        config.update(moment_weight=self.moment_weight)
        return config

    def check_images(self, images):
        _check_windows(images, self.image_shape)

    def _g_loss(self, fake_logits, real, fake):
        moments = moment_loss(keras.ops.cast(real, fake.dtype), fake)
        self._trackers["moment_loss"].update_state(moments)
        return super()._g_loss(fake_logits, real, fake) + self.moment_weight * moments

    def preview(self, windows=None):
        """Rows of a progress grid: real windows over windows from fixed noise (charts)."""
        return _preview_rows(windows, self.generate(self.preview_noise))


def recurrent_gan(image_shape, latent_dim=16, num_classes=None, units=64, layers=1,
                  d_units=64, d_layers=1, cell="gru", moment_weight=100.0, loss=None,
                  unroll=False, seed=None, ema_decay=0.999):
    """Recurrent GAN for `(time, channels)` windows: the generator is the recurrent VAE's
    decoder (noise repeated over time into `layers` recurrent layers of `units`), the
    discriminator `d_layers` recurrent layers of `d_units` with a logit per step; the
    generator's loss adds `moment_weight` times TimeGAN's moment loss (the paper's 100);
    it samples from a moving average of its generator (`ema_decay`, see `gans.GAN`).

    What each piece is worth on TimeGAN's sines (discriminative / predictive scores; the
    figures are in the README): one noise vector per window beats noise per step (as
    RCGAN and TimeGAN draw it); without the moment loss the generator collapses; with the
    moment loss and no adversary the samples are far worse. With 64 units and the weight
    at 100 the scores swing between evaluations; the moving average steadies them.
    """
    del num_classes
    steps, channels = _check_series_shape(image_shape, "recurrent_gan")
    generator = _repeated_decoder(check_int("latent_dim", latent_dim), steps, channels, units,
                                  layers, cell, unroll, "generator", f"{cell}_generate", "z")
    discriminator = recurrent_network((steps, channels), check_int("d_units", d_units),
                                      d_layers, 1, None, "discriminator", cell, unroll=unroll)
    return RecurrentGAN(generator, discriminator, moment_weight=moment_weight, loss=loss,
                        seed=seed, ema_decay=ema_decay, name="recurrent_gan")


# -------------------------------------------------------------------------- recurrent VAE


@keras.saving.register_keras_serializable(package="keras_aegan")
class RecurrentVAE(autoencoders.VariationalAutoencoder):
    """A VAE of `(time, channels)` windows with recurrent encoder and decoder.

    The image VAE's machinery (KL via `add_loss`, reparameterized sampling while training,
    the mean at inference, `sample(n)` from the prior), with progress grids drawn as line
    charts. The reconstruction term is the squared error summed over the window, times
    `reconstruction_weight` (TimeVAE's weighting, Desai et al. 2021).

    Args:
        encoder: windows -> `[z_mean, z_log_var]`.
        decoder: codes -> windows in [0, 1].
        beta: weight of the KL term.
        reconstruction_weight: weight of the summed squared error.
        seed: seed of the sampling layer.
    """

    def __init__(self, encoder, decoder, beta=1.0, reconstruction_weight=1.0, seed=None,
                 **kwargs):
        super().__init__(encoder, decoder, beta=beta, seed=seed, **kwargs)
        self.reconstruction_weight = check_number("reconstruction_weight",
                                                  reconstruction_weight, 0, low_open=True)

    def compile(self, optimizer=None, loss=None, learning_rate=1e-3, **kwargs):
        """Adam at `learning_rate`; the weighted summed squared error unless told otherwise."""
        super().compile(optimizer=optimizer, loss=loss or WeightedSummedSquaredError(
            self.reconstruction_weight), learning_rate=learning_rate, **kwargs)

    def preview(self, windows):
        """Real windows, their reconstructions and samples from the prior, as charts."""
        return [series_images(np.asarray(row)) for row in super().preview(windows)]

    def get_config(self):
        config = super().get_config()
        config.update(reconstruction_weight=self.reconstruction_weight)
        return config


@keras.saving.register_keras_serializable(package="keras_aegan")
class WeightedSummedSquaredError(keras.losses.Loss):
    """`weight` times the squared error summed over every non-batch axis (per example)."""

    def __init__(self, weight=1.0, name="weighted_summed_squared_error", **kwargs):
        super().__init__(name=name, **kwargs)
        self.weight = weight

    def call(self, y_true, y_pred):
        squared = keras.ops.square(keras.ops.cast(y_true, "float32")
                                   - keras.ops.cast(y_pred, "float32"))
        return self.weight * keras.ops.sum(
            keras.ops.reshape(squared, (keras.ops.shape(squared)[0], -1)), axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(weight=self.weight)
        return config


def recurrent_vae(image_shape, latent_dim=16, num_classes=None, units=64, layers=1,
                  cell="gru", beta=1.0, reconstruction_weight=30.0, unroll=False, seed=None):
    """Recurrent VAE for `(time, channels)` windows: a GRU encoder to `[z_mean, z_log_var]`,
    the code repeated over time into a GRU decoder with a sigmoid output per step.

    `reconstruction_weight` scales the summed squared error against the KL term. On the
    sines, 1 collapses the posterior (every sample the mean window), 300 leaves holes in
    the prior (a poor discriminative score), 30 gave the best of the three.
    """
    del num_classes
    steps, channels = _check_series_shape(image_shape, "recurrent_vae")
    latent_dim, units = check_int("latent_dim", latent_dim), check_int("units", units)
    rnn = _cell(cell)
    inputs = keras.Input((steps, channels), name="sequences")
    x = inputs
    for i in range(check_int("layers", layers)):
        x = rnn(units, return_sequences=i < layers - 1, unroll=unroll, name=f"{cell}{i}")(x)
    encoder = keras.Model(inputs, [keras.layers.Dense(latent_dim, name="z_mean")(x),
                                   keras.layers.Dense(latent_dim, name="z_log_var")(x)],
                          name="encoder")
    decoder = _repeated_decoder(latent_dim, steps, channels, units, layers, cell, unroll,
                                "decoder", f"{cell}_decode", "code")
    return RecurrentVAE(encoder, decoder, beta=beta,
                        reconstruction_weight=reconstruction_weight, seed=seed,
                        name="recurrent_vae")
