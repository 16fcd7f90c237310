"""Data sets that install with the project's dependencies: no files, no network."""

from keras_aegan.data.core import array_source, register_source


@register_source("digits", "digits", needs_arg=False)
def open_digits(spec, arg, options):
    """scikit-learn's bundled 8x8 digits: 1,797 real images, labelled 0-9."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    return array_source(spec, ({"train": (x, digits.target.astype("int32"))}, None), options)
