"""Differentiable augmentation: what each transform does to real digits, that gradients
pass through it, its seeding, and a GAN training, saving and reloading with a policy."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import assert_config_round_trip, weights_changed
from keras_aegan.models.diffaugment import DiffAugment, parse_policy
from keras_aegan.errors import UserError
from keras_aegan.models.gans import build_dcgan


@pytest.fixture(scope="module")
def digits28(digits_images):
    """32 real digits scaled up to 28x28, with a black border of 6 pixels (the content
    stays inside the frame under a translation of up to 4 pixels)."""
    small = tf.image.resize(digits_images[0][:32], (16, 16))
    return np.asarray(tf.pad(small, [[0, 0], [6, 6], [6, 6], [0, 0]]), dtype="float32")


def test_policy_parsing():
    assert parse_policy("translation, cutout") == ("translation", "cutout")
    assert parse_policy(None) == parse_policy("") == ()
    assert not DiffAugment(None, seed=0)
    with pytest.raises(UserError, match="unknown transform 'flip'"):
        parse_policy("translation,flip")
    with pytest.raises(UserError, match="comma-separated"):
        parse_policy(["translation"])


def test_no_policy_leaves_images_alone(digits28):
    np.testing.assert_array_equal(np.asarray(DiffAugment("", seed=0)(digits28)), digits28)


def test_translation_shifts_each_image_by_whole_pixels(digits28):
    out = np.asarray(DiffAugment("translation", seed=1)(digits28))
    shifts = []
    for image, moved in zip(digits28, out):
        # The shift within reach (1/8 of 28: up to 4 pixels) that reproduces the image.
        match = [(dy, dx) for dy in range(-4, 5) for dx in range(-4, 5)
                 if np.array_equal(np.roll(image, (dy, dx), axis=(0, 1)), moved)]
        assert match, "not a pure shift of the input"
        shifts.append(match[0])
    assert len(set(shifts)) > 5  # each image draws its own shift


def test_translation_fills_with_black():
    image = np.ones((1, 8, 8, 1), "float32")
    out = np.asarray(DiffAugment("translation", seed=0)(np.repeat(image, 16, axis=0)))
    assert out.min() == 0.0 and out.max() == 1.0
    # Every image lost at most one row and one column (reach 1 on 8 pixels).
    assert set(out.sum(axis=(1, 2, 3)).tolist()) <= {64.0, 56.0, 49.0}


def test_cutout_blacks_out_one_square_of_half_the_side(digits28):
    ones = np.ones_like(digits28)
    mask = np.asarray(DiffAugment("cutout", seed=2)(ones))[..., 0]
    for m in mask:
        rows, cols = np.nonzero(m == 0)
        # A 14x14 square, clipped where it crosses the border.
        assert rows.max() - rows.min() + 1 <= 14 and cols.max() - cols.min() + 1 <= 14
        assert len(rows) == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert len(rows) >= 7 * 7
    out = np.asarray(DiffAugment("cutout", seed=2)(digits28))
    np.testing.assert_array_equal(out, digits28 * mask[..., None])


def test_color_is_an_affine_map_of_each_image(digits28):
    out = np.asarray(DiffAugment("color", seed=3)(digits28))
    offsets = []
    for image, changed in zip(digits28, out):
        slope, offset = np.polyfit(image.ravel(), changed.ravel(), 1)
        np.testing.assert_allclose(slope * image + offset, changed, atol=1e-5)
        assert 0.5 <= slope <= 1.5
        offsets.append(offset)
    assert np.std(offsets) > 0.01


def test_gradients_pass_through_every_transform(digits28):
    images = tf.constant(digits28)
    with tf.GradientTape() as tape:
        tape.watch(images)
        out = DiffAugment("translation,cutout,color", seed=0)(images)
        loss = tf.reduce_sum(out * out)
    grads = tape.gradient(loss, images).numpy()
    assert np.isfinite(grads).all() and np.abs(grads).sum() > 0


def test_same_seed_same_augmentation(digits28):
    a = np.asarray(DiffAugment("translation,cutout", seed=7)(digits28))
    b = np.asarray(DiffAugment("translation,cutout", seed=7)(digits28))
    c = np.asarray(DiffAugment("translation,cutout", seed=8)(digits28))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_a_gan_trains_saves_and_reloads_with_a_policy(digits28, tmp_path):
    keras.utils.set_random_seed(0)
    model = build_dcgan((28, 28, 1), latent_dim=8, width=8, seed=1,
                        diffaugment="translation,cutout")
    assert model.augment.transforms == ("translation", "cutout")
    assert_config_round_trip(model)
    model.compile(learning_rate=1e-3)
    before = [np.array(w) for w in model.discriminator.trainable_weights]
    g_before = [np.array(w) for w in model.generator.trainable_weights]
    model.fit(digits28, batch_size=16, epochs=1, verbose=0)
    assert weights_changed(before, [np.array(w) for w in model.discriminator.trainable_weights])
    assert weights_changed(g_before, [np.array(w) for w in model.generator.trainable_weights])
    path = str(tmp_path / "dcgan.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.diffaugment == "translation,cutout"
    assert loaded.augment.transforms == ("translation", "cutout")
    z = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded.generate(z)), np.asarray(model.generate(z)),
                               atol=1e-6)


def test_augmentation_changes_what_the_discriminator_learns(digits28):
    # The same seeds, data and steps with and without augmentation: the discriminators
    # end apart, so the policy reaches the training step.
    def trained(policy):
        keras.utils.set_random_seed(0)
        model = build_dcgan((28, 28, 1), latent_dim=8, width=8, seed=1, diffaugment=policy)
        model.compile(learning_rate=1e-3)
        model.fit(digits28, batch_size=16, epochs=1, shuffle=False, verbose=0)
        return [np.array(w) for w in model.discriminator.trainable_weights]

    plain, plain_again, augmented = trained(None), trained(None), trained("cutout")
    for a, b in zip(plain, plain_again):
        np.testing.assert_array_equal(a, b)
    assert weights_changed(plain, augmented)


def test_a_bad_policy_is_one_error():
    with pytest.raises(UserError, match="diffaugment"):
        build_dcgan((28, 28, 1), latent_dim=8, width=8, diffaugment="rotate")
