"""Metrics against known values, and the cached evaluator on the bundled digits."""

import os

import numpy as np
import pytest

from keras_aegan.evaluation import metrics
from keras_aegan.errors import UserError


def gaussian(n, dim=8, mean=0.0, scale=1.0, seed=0):
    return np.random.default_rng(seed).normal(mean, scale, size=(n, dim))


# ------------------------------------------------------------------------------------ FID


def test_fid_of_a_set_with_itself_is_zero():
    x = gaussian(500, dim=16)
    assert metrics.fid(x, x) == pytest.approx(0.0, abs=1e-8)


def test_fid_grows_with_added_noise():
    x = gaussian(1000, dim=16)
    noise = gaussian(1000, dim=16, seed=1)
    scores = [metrics.fid(x, x + level * noise) for level in (0.0, 0.2, 0.5, 1.0, 2.0)]
    assert scores[0] == pytest.approx(0.0, abs=1e-8)
    assert all(a < b for a, b in zip(scores, scores[1:]))


def test_frechet_distance_matches_closed_form():
    # Diagonal covariances commute: tr(S1 + S2 - 2 sqrt(S1 S2)) = sum (sqrt(s1) - sqrt(s2))^2.
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = 1 + 0 + 4 + (1 - 2) ** 2 + (2 - 1) ** 2 + (3 - 1) ** 2
    assert metrics.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected)
    # A rotated pair keeps the distance (it is invariant under a shared rotation).
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    rotated = metrics.frechet_distance(q @ mu1, q @ np.diag(s1) @ q.T, q @ mu2,
                                       q @ np.diag(s2) @ q.T)
    assert rotated == pytest.approx(expected)


def test_fid_on_samples_approaches_closed_form():
    rng = np.random.default_rng(3)
    a = rng.normal([0, 0], [1, 1], size=(20000, 2))
    b = rng.normal([3, 0], [2, 1], size=(20000, 2))
    assert metrics.fid(a, b) == pytest.approx(9 + 1, rel=0.03)


def test_fid_is_stable_for_singular_covariances():
    x = gaussian(10, dim=64)  # 10 samples in 64 dims: rank-deficient covariances
    y = gaussian(10, dim=64, seed=1)
    value = metrics.fid(x, y)
    assert np.isfinite(value) and value > 0
    assert metrics.fid(x, x) == pytest.approx(0.0, abs=1e-6)


# ------------------------------------------------------------------------------------ KID


def test_kid_is_unbiased_for_one_distribution():
    # Independent draws: the average of the estimates must sit near 0.
    values = [metrics.kid(gaussian(200, seed=2 * i), gaussian(200, seed=2 * i + 1),
                          subsets=4, subset_size=100, seed=i)[0] for i in range(30)]
    mean, error = np.mean(values), np.std(values, ddof=1) / np.sqrt(len(values))
    assert abs(mean) < 4 * error
    value, std_error = metrics.kid(gaussian(1000), gaussian(1000, seed=1), subsets=20,
                                   subset_size=200)
    assert std_error > 0 and abs(value) < 5 * std_error + 1e-3


def test_kid_is_positive_for_different_distributions():
    value, std_error = metrics.kid(gaussian(500), gaussian(500, mean=1.0, seed=1), subsets=10,
                                   subset_size=200)
    assert value > 10 * std_error > 0


def test_kid_matches_a_direct_computation():
    x, y = gaussian(6, dim=3), gaussian(6, dim=3, seed=1)
    k = lambda a, b: (a @ b.T / 3 + 1) ** 3  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    expected = ((kxx.sum() - np.trace(kxx)) / 30 + (kyy.sum() - np.trace(kyy)) / 30
                - 2 * kxy.mean())
    value, error = metrics.kid(x, y, subsets=1, subset_size=6)
    assert value == pytest.approx(expected) and error == 0.0


def test_kid_of_many_subsets_matches_computing_each_subset():
    # Sets larger than the block of kernel rows made at a time, overlapping subsets.
    x, y = gaussian(1500, dim=8), gaussian(1100, dim=8, mean=0.3, seed=1)
    rng, expected = np.random.default_rng(5), []
    for _ in range(4):
        a, b = x[rng.choice(1500, 700, replace=False)], y[rng.choice(1100, 700, replace=False)]
        k = lambda p, q: (p @ q.T / 8 + 1) ** 3  # noqa: E731
        kxx, kyy, kxy = k(a, a), k(b, b), k(a, b)
        expected.append((kxx.sum() - np.trace(kxx)) / (700 * 699)
                        + (kyy.sum() - np.trace(kyy)) / (700 * 699) - 2 * kxy.mean())
    value, error = metrics.kid(x, y, subsets=4, subset_size=700, seed=5)
    assert value == pytest.approx(np.mean(expected), rel=1e-9)
    assert error == pytest.approx(np.std(expected, ddof=1) / 2, rel=1e-6)


# ----------------------------------------------------------- precision/recall, density/coverage


def test_precision_recall_of_identical_sets_is_one():
    x = gaussian(300)
    assert metrics.precision_recall(x, x, k=3) == (1.0, 1.0)


def test_precision_recall_of_disjoint_sets_is_zero():
    assert metrics.precision_recall(gaussian(300), gaussian(300, mean=50.0), k=3) == (0.0, 0.0)


def test_precision_recall_separate_quality_from_diversity():
    real = gaussian(1000, dim=2)
    collapsed = gaussian(1000, dim=2, scale=0.1, seed=1)  # good quality, little diversity
    precision, recall = metrics.precision_recall(real, collapsed, k=3)
    assert precision > 0.9 and recall < 0.2


def test_density_coverage():
    x = gaussian(400)
    density, coverage = metrics.density_coverage(x, x, k=5)
    assert density == pytest.approx(6 / 5) and coverage == 1.0
    density, coverage = metrics.density_coverage(gaussian(3000, dim=4),
                                                 gaussian(3000, dim=4, seed=1), k=5)
    assert density == pytest.approx(1.0, abs=0.1) and coverage > 0.9
    density, coverage = metrics.density_coverage(x, gaussian(400, mean=50.0), k=5)
    assert density == 0.0 and coverage == 0.0


# ------------------------------------------------------------------- class coverage, memory


def test_class_coverage_on_hand_built_predictions():
    result = metrics.class_coverage(np.array([0, 0, 1, 1, 1, 1, 3, 3]), num_classes=5)
    assert result["shares"] == [0.25, 0.5, 0.0, 0.25, 0.0]
    assert result["classes_seen"] == 3 and result["classes_seen_fraction"] == 0.6
    assert result["min_share"] == 0.0 and result["max_share"] == 0.5
    collapsed = metrics.class_coverage(np.full(10, 7), num_classes=10)
    assert collapsed["classes_seen"] == 1 and collapsed["max_share"] == 1.0


def test_memorisation_flags_copies_of_training_images():
    rng = np.random.default_rng(0)
    train, heldout = rng.random((300, 8, 8, 1)), rng.random((100, 8, 8, 1))
    copies = metrics.memorisation(train[:100], train, heldout)
    assert copies["sample_distance"] == 0.0 and copies["ratio"] == 0.0
    assert copies["copy_fraction"] == 1.0
    fresh = metrics.memorisation(rng.random((100, 8, 8, 1)), train, heldout)
    assert 0.8 < fresh["ratio"] < 1.25 and fresh["copy_fraction"] < 0.1


# ----------------------------------------------------------------------------- reconstruction


def test_mse_and_psnr_hand_computed():
    a = np.zeros((2, 2, 2, 1))
    b = a.copy()
    b[0, 0, 0, 0] = 1.0  # image 0: one pixel off by 1 -> MSE 1/4; image 1: off by 0.1 everywhere
    b[1] = 0.1
    assert metrics.mse(a, b) == pytest.approx((1.0 + 4 * 0.01) / 8)
    assert metrics.mse(a, b, per_image=True) == pytest.approx((1.0 + 0.04) / 2)
    expected_psnr = (10 * np.log10(1 / 0.25) + 10 * np.log10(1 / 0.01)) / 2
    assert metrics.psnr(a, b) == pytest.approx(expected_psnr)
    assert metrics.psnr(a, a) == float("inf")


def test_ssim_of_identical_images_is_one(digits_images):
    x = digits_images[0][:16]
    assert metrics.ssim(x, x) == pytest.approx(1.0, abs=1e-6)
    noisy = np.clip(x + np.random.default_rng(0).normal(0, 0.3, x.shape), 0, 1)
    assert metrics.ssim(x, noisy) < 0.9
    scores = metrics.reconstruction_scores(x, x)
    assert scores["mse"] == 0.0 and scores["ssim"] == pytest.approx(1.0, abs=1e-6)


def test_latent_optimisation_reconstructs_a_generators_images():
    import tensorflow as tf

    w = tf.constant(np.random.default_rng(0).normal(0, 1, (4, 36)).astype("float32"))

    def generator(z):
        return tf.reshape(tf.sigmoid(z @ w), (-1, 6, 6, 1))

    true_z = np.random.default_rng(1).normal(0, 1, (8, 4)).astype("float32")
    images = generator(tf.constant(true_z)).numpy()
    recons, latents = metrics.latent_optimisation_reconstruction(generator, images, 4,
                                                                 steps=300, learning_rate=0.1)
    assert recons.shape == images.shape and latents.shape == (8, 4)
    start = metrics.mse(images, generator(tf.zeros((8, 4))).numpy())
    assert metrics.mse(images, recons) < 0.01 * start


# ----------------------------------------------------------------------------- representation


def test_linear_probe_and_knn_on_separable_data():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 300)
    codes = rng.normal(0, 0.3, (300, 5)) + np.eye(3, 5)[labels] * 5
    assert metrics.linear_probe_accuracy(codes[:200], labels[:200], codes[200:],
                                         labels[200:]) == pytest.approx(1.0)
    assert metrics.knn_accuracy(codes[:200], labels[:200], codes[200:], labels[200:],
                                k=5) == pytest.approx(1.0)


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("call, message", [
    (lambda: metrics.fid(np.zeros((5, 3)), np.zeros((5, 4))), "dimensions differ"),
    (lambda: metrics.fid(np.zeros((1, 3)), np.zeros((5, 3))), "at least 2 samples"),
    (lambda: metrics.fid(np.zeros(5), np.zeros(5)), "2-D"),
    (lambda: metrics.kid(np.zeros((5, 3)), np.full((5, 3), np.nan)), "NaN"),
    (lambda: metrics.precision_recall(np.zeros((3, 2)), np.zeros((9, 2)), k=3),
     "at least 4 samples"),
    (lambda: metrics.density_coverage(np.zeros((5, 2)), np.zeros((9, 2)), k=5),
     "more than k=5"),
    (lambda: metrics.precision_recall(np.zeros((9, 2)), np.zeros((9, 2)), k=0), "k must"),
    (lambda: metrics.class_coverage(np.array([0, 3]), 3), r"\[0, 3\)"),
    (lambda: metrics.mse(np.zeros((2, 4, 4, 1)), np.zeros((2, 4, 4, 3))), "differ in shape"),
    (lambda: metrics.knn_accuracy(np.zeros((3, 2)), np.array([0, 1, 0]), np.zeros((2, 2)),
                                  np.array([0, 1]), k=5), "at least k=5"),
    (lambda: metrics.linear_probe_accuracy(np.zeros((3, 2)), np.array([0, 1]),
                                           np.zeros((2, 2)), np.array([0, 1])), "one integer"),
    (lambda: metrics.memorisation(np.zeros((2, 4)), np.zeros((3, 5)), np.zeros((2, 4))),
     "differ in size"),
])
def test_bad_input_raises_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
    with pytest.raises(UserError):
        call()


# ------------------------------------------------------------------------------- evaluator


def test_processes_take_turns_at_one_evaluator_not_at_all(digits_source, digits_evaluator):
    """The lock is the evaluator's: held for another data set's, loading this one goes on;
    held for this one's, loading waits until it is released."""
    import threading

    from keras_aegan.evaluation.evaluator import evaluator_dir
    from keras_aegan.files import locked

    folder = digits_evaluator.path
    other = evaluator_dir("mnist10k", (28, 28, 1), folder.parent.parent)
    with locked(other.parent / f"{other.name}.lock"):
        assert not metrics.get_evaluator(digits_source).trained
    done = threading.Event()
    with locked(folder.parent / f"{folder.name}.lock"):
        waiting = threading.Thread(
            target=lambda: (metrics.get_evaluator(digits_source), done.set()))
        waiting.start()
        assert not done.wait(1.0)
    waiting.join(60)
    assert done.is_set()


def test_evaluator_caches_and_reloads(digits_source, digits_evaluator):
    # The test run's evaluator (default training, trained once per run); training into an
    # empty cache is checked in test_study.py's damaged-cache test.
    first = digits_evaluator
    assert first.has_classes
    assert first.test_accuracy > 0.8
    model_file = first.path / "model.keras"
    assert (first.path / "evaluator.json").is_file() and model_file.is_file()
    assert first.path.parent == metrics.default_cache_dir() / "evaluators"
    stamp = os.stat(model_file).st_mtime_ns

    second = metrics.get_evaluator(digits_source)
    assert not second.trained
    assert os.stat(model_file).st_mtime_ns == stamp
    assert second.test_accuracy == first.test_accuracy

    x, y = digits_source.arrays("test", limit=200)
    np.testing.assert_allclose(second.features(x), first.features(x), rtol=1e-5, atol=1e-5)
    feats = second.features(x)
    assert feats.shape == (200, 128)
    assert np.mean(second.predict_classes(x) == y) > 0.8
    quality = metrics.sample_quality(second, x[:100], x[100:], kid_subsets=5,
                                     kid_subset_size=50)
    assert quality["classes_seen"] == 10 and quality["fid"] >= 0
    with pytest.raises(ValueError, match="evaluator for"):
        second.features(np.zeros((2, 28, 28, 1)))


def test_evaluator_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(metrics.CACHE_ENV, str(tmp_path))
    path = metrics.evaluator_dir("idx:some/dir", (28, 28, 1))
    assert path.parent == tmp_path / "evaluators"
    assert path == metrics.evaluator_dir(f"idx:{os.path.abspath('some/dir')}", (28, 28, 1))
    assert path != metrics.evaluator_dir("idx:some/dir", (32, 32, 1))


def test_unlabeled_source_gets_pca_features_and_no_classes(tmp_path):
    from keras_aegan.data import open_source

    x = np.random.default_rng(0).random((60, 8, 8, 1)).astype("float32")
    np.savez(tmp_path / "unlabeled.npz", x=x)
    source = open_source(f"npz:{tmp_path / 'unlabeled.npz'}")
    evaluator = metrics.get_evaluator(source, cache_dir=tmp_path / "cache")
    assert not evaluator.has_classes and evaluator.test_accuracy is None
    assert evaluator.features(x[:5]).shape[0] == 5
    with pytest.raises(metrics.MetricUnavailableError, match="unlabeled"):
        evaluator.predict_classes(x[:5])
    quality = metrics.sample_quality(evaluator, x[:30], x[30:], kid_subsets=2,
                                     kid_subset_size=20)
    assert "unavailable" in quality["class_metrics"] and "classes_seen" not in quality
    again = metrics.get_evaluator(source, cache_dir=tmp_path / "cache")
    assert not again.trained
    np.testing.assert_allclose(again.features(x[:5]), evaluator.features(x[:5]))


def test_inception_features_need_local_weights(tmp_path):
    assert metrics.find_inception_weights(tmp_path / "missing.h5") is None
    with pytest.raises(metrics.MetricUnavailableError, match="never"):
        metrics.InceptionFeatures(weights_path=str(tmp_path / "missing.h5"))


@pytest.mark.slow
def test_inception_features_from_a_local_weights_file(tmp_path):
    import keras

    path = tmp_path / "inception.weights.h5"
    keras.applications.InceptionV3(include_top=False, weights=None, input_shape=(75, 75, 3),
                                   pooling="avg").save_weights(path)
    features = metrics.InceptionFeatures(path, input_size=75).features(np.zeros((2, 8, 8, 1)))
    assert features.shape == (2, 2048)


def test_sharpness_is_one_for_real_images_and_low_for_blurred_ones(digits_images):
    from scipy.ndimage import uniform_filter

    x = digits_images[0][:200]
    assert metrics.sharpness(x, x) == pytest.approx(1.0)
    blurred = uniform_filter(x, size=(1, 3, 3, 1))
    assert metrics.sharpness(blurred, x) < 0.5
    noisy = np.clip(x + np.random.default_rng(0).normal(0, 0.2, x.shape), 0, 1)
    assert metrics.sharpness(noisy, x) > 1.05
