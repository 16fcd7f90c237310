"""Training for a fixed number of steps: the one loop of every experiment.

The experiments (augmentation, robustness, pre-training, the classification accuracy
score) compare models trained for the same number of optimizer steps, not epochs: with 1%
of the labels an epoch is a few steps. They all train through `fit_steps`, which runs
Keras' `fit` on an endless stream of batches for exactly `steps` steps (or `epochs` epochs
of `steps` each), optionally under a wall-clock budget, and says how far it is every
`every_seconds` through the caller's `log` function, so that a long command is never
silent.

- `batches`: the endless, reshuffled stream of `(x, y)` or `x` batches.
- `mixed_dataset`: a stream whose batches hold a fixed share of extra (generated)
  examples.
- `fit_steps`: fit a compiled model; `fit_classifier`: compile a classifier of logits with
  Adam and sparse categorical cross-entropy, then `fit_steps`.
- `fine_tune`: a copy of a classifier trained more steps on real and extra examples.
- `train_registered`: build a registered model and fit it on arrays for fixed steps or
  epochs (a generator on a labelled subset, a pre-trainer, an autoencoder).
"""

import time

import keras
import numpy as np
import tensorflow as tf

from keras_aegan.training.callbacks import TimeBudget
from keras_aegan.training.progress import EVERY_SECONDS, Progress
from keras_aegan.errors import UserError, check_int, check_number

# A long training says how far it is at least this often (seconds).
PROGRESS_SECONDS = EVERY_SECONDS


def batches(x, y=None, *, batch_size, seed=0, whole_epochs=False, drop_remainder=False):
    """A `tf.data` stream of shuffled batches of `x` (and `y`): endless, or one pass.

    Args:
        x: examples (numpy).
        y: their integer labels, or `None` for a stream of `x` alone.
        batch_size: examples per batch (at most `len(x)`).
        seed: seeds the shuffling (a new order every pass).
        whole_epochs: one pass of `ceil(len(x) / batch_size)` batches (the last may be
            smaller), which `fit` starts again, newly shuffled, every epoch of that many
            steps; otherwise an endless stream whose batches run across passes.
        drop_remainder: drop a last batch smaller than `batch_size`.

    Returns:
        A `tf.data.Dataset`.
    """
    x = np.asarray(x, "float32")
    batch_size = min(check_int("batch_size", batch_size), len(x))
    data = tf.data.Dataset.from_tensor_slices(
        x if y is None else (x, np.asarray(y).astype("int32")))
    data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if not whole_epochs:
        data = data.repeat()
    data = data.batch(batch_size, drop_remainder=drop_remainder)
    return data.prefetch(tf.data.AUTOTUNE)


def mixed_dataset(x, y, extra_x=None, extra_y=None, *, share=0.5, batch_size=64, seed=0):
    """An endless `tf.data` stream of `(images, labels)` batches mixing real and extra
    (generated) examples in a fixed proportion.

    Every batch holds exactly `round(share * batch_size)` examples drawn from
    `(extra_x, extra_y)` and the rest from `(x, y)`, each stream shuffled on its own, so
    the share of generated images does not drift with the sizes of the two sets.

    Args:
        x, y: the real examples.
        extra_x, extra_y: the generated examples and the classes they were drawn for
            (`None`: real only).
        share: the share of each batch taken from the extra examples, in [0, 1).
        batch_size: examples per batch.
        seed: seeds the shuffling.

    Returns:
        A `tf.data.Dataset` (repeats for ever: train for a number of steps).
    """
    batch_size = check_int("batch_size", batch_size)
    share = check_number("share", share, 0, 1, high_open=True)
    n_extra = int(round(share * batch_size)) if extra_x is not None else 0
    if extra_x is not None and len(extra_x) != len(extra_y):
        raise UserError(f"got {len(extra_x)} generated images and {len(extra_y)} labels")

    def stream(images, labels, size, salt):
        ds = tf.data.Dataset.from_tensor_slices((np.asarray(images, "float32"),
                                                 np.asarray(labels).astype("int32")))
        return ds.shuffle(len(images), seed=seed * 7919 + salt,
                          reshuffle_each_iteration=True).repeat().batch(size)

    real = stream(x, y, batch_size - n_extra, 0)
    if not n_extra:
        return real.prefetch(tf.data.AUTOTUNE)
    both = tf.data.Dataset.zip(real, stream(extra_x, extra_y, n_extra, 1))
    return both.map(lambda a, b: (tf.concat([a[0], b[0]], 0), tf.concat([a[1], b[1]], 0))
                    ).prefetch(tf.data.AUTOTUNE)


def fit_steps(model, data, steps, *, epochs=1, budget_seconds=None, validation=None,
              log=None, what="training", every_seconds=None, callbacks=(),
              verbose=0):
    """Fit a compiled model for `epochs` epochs of `steps` steps.

    Args:
        model: a compiled Keras model.
        data: an endless `tf.data` stream of batches (`batches`, `mixed_dataset`), or one
            pass of exactly `steps` batches (`batches(..., whole_epochs=True)`).
        steps: steps per epoch.
        epochs: epochs (the history has one entry per epoch).
        budget_seconds: stop after this many seconds of training (`None`: no budget).
        validation: data evaluated after each epoch (anything `fit` takes).
        log: a function given a progress line at most every `every_seconds` (`None`:
            quiet).
        what: names the training in the progress lines.
        every_seconds: the least time between two progress lines (default
            `PROGRESS_SECONDS`).
        callbacks: more Keras callbacks.
        verbose: Keras verbosity.

    Returns:
        `(history, seconds)`: Keras' history dict and the wall-clock seconds of the fit.
    """
    steps, epochs = check_int("steps", steps), check_int("epochs", epochs)
    callbacks = list(callbacks)
    if budget_seconds:
        callbacks.append(TimeBudget(budget_seconds))
    if log is not None:
        callbacks.append(Progress(log, f"  {what}", total_steps=steps * epochs,
                                  every_seconds=PROGRESS_SECONDS if every_seconds is None
                                  else every_seconds))
    # One pass of exactly `steps` batches is run whole each epoch, as `fit` runs a finite
    # dataset (a new iterator each epoch): told `steps_per_epoch`, `fit` makes the next
    # epoch's iterator early, which reshuffles otherwise.
    whole = isinstance(data, tf.data.Dataset) and int(data.cardinality()) == steps
    start = time.perf_counter()
    history = model.fit(data, steps_per_epoch=None if whole else steps, epochs=epochs,
                        verbose=verbose,
                        shuffle=False, validation_data=validation,
                        callbacks=callbacks or None)
    return history.history, time.perf_counter() - start


def fit_classifier(model, data, steps, *, learning_rate=1e-3, **options):
    """Compile a classifier of logits (Adam at `learning_rate`, a float or a schedule;
    sparse categorical cross-entropy) and `fit_steps` it.

    Returns:
        `(history, seconds)`, as `fit_steps`.
    """
    compile_classifier(model, learning_rate)
    return fit_steps(model, data, steps, **options)


def compile_classifier(model, learning_rate=1e-3):
    """Compile a classifier of logits: Adam at `learning_rate` (a float or a schedule),
    sparse categorical cross-entropy."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def train_registered(name, x, y=None, *, latent_dim, steps=None, epochs=None, batch_size=64,
                     seed=0, budget_seconds=None, options=None, log=None, verbose=0):
    """Build the registered model `name` for images `x` (and labels `y`, for a conditional
    model), compile it with its defaults and fit it: `steps` steps of an endless stream,
    or `epochs` whole passes over `x`.

    Args:
        name: a registered model.
        x, y: images in [0, 1] and int labels (`None`: unlabelled).
        latent_dim: its code / noise size.
        steps, epochs: the training, one of them.
        batch_size: examples per step.
        seed: seeds the weights and the shuffling.
        budget_seconds: stop after this many seconds (`None`: no budget).
        options: builder options.
        log: a function given a progress line every `PROGRESS_SECONDS` (`None`: quiet).
        verbose: Keras verbosity.

    Returns:
        `(model, seconds)`.
    """
    from keras_aegan.registry import get_model_entry

    entry = get_model_entry(name)
    if (steps is None) == (epochs is None):
        raise UserError("give the training steps or epochs, one of them")
    keras.utils.set_random_seed(seed)
    labels = {} if y is None else {"num_classes": int(np.max(y)) + 1}
    model = entry.builder(tuple(np.shape(x)[1:]), latent_dim=latent_dim, **labels,
                          **(options or {}))
    model.compile()
    if steps is not None:
        data = batches(x, y, batch_size=batch_size, seed=seed, drop_remainder=True)
        steps, epochs = check_int("steps", steps), 1
    else:
        data = batches(x, y, batch_size=batch_size, seed=seed, whole_epochs=True)
        steps = -(-len(x) // min(batch_size, len(x)))
    _, seconds = fit_steps(model, data, steps, epochs=epochs, budget_seconds=budget_seconds,
                           log=log, what=name, verbose=verbose)
    return model, seconds


def fine_tune(network, x, y, extra_x=None, extra_y=None, *, share=0.25, steps=500,
              batch_size=64, learning_rate=1e-4, seed=0):
    """A copy of a classifier network trained `steps` more Adam steps on `(x, y)` mixed
    with `(extra_x, extra_y)` (e.g. the natural failures found for it, labelled with their
    intended class): every batch holds `share` extra examples
    (`mixed_dataset`).

    Returns:
        The fine-tuned copy (the original is unchanged).
    """
    keras.utils.set_random_seed(seed)
    tuned = keras.models.clone_model(network)
    tuned.set_weights(network.get_weights())
    data = mixed_dataset(x, y, extra_x, extra_y,
                                     share=share if extra_x is not None else 0.0,
                                     batch_size=batch_size, seed=seed)
    fit_classifier(tuned, data, steps, learning_rate=learning_rate)
    return tuned
