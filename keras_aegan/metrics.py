"""Yardsticks shared by autoencoders and GANs: sample quality, reconstruction, representation.

Everything here takes numpy arrays. Sample-quality metrics (FID, KID, precision/recall,
density/coverage) work on *features*; get them from an `Evaluator`, a small classifier
trained once per dataset on its training split and cached on disk (no network, ever), or
from `InceptionFeatures` where InceptionV3 ImageNet weights already lie on disk.

Class-based metrics need labels: on an unlabeled source the evaluator falls back to PCA
features, and its `predict_classes` raises `MetricUnavailableError`, which a caller catches
to note the metric as skipped.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_aegan.errors import UserError, check_int
# The evaluator lives in its own module; its names are part of this module's API too.
from keras_aegan.evaluator import (  # noqa: F401
    CACHE_ENV, EVALUATOR_VERSION, Evaluator, InceptionFeatures, MetricUnavailableError,
    default_cache_dir, evaluator_dir, find_inception_weights, get_evaluator)

# Pairwise distances are computed in row blocks so memory stays ~ block * n * 8 bytes.
_BLOCK = 1024


# ------------------------------------------------------------------------ sample quality


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Fréchet distance between Gaussians `N(mu1, sigma1)` and `N(mu2, sigma2)`.

    `|mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))`. The trace of the
    square root is taken from the eigenvalues of the symmetric PSD matrix
    `sigma1^(1/2) sigma2 sigma1^(1/2)`, which is real and stable even for singular
    covariances (where `scipy.linalg.sqrtm` needs an eps offset).

    Args:
        mu1, mu2: `(D,)` means.
        sigma1, sigma2: `(D, D)` covariance matrices.

    Returns:
        The distance as a float (>= 0).
    """
    mu1, mu2 = (np.atleast_1d(np.asarray(m, "float64")) for m in (mu1, mu2))
    sigma1, sigma2 = (np.atleast_2d(np.asarray(s, "float64")) for s in (sigma1, sigma2))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise UserError(f"means and covariances disagree in dimension: {mu1.shape}, "
                        f"{mu2.shape}, {sigma1.shape}, {sigma2.shape}")
    root1 = _psd_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    eig = np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)
    value = float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2)
                  - 2.0 * np.sum(np.sqrt(eig)))
    return max(value, 0.0)


def fid(features_a, features_b):
    """Fréchet distance between Gaussian fits of two feature sets (FID on Inception features).

    Args:
        features_a, features_b: `(N, D)` and `(M, D)` arrays, N, M >= 2.

    Returns:
        The FID as a float; 0 for a set with itself.
    """
    a, b = _check_pair(features_a, features_b, minimum=2)
    return frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0),
                            np.cov(b, rowvar=False))


def kid(features_a, features_b, *, subsets=100, subset_size=1000, seed=0):
    """Kernel Inception Distance: unbiased MMD² with the kernel `(x·y / D + 1)^3`.

    Averaged over `subsets` random subsets (without replacement within a subset) of
    `min(subset_size, N, M)` rows from each set.

    Args:
        features_a, features_b: `(N, D)` and `(M, D)` arrays, N, M >= 2.
        subsets: number of subsets.
        subset_size: rows per subset.
        seed: subset sampling seed.

    Returns:
        `(mean, standard_error)` of the subset estimates; the standard error is 0 for one
        subset.
    """
    a, b = _check_pair(features_a, features_b, minimum=2)
    check_int("subsets", subsets)
    check_int("subset_size", subset_size, minimum=2)
    m = min(subset_size, len(a), len(b))
    dim = a.shape[1]
    rng = np.random.default_rng(seed)
    values = np.empty(subsets)
    for s in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx = (x @ x.T / dim + 1.0) ** 3
        kyy = (y @ y.T / dim + 1.0) ** 3
        kxy = (x @ y.T / dim + 1.0) ** 3
        values[s] = ((kxx.sum() - np.trace(kxx)) / (m * (m - 1))
                     + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                     - 2.0 * kxy.mean())
    error = float(values.std(ddof=1) / np.sqrt(subsets)) if subsets > 1 else 0.0
    return float(values.mean()), error


def precision_recall(real_features, fake_features, k=3):
    """Improved precision and recall (Kynkäänniemi et al. 2019) on k-NN manifolds.

    Each sample's manifold is the union of balls around its points reaching their k-th
    nearest neighbour. Precision: share of fake points inside the real manifold (quality);
    recall: share of real points inside the fake manifold (diversity).

    Args:
        real_features, fake_features: `(N, D)` and `(M, D)`, both with more than `k` rows.
        k: neighbourhood size.

    Returns:
        `(precision, recall)`, each in [0, 1]; `(1, 1)` for identical sets.
    """
    real, fake = _check_pair(real_features, fake_features, minimum=k + 1, k=k)
    real_radii, fake_radii = _kth_neighbour(real, k), _kth_neighbour(fake, k)
    precision = _inside_any_ball(fake, real, real_radii).mean()
    recall = _inside_any_ball(real, fake, fake_radii).mean()
    return float(precision), float(recall)


def density_coverage(real_features, fake_features, k=5):
    """Density and coverage (Naeem et al. 2020) on real k-NN balls.

    Density: mean number of real balls holding each fake point, divided by k (about 1 when
    both sets come from one distribution; `(k + 1) / k` for a set with itself). Coverage:
    share of real balls holding at least one fake point.

    Args:
        real_features, fake_features: `(N, D)` with N > k, and `(M, D)` with M >= 1.
        k: neighbourhood size.

    Returns:
        `(density, coverage)`.
    """
    real, fake = _check_pair(real_features, fake_features, minimum=1, k=k)
    if len(real) <= k:
        raise UserError(f"need more than k={k} real samples, got {len(real)}")
    radii = _kth_neighbour(real, k)
    inside_count = np.zeros(len(fake))
    covered = np.zeros(len(real), bool)
    for i in range(0, len(real), _BLOCK):
        d = _distances(real[i:i + _BLOCK], fake)  # (block, M)
        inside = d <= radii[i:i + _BLOCK, None]
        inside_count += inside.sum(0)
        covered[i:i + _BLOCK] = inside.any(1)
    return float(inside_count.mean() / k), float(covered.mean())


def class_coverage(predicted_classes, num_classes):
    """How generated samples spread over classes: exposes mode collapse.

    Args:
        predicted_classes: `(N,)` integer class per sample (from `Evaluator.predict_classes`).
        num_classes: number of classes.

    Returns:
        A dict: `shares` (list, share of samples per class), `classes_seen`,
        `classes_seen_fraction`, `min_share`, `max_share`.
    """
    check_int("num_classes", num_classes)
    pred = np.asarray(predicted_classes)
    if pred.ndim != 1 or not len(pred) or not np.issubdtype(pred.dtype, np.integer):
        raise UserError(f"predicted_classes must be a non-empty 1-D integer array, got "
                        f"shape {pred.shape} dtype {pred.dtype}")
    if pred.min() < 0 or pred.max() >= num_classes:
        raise UserError(f"predicted classes must lie in [0, {num_classes}), got "
                        f"[{pred.min()}, {pred.max()}]")
    shares = np.bincount(pred, minlength=num_classes) / len(pred)
    seen = int(np.count_nonzero(shares))
    return {"shares": [float(s) for s in shares], "classes_seen": seen,
            "classes_seen_fraction": seen / num_classes, "min_share": float(shares.min()),
            "max_share": float(shares.max())}


def memorisation(samples, train, heldout, *, copy_quantile=0.01):
    """Do samples sit closer to training images than fresh real images do?

    Compares each sample's Euclidean distance to its nearest training image with the same
    distance for held-out real images (pixels or features; arrays are flattened). Distances
    cost `O((N + H) * T * D)`: subsample large training sets.

    Args:
        samples: `(N, ...)` generated images or features.
        train: `(T, ...)` training images or features.
        heldout: `(H, ...)` real images not trained on.
        copy_quantile: samples nearer to the training set than this quantile of the
            held-out distances count as copies.

    Returns:
        A dict: `sample_distance` and `heldout_distance` (medians), `ratio` (their quotient;
        well below 1 flags memorisation), `copy_fraction` (share of samples counted as
        copies; about `copy_quantile` when nothing is memorised).
    """
    flat = [np.asarray(a, "float64").reshape(len(a), -1) for a in (samples, train, heldout)]
    for name, a in zip(("samples", "train", "heldout"), flat):
        if not len(a):
            raise UserError(f"{name} is empty")
        if not np.all(np.isfinite(a)):
            raise UserError(f"{name} contains NaN or Inf")
    if len({a.shape[1] for a in flat}) != 1:
        raise UserError(f"samples, train and heldout differ in size: "
                        f"{[a.shape[1] for a in flat]}")
    if not 0.0 < copy_quantile < 1.0:
        raise UserError(f"copy_quantile must be in (0, 1), got {copy_quantile}")
    samples, train, heldout = flat
    sample_d, heldout_d = _nearest(samples, train), _nearest(heldout, train)
    sample_med, heldout_med = float(np.median(sample_d)), float(np.median(heldout_d))
    threshold = np.quantile(heldout_d, copy_quantile)
    return {"sample_distance": sample_med, "heldout_distance": heldout_med,
            "ratio": sample_med / heldout_med if heldout_med > 0 else float("inf"),
            "copy_fraction": float(np.mean(sample_d <= threshold))}


def sharpness(generated, real):
    """Edge energy of generated images relative to real ones, in pixel space.

    The mean squared difference between neighbouring pixels (down and across) of
    `generated`, over the same for `real`: 1 when the samples are as sharp as real images,
    well below 1 for blurry ones (an autoencoder's mean-like decodes), above 1 for noisy
    ones. It needs no feature network, so it says what FID on a classifier's features can
    miss: a blurry digit may still be read as its class.

    Args:
        generated, real: `(N, H, W, C)` images in [0, 1].

    Returns:
        A float >= 0.
    """
    def energy(x):
        x = np.asarray(x, "float64")
        return np.mean(np.diff(x, axis=1) ** 2) + np.mean(np.diff(x, axis=2) ** 2)

    return float(energy(generated) / max(energy(real), 1e-12))


def sample_quality(evaluator, generated, real, *, kid_subsets=50, kid_subset_size=1000, k=5):
    """FID, KID, precision/recall, density/coverage and class coverage in one call.

    Args:
        evaluator: an `Evaluator` (or anything with `features(images)`).
        generated: `(N, H, W, C)` generated images in [0, 1].
        real: `(M, H, W, C)` real test images in [0, 1].
        kid_subsets, kid_subset_size: passed to `kid`.
        k: neighbourhood size of precision/recall and density/coverage.

    Returns:
        A dict of floats; class coverage entries (`classes_seen`, `min_class_share`,
        `max_class_share`) only where the evaluator has classes, else
        `class_metrics: "unavailable (unlabeled source)"`.
    """
    fake_f, real_f = evaluator.features(generated), evaluator.features(real)
    kid_mean, kid_error = kid(real_f, fake_f, subsets=kid_subsets, subset_size=kid_subset_size)
    precision, recall = precision_recall(real_f, fake_f, k=k)
    density, coverage = density_coverage(real_f, fake_f, k=k)
    result = {"fid": fid(real_f, fake_f), "kid": kid_mean, "kid_std_error": kid_error,
              "precision": precision, "recall": recall, "density": density,
              "coverage": coverage, "sharpness": sharpness(generated, real)}
    try:
        classes = class_coverage(evaluator.predict_classes(generated), evaluator.num_classes)
    except MetricUnavailableError:
        result["class_metrics"] = "unavailable (unlabeled source)"
    else:
        result.update(classes_seen=classes["classes_seen"],
                      min_class_share=classes["min_share"], max_class_share=classes["max_share"])
    return result


# ------------------------------------------------------------------------- reconstruction


def mse(images, reconstructions, per_image=False):
    """Mean squared error of images in [0, 1].

    Args:
        images, reconstructions: arrays of the same shape `(N, ...)`.
        per_image: `False` gives the mean over every pixel; `True` the mean over images of
            the per-image sum of squared errors.

    Returns:
        A float.
    """
    a, b = _check_images_pair(images, reconstructions)
    squared = (a - b) ** 2
    if per_image:
        return float(squared.reshape(len(a), -1).sum(1).mean())
    return float(squared.mean())


def psnr(images, reconstructions, max_val=1.0):
    """Mean over images of `10 log10(max_val² / MSE_i)` in dB; `inf` for exact copies."""
    return float(per_image_psnr(images, reconstructions, max_val).mean())


def per_image_psnr(images, reconstructions, max_val=1.0):
    """`(N,)` PSNR of each image in dB (`inf` for an exact copy)."""
    a, b = _check_images_pair(images, reconstructions)
    per_image = ((a - b) ** 2).reshape(len(a), -1).mean(1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(max_val ** 2 / per_image)


def ssim(images, reconstructions, max_val=1.0):
    """Mean structural similarity (`tf.image.ssim`) of `(N, H, W, C)` images; 1 when equal.

    The Gaussian window shrinks from the standard 11 px (sigma 1.5) to fit small images.
    """
    return float(per_image_ssim(images, reconstructions, max_val).mean())


def per_image_ssim(images, reconstructions, max_val=1.0):
    """`(N,)` structural similarity of each image (see `ssim`)."""
    a, b = _check_images_pair(images, reconstructions)
    if a.ndim != 4:
        raise UserError(f"ssim needs (N, H, W, C) images, got shape {a.shape}")
    size = min(11, a.shape[1], a.shape[2])
    value = tf.image.ssim(tf.constant(a, tf.float32), tf.constant(b, tf.float32),
                          max_val=max_val, filter_size=size, filter_sigma=1.5 * size / 11)
    return value.numpy().astype("float64")


def reconstruction_scores(images, reconstructions, standard_errors=False):
    """`mse`, `sse_per_image`, `psnr` and `ssim` of a batch, as a dict of floats.

    With `standard_errors`, also `mse_se`, `psnr_se` and `ssim_se`: the standard error of
    each mean over the images (how much it would move with other test images).
    """
    a, b = _check_images_pair(images, reconstructions)
    squared = ((a - b) ** 2).reshape(len(a), -1)
    values = {"mse": squared.mean(1), "sse_per_image": squared.sum(1),
              "psnr": per_image_psnr(a, b), "ssim": per_image_ssim(a, b)}
    scores = {k: float(v.mean()) for k, v in values.items()}
    if standard_errors:
        for key in ("mse", "psnr", "ssim"):
            finite = values[key][np.isfinite(values[key])]
            scores[f"{key}_se"] = _standard_error(finite)
    return scores


def _standard_error(values):
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def fid_standard_error(features_a, features_b, rounds=10, seed=0):
    """Bootstrap estimate of FID's standard error: the spread of `fid` over `rounds`
    resamplings (with replacement) of both feature sets."""
    a, b = _check_pair(features_a, features_b, minimum=2)
    rng = np.random.default_rng(seed)
    values = [fid(a[rng.integers(0, len(a), len(a))], b[rng.integers(0, len(b), len(b))])
              for _ in range(check_int("rounds", rounds, minimum=2))]
    return float(np.std(values, ddof=1))


def accuracy_standard_error(accuracy, count):
    """The binomial standard error of an accuracy measured on `count` examples."""
    return float(np.sqrt(max(accuracy * (1.0 - accuracy), 0.0) / max(count, 1)))


def latent_optimisation_reconstruction(generator_fn, images, latent_dim, steps=200, *,
                                       learning_rate=0.05, batch_size=256, seed=0):
    """Reconstruct images with a generator by gradient descent on its latent code.

    Gives a GAN a reconstruction score: for each image, find `z` minimising
    `|G(z) - x|²` with Adam, starting from `z ~ N(0, I)`.

    Args:
        generator_fn: callable `(B, latent_dim)` tensor -> `(B, H, W, C)` images (e.g. a
            Keras generator; called with plain tensors).
        images: `(N, H, W, C)` target images in [0, 1].
        latent_dim: size of `z`.
        steps: descent steps per batch.
        learning_rate: Adam learning rate.
        batch_size: images optimised together.
        seed: seed of the starting codes.

    Returns:
        `(reconstructions, latents)`: `(N, H, W, C)` and `(N, latent_dim)` numpy arrays.
    """
    x = np.asarray(images, "float32")
    if x.ndim != 4 or not len(x):
        raise UserError(f"images must be a non-empty (N, H, W, C) array, got shape {x.shape}")
    check_int("latent_dim", latent_dim)
    check_int("steps", steps)
    check_int("batch_size", batch_size)
    rng = np.random.default_rng(seed)
    recons, latents = [], []
    for i in range(0, len(x), batch_size):
        target = tf.constant(x[i:i + batch_size])
        z = tf.Variable(rng.standard_normal((len(target), latent_dim)).astype("float32"))
        optimizer = keras.optimizers.Adam(learning_rate)

        @tf.function
        def step(z=z, target=target, optimizer=optimizer):
            with tf.GradientTape() as tape:
                out = tf.cast(generator_fn(z), tf.float32)
                loss = tf.reduce_mean(tf.reduce_sum(tf.square(out - target), axis=[1, 2, 3]))
            optimizer.apply([tape.gradient(loss, z)], [z])
            return loss

        for _ in range(steps):
            step()
        out = np.asarray(generator_fn(tf.constant(z.numpy())), "float32")
        if out.shape != tuple(target.shape):
            raise UserError(f"generator_fn returned shape {out.shape} for images of shape "
                            f"{tuple(target.shape)}")
        recons.append(out)
        latents.append(z.numpy())
    return np.concatenate(recons), np.concatenate(latents)


# ------------------------------------------------------------------------- representation


def linear_probe_accuracy(train_codes, train_labels, test_codes, test_labels, *, C=1.0,
                          max_iter=2000, seed=0):
    """Test accuracy of a logistic regression trained on standardised codes.

    Args:
        train_codes, test_codes: `(N, ...)` and `(M, ...)` codes or features (flattened).
        train_labels, test_labels: `(N,)` and `(M,)` integer labels.
        C: inverse regularisation strength.
        max_iter: solver iterations.
        seed: the solver's random state.

    Returns:
        Accuracy in [0, 1].
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    xtr, ytr, xte, yte = _check_probe(train_codes, train_labels, test_codes, test_labels)
    probe = make_pipeline(StandardScaler(),
                          LogisticRegression(C=C, max_iter=max_iter, random_state=seed))
    probe.fit(xtr, ytr)
    return float(probe.score(xte, yte))


def knn_accuracy(train_codes, train_labels, test_codes, test_labels, *, k=5):
    """Test accuracy of a k-nearest-neighbour (Euclidean) classifier on codes.

    Args:
        train_codes, test_codes: `(N, ...)` and `(M, ...)` codes or features (flattened).
        train_labels, test_labels: `(N,)` and `(M,)` integer labels.
        k: neighbours; needs at least `k` training codes.

    Returns:
        Accuracy in [0, 1].
    """
    from sklearn.neighbors import KNeighborsClassifier

    check_int("k", k)
    xtr, ytr, xte, yte = _check_probe(train_codes, train_labels, test_codes, test_labels)
    if len(xtr) < k:
        raise UserError(f"need at least k={k} training codes, got {len(xtr)}")
    return float(KNeighborsClassifier(n_neighbors=k).fit(xtr, ytr).score(xte, yte))


def probe_scores(train_codes, train_labels, test_codes, test_labels, *, k=5, seed=0):
    """Both representation probes with the same settings everywhere (the study, the
    reduction table, the benchmarks): `{"linear_probe": acc, "knn": acc}`."""
    return {"linear_probe": linear_probe_accuracy(train_codes, train_labels, test_codes,
                                                  test_labels, seed=seed),
            "knn": knn_accuracy(train_codes, train_labels, test_codes, test_labels, k=k)}


# --------------------------------------------------------------------------------- helpers


def _psd_sqrt(matrix):
    sym = (matrix + matrix.T) / 2
    eig, vec = np.linalg.eigh(sym)
    return (vec * np.sqrt(np.clip(eig, 0.0, None))) @ vec.T


def _distances(a, b):
    """Euclidean distances `(len(a), len(b))`, via the expanded square (float64)."""
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.clip(sq, 0.0, None))


def _kth_neighbour(x, k):
    """Distance from each row to its k-th nearest other row."""
    radii = np.empty(len(x))
    for i in range(0, len(x), _BLOCK):
        d = _distances(x[i:i + _BLOCK], x)
        # Column k of the sorted row: column 0 is the point itself (distance 0).
        radii[i:i + _BLOCK] = np.partition(d, k, axis=1)[:, k]
    return radii


def _inside_any_ball(points, centres, radii):
    inside = np.zeros(len(points), bool)
    for i in range(0, len(points), _BLOCK):
        d = _distances(points[i:i + _BLOCK], centres)
        inside[i:i + _BLOCK] = (d <= radii[None, :]).any(1)
    return inside


def _nearest(points, reference):
    out = np.empty(len(points))
    for i in range(0, len(points), _BLOCK):
        out[i:i + _BLOCK] = _distances(points[i:i + _BLOCK], reference).min(1)
    return out


def _as_features(x, name, minimum):
    a = np.asarray(x)
    if a.ndim != 2:
        raise UserError(f"{name} must be a 2-D (samples, features) array, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.number):
        raise UserError(f"{name} must be numeric, got dtype {a.dtype}")
    a = a.astype("float64")
    if len(a) < minimum:
        raise UserError(f"{name} needs at least {minimum} samples, got {len(a)}")
    if not np.all(np.isfinite(a)):
        raise UserError(f"{name} contains NaN or Inf")
    return a


def _check_pair(a, b, minimum, k=None):
    if k is not None:
        check_int("k", k)
    a = _as_features(a, "first feature set", minimum)
    b = _as_features(b, "second feature set", minimum)
    if a.shape[1] != b.shape[1]:
        raise UserError(f"feature dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    return a, b


def _check_images_pair(images, reconstructions):
    a, b = np.asarray(images, "float64"), np.asarray(reconstructions, "float64")
    if a.shape != b.shape:
        raise UserError(f"images and reconstructions differ in shape: {a.shape} vs {b.shape}")
    if a.ndim < 2 or not len(a):
        raise UserError(f"images must be a non-empty batch (N, ...), got shape {a.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise UserError("images contain NaN or Inf")
    return a, b


def _check_probe(train_codes, train_labels, test_codes, test_labels):
    out = []
    for split, codes, labels in (("train", train_codes, train_labels),
                                 ("test", test_codes, test_labels)):
        x = np.asarray(codes)
        x = x.reshape(len(x), -1) if x.ndim > 2 else x
        x = _as_features(x, f"{split} codes", 1)
        y = np.asarray(labels)
        if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
            raise UserError(f"{split} labels must be one integer per code ({len(x)} codes, "
                            f"labels shape {y.shape})")
        out += [x, y]
    if out[0].shape[1] != out[2].shape[1]:
        raise UserError(f"train and test codes differ in size: {out[0].shape[1]} vs "
                        f"{out[2].shape[1]}")
    if len(np.unique(out[1])) < 2:
        raise UserError("train labels need at least two classes")
    return out
