"""Adversarial training of the comparisons' small CNN (the robustness study's models).

- `build_adversarial_classifier`: the small CNN of Wong et al.'s MNIST experiments
  (`classifiers.build_classifier`: conv 16 and 32, 4x4 stride 2, dense 100, or a wider
  one) inside a `models.robust_model.AdversarialClassifier`, which crafts its attack in
  `train_step` (FGSM from a random start, PGD, or none: plain training of the same
  network, the "before" of a comparison).
- `train_adversarial_classifier`: build, compile with Wong et al.'s one-cycle learning
  rate (`schedules.TriangularSchedule`) and fit on numpy arrays, with a time budget and a
  progress line every 30 s (`fixed_steps.fit_steps`).
"""

import math

import keras
import numpy as np
import tensorflow as tf

from keras_aegan.errors import UserError, check_int
from keras_aegan.evaluation import classifiers
from keras_aegan.models.robust_model import AdversarialClassifier
from keras_aegan.training import fixed_steps
from keras_aegan.training.schedules import TriangularSchedule


def build_adversarial_classifier(image_shape, latent_dim=None, num_classes=10, width=16,
                                 hidden=100, dropout=0.0, epsilon=0.3, attack="fgsm", steps=1,
                                 step_size=None, random_start=True, clean_weight=0.0,
                                 epsilon_warmup=0, seed=None):
    """An adversarially trained small CNN (the registry's builder signature; `latent_dim`
    is not used: a classifier has no code)."""
    del latent_dim
    if num_classes is None:
        raise UserError("a classifier needs class labels, and the dataset has none")
    return AdversarialClassifier(
        classifiers.build_classifier(image_shape, num_classes, width=width, hidden=hidden,
                                     dropout=dropout),
        epsilon=epsilon, attack=attack, steps=steps, step_size=step_size,
        random_start=random_start, clean_weight=clean_weight, epsilon_warmup=epsilon_warmup,
        seed=seed, name=f"{attack}_trained_classifier")


def train_adversarial_classifier(x_train, y_train, *, attack="fgsm", epsilon=0.3, epochs=10,
                     batch_size=100, learning_rate=5e-3, budget_seconds=None, seed=0,
                     validation=None, verbose=0, log=None, **options):
    """Build and adversarially train a classifier on numpy arrays.

    The learning rate follows `TriangularSchedule` (peak `learning_rate`) over `epochs`;
    `budget_seconds` stops training early (the schedule is then cut short, so give
    `epochs` that fit the budget).

    Args:
        x_train, y_train: images in [0, 1] and int labels.
        attack, epsilon: the training attack and its budget (see `AdversarialClassifier`).
        epochs, batch_size: the fit.
        learning_rate: the schedule's peak.
        budget_seconds: a wall-clock cap on training (`None`: none).
        seed: seeds the weights, the shuffling and the attack.
        validation: optional `(x, y)` for clean validation accuracy per epoch.
        verbose: Keras verbosity.
        log: a function given a progress line every 30 s or so (`None`: quiet).
        **options: options of `build_adversarial_classifier` (`width`, `steps`,
            `epsilon_warmup`, ...).

    Returns:
        `(model, history, seconds)`.

    Example:
        >>> model, _, seconds = train_adversarial_classifier(x, y, epsilon=0.3, epochs=10)
    """
    x_train = np.asarray(x_train, "float32")
    y_train = np.asarray(y_train).astype("int32")
    epochs, batch_size = check_int("epochs", epochs), check_int("batch_size", batch_size)
    keras.utils.set_random_seed(seed)
    model = build_adversarial_classifier(x_train.shape[1:], num_classes=int(y_train.max()) + 1,
                                         epsilon=epsilon, attack=attack, seed=seed, **options)
    steps = math.ceil(len(x_train) / batch_size)
    model.compile(learning_rate=TriangularSchedule(learning_rate, epochs * steps))
    data = fixed_steps.batches(x_train, y_train, batch_size=batch_size, seed=seed,
                               whole_epochs=True)
    history, seconds = fixed_steps.fit_steps(
        model, data, steps, epochs=epochs, budget_seconds=budget_seconds, verbose=verbose,
        validation=None if validation is None else
        tf.data.Dataset.from_tensor_slices(validation).batch(512),
        log=log, what=model.name)
    return model, history, seconds
