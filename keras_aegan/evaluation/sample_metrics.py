"""Sample quality on features: FID, KID, precision/recall, density/coverage, class
coverage, memorisation and sharpness.

Each takes numpy arrays of *features* (from an `Evaluator`) or images, and raises a
`UserError` on arrays of the wrong shape, type or size.
"""

import numpy as np

from keras_aegan.errors import UserError, check_int
from keras_aegan.evaluation.evaluator import MetricUnavailableError

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


_KID_ROWS = 1024  # kernel rows made at a time


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

    def kernel(x, y):
        k = x.astype("float64") @ y.astype("float64").T / dim + 1.0
        return k * k * k

    def quadratic(p, x, q, y):
        """`p[s] K(x, y) q[s]` for every subset s, the kernel made a block of rows at
        a time (memory: a block, not N x M)."""
        return sum(((p[:, c:c + _KID_ROWS] @ kernel(x[c:c + _KID_ROWS], y)) * q).sum(1)
                   for c in range(0, len(x), _KID_ROWS))

    # A subset's kernel sums are quadratic forms of its 0/1 indicator: every pair's
    # kernel is made once, not once per subset that holds it (the same values, in a
    # fraction of the time).
    rng = np.random.default_rng(seed)
    u, v = np.zeros((subsets, len(a))), np.zeros((subsets, len(b)))
    for s in range(subsets):
        u[s, rng.choice(len(a), m, replace=False)] = 1.0
        v[s, rng.choice(len(b), m, replace=False)] = 1.0
    diagonal_a = ((a.astype("float64") ** 2).sum(1) / dim + 1.0) ** 3
    diagonal_b = ((b.astype("float64") ** 2).sum(1) / dim + 1.0) ** 3
    within = (quadratic(u, a, u, a) - u @ diagonal_a
              + quadratic(v, b, v, b) - v @ diagonal_b) / (m * (m - 1))
    values = within - 2.0 * quadratic(u, a, v, b) / (m * m)
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


def sample_quality(evaluator, generated, real, *, kid_subsets=50, kid_subset_size=1000, k=5,
                   generated_features=None, real_features=None):
    """FID, KID, precision/recall, density/coverage and class coverage in one call.

    Args:
        evaluator: an `Evaluator` (or anything with `features(images)`).
        generated: `(N, H, W, C)` generated images in [0, 1].
        real: `(M, H, W, C)` real test images in [0, 1].
        kid_subsets, kid_subset_size: passed to `kid`.
        k: neighbourhood size of precision/recall and density/coverage.
        generated_features, real_features: the evaluator's features of `generated` and
            `real` when the caller has them already (a study scores every model against
            the same real images); `None`: computed here.

    Returns:
        A dict of floats; class coverage entries (`classes_seen`, `min_class_share`,
        `max_class_share`) only where the evaluator has classes, else
        `class_metrics: "unavailable (unlabeled source)"`.
    """
    fake_f = (evaluator.features(generated) if generated_features is None
              else generated_features)
    real_f = evaluator.features(real) if real_features is None else real_features
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


def fid_standard_error(features_a, features_b, rounds=10, seed=0):
    """Bootstrap estimate of FID's standard error: the spread of `fid` over `rounds`
    resamplings (with replacement) of both feature sets."""
    a, b = _check_pair(features_a, features_b, minimum=2)
    rng = np.random.default_rng(seed)
    values = [fid(a[rng.integers(0, len(a), len(a))], b[rng.integers(0, len(b), len(b))])
              for _ in range(check_int("rounds", rounds, minimum=2))]
    return float(np.std(values, ddof=1))



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


def check_features(x, name, minimum):
    """`x` as a float64 `(samples, features)` array of at least `minimum` finite rows, or a
    `UserError` naming it."""
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
    a = check_features(a, "first feature set", minimum)
    b = check_features(b, "second feature set", minimum)
    if a.shape[1] != b.shape[1]:
        raise UserError(f"feature dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    return a, b
