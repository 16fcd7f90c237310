"""Classifiers with few labels on a model's features: what pre-training is worth.

- `label_sets`: the labelled subsets of a comparison (`per_class` images of each class,
  then each stratified fraction).
- `few_label_rows`: per model and labelled set, the test accuracy of the same classifier
  from scratch, on the frozen pre-trained features, and fine-tuned; and 1-NN on the
  features. Every classifier trains through `fixed_steps.fit_classifier`.
"""

import keras

from keras_aegan import protocol
from keras_aegan.data import subsets
from keras_aegan.errors import check_int, check_number
from keras_aegan.evaluation import classifiers, metrics
from keras_aegan.training import fixed_steps


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
