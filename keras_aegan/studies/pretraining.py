"""Unsupervised pre-training with few labels: the pre-training study.

A model is trained on all the training images without labels; its declared features
(`protocol.feature_extractor`: an autoencoder's code, the VAE's mean, the AAE's code, a
GAN discriminator's `features` layer) become the trunk of a classifier: trunk ->
standardisation (fitted on the labelled images' features) -> logits
(`classifiers.build_classifier` with the trunk given). With a labelled set of 100 images
(10 per class), 1% or 10% of the labels, three classifiers of the same architecture are
trained for a fixed number of Adam steps:

- `scratch`: the trunk's architecture with fresh weights, `head_steps + finetune_steps`
  steps at the full learning rate;
- `frozen`: the pre-trained trunk frozen, the head trained for `head_steps`;
- `finetuned`: then everything unfrozen, `finetune_steps` more at a tenth of the rate.

Every classifier trains through `fixed_steps.fit_classifier`.
"""

import math

import keras
import numpy as np

from keras_aegan import protocol
from keras_aegan.data import subsets
from keras_aegan.evaluation import classifiers, metrics
from keras_aegan.training import fixed_steps
from keras_aegan.errors import UserError, check_int, check_number
from keras_aegan.registry import get_model_entry

PRETRAINERS = ("conv_ae", "denoising_ae", "vae", "aae", "dcgan")


def label_sets(y, *, per_class=10, fractions=(0.01, 0.1), seed=0):
    """The labelled subsets of a comparison: `[(name, indices), ...]`: `per_class` images
    of each class (`"100 labels"` for 10 classes), then each stratified fraction."""
    sets = []
    if per_class:
        index = subsets.per_class_subset(y, per_class, seed)
        sets.append((f"{len(index)} labels", index))
    for fraction in fractions:
        index = subsets.labeled_subset(y, fraction, seed)
        sets.append((f"{100 * fraction:g}%", index))
    return sets


def pretrain(name, x, *, latent_dim=32, epochs=5, batch_size=128, seed=0, budget_seconds=None,
             options=None, verbose=0, log=None):
    """Train the registered unconditional model `name` on images `x` (no labels; `log`:
    progress lines).

    Returns:
        `(model, seconds)`.
    """
    entry = get_model_entry(name)
    if entry.needs_labels:
        raise UserError(f"{name} needs labels; pre-training uses unlabelled images only")
    keras.utils.set_random_seed(seed)
    model = entry.builder(tuple(np.shape(x)[1:]), latent_dim=latent_dim, **(options or {}))
    model.compile()
    if protocol.feature_extractor(model) is None:
        raise UserError(f"{name} declares no features to pre-train a classifier with")
    data = fixed_steps.batches(x, batch_size=batch_size, seed=seed, whole_epochs=True)
    _, seconds = fixed_steps.fit_steps(model, data, math.ceil(len(x) / min(batch_size, len(x))),
                                       epochs=epochs, budget_seconds=budget_seconds,
                                       verbose=verbose, log=log, what=name)
    return model, seconds


def _trunk(model):
    """A fresh copy of the model's declared feature network, with the trained weights."""
    features = protocol.feature_extractor(model)
    trunk = keras.models.clone_model(features)
    trunk.set_weights(features.get_weights())
    return trunk


def _fit(model, x, y, steps, batch_size, learning_rate, seed):
    data = fixed_steps.batches(x, y, batch_size=batch_size, seed=seed)
    fixed_steps.fit_classifier(model, data, steps, learning_rate=learning_rate)


def _knn(model, x, y, x_test, y_test):
    # 1-nearest neighbour on the pre-trained features: no training at all, a reference
    # for what the features hold with so few labels.
    features = protocol.feature_extractor(model)
    return metrics.knn_accuracy(classifiers.predict(features, x).reshape(len(x), -1), y,
                                classifiers.predict(features, x_test).reshape(len(x_test), -1),
                                y_test, k=1)


def few_label_rows(pretrained, x_train, y_train, x_test, y_test, sets, *, head_steps=600,
                   finetune_steps=400, batch_size=64, learning_rate=3e-3, seed=0):
    """Scratch vs frozen vs fine-tuned test accuracy per pre-trained model and label set.

    Args:
        pretrained: `{name: trained keras_aegan model}` (each declares features).
        x_train, y_train: the labelled pool the sets index into.
        x_test, y_test: the test set.
        sets: `[(name, indices), ...]`, e.g. from `label_sets`.
        head_steps, finetune_steps, batch_size, learning_rate: the classifiers' training.
        seed: seeds the heads and the scratch weights.

    Returns:
        A list of rows: `labels` (the set's name), `size` (its number of images), `model`,
        `scratch`, `frozen`, `finetuned`, `knn` (1-nearest neighbour on the pre-trained
        features), `gain` (fine-tuned minus scratch: the model a user keeps, chosen before
        the test set is seen; frozen when `finetune_steps` is 0).
    """
    head_steps = check_int("head_steps", head_steps)
    finetune_steps = check_int("finetune_steps", finetune_steps, 0)
    check_number("learning_rate", learning_rate, 0, 10, low_open=True)
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    rows = []
    for set_name, index in sets:
        x, y = x_train[index], y_train[index]
        for name, model in pretrained.items():
            trunk = _trunk(model)
            keras.utils.set_random_seed(seed)
            fresh = keras.models.clone_model(trunk)  # same architecture, new weights
            scratch = classifiers.build_classifier(num_classes=num_classes, trunk=fresh,
                                                   standardize_on=x)
            _fit(scratch, x, y, head_steps + finetune_steps, batch_size, learning_rate, seed)
            keras.utils.set_random_seed(seed)
            trunk.trainable = False
            clf = classifiers.build_classifier(num_classes=num_classes, trunk=trunk,
                                               standardize_on=x)
            _fit(clf, x, y, head_steps, batch_size, learning_rate, seed)
            frozen = classifiers.accuracy(clf, x_test, y_test)
            finetuned = frozen
            if finetune_steps:
                trunk.trainable = True
                _fit(clf, x, y, finetune_steps, batch_size, learning_rate / 10, seed)
                finetuned = classifiers.accuracy(clf, x_test, y_test)
            row = {"labels": set_name, "size": len(index), "model": name,
                   "scratch": classifiers.accuracy(scratch, x_test, y_test), "frozen": frozen,
                   "finetuned": finetuned,
                   "knn": _knn(model, x, y, x_test, y_test)}
            row["gain"] = finetuned - row["scratch"]
            rows.append(row)
    return rows


def summarize(rows):
    """Mean ± std over seeds per (labels, model): rows with `<key>` and `<key>_std`."""
    out = []
    keys = ("scratch", "frozen", "finetuned", "knn", "gain")
    for labels in dict.fromkeys(r["labels"] for r in rows):
        for model in dict.fromkeys(r["model"] for r in rows):
            mine = [r for r in rows if r["labels"] == labels and r["model"] == model]
            if not mine:
                continue
            entry = {"labels": labels, "model": model, "seeds": len(mine)}
            for key in keys:
                values = [r[key] for r in mine]
                entry[key], entry[f"{key}_std"] = float(np.mean(values)), float(np.std(values))
            out.append(entry)
    return out


def format_summary(summary, keys=("scratch", "frozen", "finetuned", "knn", "gain")):
    """A Markdown table of `mean ± std` accuracies in %."""
    lines = ["| labels | pre-trained on images by | " + " | ".join(keys) + " |",
             "|---|---|" + "---|" * len(keys)]
    for e in summary:
        cells = [f"{100 * e[k]:.2f} ± {100 * e[k + '_std']:.2f}" for k in keys]
        lines.append(f"| {e['labels']} | {e['model']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
