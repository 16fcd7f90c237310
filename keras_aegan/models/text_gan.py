"""Text generation, the GAN way: a relaxed (Gumbel-softmax) recurrent generator against a
convolutional discriminator (`char_gan`).

**Why a relaxed generator in data space, and not a GAN in the VAE's code space.** A GAN on
an autoencoder's codes (LaTextGAN, ARAE) writes its items with the autoencoder's decoder, a
model trained by maximum likelihood: its samples would compare two decoders rather than the
two ways of learning. A relaxed generator learns every character from the discriminator
alone, which is what a study of *the GAN way against the autoencoder way* needs. It also
trains as one model in one run through the base GAN's `train_step` (its losses, two
optimizers, saving, distribution), where a code-space GAN needs a trained VAE first (two
runs that depend on each other, which the study runner does not do). And the Gumbel-max
trick gives it a sampling temperature like the VAE's and the n-gram's, so all three are
drawn on the same axes.

**How it trains** (the straight-through Gumbel-softmax of Jang et al. 2017, in the shape
of RelGAN, Nie et al. 2019, with a GRU in place of relational memory): at each step the
generator's GRU reads the previous character and the noise `z` and gives logits `o`; with
Gumbel noise `g`, the drawn id is `argmax(o + g)` (an exact draw from `softmax(o)`), fed
back as the next input. The discriminator sees the drawn one-hots themselves; the
generator's gradient is that of the relaxed one-hots `softmax(beta * (o + g))` (straight
through, not through the fed-back draws). Every position is drawn, `END` and `PAD`
included, so that the gradient reaches the choice to end an item and to pad after it.
The discriminator embeds the characters and reads them with convolutions of widths 2 to
5, max-pooled over the item, beside a dense view of the whole row (where each character
sits, so lengths count). It trains on the base GAN's non-saturating loss, both networks
at Adam 5e-4.

What each choice is worth, measured on `surnames` (README): a first version showed the
discriminator relaxed one-hots and forced `END` (never drawing `PAD`): after 1,000 steps
the discriminator told every item apart (accuracy 0.99) and the samples had collapsed
(5 % distinct). Straight-through alone did not mend it (no item ended in 2,000 steps);
drawing `END` and `PAD` freely did (accuracy 0.75, 99 % distinct after 2,000 steps).
After 6,000 steps, the held-out hits at temperature 1 were 0.6 % with RelGAN's rising
`beta` (`max_sharpness` 100 over `sharpness_steps` 3,000), 0.9 % rising to 10, and 2.8 %
at `beta` = 1 throughout (the default); with a moving average of the generator on top
(`ema_decay=0.999`) 1.1 %, its character pairs closer to the data's (Jensen-Shannon 0.024
against 0.066). One run each: a GAN's figures move from one evaluation to the next.

Sampling at a temperature `T` draws `argmax(o / T + g)`: the exported `generator` part
maps noise `z`, uniform noise `(length, ids)` (turned into Gumbel noise inside) and `T` to
character ids, deterministically.
"""

import dataclasses

import keras
import numpy as np
from keras import ops

from keras_aegan import compat, protocol
from keras_aegan.data.text import END
from keras_aegan.errors import UserError, check_int, check_number
from keras_aegan.models.gans import GAN
from keras_aegan.models.layers import ArgumentsConfig
from keras_aegan.models.text import (DEFAULT_SYMBOLS, PREVIEW_ITEMS, argmax_ids,
                                     check_text_shape, check_vocabulary, decode, draw_ids,
                                     end_rows, preview_row, temperature_port, token_port,
                                     traced, uniform_port)

# Uniform noise is kept this far inside (0, 1), so that the Gumbel noise stays finite.
_EPSILON = 1e-6


def gumbel(uniforms):
    """Standard Gumbel noise from uniform noise in [0, 1)."""
    u = ops.clip(ops.cast(uniforms, "float32"), _EPSILON, 1.0 - _EPSILON)
    return -ops.log(-ops.log(u))


@keras.saving.register_keras_serializable(package="keras_aegan")
class GumbelRecurrentGenerator(ArgumentsConfig, keras.layers.Layer):
    """Draws items a character at a time and returns their relaxed one-hots.

    Inputs `[z (batch, latent), uniforms (batch, length, ids), temperature (batch, 1),
    sharpness (batch, 1)]`; output `(batch, length, ids)`: at each step the relaxed one-hot
    `softmax(sharpness * (o / temperature + g))` of the drawn id (or that id's exact
    one-hot with the relaxed one's gradient, `straight_through`). The draw
    `argmax(o / temperature + g)` (of the output, too) is fed back. Every position is
    drawn, `END` and `PAD` included, so that the discriminator's gradient reaches the
    choice to end an item and to pad after it (`CharGAN.generate` reads the draws up to
    the first `END` or `PAD`).

    Args:
        length: ids per row.
        num_ids: ids of the vocabulary, `PAD` and `END` included.
        units: units of the GRU.
        embedding_dim: size of a character's embedding.
        straight_through: return the drawn one-hots themselves, with the relaxed
            one-hots' gradient (Jang et al. 2017's straight-through estimator), so that
            the discriminator cannot tell generated items by their softness.
    """

    config_arguments = ("length", "num_ids", "units", "embedding_dim", "straight_through")

    def __init__(self, length, num_ids, units=256, embedding_dim=32, straight_through=True,
                 **kwargs):
        super().__init__(**kwargs)
        self.straight_through = bool(straight_through)
        self.length, self.num_ids = int(length), int(num_ids)
        self.units, self.embedding_dim = int(units), int(embedding_dim)
        self.start = keras.layers.Dense(self.units, activation="tanh", name="start")
        self.embedding = keras.layers.Embedding(self.num_ids, self.embedding_dim,
                                                name="embedding")
        self.cell = keras.layers.GRUCell(self.units, name="gru")
        self.out = keras.layers.Dense(self.num_ids, name="logits")

    def build(self, input_shape):
        latent = input_shape[0][-1]
        self.start.build((None, latent))
        self.embedding.build((None,))
        self.cell.build((None, self.embedding_dim + latent))
        self.out.build((None, self.units))
        self.built = True

    def call(self, inputs):
        z, uniforms, temperature, sharpness = inputs
        z = ops.cast(z, "float32")
        noise = gumbel(uniforms)
        temperature = ops.cast(temperature, "float32")
        sharpness = ops.cast(sharpness, "float32")
        state = self.start(z)
        previous = ops.full((ops.shape(z)[0],), END, "int32")
        out = []
        for step in range(self.length):
            x = ops.concatenate([self.embedding(previous), z], axis=-1)
            state, _ = self.cell(x, [state])
            scores = ops.cast(self.out(state), "float32") / temperature + noise[:, step]
            relaxed = ops.softmax(sharpness * scores, axis=-1)
            previous = argmax_ids(scores)
            if self.straight_through:
                # The discriminator sees the exact one-hot, the gradient is the relaxed one's.
                relaxed = ops.one_hot(previous, self.num_ids) + relaxed \
                    - ops.stop_gradient(relaxed)
            out.append(relaxed)
        return ops.stack(out, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.length, self.num_ids)


@keras.saving.register_keras_serializable(package="keras_aegan")
class CharGAN(GAN):
    """A GAN of short text items: a relaxed recurrent generator against a convolutional
    discriminator (see the module), on the base `gans.GAN`'s `train_step`.

    Args:
        generator: `[z, uniforms, temperature, sharpness]` -> relaxed one-hots
            `(length, ids)` (a network around `GumbelRecurrentGenerator`).
        discriminator: one-hots `(length, ids)` -> one logit.
        vocabulary: the characters (ids from 2).
        max_sharpness: the relaxation's final inverse temperature (1: constant, the
            default; RelGAN raises it to 100 or 1,000).
        sharpness_steps: generator steps over which it rises from 1 (exponentially).
        **kwargs: see `gans.GAN` (`loss`, `seed`, `ema_decay`, ...).

    Example:
        >>> gan = char_gan((14,), vocabulary="abcdefghijklmnopqrstuvwxyz")
        >>> gan.compile()
        >>> gan.fit(source.dataset("train"), epochs=1)
        >>> decode(gan.sample(5, seed=0), gan.vocabulary)
    """

    default_learning_rate = 5e-4

    def __init__(self, generator, discriminator, vocabulary=DEFAULT_SYMBOLS,
                 max_sharpness=1.0, sharpness_steps=3000, **kwargs):
        self.vocabulary = check_vocabulary(vocabulary)
        self.max_sharpness = check_number("max_sharpness", max_sharpness, 1)
        self.sharpness_steps = check_int("sharpness_steps", sharpness_steps, minimum=1)
        kwargs.setdefault("preview_size", PREVIEW_ITEMS)
        super().__init__(generator, discriminator, **kwargs)
        self.length, self.num_ids = self.image_shape
        if self.num_ids != len(self.vocabulary) + 2:
            raise UserError(f"the generator draws {self.num_ids} ids; the vocabulary has "
                            f"{len(self.vocabulary) + 2} with PAD and END")
        # What the protocol and the data see: rows of ids, not one-hots.
        self.image_shape = (self.length,)
        self.preview_uniforms = np.random.default_rng(self.preview_seed + 1).random(
            (self.preview_size, self.length, self.num_ids)).astype("float32")

    def get_config(self):
        config = super().get_config()
        config.update(vocabulary=self.vocabulary, max_sharpness=self.max_sharpness,
                      sharpness_steps=self.sharpness_steps)
        return config

    # ------------------------------------------------------------------------ training

    def check_images(self, ids):
        if len(ids.shape) != 2 or ids.shape[1] != self.length:
            raise UserError(f"this model was built for rows of {self.length} character "
                            f"ids, got batches of shape {tuple(ids.shape)}")

    def _unpack(self, data):
        ids, labels = self._image_batch(data)
        return ops.one_hot(ops.cast(ids, "int32"), self.num_ids), labels

    def sharpness(self):
        """The relaxation's inverse temperature now: `max_sharpness ** (t / steps)` at
        generator step `t`, at most `max_sharpness`."""
        if self.g_optimizer is None:
            return ops.convert_to_tensor(self.max_sharpness, "float32")
        share = ops.minimum(1.0, ops.cast(self.g_optimizer.iterations, "float32")
                            / float(self.sharpness_steps))
        return ops.power(self.max_sharpness, share)

    def _generate(self, z, labels, training):
        del labels
        z = ops.convert_to_tensor(z)
        batch = ops.shape(z)[0]
        uniforms = compat.per_replica_random(
            lambda shape: keras.random.uniform(shape, seed=self.seed_generator), batch,
            (self.length, self.num_ids))
        ones = ops.ones((batch, 1), "float32")
        return self.generator([z, uniforms, ones, ones * self.sharpness()],
                              training=training)

    # ------------------------------------------------------------------------ inference

    def call(self, inputs, training=False):
        z, uniforms = inputs
        return self.generate(z, uniforms, ops.ones((ops.shape(z)[0], 1), "float32"))

    def generate(self, z, uniforms, temperature):
        """Noise `z` `(batch, latent_dim)`, uniform noise `(batch, length, ids)` in [0, 1)
        and a temperature per item `(batch, 1)` -> character ids `(batch, length)`
        (deterministic: the caller draws the noise)."""
        z = self._check_noise(z)
        uniforms = ops.cast(ops.convert_to_tensor(uniforms), "float32")
        temperature = ops.cast(ops.convert_to_tensor(temperature), "float32")
        relaxed = self.sampling_generator([z, uniforms, temperature, ops.ones_like(temperature)],
                                          training=False)
        return end_rows(argmax_ids(relaxed))

    def sample(self, n, seed=None, temperature=1.0):
        """`n` items as int32 ids `(n, length)` (numpy).

        Args:
            n: number of items.
            seed: an int for repeatable samples; `None` draws new noise each call.
            temperature: divides the logits before the Gumbel-max draw (below 1 surer,
                above 1 more varied).
        """
        if self._traced_generate is None:
            self._traced_generate = traced(self.generate)
        return draw_ids(self._traced_generate, n, seed, temperature, self.latent_dim,
                        (self.length, self.num_ids), self.seed_generator)

    _traced_generate = None

    def describe(self):
        """One part, the `generator`: noise, uniform noise and temperature -> ids."""
        part = protocol.Part(
            "generator", "generate", self.generate,
            (protocol.noise_port(self.latent_dim),
             uniform_port((self.length, self.num_ids)), temperature_port()),
            token_port(self.length),
            "standard-normal noise z, uniform noise per character and id in [0, 1), "
            "temperature (1: as trained) -> character ids (0 pad, 1 end)")
        return dataclasses.replace(self._spec(parts=(part,)), vocabulary=self.vocabulary,
                                   sample_temperature=True)

    def preview(self, ids=None):
        """One row of text blocks: real items, then items from fixed noise."""
        drawn = decode(self.generate(self.preview_noise, self.preview_uniforms,
                                     np.ones((self.preview_size, 1), "float32")),
                       self.vocabulary)
        columns = [drawn]
        if ids is not None and len(ids):
            columns.insert(0, decode(np.asarray(ids)[:self.preview_size], self.vocabulary))
        return [preview_row(columns, self.length)]


def text_discriminator(length, num_ids, embedding_dim=32, filters=64, widths=(2, 3, 4, 5),
                       dense_units=64, dropout=0.25, name="discriminator"):
    """One-hots `(length, ids)` -> one logit: the characters embedded (a dense map of the
    one-hots, so relaxed ones embed too), convolutions of each width in `widths` max-pooled
    over the item, beside a dense view of the whole row; `features` is their
    concatenation."""
    onehots = keras.Input((length, num_ids), name="onehots")
    x = keras.layers.Dense(embedding_dim, use_bias=False, name="embed")(onehots)
    views = [keras.layers.GlobalMaxPooling1D(name=f"pool{w}")(
        keras.layers.Conv1D(filters, w, padding="same", activation="relu",
                            name=f"conv{w}")(x)) for w in widths]
    views.append(keras.layers.Dense(dense_units, activation="relu", name="row")(
        keras.layers.Flatten(name="flat")(x)))
    features = keras.layers.Concatenate(name="features")(views)
    x = keras.layers.Dropout(dropout, name="dropout")(features)
    return keras.Model(onehots, keras.layers.Dense(1, name="logit")(x), name=name)


def char_gan(image_shape, latent_dim=16, num_classes=None, vocabulary=DEFAULT_SYMBOLS,
             units=256, embedding_dim=32, filters=64, max_sharpness=1.0,
             sharpness_steps=3000, straight_through=True, loss=None, seed=None,
             ema_decay=None):
    """Relaxed recurrent text GAN (see `CharGAN`): a GRU generator of `units` drawing a
    character a step, a discriminator of `filters` convolutions per width (2 to 5)."""
    del num_classes  # unconditional
    length = check_text_shape(image_shape, "char_gan")
    vocabulary = check_vocabulary(vocabulary)
    latent_dim = check_int("latent_dim", latent_dim)
    num_ids = len(vocabulary) + 2
    inputs = [keras.Input((latent_dim,), name="z"),
              keras.Input((length, num_ids), name="uniforms"),
              keras.Input((1,), name="temperature"), keras.Input((1,), name="sharpness")]
    relaxed = GumbelRecurrentGenerator(length, num_ids, check_int("units", units),
                                       check_int("embedding_dim", embedding_dim),
                                       straight_through, name="draw")(inputs)
    generator = keras.Model(inputs, relaxed, name="generator")
    discriminator = text_discriminator(length, num_ids, embedding_dim,
                                       check_int("filters", filters))
    return CharGAN(generator, discriminator, vocabulary=vocabulary,
                   max_sharpness=max_sharpness, sharpness_steps=sharpness_steps, loss=loss,
                   seed=seed, ema_decay=ema_decay, name="char_gan")
