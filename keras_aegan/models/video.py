"""Next-frame prediction: the same predictor trained the two families' ways.

- `FramePredictor` (`frame_predictor`, autoencoder family): plain `compile()` + `fit()` on
  `(observed frames, future frames)` pairs with a pixel loss.
- `AdversarialFramePredictor` (`adversarial_predictor`, GAN family): the same predictor
  with a sequence discriminator in `train_step`; the discriminator sees the observed frames
  followed by the true or the predicted future, so it judges the motion as well as the
  sharpness of the continuation.

The predictor (`predictor_network`) is a temporal-convolution network in the manner of
SimVP (Gao et al. 2022): each frame is cut into `patch` x `patch` pixel blocks stacked as
channels (space-to-depth, lossless), the observed frames are stacked along the channels,
a small U-Net of 2-D convolutions maps them to the future frames' blocks, and
depth-to-space puts the pixels back. Everything is convolutions and reshapes: it trains
fast on a CPU and exports to TF Lite without recurrent loops.

A model holds its task (`model.task`, a `keras_aegan.data.tasks.NextFrames`, declared as
plain data in `ModelSpec.task = {"name": "next_frames", "observed": 10, "predicted": 10}`):
the data (`registry.FIT_INPUTS["frame_sequences"]`) cuts each sequence into observed and
future frames by it, and `video_files.predict_files` (`apply`) reads it.

Example:
    >>> model = frame_predictor((20, 64, 64, 1))
    >>> model.compile()
    >>> model.fit(pairs_dataset, epochs=1)
    >>> future = model.predict_next(observed)  # (batch, 10, 64, 64, 1)
"""

import keras
import numpy as np
import tensorflow as tf

from keras_aegan import compat, protocol
from keras_aegan.models import losses as losses_lib
from keras_aegan.models import networks
from keras_aegan.models.adversarial import AdversarialModel, discriminator_accuracy
from keras_aegan.models.layers import ArgumentsConfig
from keras_aegan.data.tasks import NextFrames
from keras_aegan.data.tasks.frames import OBSERVED, PREDICTED
from keras_aegan.errors import UserError, check_int, check_number

PIXEL_LOSSES = ("bce", "mse")
PREVIEW_SEQUENCES = 3


# ------------------------------------------------------------------------------ layers


@keras.saving.register_keras_serializable(package="keras_aegan")
class FramesToChannels(ArgumentsConfig, keras.layers.Layer):
    """`(batch, T, H, W, C)` frames -> `(batch, H/p, W/p, T * p * p * C)` (space-to-depth).

    Each frame's `p` x `p` pixel blocks become channels (no pixel is lost), and the frames
    are stacked along the channels, time-major.

    Args:
        patch: the block side `p`; `H` and `W` must be multiples of it.
    """

    config_arguments = ("patch",)

    def __init__(self, patch=4, **kwargs):
        super().__init__(**kwargs)
        self.patch = check_int("patch", patch)

    def call(self, frames):
        _, steps, height, width, channels = frames.shape
        p = self.patch
        x = tf.reshape(frames, (-1, height, width, channels))
        x = tf.nn.space_to_depth(x, p)
        x = tf.reshape(x, (-1, steps, height // p, width // p, p * p * channels))
        x = tf.transpose(x, (0, 2, 3, 1, 4))
        return tf.reshape(x, (-1, height // p, width // p, steps * p * p * channels))

    def compute_output_shape(self, input_shape):
        batch, steps, height, width, channels = input_shape
        p = self.patch
        return (batch, height // p, width // p, steps * p * p * channels)



@keras.saving.register_keras_serializable(package="keras_aegan")
class ChannelsToFrames(ArgumentsConfig, keras.layers.Layer):
    """The inverse of `FramesToChannels`: `(batch, h, w, T * p * p * C)` -> frames.

    Args:
        steps: the number of frames `T`.
        patch: the block side `p`.
    """

    config_arguments = ("steps", "patch")

    def __init__(self, steps, patch=4, **kwargs):
        super().__init__(**kwargs)
        self.steps = check_int("steps", steps)
        self.patch = check_int("patch", patch)

    def call(self, x):
        _, height, width, depth = x.shape
        p, steps = self.patch, self.steps
        channels = depth // (steps * p * p)
        x = tf.reshape(x, (-1, height, width, steps, p * p * channels))
        x = tf.transpose(x, (0, 3, 1, 2, 4))
        x = tf.reshape(x, (-1, height, width, p * p * channels))
        x = tf.nn.depth_to_space(x, p)
        return tf.reshape(x, (-1, steps, height * p, width * p, channels))

    def compute_output_shape(self, input_shape):
        batch, height, width, depth = input_shape
        p = self.patch
        return (batch, self.steps, height * p, width * p, depth // (self.steps * p * p))



# ---------------------------------------------------------------------------- networks


def _check_frames(frame_shape, patch):
    frame_shape = tuple(int(d) for d in frame_shape)
    if len(frame_shape) != 3 or min(frame_shape) < 1:
        raise UserError(f"frames must be (height, width, channels), got {frame_shape}")
    if frame_shape[0] % (2 * patch) or frame_shape[1] % (2 * patch):
        raise UserError(f"frame sides must be multiples of {2 * patch} (twice the patch "
                        f"{patch}), got {frame_shape[0]}x{frame_shape[1]}")
    return frame_shape


def predictor_network(frame_shape, observed=OBSERVED, predicted=PREDICTED, patch=4,
                      width=64, blocks=4, name="predictor"):
    """Observed frames -> the next frames, in [0, 1] (see the module docstring).

    Args:
        frame_shape: `(H, W, C)` of one frame; `H` and `W` multiples of `2 * patch`.
        observed: frames in.
        predicted: frames out.
        patch: side of the pixel blocks stacked as channels.
        width: channels of the U-Net at the patch grid (twice as many one level down).
        blocks: residual blocks at the bottom of the U-Net.
        name: model name.

    Returns:
        A functional `keras.Model` `(batch, observed, H, W, C) -> (batch, predicted, H, W,
        C)`: the convolution `logits`, depth-to-space, then the sigmoid `pixels`.
    """
    frame_shape = _check_frames(frame_shape, patch)
    observed, predicted = check_int("observed", observed), check_int("predicted", predicted)
    layers = keras.layers
    channels = frame_shape[2]

    def conv(x, filters, label, strides=1, kernel=3):
        x = layers.Conv2D(filters, kernel, strides=strides, padding="same", name=label)(x)
        return layers.LeakyReLU(0.2, name=f"{label}_act")(x)

    frames = keras.Input((observed, *frame_shape), name="frames")
    x = FramesToChannels(patch, name="to_channels")(frames)
    top = conv(x, width, "in")
    x = conv(top, 2 * width, "down", strides=2)
    for i in range(blocks):
        residual = conv(x, 2 * width, f"block{i}_a")
        residual = layers.Conv2D(2 * width, 3, padding="same", name=f"block{i}_b")(residual)
        x = layers.LeakyReLU(0.2, name=f"block{i}_act")(layers.Add(name=f"block{i}_add")(
            [x, residual]))
    x = layers.Conv2DTranspose(width, 4, strides=2, padding="same", name="up")(x)
    x = layers.LeakyReLU(0.2, name="up_act")(x)
    x = layers.Concatenate(name="skip")([x, top])
    x = conv(x, width, "out")
    x = layers.Conv2D(predicted * patch * patch * channels, 1, name="logits")(x)
    x = ChannelsToFrames(predicted, patch, name="to_frames")(x)
    # The sigmoid comes last, after the reshapes: Keras' cross-entropy then finds the
    # logits under it and never clips the probabilities. Clipped, a predictor pushed to
    # saturated pixels (the adversarial term can do it) gets no gradient back and stays
    # black for good.
    future = layers.Activation("sigmoid", name="pixels")(x)
    return keras.Model(frames, future, name=name)


def sequence_discriminator(frame_shape, steps, patch=4, width=64, name="discriminator"):
    """A whole sequence (observed + continuation) -> one logit: is the continuation real?

    Args:
        frame_shape: `(H, W, C)`.
        steps: frames in the sequence.
        patch: side of the pixel blocks stacked as channels.
        width: channels of the first convolution (doubled at each of two downsamplings).
        name: model name.
    """
    frame_shape = _check_frames(frame_shape, patch)
    layers = keras.layers
    sequences = keras.Input((steps, *frame_shape), name="sequences")
    x = FramesToChannels(patch, name="to_channels")(sequences)
    for i, filters in enumerate((width, 2 * width, 4 * width)):
        x = layers.Conv2D(filters, 3, strides=1 if i == 0 else 2, padding="same",
                          name=f"conv{i}")(x)
        x = layers.LeakyReLU(0.2, name=f"conv{i}_act")(x)
    features = layers.GlobalAveragePooling2D(name="features")(x)
    logits = layers.Dense(1, name="logits")(features)
    return keras.Model(sequences, logits, name=name)


# ------------------------------------------------------------------------------ losses


@keras.saving.register_keras_serializable(package="keras_aegan")
def mse_per_frame(y_true, y_pred):
    """Squared error summed over a frame's pixels, averaged over frames: the Moving MNIST
    yardstick (Srivastava et al. 2015; ConvLSTM scores 103.3 on it). One value per example.
    """
    squared = keras.ops.square(keras.ops.cast(y_true, "float32") - keras.ops.cast(y_pred,
                                                                                 "float32"))
    shape = keras.ops.shape(squared)
    per_frame = keras.ops.sum(keras.ops.reshape(squared, (shape[0], shape[1], -1)), axis=-1)
    return keras.ops.mean(per_frame, axis=-1)


def pixel_loss(name):
    """The Keras loss of a pixel-loss name: `bce` (mean binary cross-entropy) or `mse`."""
    if name not in PIXEL_LOSSES:
        raise UserError(f"pixel loss must be one of {', '.join(PIXEL_LOSSES)}, got {name!r}")
    return "binary_crossentropy" if name == "bce" else "mse"


# ------------------------------------------------------------------------------- models


@keras.saving.register_keras_serializable(package="keras_aegan")
class FramePredictor(keras.Model):
    """A frame predictor trained with plain `fit` on the pixel loss.

    Args:
        predictor: a model `(batch, observed, H, W, C) -> (batch, predicted, H, W, C)`,
            frames in [0, 1].
        loss: the default pixel loss, `bce` or `mse` (`compile` may override it).

    Example:
        >>> model = FramePredictor(predictor_network((64, 64, 1)))
        >>> model.compile()
        >>> model.fit(dataset_of_observed_and_future, epochs=1)
    """

    family = "autoencoder"

    def __init__(self, predictor, loss="bce", **kwargs):
        super().__init__(**kwargs)
        self.predictor = predictor
        self.loss_name = loss
        pixel_loss(loss)
        self.observed = int(predictor.input_shape[1])
        self.predicted = int(predictor.output_shape[1])
        self.frame_shape = tuple(int(d) for d in predictor.input_shape[2:])
        if tuple(predictor.output_shape[2:]) != self.frame_shape:
            raise UserError(f"the predictor takes frames of {self.frame_shape} but makes "
                            f"{tuple(predictor.output_shape[2:])}")
        self.built = True

    @property
    def task(self):
        """The model's `NextFrames` task."""
        return NextFrames((self.observed + self.predicted, *self.frame_shape),
                          observed=self.observed, predicted=self.predicted)

    def check_frames(self, frames):
        """A `UserError` unless `frames` is `(batch, observed, H, W, C)` for this model."""
        want = (self.observed, *self.frame_shape)
        if len(frames.shape) != 5 or tuple(frames.shape[1:]) != want:
            raise UserError(f"this predictor takes batches of {self.observed} frames of "
                            f"{'x'.join(map(str, self.frame_shape))}, shape (batch, "
                            f"{', '.join(map(str, want))}); got {tuple(frames.shape)}")

    def call(self, frames, training=False):
        self.check_frames(frames)
        return self.predictor(frames, training=training)

    def predict_next(self, frames):
        """Observed frames `(batch, observed, H, W, C)` in [0, 1] -> the next `predicted`
        frames; deterministic."""
        frames = keras.ops.cast(keras.ops.convert_to_tensor(frames), "float32")
        self.check_frames(frames)
        return self.predictor(frames, training=False)

    def _networks(self):
        return {"predictor": self.predictor}

    def _optimizers(self):
        return {"optimizer": self.optimizer} if self.compiled else {}

    def describe(self):
        """The predictor's `protocol.ModelSpec`: one part, `predictor`, and its task."""
        task = self.task
        part = protocol.Part("predictor", "predict", self.predict_next, task.input_ports(),
                             task.output_port(), task.convention())
        return protocol.ModelSpec(
            family=self.family, image_shape=task.example_shape, parts=(part,),
            networks=self._networks(), losses=self.loss_networks,
            optimizers=self._optimizers(), task=task.describe())

    loss_networks = {"loss": "predictor"}

    def compile(self, optimizer=None, loss=None, learning_rate=1e-3, metrics=None, **kwargs):
        """Adam at `learning_rate` on the model's pixel loss; `mse_per_frame` is logged."""
        super().compile(optimizer=optimizer or keras.optimizers.Adam(learning_rate),
                        loss=loss or pixel_loss(self.loss_name),
                        metrics=[mse_per_frame] if metrics is None else metrics, **kwargs)

    def compile_from_config(self, config):
        compat.compile_on_load(self, config)

    def preview(self, sequences):
        """Rows of a progress grid: for a few sequences, the observed frames, the true
        future and the predicted future."""
        sequences = np.asarray(sequences)[:PREVIEW_SEQUENCES]
        inputs, true = self.task.make_pair(sequences)
        predicted = keras.ops.convert_to_numpy(self.predict_next(inputs[0]))
        return self.task.display_rows(inputs, predicted, true)

    def get_config(self):
        config = super().get_config()
        config.update(predictor=keras.layers.serialize(self.predictor), loss=self.loss_name)
        return config

    @classmethod
    def from_config(cls, config):
        return networks.from_config(cls, config, ("predictor",))


@keras.saving.register_keras_serializable(package="keras_aegan")
class AdversarialFramePredictor(AdversarialModel, FramePredictor):
    """The same predictor, trained against a sequence discriminator in `train_step`.

    The predictor minimises `pixel loss + adversarial_weight * non-saturating GAN loss`;
    the discriminator sees the observed frames followed by the true or the predicted
    future. Validation reports the pixel loss and `mse_per_frame`, as for the plain
    predictor.

    Args:
        predictor: see `FramePredictor`.
        discriminator: a model `(batch, observed + predicted, H, W, C) -> logits`.
        loss: the pixel loss, `bce` or `mse`.
        adversarial_weight: weight of the adversarial term in the predictor's loss.
    """

    family = "gan"
    loss_networks = {"d_loss": "discriminator", "loss": "predictor"}
    optimizer_networks = {"optimizer": ("predictor",), "d_optimizer": ("discriminator",)}
    network_names = ("predictor", "discriminator")

    def __init__(self, predictor, discriminator, loss="bce", adversarial_weight=0.005,
                 **kwargs):
        super().__init__(predictor, loss=loss, **kwargs)
        self.discriminator = discriminator
        self.adversarial_weight = check_number("adversarial_weight", adversarial_weight, 0)
        steps = self.observed + self.predicted
        if tuple(discriminator.input_shape[1:]) != (steps, *self.frame_shape):
            raise UserError(f"the discriminator must take sequences of {steps} frames of "
                            f"{self.frame_shape}, it takes {discriminator.input_shape[1:]}")
        self.d_optimizer = None
        self._trackers = {name: keras.metrics.Mean(name=name) for name in
                          ("loss", "pixel_loss", "adversarial_loss", "d_loss", "d_accuracy",
                           "mse_per_frame")}

    def _networks(self):
        return {"predictor": self.predictor, "discriminator": self.discriminator}

    def _optimizers(self):
        return self.optimizers()

    def compile(self, optimizer=None, d_optimizer=None, loss=None, learning_rate=1e-3,
                d_learning_rate=None, clipnorm=1.0, **kwargs):
        """Adam for the predictor at `learning_rate`, its gradient's global norm clipped to
        `clipnorm` (`None`: no clipping), and for the discriminator at `d_learning_rate`
        (default: a fifth of `learning_rate`; betas 0.5, 0.999, as for DCGAN), both built
        now so a strategy scope owns their slots.

        Without them (and at an adversarial weight of 0.01), a long Moving MNIST run
        diverged: one step sent the predictor's logits to the hundreds and it never came
        back. With them and the weight at 0.005, the same run trained through to the end.
        """
        kwargs.pop("metrics", None)
        self.pixel_loss_name = loss or self.loss_name
        self.pixel_loss_fn = keras.losses.get(pixel_loss(self.pixel_loss_name))
        rate = check_number("learning_rate", learning_rate, 0, low_open=True)
        d_rate = rate / 5 if d_learning_rate is None else check_number(
            "d_learning_rate", d_learning_rate, 0, low_open=True)
        if clipnorm is not None:
            clipnorm = check_number("clipnorm", clipnorm, 0, low_open=True)
        if optimizer is None:
            optimizer = keras.optimizers.Adam(rate, global_clipnorm=clipnorm)
        if d_optimizer is None:
            d_optimizer = keras.optimizers.Adam(d_rate, beta_1=0.5, name="d_optimizer")
        super().compile(optimizer=optimizer, d_optimizer=d_optimizer, **kwargs)

    def compile_options(self):
        return {"loss": self.pixel_loss_name}

    def _unpack(self, data):
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise UserError("a frame predictor trains on (observed, future) pairs")
        observed, future = data[0], data[1]
        self.check_frames(observed)
        return observed, future

    def train_step(self, data):
        observed, future = self._unpack(data)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            predicted = self.predictor(observed, training=True)
            real_logits = self.discriminator(tf.concat([observed, future], 1), training=True)
            fake_logits = self.discriminator(tf.concat([observed, predicted], 1),
                                             training=True)
            pixel = keras.ops.mean(self.pixel_loss_fn(future, predicted))
            adversarial = losses_lib.non_saturating_generator_loss(fake_logits)
            loss = pixel + self.adversarial_weight * adversarial
            d_loss = losses_lib.minimax_discriminator_loss(real_logits, fake_logits)
        self.optimizer.apply(g_tape.gradient(loss, self.predictor.trainable_variables),
                             self.predictor.trainable_variables)
        self.d_optimizer.apply(d_tape.gradient(d_loss, self.discriminator.trainable_variables),
                               self.discriminator.trainable_variables)
        return self._log(loss, pixel, adversarial, d_loss, real_logits, fake_logits, future,
                         predicted)

    def test_step(self, data):
        observed, future = self._unpack(data)
        predicted = self.predictor(observed, training=False)
        real_logits = self.discriminator(tf.concat([observed, future], 1), training=False)
        fake_logits = self.discriminator(tf.concat([observed, predicted], 1), training=False)
        pixel = keras.ops.mean(self.pixel_loss_fn(future, predicted))
        adversarial = losses_lib.non_saturating_generator_loss(fake_logits)
        # Validation's `loss` is the pixel loss alone: comparable with the plain predictor.
        return self._log(pixel, pixel, adversarial,
                         losses_lib.minimax_discriminator_loss(real_logits, fake_logits),
                         real_logits, fake_logits, future, predicted)

    def _log(self, loss, pixel, adversarial, d_loss, real_logits, fake_logits, future,
             predicted):
        return self._record({
            "loss": loss, "pixel_loss": pixel, "adversarial_loss": adversarial,
            "d_loss": d_loss, "d_accuracy": discriminator_accuracy(real_logits, fake_logits),
            "mse_per_frame": keras.ops.mean(mse_per_frame(future, predicted))})

    def get_config(self):
        config = super().get_config()
        config.update(adversarial_weight=self.adversarial_weight)
        return config


# ---------------------------------------------------------------------------- builders


def _video_shape(image_shape, observed, predicted, model):
    shape = tuple(int(d) for d in image_shape)
    if len(shape) != 4:
        raise UserError(f"{model} predicts video frames: it needs a source of frame "
                        f"sequences (time, H, W, C) such as moving_mnist:digits, got examples "
                        f"of shape {shape}")
    observed, predicted = check_int("observed", observed), check_int("predicted", predicted)
    if observed + predicted > shape[0]:
        raise UserError(f"{model}: {observed} observed + {predicted} predicted frames do "
                        f"not fit in the source's sequences of {shape[0]} frames")
    return shape[1:]


def frame_predictor(image_shape, latent_dim=None, num_classes=None, observed=OBSERVED,
                    predicted=PREDICTED, patch=4, width=64, blocks=4, loss="bce"):
    """Frame predictor (temporal convolutions, SimVP-like), plain fit on the pixel loss.

    `image_shape` is the source's sequence shape `(T, H, W, C)`; `latent_dim` is not used
    (the predictor has no code).
    """
    del latent_dim, num_classes
    frame = _video_shape(image_shape, observed, predicted, "frame_predictor")
    return FramePredictor(predictor_network(frame, observed, predicted, patch, width, blocks),
                          loss=loss, name="frame_predictor")


def adversarial_predictor(image_shape, latent_dim=None, num_classes=None, observed=OBSERVED,
                          predicted=PREDICTED, patch=4, width=64, blocks=4, loss="bce",
                          adversarial_weight=0.005, d_width=64):
    """The frame predictor with a sequence discriminator in `train_step` (GAN family)."""
    del latent_dim, num_classes
    frame = _video_shape(image_shape, observed, predicted, "adversarial_predictor")
    return AdversarialFramePredictor(
        predictor_network(frame, observed, predicted, patch, width, blocks),
        sequence_discriminator(frame, observed + predicted, patch, d_width),
        loss=loss, adversarial_weight=adversarial_weight, name="adversarial_predictor")
