"""Text generation, the autoencoder way: a character-level recurrent VAE, and what the
text models share (the GAN way, `CharGAN`, is in `text_gan`).

Items (names, words, a user's lines) arrive as rows of `max_length` int32 character ids
(`keras_aegan.data.text`): the item's characters, `END` (1), then `PAD` (0) to the end. A
model is built for one source's characters and keeps them (`vocabulary`, a string in id
order from 2), so its samples read back as text without the source
(`describe().vocabulary`, `decode`, the export manifest).

`CharVAE` (`char_vae`) is Bowman et al. (2016)'s VAE for sentences, at the character level:
a GRU encoder reads the item into a Gaussian code; a GRU decoder, given the code at every
step and, with teacher forcing, the item's previous character, predicts the next one. Two
things keep a strong decoder from ignoring the code (posterior collapse): the KL term is
annealed in from 0 over the first `kl_anneal_steps` steps, and *word dropout* replaces a
share of the decoder's previous characters with an unknown token, so that it must read
what it cannot see from the code. It trains by plain `compile()` + `fit(ids)`.

Every text generator draws an item one character at a time, feeding back what it drew.
Its samples are rows as the sources write them (`end_rows`): the item, `END`, `PAD` to the
end; an item that has not ended by the last position ends there (so any sample fits a row
and has at most `max_length - 1` characters). The VAE never draws `PAD`; the GAN draws
every position and its rows are read up to their first `END` or `PAD`. Sampling is
deterministic given its noise: the exported parts take the noise (`uniform` ports: TF
Lite has no random ops) and a `temperature` per item.
"""

import string

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_aegan import compat, protocol
from keras_aegan.data.text import END, PAD
from keras_aegan.errors import UserError, check_int, check_number

# The characters a text model is built for when no source says (tests, examples); the
# runner always passes the source's own.
DEFAULT_SYMBOLS = string.ascii_lowercase
PREVIEW_ITEMS = 12
# A logit that no softmax or argmax picks: `PAD` is never drawn.
_NEVER = -1e9


# ------------------------------------------------------------------------------ shared


def check_text_shape(image_shape, model):
    """`(max_length,)` of a text source's rows, or a one-line `UserError`."""
    shape = tuple(int(d) for d in image_shape)
    if len(shape) != 1:
        raise UserError(f"{model} generates text: it needs a text source (surnames, "
                        f"first_names, words or text:FILE), got examples of shape {shape}")
    if shape[0] < 2:
        raise UserError(f"{model}: rows need room for a character and its end, got "
                        f"max_length {shape[0]}")
    return shape[0]


def check_vocabulary(vocabulary):
    """The characters of a text model as a string, each once."""
    if isinstance(vocabulary, (list, tuple)):
        vocabulary = "".join(vocabulary)
    if not isinstance(vocabulary, str) or not vocabulary:
        raise UserError(f"vocabulary must be a non-empty string of characters, got "
                        f"{vocabulary!r}")
    if len(set(vocabulary)) != len(vocabulary):
        raise UserError("vocabulary: each character once")
    return vocabulary


def decode(ids, vocabulary):
    """Id rows -> strings, each read up to its first `END` or `PAD`.

    Args:
        ids: int array `(n, length)`.
        vocabulary: the model's characters (ids from 2).
    """
    out = []
    for row in np.asarray(ids).tolist():
        chars = []
        for i in row:
            if i in (PAD, END):
                break
            chars.append(vocabulary[i - 2])
        out.append("".join(chars))
    return out


def token_port(length, name="tokens"):
    return protocol.Port(name, (int(length),), "tokens", dtype="int32")


def uniform_port(shape, name="uniforms"):
    return protocol.Port(name, tuple(int(d) for d in shape), "uniform", range=(0.0, 1.0))


def temperature_port(name="temperature"):
    return protocol.Port(name, (1,), "temperature")


def check_temperature(temperature):
    return check_number("temperature", temperature, 0, 100, low_open=True)


def draw_ids(sampler, n, seed, temperature, latent_dim, uniform_shape, seed_generator):
    """`n` items as int32 ids `(n, length)` (numpy): `sampler(codes, uniforms,
    temperatures)` given standard normal codes `(n, latent_dim)`, uniform noise `(n,
    *uniform_shape)` in [0, 1) and `temperature` per item. The noise comes from `seed`
    (numpy, the same items for the same seed) or, with `seed` `None`, from
    `seed_generator` (new items each call)."""
    n = check_int("n", n)
    temperature = np.full((n, 1), check_temperature(temperature), "float32")
    if seed is None:
        codes = keras.random.normal((n, latent_dim), seed=seed_generator)
        uniforms = keras.random.uniform((n, *uniform_shape), seed=seed_generator)
    else:
        rng = np.random.default_rng(seed)
        codes = rng.standard_normal((n, latent_dim)).astype("float32")
        uniforms = rng.random((n, *uniform_shape)).astype("float32")
    return np.asarray(ops.convert_to_numpy(sampler(codes, uniforms, temperature)), "int32")


def traced(function):
    """`function` as a `tf.function` traced once per input shape: sampling unrolls
    `length` steps of small ops, slow to run eagerly."""
    return tf.function(function, autograph=False, reduce_retracing=True)


def next_tokens(choice, step, length, done):
    """The ids of one step: `choice` (the drawn ids), `END` at the last position for an
    item not ended yet, `PAD` for an item already ended; and the new `done`."""
    tokens = ops.cast(choice, "int32")
    if step == length - 1:
        tokens = ops.full_like(tokens, END)
    tokens = ops.where(done, ops.zeros_like(tokens), tokens)
    return tokens, ops.logical_or(done, ops.equal(tokens, END))


def argmax_ids(scores):
    """The index of the largest score on the last axis, as int32.

    `tf.argmax`, not `keras.ops.argmax`: Keras 3.15's TensorFlow argmax tells -0.0 from 0.0
    with bitwise ops that TF Lite cannot run (`tf.BitwiseAnd` needs Flex ops).
    """
    return tf.math.argmax(scores, axis=-1, output_type=tf.int32)


def end_rows(ids):
    """Id rows as a text model writes them: each read up to its first `END` or `PAD`,
    which becomes `END` (`END` at the last position of a row with neither), `PAD` after.
    """
    ids = ops.cast(ids, "int32")
    stops = ops.logical_or(ops.equal(ids, END), ops.equal(ids, PAD))
    last = ops.arange(ids.shape[1]) == ids.shape[1] - 1
    stops = ops.logical_or(stops, last[None, :])
    seen = ops.cumsum(ops.cast(stops, "int32"), axis=1)
    ended = ops.where(ops.logical_and(stops, ops.equal(seen, 1)), END, PAD)
    return ops.where(ops.equal(seen, 0), ids, ops.cast(ended, "int32"))


def no_pad(logits):
    """Logits with `PAD` made impossible (a generator ends an item with `END`)."""
    size = logits.shape[-1]
    mask = ops.cast(ops.arange(size) == PAD, logits.dtype) * _NEVER
    return logits + mask


def inverse_cdf(logits, uniforms, temperature):
    """Draw one id per row from `softmax(logits / temperature)` by inverting its
    cumulative distribution at `uniforms` (one value in [0, 1) per row): deterministic
    given the noise, and plain ops that TF Lite runs."""
    probabilities = ops.softmax(logits / temperature, axis=-1)
    cumulative = ops.cumsum(probabilities, axis=-1)
    below = ops.cast(cumulative < ops.expand_dims(uniforms, -1) * cumulative[:, -1:],
                     "int32")
    return ops.clip(ops.sum(below, axis=-1), 1, logits.shape[-1] - 1)


def text_images(items, width=None, height=12):
    """Strings -> one image `(len(items) * height, width * 6 + 4, 1)` in [0, 1], an item a
    line, dark on white (for progress grids)."""
    from PIL import Image, ImageDraw, ImageFont

    width = width or max([len(s) for s in items] + [1])
    canvas = Image.new("L", (width * 6 + 4, max(1, len(items)) * height), 255)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default_imagefont()
    for row, item in enumerate(items):
        draw.text((2, row * height), item[:width + 4], fill=0, font=font)
    return (np.asarray(canvas, "float32") / 255.0)[..., None]


def preview_row(columns, width):
    """One progress-grid row: a block of text per list of strings (same height each)."""
    size = max(len(c) for c in columns)
    return [text_images(list(c) + [""] * (size - len(c)), width) for c in columns]


# --------------------------------------------------------------------------- the VAE


@keras.saving.register_keras_serializable(package="keras_aegan")
class CharVAE(compat.SavesSeedState, keras.Model):
    """A character-level recurrent VAE of short text items (see the module).

    `call(ids, training)` returns the decoder's logits `(batch, length, ids)` for each
    next character with teacher forcing (the code's mean at inference; a draw and word
    dropout while training). The loss is the cross-entropy of the item's characters and
    its end, summed over the item, plus `beta * w * KL`, `w` rising linearly from 0 to 1
    over the first `kl_anneal_steps` optimizer steps; with `free_bits > 0` each code unit's
    KL counts at least that much (Kingma et al. 2016), so the code cannot be switched off.

    Args:
        encoder: ids `(length,)` -> `[z_mean, z_log_var]`.
        decoder: `[code, previous ids]` -> logits `(length, ids)` (the previous ids may
            hold `dropped_id`, one past the vocabulary).
        vocabulary: the characters (ids from 2).
        beta: weight of the KL term.
        kl_anneal_steps: optimizer steps over which the KL weight rises from 0.
        word_dropout: share of the decoder's previous characters hidden while training.
        free_bits: the least KL (nats) each code unit is charged.
        learning_rate: Adam's rate when `compile` is given none.
        seed: seed of the code draws and word dropout.

    Example:
        >>> vae = char_vae((14,), vocabulary="abcdefghijklmnopqrstuvwxyz")
        >>> vae.compile()
        >>> vae.fit(source.dataset("train"), epochs=1)
        >>> decode(vae.sample(5, seed=0), vae.vocabulary)
    """

    family = "autoencoder"
    seed_attribute, seed_state_key = "seed_generator", "noise_seed_state"

    def __init__(self, encoder, decoder, vocabulary=DEFAULT_SYMBOLS, beta=1.0,
                 kl_anneal_steps=1500, word_dropout=0.1, free_bits=0.0,
                 learning_rate=2e-3, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.vocabulary = check_vocabulary(vocabulary)
        self.beta = check_number("beta", beta, 0)
        self.kl_anneal_steps = check_int("kl_anneal_steps", kl_anneal_steps, minimum=0)
        self.word_dropout = check_number("word_dropout", word_dropout, 0, 1, high_open=True)
        self.free_bits = check_number("free_bits", free_bits, 0)
        self.learning_rate = check_number("learning_rate", learning_rate, 0, 10,
                                          low_open=True, high_open=True)
        self.seed = seed
        self.length = int(encoder.input_shape[-1])
        self.latent_dim = int(decoder.inputs[0].shape[-1])
        self.num_ids = len(self.vocabulary) + 2
        self.dropped_id = self.num_ids  # the decoder's "unknown" input
        if int(decoder.output_shape[-1]) != self.num_ids:
            raise UserError(f"the decoder predicts {decoder.output_shape[-1]} ids; the "
                            f"vocabulary has {self.num_ids} with PAD and END")
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        self.preview_seed = 1234
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True
        # The decoder's layers, called one step at a time when sampling.
        self._embedding = decoder.get_layer("decoder_embedding")
        self._start = decoder.get_layer("decoder_start")
        self._cell = decoder.get_layer("decoder_gru").cell
        self._logits = decoder.get_layer("decoder_logits")
        self._traced_decode = None

    # -------------------------------------------------------------------- training

    def _previous(self, ids, training):
        """The decoder's inputs: `END` (the start) then the item shifted right, with a
        share hidden while training (word dropout; never the start)."""
        ids = ops.cast(ids, "int32")
        previous = ops.concatenate([ops.full_like(ids[:, :1], END), ids[:, :-1]], axis=1)
        if training and self.word_dropout > 0:
            keep = keras.random.uniform(ops.shape(previous), seed=self.seed_generator)
            keep = ops.logical_or(keep >= self.word_dropout,
                                  ops.arange(self.length)[None, :] == 0)
            previous = ops.where(keep, previous, self.dropped_id)
        return previous

    def call(self, inputs, training=False):
        self.check_ids(inputs)
        z_mean, z_log_var = self.encoder(inputs, training=training)
        # The KL of each code unit, averaged over the batch: the loss reads it.
        self.add_loss(ops.mean(-0.5 * (1.0 + z_log_var - ops.square(z_mean)
                                       - ops.exp(z_log_var)), axis=0))
        z = z_mean
        if training:
            z = z_mean + ops.exp(0.5 * z_log_var) * keras.random.normal(
                ops.shape(z_mean), seed=self.seed_generator)
        return self.decoder([z, self._previous(inputs, training)], training=training)

    def kl_weight(self):
        """The KL term's weight now: `beta` times the annealing's share (0 to 1)."""
        if self.kl_anneal_steps == 0 or self.optimizer is None:
            return ops.convert_to_tensor(self.beta, "float32")
        step = ops.cast(self.optimizer.iterations, "float32")
        return self.beta * ops.minimum(1.0, step / float(self.kl_anneal_steps))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        del y, sample_weight
        ids = ops.cast(x, "int32")
        logits = ops.cast(y_pred, "float32")
        # The characters and the end count; the padding after the end does not.
        mask = ops.cast(ops.not_equal(ids, PAD), "float32")
        nll = keras.losses.sparse_categorical_crossentropy(ids, logits, from_logits=True)
        reconstruction = ops.mean(ops.sum(nll * mask, axis=1))
        per_unit = ops.sum(ops.stack([ops.cast(v, "float32") for v in self.losses]), axis=0)
        kl = ops.sum(per_unit)
        charged = ops.sum(ops.maximum(per_unit, self.free_bits)) if self.free_bits else kl
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return reconstruction + self.kl_weight() * charged

    def compile(self, optimizer=None, loss=None, learning_rate=None, **kwargs):
        """Adam at `learning_rate` (default: the model's); the loss is the model's own
        (`loss` must be `None`)."""
        if loss is not None:
            raise UserError("char_vae computes its own loss (cross-entropy and KL)")
        rate = self.learning_rate if learning_rate is None else learning_rate
        super().compile(optimizer=optimizer or keras.optimizers.Adam(rate), **kwargs)

    def compile_from_config(self, config):
        compat.compile_on_load(self, config)

    def check_ids(self, ids):
        if len(ids.shape) != 2 or ids.shape[1] != self.length:
            raise UserError(f"this model was built for rows of {self.length} character "
                            f"ids, got batches of shape {tuple(ids.shape)}")

    # ------------------------------------------------------------------- inference

    def encode(self, ids):
        """Ids `(batch, length)` -> the mean of the code's posterior (deterministic)."""
        self.check_ids(ids)
        return self.encoder(ops.cast(ids, "int32"), training=False)[0]

    def _unroll(self, codes, choose):
        """Ids drawn one step at a time from the decoder given `codes`; `choose(logits,
        step)` picks each step's ids."""
        codes = ops.cast(codes, "float32")
        state = self._start(codes)
        previous = ops.full((ops.shape(codes)[0],), END, "int32")
        done = ops.zeros((ops.shape(codes)[0],), "bool")
        out = []
        for step in range(self.length):
            x = ops.concatenate([self._embedding(previous), codes], axis=-1)
            state, _ = self._cell(x, [state], training=False)
            logits = no_pad(ops.cast(self._logits(state), "float32"))
            previous, done = next_tokens(choose(logits, step), step, self.length, done)
            out.append(previous)
        return ops.stack(out, axis=1)

    def decode(self, codes, uniforms, temperature):
        """Codes -> sampled ids `(batch, length)`: each character drawn from the decoder's
        softmax at `temperature` (per item, `(batch, 1)`) by inverting its distribution
        at `uniforms` `(batch, length)` in [0, 1)."""
        uniforms = ops.cast(uniforms, "float32")
        temperature = ops.cast(temperature, "float32")
        return self._unroll(codes, lambda logits, step: inverse_cdf(
            logits, uniforms[:, step], temperature))

    def reconstruct(self, ids):
        """Ids -> the decoder's most likely item for their code (greedy, deterministic)."""
        return self._unroll(self.encode(ids), lambda logits, step: argmax_ids(logits))

    def sample(self, n, seed=None, temperature=1.0):
        """`n` items as int32 ids `(n, length)` (numpy), decoded from prior draws.

        Args:
            n: number of items.
            seed: an int for repeatable samples; `None` draws new ones each call.
            temperature: the decoder's softmax temperature (below 1 surer, above 1 more
                varied).
        """
        if self._traced_decode is None:
            self._traced_decode = traced(self.decode)
        return draw_ids(self._traced_decode, n, seed, temperature, self.latent_dim,
                        (self.length,), self.seed_generator)

    def describe(self):
        """Parts `encoder` (ids -> code), `decoder` (code, uniform noise, temperature ->
        ids) and `autoencoder` (ids -> greedy reconstruction)."""
        tokens, code = token_port(self.length), protocol.code_port(self.latent_dim)
        parts = (
            protocol.Part("encoder", "encode", self.encode, (tokens,), code,
                          "character ids -> code (the posterior's mean)"),
            protocol.Part("decoder", "decode", self.decode,
                          (code, uniform_port((self.length,)), temperature_port()),
                          token_port(self.length),
                          "code, uniform noise per character in [0, 1), temperature "
                          "(1: as trained) -> character ids (0 pad, 1 end)"),
            protocol.Part("autoencoder", "reconstruct", self.reconstruct, (tokens,),
                          token_port(self.length, "reconstruction"),
                          "character ids -> the most likely item for their code"),
        )
        return protocol.ModelSpec(
            family=self.family, image_shape=(self.length,), latent_dim=self.latent_dim,
            parts=parts, sampler=protocol.SAMPLES_OWN,
            reconstruction=protocol.RECONSTRUCTS_DIRECT, features=("encoder", "z_mean"),
            networks={"encoder": self.encoder, "decoder": self.decoder},
            losses={"loss": "autoencoder"},
            optimizers={"optimizer": self.optimizer} if self.compiled else {},
            vocabulary=self.vocabulary, sample_temperature=True)

    def preview(self, ids):
        """One row of text blocks: real items, their reconstructions, prior samples."""
        ids = np.asarray(ids)[:PREVIEW_ITEMS]
        real = decode(ids, self.vocabulary)
        again = decode(ops.convert_to_numpy(self.reconstruct(ids)), self.vocabulary)
        drawn = decode(self.sample(PREVIEW_ITEMS, seed=self.preview_seed), self.vocabulary)
        return [preview_row([real, again, drawn], self.length)]

    def get_config(self):
        config = super().get_config()
        config.update(encoder=keras.layers.serialize(self.encoder),
                      decoder=keras.layers.serialize(self.decoder),
                      vocabulary=self.vocabulary, beta=self.beta,
                      kl_anneal_steps=self.kl_anneal_steps, word_dropout=self.word_dropout,
                      free_bits=self.free_bits, learning_rate=self.learning_rate,
                      seed=self.seed)
        return config

    @classmethod
    def from_config(cls, config):
        from keras_aegan.models import networks

        return networks.from_config(cls, config, ("encoder", "decoder"))


def char_vae(image_shape, latent_dim=16, num_classes=None, vocabulary=DEFAULT_SYMBOLS,
             units=256, embedding_dim=32, beta=1.0, kl_anneal_steps=1500, word_dropout=0.1,
             free_bits=0.0, learning_rate=2e-3, seed=None):
    """Character-level recurrent VAE (see `CharVAE`): an embedding and a GRU of `units`
    read the item (up to its padding) into `[z_mean, z_log_var]`; the decoder's GRU of
    `units` starts from a dense map of the code and reads, at each step, the previous
    character's embedding beside the code; a dense layer gives the next id's logits.

    The defaults, measured on `surnames` (batch 128, Adam 2e-3 annealed by the runner):
    with word dropout 0.25 the code still held 8 to 9 nats after 1,500 steps and few
    samples from the prior were real surnames (1.6 % held-out hits at temperature 1); at
    0.1, after 6,000 steps the code holds 1.9 nats (validation) and a classifier tells the
    samples from real surnames 50.6 % of the time (chance). `beta=2` collapsed the code
    (0.002 nats after 3,000 steps: a language model, no autoencoder).
    """
    del num_classes  # unconditional
    length = check_text_shape(image_shape, "char_vae")
    vocabulary = check_vocabulary(vocabulary)
    latent_dim, units = check_int("latent_dim", latent_dim), check_int("units", units)
    embedding_dim = check_int("embedding_dim", embedding_dim)
    num_ids = len(vocabulary) + 2
    ids = keras.Input((length,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(num_ids, embedding_dim, mask_zero=True,
                               name="encoder_embedding")(ids)
    x = keras.layers.GRU(units, name="encoder_gru")(x)
    encoder = keras.Model(ids, [keras.layers.Dense(latent_dim, name="z_mean")(x),
                                keras.layers.Dense(latent_dim, name="z_log_var")(x)],
                          name="encoder")
    code = keras.Input((latent_dim,), name="code")
    previous = keras.Input((length,), dtype="int32", name="previous")
    # One input id more than the vocabulary: the word-dropout token.
    x = keras.layers.Embedding(num_ids + 1, embedding_dim, name="decoder_embedding")(previous)
    x = keras.layers.Concatenate(name="with_code")(
        [x, keras.layers.RepeatVector(length, name="code_each_step")(code)])
    start = keras.layers.Dense(units, activation="tanh", name="decoder_start")(code)
    x = keras.layers.GRU(units, return_sequences=True, name="decoder_gru")(
        x, initial_state=start)
    logits = keras.layers.Dense(num_ids, name="decoder_logits")(x)
    decoder = keras.Model([code, previous], logits, name="decoder")
    return CharVAE(encoder, decoder, vocabulary=vocabulary, beta=beta,
                   kl_anneal_steps=kl_anneal_steps, word_dropout=word_dropout,
                   free_bits=free_bits, learning_rate=learning_rate, seed=seed,
                   name="char_vae")
