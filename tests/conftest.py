"""Shared fixtures and helpers for the keras_aegan tests."""

import os
import pathlib
import tempfile

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Evaluator networks are cached per user; the tests use a throwaway cache of their own, one
# per test run and shared by every test, every child process (they inherit it) and every
# pytest-xdist worker (they share the run's id), so the digits evaluator is trained once
# per run (see `digits_evaluator`; workers take turns in `get_evaluator`).
_RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID")
if _RUN_ID:
    _CACHE = pathlib.Path(tempfile.gettempdir()) / f"keras_aegan_test_cache_{_RUN_ID}"
    _CACHE.mkdir(exist_ok=True)
    os.environ["KERAS_AEGAN_CACHE"] = str(_CACHE)
else:
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


@pytest.fixture(scope="session")
def digits_evaluator(digits_source):
    """The digits evaluator at its default training, from the test run's shared cache: the
    one every run, study and child process of this test run uses (trained by whichever
    needs it first, then loaded)."""
    from keras_aegan.evaluation import metrics

    return metrics.get_evaluator(digits_source)


def weights_changed(before, after):
    """True when every weight array changed (lists of numpy arrays)."""
    return all(not np.array_equal(a, b) for a, b in zip(before, after))


def assert_same_outputs(model_a, model_b, inputs, atol=1e-6):
    a = np.asarray(model_a(inputs, training=False))
    b = np.asarray(model_b(inputs, training=False))
    np.testing.assert_allclose(a, b, atol=atol)


# ----------------------------------------------------------------- shared model checks
# Every model's tests use these, as keras-hub's TestCase does for its models.


def assert_config_round_trip(model):
    """`from_config(get_config())` rebuilds a model whose config is the same."""
    import copy

    import keras

    config = model.get_config()
    rebuilt = type(model).from_config(copy.deepcopy(config))
    assert keras.saving.serialize_keras_object(rebuilt.get_config()) == \
        keras.saving.serialize_keras_object(config)
    return rebuilt


def assert_save_load_equal(model, inputs, path, atol=1e-6):
    """A `.keras` round trip (in safe mode) gives the same outputs and declaration."""
    from keras_aegan import protocol
    from keras_aegan.training.runner import load_model, save_model

    save_model(model, str(path))
    loaded = load_model(str(path))
    assert type(loaded) is type(model)
    assert_same_outputs(model, loaded, inputs, atol=atol)
    before, after = protocol.describe(model), protocol.describe(loaded)
    assert (before.family, before.part_names, before.sampler, before.reconstruction,
            before.features) == (after.family, after.part_names, after.sampler,
                                 after.reconstruction, after.features)
    return loaded


def assert_one_step_trains(model, data, networks=None, **fit_kwargs):
    """One `fit` step changes every trainable weight of the declared networks (all of
    them, or those named in `networks`) and gives finite losses; returns the history."""
    from keras_aegan import protocol

    spec = protocol.describe(model)
    chosen = {name: net for name, net in spec.networks.items()
              if networks is None or name in networks}
    assert chosen, f"no networks among {list(spec.networks)}"
    before = {name: [np.array(w) for w in net.trainable_weights] for name, net in chosen.items()}
    history = model.fit(data, epochs=1, verbose=0, **fit_kwargs).history
    for key, values in history.items():
        assert np.all(np.isfinite(values)), (key, values)
    for name, net in chosen.items():
        assert weights_changed(before[name], [np.array(w) for w in net.trainable_weights]), name
    return history
