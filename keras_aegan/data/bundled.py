"""Data sets that ship with the project or its dependencies: no files, no network.

- `digits`: scikit-learn's 8x8 digits (1,797 images), from its wheel.
- `mnist10k`: MNIST's 10,000-image test release, shipped in this package (1.6 MB, the
  original IDX files; sha256 as tensorflow-datasets lists them). Real 28x28 digits offline,
  enough for the default study to show what each family does in a few minutes. MNIST is by
  Yann LeCun, Corinna Cortes and Christopher J.C. Burges, under CC BY-SA 3.0 (see
  `mnist10k/README.md`). Its 10,000 images are carved like any single-split source: 20%
  test, then `validation_fraction` of the rest.
"""

import os

from keras_aegan.data.core import array_source, register_source
from keras_aegan.data.files import IDX_IMAGE_MAGIC, IDX_LABEL_MAGIC, read_idx_file

MNIST10K = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist10k")


@register_source("digits", "digits", needs_arg=False)
def open_digits(spec, arg, options):
    """scikit-learn's bundled 8x8 digits: 1,797 real images, labelled 0-9."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    return array_source(spec, ({"train": (x, digits.target.astype("int32"))}, None), options)


@register_source("mnist10k", "mnist10k", needs_arg=False)
def open_mnist10k(spec, arg, options):
    """MNIST's 10,000 test images, bundled: 28x28 real digits, labelled 0-9."""
    images = read_idx_file(os.path.join(MNIST10K, "t10k-images-idx3-ubyte.gz"),
                           IDX_IMAGE_MAGIC)
    labels = read_idx_file(os.path.join(MNIST10K, "t10k-labels-idx1-ubyte.gz"),
                           IDX_LABEL_MAGIC).astype("int32")
    return array_source(spec, ({"train": (images, labels)}, None), options)
