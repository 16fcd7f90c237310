"""What autoencoders are for: dimensionality reduction, features, generation, denoising —
measured against scikit-learn baselines (pre-training with few labels: `pretraining`).

Library functions on numpy arrays of images in [0, 1] (as `Source.arrays` gives them); the
`benchmarks/` scripts call them and print the tables.

- `reduction_table`: autoencoders vs PCA vs LLE at a code size `k`: reconstruction error on
  the test images, and k-NN / logistic-regression accuracy on the codes;
  `reduction_tables`: the same at several code sizes.
- `embedding_plot`: 2-D embeddings side by side, coloured by label (PNG).
- `feature_detectors`: the first layer's units / conv filters as a PNG grid.
- `vae_grids`: VAE samples and interpolations between two codes (PNG grids).
- `denoising_psnr`: PSNR of noisy vs denoised test images.
"""

import time

import keras
import numpy as np

from keras_aegan.evaluation import metrics
from keras_aegan.evaluation.pictures import save_grid
from keras_aegan.errors import UserError
from keras_aegan.registry import get_model_entry


def flatten(images):
    """`(n, ...)` -> `(n, features)` float32."""
    images = np.asarray(images, "float32")
    return images.reshape(len(images), -1)


def predict(fn, x, batch_size=512):
    """Apply a Keras callable (e.g. `model.encode`) to a numpy array in batches."""
    outputs = [keras.ops.convert_to_numpy(fn(x[i:i + batch_size]))
               for i in range(0, len(x), batch_size)]
    return np.concatenate(outputs)


# ---------------------------------------------------------------- baselines and classifiers


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


# ------------------------------------------------------------------- training autoencoders


def train_autoencoder(name, x_train, latent_dim, *, epochs=10, batch_size=128,
                      learning_rate=None, seed=0, validation=None, verbose=0, **options):
    """Build the registered autoencoder `name` and fit it on `x_train` (no labels).

    Args:
        name: a registered autoencoder (`dense_ae`, `conv_ae`, `vae`, ...).
        x_train: images in [0, 1].
        latent_dim: code size.
        epochs, batch_size, learning_rate: the fit; `learning_rate=None` keeps the model's.
        seed: seeds weights and shuffling.
        validation: optional images to report validation loss on.
        verbose: Keras verbosity.
        **options: builder options (e.g. `units=(512, 256)`).

    Returns:
        `(model, seconds)`.
    """
    entry = get_model_entry(name)
    if entry.family != "autoencoder":
        raise UserError(f"{name!r} is a {entry.family}, not an autoencoder")
    keras.utils.set_random_seed(seed)
    model = entry.builder(tuple(np.shape(x_train)[1:]), latent_dim=latent_dim, **options)
    model.compile(**({} if learning_rate is None else {"learning_rate": learning_rate}))
    start = time.perf_counter()
    model.fit(x_train, x_train, batch_size=batch_size, epochs=epochs, verbose=verbose,
              validation_data=None if validation is None else (validation, validation))
    return model, time.perf_counter() - start


def reduction_table(x_train, y_train, x_test, y_test, k, *, models=("linear_ae", "dense_ae"),
                    epochs=20, batch_size=128, lle=True, lle_max_train=2000, seed=0,
                    model_options=None, verbose=0, log=None):
    """Autoencoders vs PCA vs LLE at code size `k`, side by side.

    Args:
        x_train, y_train, x_test, y_test: images in [0, 1] and integer labels.
        k: the code size.
        models: registered autoencoders to train.
        epochs, batch_size: each autoencoder's fit.
        lle: include LLE (fitted on at most `lle_max_train` training images).
        seed: seeds every method.
        model_options: `{name: {builder option: value}}`.
        verbose: Keras verbosity.
        log: optional callable given a progress line as each method's row is done.

    Returns:
        A list of rows, one per method: `method`, `k`, `error` (squared error summed over
        pixels, mean over test images), `knn`, `logistic` (test accuracies on the codes),
        `seconds` (fitting time) and `note`.
    """
    model_options = model_options or {}
    rows = []

    def add(**row):
        rows.append(row)
        if log:
            log(f"  k={k} {row['method']}: error {row['error']:.2f}, k-NN {row['knn']:.4f}, "
                f"logistic {row['logistic']:.4f} ({row['seconds']:.0f}s)")

    tr, te, recon, seconds = pca_codes(x_train, x_test, k, seed)
    knn, logistic = code_accuracy(tr, y_train, te, y_test, seed=seed)
    add(method="PCA", k=k, error=metrics.mse(x_test, recon, per_image=True), knn=knn,
        logistic=logistic, seconds=seconds, note="")
    if lle:
        tr, te, recon, seconds, index = lle_codes(x_train, x_test, k, max_train=lle_max_train,
                                                  seed=seed)
        knn, logistic = code_accuracy(tr, y_train[index], te, y_test, seed=seed)
        add(method="LLE", k=k, error=metrics.mse(x_test, recon, per_image=True), knn=knn,
            logistic=logistic, seconds=seconds,
            note=f"fit on {len(index)} train images; error of a k-NN pre-image")
    for name in models:
        model, seconds = train_autoencoder(name, x_train, k, epochs=epochs,
                                           batch_size=batch_size, seed=seed, verbose=verbose,
                                           **model_options.get(name, {}))
        tr, te = predict(model.encode, x_train), predict(model.encode, x_test)
        recon = predict(lambda x: model(x, training=False), x_test)
        knn, logistic = code_accuracy(tr, y_train, te, y_test, seed=seed)
        add(method=name, k=k, error=metrics.mse(x_test, recon, per_image=True), knn=knn,
            logistic=logistic, seconds=seconds,
            note=f"{epochs} epochs, {model.count_params():,} params")
    return rows


def reduction_tables(x_train, y_train, x_test, y_test, ks=(2, 10, 30), *,
                     models=("linear_ae", "dense_ae", "conv_ae", "aae"), epochs=20, seed=0,
                     lle_max_train=2000, verbose=0, log=None):
    """`reduction_table` at each code size `k`; one list of rows."""
    rows = []
    for k in ks:
        rows.extend(reduction_table(x_train, y_train, x_test, y_test, k, models=models,
                                    epochs=epochs, seed=seed, lle_max_train=lle_max_train,
                                    verbose=verbose, log=log))
    return rows


def format_table(rows, columns=None):
    """Rows of dicts -> a Markdown table (floats to 4 significant figures)."""
    columns = columns or list(rows[0])

    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------------------- pictures


def embedding_plot(path, embeddings, labels, title=None):
    """Scatter plots of 2-D embeddings side by side, coloured by label.

    Args:
        path: PNG to write.
        embeddings: `{name: (n, 2) array}`, e.g. an autoencoder with k=2, PCA and LLE.
        labels: `(n,)` integer labels (the same points in every embedding).
        title: optional figure title.

    Returns:
        `path`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(embeddings), figsize=(4.5 * len(embeddings), 4.2),
                             squeeze=False)
    for ax, (name, codes) in zip(axes[0], embeddings.items()):
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[1] != 2:
            raise UserError(f"embedding {name!r} must be (n, 2), got {codes.shape}")
        points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=4, alpha=0.7)
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(points, ax=axes[0].tolist(), ticks=range(int(np.max(labels)) + 1))
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def feature_detectors(model, path, max_units=64, columns=8):
    """A PNG of what the encoder's first layer responds to.

    For a dense first layer each unit's incoming weights are drawn as an image of the
    input's shape; for a convolution each filter is drawn as a small patch. Each picture
    is scaled to [0, 1] on its own (mid-grey is zero weight only approximately).

    Args:
        model: an autoencoder (anything with an `encoder`).
        path: PNG to write.
        max_units: draw at most this many units / filters.
        columns: pictures per row.

    Returns:
        `path`.
    """
    layer = next((l for l in model.encoder.layers if l.weights), None)
    if not isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D)):
        raise UserError(f"{model.name}: the encoder has no dense or convolutional layer to "
                        "draw (recurrent encoders are not supported)")
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    if isinstance(layer, keras.layers.Dense):
        shape = tuple(model.image_shape)
        if len(shape) == 2:
            shape = (*shape, 1)
        pictures = kernel.T[:max_units].reshape(-1, *shape)
    else:
        pictures = np.transpose(kernel, (3, 0, 1, 2))[:max_units]
    low = pictures.min(axis=(1, 2, 3), keepdims=True)
    high = pictures.max(axis=(1, 2, 3), keepdims=True)
    pictures = (pictures - low) / np.maximum(high - low, 1e-8)
    if pictures.shape[-1] not in (1, 3):
        pictures = pictures.mean(axis=-1, keepdims=True)
    rows = [pictures[i:i + columns] for i in range(0, len(pictures), columns)]
    return save_grid(path, rows)


def vae_grids(model, images, directory, n=8, steps=8, seed=0):
    """VAE samples from the prior and interpolations between the codes of image pairs.

    Args:
        model: a `VariationalAutoencoder` (anything with `sample`, `encode`, `decode`).
        images: at least 2 images; consecutive pairs are interpolated, one pair a row.
        directory: where `samples.png` and `interpolations.png` go.
        n: the samples grid is `n x n`; at most `n` interpolation rows.
        steps: codes per interpolation row, the two ends included (the originals are
            drawn at both ends of each row).
        seed: fixes the prior draw.

    Returns:
        `(samples_path, interpolations_path)`.
    """
    import os

    if steps < 2:
        raise UserError(f"steps must be >= 2, got {steps}")
    images = np.asarray(images, "float32")
    if len(images) < 2:
        raise UserError("vae_grids needs at least 2 images to interpolate between")
    os.makedirs(directory, exist_ok=True)
    samples = keras.ops.convert_to_numpy(model.sample(n * n, seed=seed))
    samples_path = save_grid(os.path.join(directory, "samples.png"),
                             [samples[i * n:(i + 1) * n] for i in range(n)])
    pairs = min(n, len(images) // 2)
    a, b = images[0:2 * pairs:2], images[1:2 * pairs:2]
    za, zb = (keras.ops.convert_to_numpy(model.encode(x)) for x in (a, b))
    t = np.linspace(0.0, 1.0, steps, dtype="float32")[None, :, None]
    codes = (1.0 - t) * za[:, None] + t * zb[:, None]
    decoded = keras.ops.convert_to_numpy(model.decode(codes.reshape(-1, za.shape[-1])))
    decoded = decoded.reshape(pairs, steps, *images.shape[1:])
    rows = [np.concatenate([a[i:i + 1], decoded[i], b[i:i + 1]]) for i in range(pairs)]
    interp_path = save_grid(os.path.join(directory, "interpolations.png"), rows)
    return samples_path, interp_path


# ----------------------------------------------------------------------------- denoising


def add_noise(images, noise="gaussian", level=0.3, seed=0):
    """Corrupt images (numpy) the way `layers.Corruption` does, reproducibly."""
    rng = np.random.default_rng(seed)
    images = np.asarray(images, "float32")
    if noise == "gaussian":
        return np.clip(images + rng.normal(0.0, level, images.shape), 0.0, 1.0).astype("float32")
    if noise == "dropout":
        return np.where(rng.random(images.shape) >= level, images, 0.0).astype("float32")
    raise UserError(f"noise must be 'gaussian' or 'dropout', got {noise!r}")


def denoising_psnr(model, images, noise="gaussian", level=0.3, seed=0):
    """PSNR (dB) of noisy test images and of the model's reconstructions of them.

    Returns:
        `{"noisy": dB, "denoised": dB}` against the clean images.
    """
    noisy = add_noise(images, noise, level, seed)
    denoised = predict(lambda x: model(x, training=False), noisy)
    return {"noisy": metrics.psnr(images, noisy), "denoised": metrics.psnr(images, denoised)}
