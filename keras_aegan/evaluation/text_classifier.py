"""The two-sample test of generated text: can a small character classifier tell samples
from real held-out items?

A classifier trained on half of each set is tested on the other halves; its held-out
accuracy is the figure: 0.5 when the samples cannot be told from real items (by this
classifier), 1.0 when every one can. It reads the characters (embedded) with
convolutions of widths 2 to 4, max-pooled over the item, beside a dense view of the
whole row (where each character sits, so lengths count too). Lopez-Paz & Oquab (2017)'s
classifier two-sample test, sized for names and words.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_aegan.errors import UserError, check_int

# Fewer items of a set cannot be split into a half to train on and a half to test on.
MIN_ITEMS = 4


def _classifier(length, num_ids, width, seed):
    keras.utils.set_random_seed(seed)
    ids = keras.Input((length,), dtype="int32")
    x = keras.layers.Embedding(num_ids, 16)(ids)
    views = [keras.layers.GlobalMaxPooling1D()(
        keras.layers.Conv1D(width, k, padding="same", activation="relu")(x))
        for k in (2, 3, 4)]
    views.append(keras.layers.Dense(width, activation="relu")(keras.layers.Flatten()(x)))
    features = keras.layers.Concatenate()(views)
    return keras.Model(ids, keras.layers.Dense(1)(features), name="two_sample_classifier")


def two_sample_accuracy(samples, reference, *, steps=400, batch_size=64, width=32, seed=0):
    """Held-out accuracy of a character classifier telling `samples` from `reference`.

    The same number of each is used (the smaller count, shuffled by `seed`); half of each
    trains the classifier (`steps` Adam steps of `batch_size` items of each set), the
    other halves test it.

    Args:
        samples: generated items (strings).
        reference: real items the model never saw (the test split).
        steps: training steps.
        batch_size: items of each set per step.
        width: filters per convolution and units of the dense view.
        seed: seeds the halves, the batches and the weights.

    Returns:
        `(accuracy, standard error)`: accuracy in [0, 1]; 0.5 is indistinguishable.

    Example:
        >>> two_sample_accuracy(model_samples, source.items("test"))
        (0.61, 0.011)
    """
    samples, reference = list(samples), list(reference)
    n = min(len(samples), len(reference))
    if n < MIN_ITEMS:
        raise UserError(f"the two-sample test needs at least {MIN_ITEMS} items of each set, "
                        f"got {n}")
    steps, batch_size = check_int("steps", steps), check_int("batch_size", batch_size)
    rng = np.random.default_rng(seed)
    samples = [samples[i] for i in rng.permutation(len(samples))[:n]]
    reference = [reference[i] for i in rng.permutation(len(reference))[:n]]
    symbols = sorted(set().union(*samples, *reference))
    ids = {c: i + 2 for i, c in enumerate(symbols)}  # 0 pads, 1 ends (as data.text)
    length = max(len(s) for s in samples + reference) + 1
    rows = np.zeros((2 * n, length), "int32")
    for row, item in enumerate(samples + reference):
        rows[row, :len(item)] = [ids[c] for c in item]
        rows[row, len(item)] = 1
    labels = np.r_[np.ones(n), np.zeros(n)].astype("float32")
    half = n // 2
    train = np.r_[np.arange(half), n + np.arange(half)]
    test = np.r_[np.arange(half, n), n + np.arange(half, n)]
    model = _classifier(length, len(symbols) + 2, check_int("width", width), seed)
    optimizer = keras.optimizers.Adam(3e-3)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)[:, 0]
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(y, logits))
        optimizer.apply(tape.gradient(loss, model.trainable_variables),
                        model.trainable_variables)

    positives, negatives = train[:half], train[half:]
    for _ in range(steps):
        batch = np.r_[rng.choice(positives, batch_size), rng.choice(negatives, batch_size)]
        step(tf.constant(rows[batch]), tf.constant(labels[batch]))
    # Called directly, not `predict`: a new classifier per test, and `predict` would
    # trace (and warn about tracing) a function for each.
    logits = np.concatenate([np.asarray(model(rows[test[i:i + 1024]], training=False))[:, 0]
                             for i in range(0, len(test), 1024)])
    accuracy = float(np.mean((logits > 0) == (labels[test] > 0.5)))
    return accuracy, float(np.sqrt(accuracy * (1 - accuracy) / len(test)))
