"""Yardsticks for sequences: next-frame prediction and generated time series.

Video (Srivastava et al. 2015, and the Moving MNIST tables since: ConvLSTM 103.3, PredRNN
56.8, SimVP 23.8):

- `frame_scores`: squared error summed over each frame's pixels (values in [0, 1]) and
  SSIM, per future step and averaged over the predicted frames.
- `copy_last_frame`: the baseline that repeats the last observed frame.

Time series (TimeGAN, Yoon et al. 2019; the numbers compare with its tables):

- `discriminative_score`: a post-hoc recurrent classifier (one GRU layer of `channels // 2`
  units, 2,000 Adam steps of 128 real + 128 synthetic windows) learns real vs synthetic on
  80 % of each and is tested on the other 20 %: `|accuracy - 0.5|`, lower is better (0:
  indistinguishable, 0.5: told apart every time).
- `predictive_score`: "train on synthetic, test on real": a post-hoc GRU predicts the last
  channel's next step from the other channels (5,000 Adam steps on synthetic windows); its
  mean absolute error on real windows, lower is better. For a single-channel series the
  input is the channel itself (TimeGAN's recipe needs two channels).
- `repeated`: mean and standard deviation of a score over repeats (the paper's ± figures).
- `embedding_plot`: real vs synthetic windows in 2-D by PCA and t-SNE, each window reduced
  to its mean over channels first, as in TimeGAN's pictures.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_aegan import files
from keras_aegan.errors import UserError, check_int

PUBLISHED_MOVING_MNIST = (("ConvLSTM (Shi et al. 2015)", 103.3),
                          ("PredRNN (Wang et al. 2017)", 56.8),
                          ("SimVP (Gao et al. 2022)", 23.8))
# TimeGAN's Table 2, sines: (discriminative, predictive).
PUBLISHED_SINES = (("TimeGAN", 0.011, 0.093), ("RCGAN", 0.022, 0.097),
                   ("C-RNN-GAN", 0.229, 0.127), ("real data", None, 0.094))


# ------------------------------------------------------------------------------- video


def _check_video_pair(true, predicted):
    true, predicted = np.asarray(true, "float32"), np.asarray(predicted, "float32")
    if true.shape != predicted.shape or true.ndim != 5:
        raise UserError(f"frame scores need two (N, T, H, W, C) arrays of one shape, got "
                        f"{true.shape} and {predicted.shape}")
    return true, predicted


def frame_errors(true, predicted):
    """Squared error summed over each frame's pixels: `(N, T)`."""
    true, predicted = _check_video_pair(true, predicted)
    return ((true - predicted) ** 2).reshape(*true.shape[:2], -1).sum(-1)


def frame_ssim(true, predicted):
    """SSIM of each frame (`tf.image.ssim`, 11 px Gaussian window, sigma 1.5): `(N, T)`."""
    true, predicted = _check_video_pair(true, predicted)
    n, steps = true.shape[:2]
    size = min(11, true.shape[2], true.shape[3])
    flat = lambda a: tf.constant(a.reshape(n * steps, *a.shape[2:]))  # noqa: E731
    values = tf.image.ssim(flat(true), flat(predicted), max_val=1.0, filter_size=size,
                           filter_sigma=1.5 * size / 11)
    return np.asarray(values).reshape(n, steps)


def frame_scores(true, predicted):
    """The Moving MNIST yardsticks of predicted frames.

    Args:
        true, predicted: `(N, T, H, W, C)` frames in [0, 1].

    Returns:
        A dict: `mse_per_frame` (the squared error summed over a frame's pixels, averaged
        over the frames and sequences: the published tables' figure), `mse_per_step` and
        `ssim_per_step` (lists, one value per future step), `ssim` (their mean) and
        `mse_per_frame_std` (the spread over sequences).
    """
    errors, ssim = frame_errors(true, predicted), frame_ssim(true, predicted)
    return {"mse_per_frame": float(errors.mean()),
            "mse_per_frame_std": float(errors.mean(1).std()),
            "mse_per_step": [float(v) for v in errors.mean(0)],
            "ssim": float(ssim.mean()), "ssim_per_step": [float(v) for v in ssim.mean(0)]}


def copy_last_frame(observed, steps):
    """The baseline prediction: the last observed frame, `steps` times."""
    observed = np.asarray(observed)
    return np.repeat(observed[:, -1:], steps, axis=1)


def predict_batched(fn, observed, batch_size=64):
    """`fn` over observed frames in batches, as numpy."""
    return np.concatenate([np.asarray(fn(tf.constant(observed[i:i + batch_size])))
                           for i in range(0, len(observed), batch_size)])


# ---------------------------------------------------------------------- time series


MAX_UNROLL = 64  # window lengths up to this unroll the post-hoc GRUs


def check_windows(x, name):
    x = np.asarray(x, "float32")
    if x.ndim != 3 or len(x) < 2 or not np.all(np.isfinite(x)):
        raise UserError(f"{name} must be finite windows (n >= 2, time, channels), got "
                        f"shape {x.shape}")
    return x


def _gru_head(shape, units, out, sequences, name):
    inputs = keras.Input(shape)
    # Unrolled over short windows: the same GRU, several times faster a step on CPU than
    # its while-loop (a tiny GRU over a short window is all loop overhead).
    x = keras.layers.GRU(units, return_sequences=sequences,
                         unroll=shape[0] <= MAX_UNROLL)(inputs)
    return keras.Model(inputs, keras.layers.Dense(out)(x), name=name)


def discriminative_score(real, synthetic, *, iterations=2000, batch_size=128, units=None,
                         seed=0):
    """TimeGAN's discriminative score: `|accuracy - 0.5|` of a post-hoc GRU classifier.

    Args:
        real, synthetic: windows `(n, time, channels)`; the same number of each is used
            (the smaller count).
        iterations: Adam steps (the paper: 2,000).
        batch_size: real and synthetic windows per step, each (the paper: 128).
        units: the classifier's GRU units; `None`: the paper's, half the channels (at
            least 1). A single-channel series then gets a 1-unit GRU, too weak to tell
            much apart: give it more (e.g. 16) to judge such a series.
        seed: seeds the split, the batches and the classifier's weights.

    Returns:
        A float in [0, 0.5]; lower is better.

    Example:
        >>> discriminative_score(real_windows, model.sample(len(real_windows)))
    """
    real, synthetic = check_windows(real, "real"), check_windows(synthetic, "synthetic")
    if real.shape[1:] != synthetic.shape[1:]:
        raise UserError(f"real windows {real.shape[1:]} and synthetic {synthetic.shape[1:]} "
                        "differ in shape")
    iterations = check_int("iterations", iterations)
    units = max(1, real.shape[2] // 2) if units is None else check_int("units", units)
    n = min(len(real), len(synthetic))
    rng = np.random.default_rng(seed)
    real, synthetic = real[rng.permutation(len(real))[:n]], \
        synthetic[rng.permutation(len(synthetic))[:n]]
    cut = int(0.8 * n)
    keras.utils.set_random_seed(seed)
    model = _gru_head(real.shape[1:], units, 1, False, "post_hoc_classifier")
    optimizer = keras.optimizers.Adam(1e-3)
    targets = tf.constant(np.r_[np.ones(batch_size), np.zeros(batch_size)][:, None], tf.float32)

    @tf.function
    def step(batch):
        with tf.GradientTape() as tape:
            logits = model(batch, training=True)
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(targets, logits))
        optimizer.apply(tape.gradient(loss, model.trainable_variables),
                        model.trainable_variables)

    train_real, train_fake = real[:cut], synthetic[:cut]
    for _ in range(iterations):
        a = train_real[rng.integers(0, cut, batch_size)]
        b = train_fake[rng.integers(0, cut, batch_size)]
        step(tf.constant(np.concatenate([a, b])))
    test = np.concatenate([real[cut:], synthetic[cut:]])
    labels = np.r_[np.ones(n - cut), np.zeros(n - cut)]
    logits = np.asarray(model.predict(test, batch_size=1024, verbose=0))[:, 0]
    accuracy = float(np.mean((logits > 0) == labels))
    return abs(accuracy - 0.5)


def _prediction_task(windows):
    channels = windows.shape[2]
    if channels == 1:
        return windows[:, :-1, :], windows[:, 1:, :]
    return windows[:, :-1, :-1], windows[:, 1:, -1:]


def predictive_score(train, test, *, iterations=5000, batch_size=128, seed=0):
    """TimeGAN's predictive score: train on `train` (synthetic), MAE on `test` (real).

    A post-hoc GRU (`channels // 2` units, at least 1) with a sigmoid output predicts the
    last channel's next step from the other channels' steps so far (for one channel: from
    the channel itself).

    Args:
        train: windows the predictor learns from (synthetic ones, or real for the
            "real data" reference).
        test: real windows it is scored on.
        iterations: Adam steps (the paper: 5,000).
        batch_size: windows per step (the paper: 128).
        seed: seeds the batches and the weights.

    Returns:
        The mean absolute error on `test`, a float; lower is better.
    """
    train, test = check_windows(train, "train windows"), check_windows(test, "test windows")
    if train.shape[1:] != test.shape[1:]:
        raise UserError(f"train windows {train.shape[1:]} and test {test.shape[1:]} differ")
    iterations = check_int("iterations", iterations)
    x_train, y_train = _prediction_task(train)
    x_test, y_test = _prediction_task(test)
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    model = _gru_head(x_train.shape[1:], max(1, train.shape[2] // 2), 1, True,
                      "post_hoc_predictor")
    optimizer = keras.optimizers.Adam(1e-3)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(y - tf.sigmoid(model(x, training=True))))
        optimizer.apply(tape.gradient(loss, model.trainable_variables),
                        model.trainable_variables)

    for _ in range(iterations):
        index = rng.integers(0, len(x_train), batch_size)
        step(tf.constant(x_train[index]), tf.constant(y_train[index]))
    predicted = tf.sigmoid(model.predict(x_test, batch_size=1024, verbose=0)).numpy()
    return float(np.mean(np.abs(predicted - y_test)))


def repeated(score, repeats=5, seed=0, **kwargs):
    """`(mean, std, values)` of `score(seed=seed + r, **kwargs)` over `repeats` runs."""
    values = [float(score(seed=seed + r, **kwargs)) for r in range(check_int("repeats",
                                                                          repeats))]
    return float(np.mean(values)), float(np.std(values)), values


def embedding_plot(path, real, synthetic, methods=("pca", "tsne"), samples=1000, seed=0):
    """Real vs synthetic windows in 2-D (PCA and t-SNE), one panel per model and method.

    As in TimeGAN's pictures, each window is first reduced to its mean over channels (a
    `time`-long vector); PCA is fitted on the real windows, t-SNE on both together.

    Args:
        path: PNG to write.
        real: real windows `(n, time, channels)`.
        synthetic: `{model name: synthetic windows}`.
        methods: `pca` and/or `tsne`.
        samples: windows of each kind drawn (at most).
        seed: seeds the draw and t-SNE.

    Returns:
        `path`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    rng = np.random.default_rng(seed)

    def draw(x):
        x = np.asarray(x, "float32")
        return x[rng.permutation(len(x))[:samples]].mean(-1)

    real_points = draw(real)
    names = list(synthetic)
    fig, axes = plt.subplots(len(methods), max(1, len(names)),
                             figsize=(4 * max(1, len(names)), 3.8 * len(methods)), squeeze=False)
    for col, name in enumerate(names):
        fake_points = draw(synthetic[name])
        for row, method in enumerate(methods):
            if method == "pca":
                pca = PCA(2, random_state=seed).fit(real_points)
                a, b = pca.transform(real_points), pca.transform(fake_points)
            else:
                both = np.concatenate([real_points, fake_points])
                perplexity = min(40, max(2, (len(both) - 1) // 3))
                emb = TSNE(2, perplexity=perplexity, random_state=seed,
                           init="pca").fit_transform(both)
                a, b = emb[:len(real_points)], emb[len(real_points):]
            ax = axes[row][col]
            ax.scatter(a[:, 0], a[:, 1], s=3, alpha=0.4, c="tab:red", label="real")
            ax.scatter(b[:, 0], b[:, 1], s=3, alpha=0.4, c="tab:blue", label="synthetic")
            ax.set_title(f"{name}: {method.upper() if method == 'pca' else 't-SNE'}")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0 and col == 0:
                ax.legend(markerscale=4, fontsize=8)
    fig.tight_layout()
    with files.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
    return path
