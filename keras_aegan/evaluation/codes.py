"""Codes of images and what they hold: PCA and LLE baselines, classifiers on codes.

Library functions on numpy arrays of images in [0, 1] (as `Source.arrays` gives them), used
by the reduction study (`studies/reduction.py`) and the benchmarks.

- `flatten`, `predict`: arrays in, arrays out (a Keras callable applied in batches).
- `pca_codes`: PCA fitted on training images: codes and reconstructions.
- `lle_codes`: locally linear embedding, with a k-NN pre-image as its reconstruction.
- `code_accuracy`: k-NN and logistic-regression test accuracy on codes.
"""

import time

import keras
import numpy as np

from keras_aegan.evaluation import metrics


def flatten(images):
    """`(n, ...)` -> `(n, features)` float32."""
    images = np.asarray(images, "float32")
    return images.reshape(len(images), -1)


def predict(fn, x, batch_size=512):
    """Apply a Keras callable (e.g. `model.encode`) to a numpy array in batches."""
    outputs = [keras.ops.convert_to_numpy(fn(x[i:i + batch_size]))
               for i in range(0, len(x), batch_size)]
    return np.concatenate(outputs)


def pca_codes(x_train, x_test, k, seed=0):
    """PCA fitted on `x_train`: `(train_codes, test_codes, test_reconstructions, seconds)`."""
    from sklearn.decomposition import PCA

    start = time.perf_counter()
    pca = PCA(n_components=k, random_state=seed).fit(flatten(x_train))
    train_codes, test_codes = pca.transform(flatten(x_train)), pca.transform(flatten(x_test))
    recon = pca.inverse_transform(test_codes).reshape(np.shape(x_test))
    return train_codes, test_codes, recon, time.perf_counter() - start


def lle_codes(x_train, x_test, k, n_neighbors=12, max_train=2000, seed=0):
    """Locally linear embedding fitted on (at most `max_train` of) `x_train`.

    LLE has no decoder; the reconstruction is a *pre-image estimate*: the distance-weighted
    mean of the training images whose codes are the test code's nearest neighbours.

    Returns:
        `(train_codes, test_codes, test_reconstructions, seconds, train_index)`, where
        `train_index` selects the training images that were embedded.
    """
    from sklearn.manifold import LocallyLinearEmbedding
    from sklearn.neighbors import KNeighborsRegressor

    n = len(x_train)
    index = np.sort(np.random.default_rng(seed).permutation(n)[:max_train]) if n > max_train \
        else np.arange(n)
    x_fit = flatten(x_train)[index]
    start = time.perf_counter()
    lle = LocallyLinearEmbedding(n_neighbors=max(n_neighbors, k + 1), n_components=k,
                                 eigen_solver="dense" if len(index) <= 2000 else "arpack",
                                 random_state=seed)
    train_codes = lle.fit_transform(x_fit)
    test_codes = lle.transform(flatten(x_test))
    preimage = KNeighborsRegressor(n_neighbors=5, weights="distance").fit(train_codes, x_fit)
    recon = np.clip(preimage.predict(test_codes), 0.0, 1.0).reshape(np.shape(x_test))
    return train_codes, test_codes, recon, time.perf_counter() - start, index


def code_accuracy(train_codes, y_train, test_codes, y_test, n_neighbors=5, seed=0):
    """Test accuracy of k-NN and of logistic regression trained on the codes, with the
    study's probes (`metrics.probe_scores`).

    Returns:
        `(knn_accuracy, logistic_accuracy)`.
    """
    scores = metrics.probe_scores(flatten(train_codes), y_train, flatten(test_codes), y_test,
                                  k=n_neighbors, seed=seed)
    return scores["knn"], scores["linear_probe"]
