"""Class labels beside a model's inputs: checked, and cut from `(images, labels)` batches.

The conditional models (the conditional GAN and AAE) and the adversarially trained
classifier take labels; each checks them here, so a wrong shape, count or class is the
same one-line error everywhere.
"""

import keras
import tensorflow as tf

from keras_aegan.errors import UserError


def class_indices(labels):
    """Class labels of shape `(batch,)` or `(batch, 1)` as an int32 vector `(batch,)`."""
    return keras.ops.cast(keras.ops.reshape(labels, (-1,)), "int32")


def check_labels(labels, count, num_classes, per="noise vector", column=False):
    """Int class labels for `count` inputs (`None`: any count) as an int32 vector.

    Args:
        labels: class indices, `(batch,)` (or a `(batch, 1)` column when `column`).
        count: how many inputs the labels go with; `None` when not known.
        num_classes: labels must be in `0 .. num_classes - 1` (checked when eager).
        per: what one input is called in the count error ("noise vector", "code").
        column: accept a `(batch, 1)` column too.

    Raises:
        UserError: for another shape, another count, or a label out of range.
    """
    labels = keras.ops.convert_to_tensor(labels)
    if column and len(labels.shape) == 2 and labels.shape[-1] == 1:
        labels = keras.ops.reshape(labels, (-1,))
    if len(labels.shape) != 1:
        raise UserError(f"labels must be a vector of class indices, got shape "
                        f"{tuple(labels.shape)}")
    if labels.shape[0] is not None and count is not None and labels.shape[0] != count:
        raise UserError(f"label count: got {labels.shape[0]} labels for {count} {per}s; "
                        f"give one label per {per}")
    # Inside a traced function the values are unknown: only eager calls check the range.
    if tf.executing_eagerly():
        values = keras.ops.convert_to_numpy(labels)
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise UserError(f"labels must be in 0..{num_classes - 1}, got "
                            f"{values.min()}..{values.max()}")
    return keras.ops.cast(labels, "int32")


def labeled_batch(data, trainer):
    """`(images, class_indices(labels))` of an `(images, labels, ...)` batch; a `UserError`
    saying that `trainer` (e.g. "a conditional GAN") needs labels for anything else."""
    if not isinstance(data, (tuple, list)) or len(data) < 2:
        raise UserError(f"{trainer} trains on (images, labels) batches")
    return data[0], class_indices(data[1])
