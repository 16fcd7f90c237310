"""tensorflow-datasets image datasets by name (`mnist`, `cifar10`, ...)."""

import contextlib
import os
import shutil

import tensorflow as tf

from keras_aegan import compat
from keras_aegan.data.core import (SOURCE_KINDS, TFDS_KIND, DataInfo, Source, local_sources,
                                   preprocess, register_source)
from keras_aegan.errors import DataError, did_you_mean, one_line


@register_source(TFDS_KIND, "NAME (tensorflow-datasets)")
def open_tfds(spec, name, options):
    """A tensorflow-datasets image dataset, prepared in `options.data_dir` (downloaded, or
    built from `options.manual_dir`, when missing)."""
    return _tfds_source(name, options.image_shape, options.crop, options.data_dir,
                        options.download, options.manual_dir, options.validation_fraction)


def _tfds_source(name, image_shape, crop, data_dir, download, manual_dir, validation_fraction):
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as e:  # tfds raises DatasetNotFoundError and friends
        close = did_you_mean(name, [*tfds.list_builders(), *SOURCE_KINDS])
        raise DataError(
            f"unknown dataset {name!r}{close}: not a local source "
            f"({', '.join(local_sources())}) nor a tensorflow-datasets dataset found in "
            f"{data_dir or 'the default data dir'} ({type(e).__name__})") from None
    if not builder.is_prepared():
        if not download and manual_dir is None:
            raise DataError(
                f"tensorflow-datasets {name!r} is not prepared in "
                f"{data_dir or '~/tensorflow_datasets'} and downloading is off; point "
                "--data-dir at a folder holding it, pass --manual-dir with files fetched by "
                "hand, allow --download, or read local files with idx:DIR / folder:DIR")
        _prepare(builder, name, manual_dir)
    info = builder.info
    image_key, label_key = _image_and_label_keys(info.features, name)
    native = info.features[image_key].shape
    if image_shape is None:
        if None in native:
            raise DataError(f"{name}: images have no fixed size; pass an image shape "
                            "(--image-shape HxWxC)")
        image_shape = tuple(int(d) for d in native)
    available = {s: info.splits[s].num_examples for s in info.splits.keys()}
    if "train" not in available:
        raise DataError(f"{name}: has no 'train' split (has {', '.join(available)})")
    split_names = {"train": "train", "validation": "validation", "test": "test"}
    n_train = available["train"]
    if "test" not in available:
        test = int(round(0.2 * n_train))
        split_names["test"] = f"train[{n_train - test}:]"
        split_names["train"] = f"train[:{n_train - test}]"
        n_train -= test
    if "validation" not in available:
        val = int(round(validation_fraction * n_train))
        split_names["validation"] = f"train[{n_train - val}:{n_train}]"
        split_names["train"] = f"train[:{n_train - val}]"
    label_feature = info.features[label_key] if label_key else None
    datasets, sizes = {}, {}
    for split, tfds_split in split_names.items():
        ds = builder.as_dataset(split=tfds_split, shuffle_files=False,
                                read_config=tfds.ReadConfig(try_autocache=False))
        sizes[split] = int(info.splits[tfds_split].num_examples)
        target = image_shape

        def convert(example, target=target):
            image = tf.cast(example[image_key], tf.float32) / 255.0
            image = preprocess(image, target, crop) if tuple(native) != target else image
            if label_key is None:
                return image
            return image, tf.cast(example[label_key], tf.int32)

        datasets[split] = ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)
    return Source(
        DataInfo(name=name, image_shape=tuple(image_shape),
                 num_classes=label_feature.num_classes if label_feature else None,
                 splits=sizes,
                 class_names=tuple(label_feature.names) if label_feature else None),
        datasets)


def _prepare(builder, name, manual_dir):
    """Download and prepare a tfds dataset; fail fast without a network, leave nothing
    half-written behind."""
    import tensorflow_datasets as tfds

    advice = ("without a network, pass --manual-dir with its files fetched by hand, point "
              "--data-dir at a prepared copy, or use idx:DIR / folder:DIR")
    root = os.path.abspath(builder.data_dir_root)
    before = _tree(root)
    try:
        with compat.offline_fails_fast():
            builder.download_and_prepare(
                download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
    except compat.HostUnreachable as e:
        _remove_new(root, before)
        raise DataError(f"tensorflow-datasets cannot download {name!r}: {e}; {advice}") \
            from None
    except Exception as e:  # checksum or manual-dir errors
        _remove_new(root, before)
        raise DataError(f"tensorflow-datasets could not prepare {name!r}; {advice} "
                        f"({type(e).__name__}: {one_line(e, limit=200)})") from None


def _tree(root):
    if not os.path.isdir(root):
        return set()
    return {os.path.join(top, name) for top, dirs, files in os.walk(root)
            for name in (*dirs, *files)}


def _remove_new(root, before):
    """Remove what a failed preparation created under `root` (incomplete folders, `.tmp`
    downloads); what was there before stays."""
    for path in sorted(_tree(root) - before, key=len):
        if os.path.lexists(path):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.remove(path)
    if not before and os.path.isdir(root) and not os.listdir(root):
        os.rmdir(root)


def _image_and_label_keys(features, name):
    import tensorflow_datasets as tfds

    image_key = label_key = None
    for key, feature in features.items():
        if image_key is None and isinstance(feature, tfds.features.Image):
            image_key = key
        if label_key is None and isinstance(feature, tfds.features.ClassLabel):
            label_key = key
    if image_key is None:
        raise DataError(f"{name}: not an image dataset (no Image feature)")
    return image_key, label_key


# ----------------------------------------------------------------------------- checks


