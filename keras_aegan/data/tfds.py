"""tensorflow-datasets image datasets by name (`mnist`, `cifar10`, ...)."""

import tensorflow as tf

from keras_aegan.data.core import (TFDS_KIND, DataInfo, Source, local_sources, preprocess,
                                   register_source)
from keras_aegan.errors import DataError, one_line


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
        raise DataError(
            f"unknown dataset {name!r}: not a local source ({', '.join(local_sources())}) nor a "
            f"tensorflow-datasets dataset found in {data_dir or 'the default data dir'} "
            f"({type(e).__name__})") from None
    if not builder.is_prepared():
        if not download and manual_dir is None:
            raise DataError(
                f"tensorflow-datasets {name!r} is not prepared in "
                f"{data_dir or '~/tensorflow_datasets'} and downloading is off; point "
                "--data-dir at a folder holding it, pass --manual-dir with files fetched by "
                "hand, allow --download, or read local files with idx:DIR / folder:DIR")
        config = tfds.download.DownloadConfig(manual_dir=manual_dir)
        try:
            builder.download_and_prepare(download_config=config)
        except Exception as e:  # network, checksum, or manual-dir errors
            first = one_line(e, limit=200)
            raise DataError(
                f"tensorflow-datasets could not prepare {name!r} ({type(e).__name__}: "
                f"{first}); without a network, pass --manual-dir with its files, point "
                "--data-dir at a prepared copy, or use idx:DIR / folder:DIR") from None
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


