"""Which labelled examples a few-label experiment trains on.

- `labeled_subset`: a seeded, class-stratified fraction (at least one example per class).
- `per_class_subset`: exactly `n` examples of each class.
- `labelled_arrays`: a labelled source's training pool and test split, as arrays.

Both return sorted indices into the label array, so the same seed picks the same images
in every experiment (augmentation, pre-training) that asks for the same fraction.
"""

import numpy as np

from keras_aegan.errors import UserError, check_int, check_number


def check_fraction(fraction, name="fraction"):
    """A labelled fraction in (0, 1]; else a `UserError`."""
    return check_number(name, fraction, 0, 1, low_open=True)


def labeled_subset(y, fraction, seed=0):
    """Indices of a seeded, class-stratified `fraction` of `y` (at least one per class).

    Args:
        y: integer labels.
        fraction: the share of each class to keep, in (0, 1].
        seed: seeds the draw.

    Returns:
        Sorted indices into `y`.
    """
    fraction = check_fraction(fraction)
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    picked = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        count = max(1, int(round(fraction * len(members))))
        picked.append(rng.choice(members, count, replace=False))
    return np.sort(np.concatenate(picked))


def per_class_subset(y, per_class, seed=0):
    """Indices of exactly `per_class` examples of each class of `y`, drawn with `seed`."""
    per_class = check_int("per_class", per_class)
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    picked = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        if len(members) < per_class:
            raise UserError(f"class {c} has {len(members)} examples, fewer than {per_class}")
        picked.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(picked))


def labelled_arrays(source, purpose, test_images=None):
    """A labelled source's whole training pool (the train split and the validation carved
    from it) and its test split (the first `test_images`, default all).

    Args:
        source: an open `keras_aegan.data.Source`.
        purpose: what needs the labels, for the error ("augmentation needs them").
        test_images: how many test images (`None`: all).

    Returns:
        `(x_train, y_train, x_test, y_test)`.

    Raises:
        UserError: the source has no labels.
    """
    if not source.info.labeled:
        raise UserError(f"{source.info.name} has no labels: {purpose}")
    parts = [source.arrays("train")]
    if source.info.splits.get("validation"):
        parts.append(source.arrays("validation"))
    x_test, y_test = source.arrays("test", limit=test_images)
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            x_test, y_test)
