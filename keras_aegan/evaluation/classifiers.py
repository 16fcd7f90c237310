"""The one classifier builder every experiment uses: images in [0, 1] -> class logits.

A classifier here is four stages, each chosen by an option of `build_classifier`:

    images -> [random shifts and rotations] -> trunk -> features
           -> [standardise] -> [dropout] -> logits

- The trunk is one of two convolutional networks, or a network the caller brings:
  `"cnn"`, the small CNN of Wong et al. 2020's MNIST experiments (two 4x4 stride-2
  convolutions of `width` and `2 * width` channels, a dense layer of `hidden` units),
  which the robustness and augmentation experiments train; `"bn_cnn"`, the batch-normalised
  conv net of the datasets' evaluators (its layers decide every cached evaluator and every
  FID: change it only with `evaluator.EVALUATOR_VERSION`); or a `keras.Model`, e.g. a
  pre-trained encoder, whose output (flattened) is the features.
- `standardize_on`: images whose features fix a standardisation (mean 0, variance 1 per
  feature), as a linear probe does: a pre-trained code can be on any scale, and a head on
  raw small codes learns slowly.
- `dropout` before the logits; `shifts` for the augmentation experiment's baseline.

The dense layer before the head is named `features` (`networks.FEATURES_LAYER`) in both
built-in trunks: the evaluator's embeddings and the adversarial classifier's declared
features are read from it.
"""

import math

import keras
import numpy as np

from keras_aegan.models import networks
from keras_aegan.errors import UserError, check_int, check_number

TRUNKS = ("cnn", "bn_cnn")
# The augmentation baseline's random shifts (a share of the side) and rotations.
SHIFT, ROTATION_DEGREES = 0.1, 10.0


def build_classifier(image_shape=None, num_classes=10, *, trunk="cnn", width=16, hidden=100,
                     dropout=0.0, standardize_on=None, shifts=False, seed=0,
                     name="classifier"):
    """A classifier network: images in [0, 1] -> float32 logits.

    Args:
        image_shape: `(H, W, C)`; default (and checked against) a given trunk's input.
        num_classes: number of classes.
        trunk: `"cnn"` (Wong et al.'s small CNN), `"bn_cnn"` (the evaluators' network) or
            a `keras.Model` taking the images (used as is: clone it first to keep the
            original).
        width: channels of the `"cnn"` trunk's first convolution.
        hidden: units of the built-in trunks' `features` layer.
        dropout: dropout rate before the logits (0: none).
        standardize_on: images whose features fix a standardisation layer (`None`: none).
        shifts: random shifts (up to `SHIFT` of the side) and rotations (up to
            `ROTATION_DEGREES`) of the input, active only when training.
        seed: seeds the shifts and rotations.
        name: the model's name.

    Returns:
        A functional `keras.Model`.

    Example:
        >>> net = build_classifier((28, 28, 1), 10, width=32, hidden=128, dropout=0.3)
        >>> net.compile(optimizer="adam",
        ...             loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    """
    num_classes = check_int("num_classes", num_classes, 2)
    dropout = check_number("dropout", dropout, 0, 1, high_open=True)
    if isinstance(trunk, keras.Model):
        given = tuple(trunk.input_shape[1:])
        if image_shape is not None and tuple(image_shape) != given:
            raise UserError(f"image_shape {tuple(image_shape)} differs from the trunk's "
                            f"input {given}")
        image_shape = given
    elif trunk not in TRUNKS:
        raise UserError(f"trunk must be a keras.Model or one of {', '.join(TRUNKS)}, got "
                        f"{trunk!r}")
    else:
        image_shape = networks.check_image_shape(image_shape)
    images = keras.Input(image_shape, name="images")
    x = images
    if shifts:
        for layer in shift_rotate_layers(seed):
            x = layer(x)
    if trunk == "cnn":
        x = _cnn(x, check_int("width", width), check_int("hidden", hidden))
        dropout_name = "dropout"
    elif trunk == "bn_cnn":
        x = _bn_cnn(x, image_shape, check_int("hidden", hidden))
        dropout_name = None  # unnamed, as in every cached evaluator
    else:
        x = trunk(x)
        if isinstance(x, (list, tuple)):  # a VAE's [mean, log_var]: classify the mean
            x = x[0]
        x = keras.layers.Flatten(name="flat_features")(x)
        dropout_name = "dropout"
    if standardize_on is not None:
        values = predict(keras.Model(images, x), standardize_on)
        standardize = keras.layers.Normalization(name="standardize")
        standardize.adapt(values)
        x = standardize(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name=dropout_name)(x)
    logits = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)


def shift_rotate_layers(seed=0):
    """Random shifts (up to `SHIFT` of the side) and rotations (up to `ROTATION_DEGREES`)
    with a black fill, active only when training."""
    return [keras.layers.RandomTranslation(SHIFT, SHIFT, fill_mode="constant", seed=seed,
                                           name="random_shift"),
            keras.layers.RandomRotation(ROTATION_DEGREES / 360.0, fill_mode="constant",
                                        seed=seed + 1, name="random_rotation")]


def _cnn(x, width, hidden):
    """Wong et al. 2020's MNIST network (and Wong & Kolter 2018's) with the defaults."""
    x = keras.layers.Conv2D(width, 4, strides=2, padding="same", activation="relu",
                            name="conv0")(x)
    x = keras.layers.Conv2D(2 * width, 4, strides=2, padding="same", activation="relu",
                            name="conv1")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    return keras.layers.Dense(hidden, activation="relu", name=networks.FEATURES_LAYER)(x)


def _bn_cnn(x, image_shape, hidden):
    """The evaluators' batch-normalised conv net.

    Images of side 16 or more enter a stride-2 5x5 convolution (32 channels), which halves
    the side at a quarter of the cost of a full-resolution layer; then 3x3 convolutions of
    64, 128, ... channels (at most 256), each followed by a 2x2 max-pool while the side
    is above 4 (at least two of them). On MNIST: 28 -> 14 -> 7 -> 3.
    """
    side = min(image_shape[:2])

    def conv(x, filters, kernel, strides, name):
        x = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same",
                                use_bias=False, name=name)(x)
        # momentum 0.9: the moving statistics settle within the few hundred steps of a
        # small dataset (0.99 left the 8x8 digits at 20% test accuracy after 165 steps).
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
        return keras.layers.ReLU(name=f"{name}_relu")(x)

    if side >= 16:
        x = conv(x, 32, 5, 2, "stem")
        side = math.ceil(side / 2)
    else:
        x = conv(x, 32, 3, 1, "stem")
    i = 0
    while i < 2 or side > 4:
        x = conv(x, min(64 * 2 ** i, 256), 3, 1, f"conv{i}")
        if side > 4:
            x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
            side //= 2
        i += 1
    x = keras.layers.Flatten()(x)
    return keras.layers.Dense(hidden, activation="relu", name=networks.FEATURES_LAYER)(x)


def predict(model, images, batch_size=512):
    """A network's outputs on numpy images, in batches (numpy)."""
    x = np.asarray(images, "float32")
    if not len(x):
        return np.zeros((0, *model.output_shape[1:]), "float32")
    return np.concatenate([keras.ops.convert_to_numpy(model(x[i:i + batch_size],
                                                            training=False))
                           for i in range(0, len(x), batch_size)])


def accuracy(model, images, labels, batch_size=512):
    """Test accuracy of a classifier of logits (or probabilities) on numpy arrays."""
    predicted = np.argmax(predict(model, images, batch_size), axis=-1)
    return float(np.mean(predicted == np.asarray(labels)))
