"""Tests for keras_aegan.studies.reduction on the bundled 8x8 digits: baselines, code classifiers,
pictures, pre-training, VAE grids, denoising PSNR."""

import numpy as np
import pytest
from PIL import Image

from keras_aegan.evaluation import metrics
from keras_aegan.studies import pretraining, reduction
from keras_aegan.errors import UserError


@pytest.fixture(scope="module")
def digits(digits_source):
    x_train, y_train = digits_source.arrays("train")
    x_test, y_test = digits_source.arrays("test")
    return x_train, y_train, x_test, y_test


def test_pca_error_falls_with_k_and_matches_sklearn(digits):
    x_train, _, x_test, _ = digits
    errors = [metrics.mse(x_test, reduction.pca_codes(x_train, x_test, k)[2],
                          per_image=True)
              for k in (2, 8, 32)]
    assert errors[0] > errors[1] > errors[2] > 0
    assert reduction.pca_codes(x_train, x_test, 64)[2].shape == x_test.shape


def test_reduction_table_rows(digits):
    x_train, y_train, x_test, y_test = digits
    lines = []
    rows = reduction.reduction_table(x_train, y_train, x_test, y_test, 8,
                                     models=("dense_ae",), epochs=2, lle_max_train=400,
                                     log=lines.append)
    assert [r["method"] for r in rows] == ["PCA", "LLE", "dense_ae"]
    # One progress line per method, as its row is done.
    assert [line.split(":")[0].split()[-1] for line in lines] == ["PCA", "LLE", "dense_ae"]
    assert all(line.startswith("  k=8 ") for line in lines)
    pca = rows[0]
    # PCA at k=8 on digits classifies far above chance (0.1) and reconstructs well.
    assert pca["knn"] > 0.85 and pca["logistic"] > 0.8
    for row in rows:
        # Every method's codes classify well above chance (0.1) on 10 classes.
        assert np.isfinite(row["error"]) and row["knn"] > 0.3 and row["logistic"] > 0.3, row
    assert rows[1]["knn"] > 0.5  # LLE codes carry the classes too
    table = reduction.format_table(rows)
    assert table.count("\n") == len(rows) + 1 and "dense_ae" in table


def test_code_accuracy_separable_codes():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 30)
    codes = rng.normal(size=(90, 2)) * 0.1 + np.eye(3)[y][:, :2] * 5
    knn, logistic = reduction.code_accuracy(codes, y, codes, y)
    assert knn == 1.0 and logistic == 1.0


def test_embedding_plot_and_feature_detectors(digits, tmp_path):
    x_train, y_train, x_test, y_test = digits
    codes = reduction.pca_codes(x_train, x_test, 2)[1]
    path = reduction.embedding_plot(str(tmp_path / "embed.png"),
                                    {"PCA": codes, "copy": codes}, y_test)
    assert Image.open(path).size[0] > 400
    with pytest.raises(UserError, match="embedding"):
        reduction.embedding_plot(str(tmp_path / "bad.png"), {"3d": np.zeros((5, 3))}, y_test[:5])
    dense, _ = reduction.train_autoencoder("dense_ae", x_train[:128], 4, epochs=1, units=(16,))
    image = Image.open(reduction.feature_detectors(dense, str(tmp_path / "dense.png")))
    assert image.size[0] > 8 * 8  # 8 columns of 8x8 unit pictures, upscaled
    conv, _ = reduction.train_autoencoder("conv_ae", x_train[:128], 4, epochs=1)
    assert reduction.feature_detectors(conv, str(tmp_path / "conv.png")).endswith("conv.png")
    recurrent, _ = reduction.train_autoencoder("recurrent_ae", x_train[:64], 4, epochs=1)
    with pytest.raises(UserError, match="recurrent"):
        reduction.feature_detectors(recurrent, str(tmp_path / "rnn.png"))


def test_pretraining_rows(digits):
    x_train, y_train, x_test, y_test = digits
    dense, _ = reduction.train_autoencoder("dense_ae", x_train, 8, epochs=5, units=(32,))
    sets = pretraining.label_sets(y_train, per_class=0, fractions=(0.1,))
    rows = pretraining.few_label_rows({"dense_ae": dense}, x_train, y_train, x_test, y_test,
                                      sets, head_steps=300, finetune_steps=100)
    assert len(rows) == 1 and rows[0]["labels"] == "10%" and rows[0]["size"] >= 10
    for key in ("scratch", "frozen", "finetuned"):
        # 10% of the labels (130 images) teach every classifier far above chance (0.1);
        # a frozen head on standardized codes too.
        assert 0.3 < rows[0][key] <= 1.0, (key, rows[0])
    assert rows[0]["gain"] == pytest.approx(rows[0]["finetuned"] - rows[0]["scratch"])


def test_vae_grids_and_denoising_psnr(digits, tmp_path):
    x_train, _, x_test, _ = digits
    vae, _ = reduction.train_autoencoder("vae", x_train[:256], 2, epochs=1)
    samples, interpolations = reduction.vae_grids(vae, x_test[:6], str(tmp_path), n=3, steps=4)
    # A 3x3 grid of 8x8 samples, 1-pixel gaps, each cell upscaled to 48 px (x6).
    assert Image.open(samples).size == ((3 * (8 + 1) + 1) * 6,) * 2
    assert Image.open(interpolations).size[0] > Image.open(interpolations).size[1]
    with pytest.raises(UserError, match="2 images"):
        reduction.vae_grids(vae, x_test[:1], str(tmp_path))
    denoiser, _ = reduction.train_autoencoder("denoising_ae", x_train[:256], 8, epochs=1)
    result = reduction.denoising_psnr(denoiser, x_test[:64], level=0.3)
    assert set(result) == {"noisy", "denoised"}
    noisy = reduction.add_noise(x_test[:64], "gaussian", 0.3)
    assert result["noisy"] == pytest.approx(metrics.psnr(x_test[:64], noisy))
    assert 5.0 < result["noisy"] < 15.0  # sigma 0.3 (clipped) is about 11-12 dB
