"""The Classification Accuracy Score, and the comparisons' small classifier trained on
generated images.

**Classification Accuracy Score** (Ravuri & Vinyals 2019): a small classifier trained
*only* on a model's samples, labelled by the class they were generated for, and tested on
real test images. A perfect conditional generator scores the accuracy of real data; a
generator that draws the wrong class, or one mode per class, scores less. An unconditional
model has no class to ask for: its samples can be labelled by the dataset's evaluator
instead (`label_by=`), and the score is then marked as such (`cas_evaluator_labels`),
since it measures agreement with the evaluator rather than conditioning.

- `generate_balanced`, `conditional_samples`: class-balanced samples of a conditional
  generator, with the classes they were drawn for.
- `train_classifier`: the comparisons' classifier (`CLASSIFIER`, optionally behind random
  shifts and rotations) trained for a fixed number of steps (the augmentation study's too).
- `classification_accuracy_score`, `cas_for_model`: the score of samples, of a model;
  `warm_up`: its classifier built and traced ahead (a study's one-time cost).
"""

import keras
import numpy as np

from keras_aegan import protocol
from keras_aegan.errors import UserError, check_int
from keras_aegan.evaluation import classifiers
from keras_aegan.training import fixed_steps

# The classifier all comparisons train (`classifiers.build_classifier`'s small CNN): small,
# documented, the same everywhere.
CLASSIFIER = {"width": 32, "hidden": 128, "dropout": 0.3}


# ------------------------------------------------------------------------- samples


def generate_balanced(generate, latent_dim, num_classes, n, *, seed=0, batch_size=500):
    """`n` images from a conditional generator, the classes in turn (`0, 1, ..., 0, ...`).

    Args:
        generate: `(noise, labels) -> images in [0, 1]` (a conditional model's
            `generator` part).
        latent_dim: size of the noise (drawn from `N(0, I)`).
        num_classes: number of classes.
        n: images to draw.
        seed: seeds the noise.
        batch_size: images per call.

    Returns:
        `(images, labels)` numpy arrays; `labels[i]` is the class image `i` was drawn for.
    """
    n = check_int("n", n)
    z = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype("float32")
    labels = (np.arange(n) % num_classes).astype("int32")
    images = np.concatenate([
        np.asarray(keras.ops.convert_to_numpy(generate(z[i:i + batch_size],
                                                       labels[i:i + batch_size])), "float32")
        for i in range(0, n, batch_size)])
    return images, labels


def conditional_samples(model, n, *, seed=0):
    """`n` class-balanced samples of a conditional keras_aegan model and their classes.

    Raises:
        UserError: the model is not conditional (it cannot be asked for a class).
    """
    spec = protocol.describe(model)
    if not spec.conditional:
        raise UserError(f"{model.name} is an unconditional {spec.family}: it cannot draw a "
                        "chosen class; use a conditional model (cgan, caae), or label its "
                        "samples by the evaluator")
    part = spec.part("generator")
    return generate_balanced(part.fn, spec.latent_dim, spec.num_classes, n, seed=seed)


# ---------------------------------------------------------------------- classifiers


def train_classifier(dataset, image_shape, num_classes, *, steps=1500, shifts=False,
                     learning_rate=1e-3, seed=0, log=None):
    """Train the comparisons' classifier (`CLASSIFIER`, optionally behind random shifts and
    rotations) on a batched stream for `steps` Adam steps (`log`: progress lines)."""
    model = _build_classifier(image_shape, num_classes, shifts=shifts, seed=seed)
    fixed_steps.fit_classifier(model, dataset, steps, learning_rate=learning_rate, log=log,
                               what="classifier")
    return model


# ---------------------------------------------------------------- classification score


def classification_accuracy_score(images, labels, test_images, test_labels, *, steps=1500,
                                  batch_size=64, num_classes=None, seed=0, log=None):
    """The accuracy on real test images of the classifier trained only on `(images,
    labels)` (a model's samples and the classes they were drawn for).

    Args:
        images, labels: the training examples (generated).
        test_images, test_labels: the real test set.
        steps: Adam steps of the classifier.
        batch_size: examples per step.
        num_classes: classes (default: from the labels).
        seed: seeds the classifier and the shuffling.
        log: a function given a progress line every 30 s or so (`None`: quiet).

    Returns:
        The score, a float in [0, 1].

    Example:
        >>> images, labels = conditional_samples(cgan, 10000)
        >>> classification_accuracy_score(images, labels, x_test, y_test)
    """
    images = np.asarray(images, "float32")
    labels = np.asarray(labels).astype("int32")
    if len(images) != len(labels) or not len(images):
        raise UserError(f"need one label per image, got {len(images)} images and "
                        f"{len(labels)} labels")
    num_classes = num_classes or int(max(labels.max(), np.max(test_labels)) + 1)
    keras.utils.set_random_seed(seed)  # before the stream: its shuffling depends on it too
    data = fixed_steps.mixed_dataset(images, labels, batch_size=batch_size, seed=seed)
    model = _fresh_classifier(images.shape[1:], num_classes, seed=seed)
    fixed_steps.fit_steps(model, data, steps, log=log, what="classifier")
    return classifiers.accuracy(model, test_images, test_labels)


# The last score's classifier, kept to be reset rather than rebuilt: a study scores every
# model's samples with the same network, and building and tracing a fresh one took a
# fifth of each score's time (1 of 5 s on 2 cores).
_LAST = {}


def warm_up(image_shape, num_classes, *, seed=0):
    """Build and trace the classifier `classification_accuracy_score` will train on images
    of `image_shape` in `num_classes` classes (one step on two blank images; the next
    score resets it): a study's one-time cost, paid before its first model's scores."""
    blank = np.zeros((2, *image_shape), "float32")
    model = _fresh_classifier(image_shape, num_classes, seed=seed)
    fixed_steps.fit_steps(model, fixed_steps.mixed_dataset(blank, np.zeros(2), seed=seed), 1)


def _fresh_classifier(image_shape, num_classes, *, seed):
    """The comparisons' classifier, compiled, in the state `train_classifier` starts from
    (its seeded weights, a fresh Adam): the last one reset when it has the same shape,
    classes and seed (its traced train step kept), else a new one."""
    key = (tuple(image_shape), int(num_classes), int(seed))
    if key in _LAST:
        model, start = _LAST[key]
        for variable, value in zip(model.variables + model.optimizer.variables, start):
            variable.assign(value)
        return model
    _LAST.clear()
    model = _build_classifier(image_shape, num_classes, seed=seed)
    fixed_steps.compile_classifier(model)
    model.optimizer.build(model.trainable_variables)
    _LAST[key] = model, [keras.ops.convert_to_numpy(v)
                         for v in model.variables + model.optimizer.variables]
    return model


def _build_classifier(image_shape, num_classes, *, shifts=False, seed):
    """`CLASSIFIER`'s network, its weights seeded by `seed` whatever the global seed."""
    keras.utils.set_random_seed(seed)
    return classifiers.build_classifier(image_shape, num_classes, shifts=shifts, seed=seed,
                                        **CLASSIFIER)


def cas_for_model(model, test_images, test_labels, *, samples=None, label_by=None, n=10000,
                  steps=1500, seed=0):
    """The Classification Accuracy Score of a keras_aegan model: the study's column.

    A conditional model is asked for `n` class-balanced samples (`"cas"`). An
    unconditional one needs `label_by`, a classifier of its samples (the dataset's
    `evaluator.Evaluator`, or anything with `predict_classes(images)`), and gives
    `"cas_evaluator_labels"`: marked as such because the labels come from the evaluator,
    not from the model.

    Args:
        model: a keras_aegan model.
        test_images, test_labels: the real test set.
        samples: the model's samples (for an unconditional model; default: its own
            `sample(n, seed=seed)` when it declares `protocol.SAMPLES_OWN`).
        label_by: labels an unconditional model's samples.
        n: samples drawn.
        steps: Adam steps of the classifier.
        seed: seeds the samples and the classifier.

    Returns:
        `{"cas": score}` or `{"cas_evaluator_labels": score}`.

    Raises:
        UserError: an unconditional model without `label_by`, or without samples it can
            draw itself.
    """
    spec = protocol.describe(model)
    if spec.conditional:
        images, labels = conditional_samples(model, n, seed=seed)
        key = "cas"
    else:
        if label_by is None:
            raise UserError(f"{model.name} is unconditional: its samples have no class; "
                            "pass label_by (the evaluator) to label them, or use a "
                            "conditional model")
        if samples is None:
            if spec.sampler != protocol.SAMPLES_OWN:
                raise UserError(f"{model.name} has no sampler of its own: pass its samples")
            samples = keras.ops.convert_to_numpy(model.sample(n, seed=seed))
        images = np.asarray(samples, "float32")
        labels = np.asarray(label_by.predict_classes(images))
        key = "cas_evaluator_labels"
    num_classes = spec.num_classes or int(np.max(test_labels)) + 1
    return {key: classification_accuracy_score(images, labels, test_images, test_labels,
                                               steps=steps, num_classes=num_classes,
                                               seed=seed)}
