"""Representation: how much of the labels a model's codes hold, by linear and k-NN probes."""

import numpy as np

from keras_aegan.errors import UserError, check_int
from keras_aegan.evaluation.sample_metrics import check_features



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


def accuracy_standard_error(accuracy, count):
    """The binomial standard error of an accuracy measured on `count` examples."""
    return float(np.sqrt(max(accuracy * (1.0 - accuracy), 0.0) / max(count, 1)))


def _check_probe(train_codes, train_labels, test_codes, test_labels):
    out = []
    for split, codes, labels in (("train", train_codes, train_labels),
                                 ("test", test_codes, test_labels)):
        x = np.asarray(codes)
        x = x.reshape(len(x), -1) if x.ndim > 2 else x
        x = check_features(x, f"{split} codes", 1)
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
