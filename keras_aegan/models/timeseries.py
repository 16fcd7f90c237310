"""Time-series generation, both families: a recurrent GAN and a recurrent VAE (TimeGAN,
the third, in `timegan`), and what all three share.

Series are windows `(time, channels)` in [0, 1] (see `keras_aegan.data.series`).

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
from keras_aegan.compat import xla_by_default
from keras_aegan.models import autoencoders
from keras_aegan.errors import UserError, check_int, check_number
from keras_aegan.models.gans import GAN
from keras_aegan.models.layers import ArgumentsConfig

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


def check_series_shape(image_shape, model):
    shape = tuple(int(d) for d in image_shape)
    if len(shape) != 2 or min(shape) < 1:
        raise UserError(f"{model} generates series: it needs a source of (time, channels) "
                        "windows such as sines, statsmodels:elnino or csv:FILE, got examples "
                        f"of shape {shape}")
    if shape[0] < 2:
        raise UserError(f"{model}: windows need at least 2 time steps, got {shape[0]}")
    return shape


def check_windows(windows, image_shape):
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


def preview_rows(windows, generated):
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
        super().compile(*args, **xla_by_default(kwargs))

    def get_config(self):
        config = super().get_config()
        config.update(moment_weight=self.moment_weight)
        return config

    def check_images(self, images):
        check_windows(images, self.image_shape)

    def _g_loss(self, fake_logits, real, fake):
        moments = moment_loss(keras.ops.cast(real, fake.dtype), fake)
        self._trackers["moment_loss"].update_state(moments)
        return super()._g_loss(fake_logits, real, fake) + self.moment_weight * moments

    def preview(self, windows=None):
        """Rows of a progress grid: real windows over windows from fixed noise (charts)."""
        return preview_rows(windows, self.generate(self.preview_noise))


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
    steps, channels = check_series_shape(image_shape, "recurrent_gan")
    generator = _repeated_decoder(check_int("latent_dim", latent_dim), steps, channels, units,
                                  layers, cell, unroll, "generator", f"{cell}_generate", "z")
    discriminator = recurrent_network((steps, channels), check_int("d_units", d_units),
                                      d_layers, 1, None, "discriminator", cell, unroll=unroll)
    return RecurrentGAN(generator, discriminator, moment_weight=moment_weight, loss=loss,
                        seed=seed, ema_decay=ema_decay, name="recurrent_gan")


# -------------------------------------------------------------------------- recurrent VAE


@keras.saving.register_keras_serializable(package="keras_aegan")
class RecurrentVAE(ArgumentsConfig, autoencoders.VariationalAutoencoder):
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

    config_arguments = ("reconstruction_weight",)

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



@keras.saving.register_keras_serializable(package="keras_aegan")
class WeightedSummedSquaredError(ArgumentsConfig, keras.losses.Loss):
    """`weight` times the squared error summed over every non-batch axis (per example)."""

    config_arguments = ("weight",)

    def __init__(self, weight=1.0, name="weighted_summed_squared_error", **kwargs):
        super().__init__(name=name, **kwargs)
        self.weight = weight

    def call(self, y_true, y_pred):
        squared = keras.ops.square(keras.ops.cast(y_true, "float32")
                                   - keras.ops.cast(y_pred, "float32"))
        return self.weight * keras.ops.sum(
            keras.ops.reshape(squared, (keras.ops.shape(squared)[0], -1)), axis=-1)



def recurrent_vae(image_shape, latent_dim=16, num_classes=None, units=64, layers=1,
                  cell="gru", beta=1.0, reconstruction_weight=30.0, unroll=False, seed=None):
    """Recurrent VAE for `(time, channels)` windows: a GRU encoder to `[z_mean, z_log_var]`,
    the code repeated over time into a GRU decoder with a sigmoid output per step.

    `reconstruction_weight` scales the summed squared error against the KL term. On the
    sines, 1 collapses the posterior (every sample the mean window), 300 leaves holes in
    the prior (a poor discriminative score), 30 gave the best of the three.
    """
    del num_classes
    steps, channels = check_series_shape(image_shape, "recurrent_vae")
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
