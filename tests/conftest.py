"""Shared fixtures and helpers for the keras_aegan tests."""

import os
import pathlib
import tempfile

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Evaluator networks are cached per user; tests train their own in a throwaway cache.
os.environ["KERAS_AEGAN_CACHE"] = tempfile.mkdtemp(prefix="keras_aegan_test_cache_")

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The real MNIST IDX files live beside the checkout; tests that need them skip elsewhere.
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"

needs_shared_mnist = pytest.mark.skipif(
    not (SHARED_MNIST / "train-images-idx3-ubyte.gz").exists(),
    reason=f"real MNIST IDX files not found at {SHARED_MNIST} (../shared is absent)")


@pytest.fixture(scope="session")
def digits_source():
    from keras_aegan.data import open_source

    return open_source("digits")


@pytest.fixture(scope="session")
def digits_images(digits_source):
    """A small batch of real 8x8 digit images in [0, 1] and their labels."""
    x, y = digits_source.arrays("train", limit=128)
    return x, y


def weights_changed(before, after):
    """True when every weight array changed (lists of numpy arrays)."""
    return all(not np.array_equal(a, b) for a, b in zip(before, after))


def assert_same_outputs(model_a, model_b, inputs, atol=1e-6):
    a = np.asarray(model_a(inputs, training=False))
    b = np.asarray(model_b(inputs, training=False))
    np.testing.assert_allclose(a, b, atol=atol)
