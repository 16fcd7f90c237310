"""The reduction study and its toolkit on the bundled 8x8 digits: baselines, code
classifiers, pictures, VAE grids, denoising PSNR (the pre-training study's few-label
classifiers: tests/test_study_kinds.py)."""

import numpy as np
import pytest
from PIL import Image

from keras_aegan.errors import UserError
from keras_aegan.evaluation import codes, metrics, pictures
from keras_aegan.evaluation.reconstruction_metrics import add_noise, denoising_psnr
from keras_aegan.studies.report import format_table
from keras_aegan.training.fixed_steps import train_registered


def train(name, x, latent_dim, epochs=1, **options):
    return train_registered(name, x, latent_dim=latent_dim, epochs=epochs, batch_size=128,
                            options=options)


@pytest.fixture(scope="module")
def digits(digits_source):
    x_train, y_train = digits_source.arrays("train")
    x_test, y_test = digits_source.arrays("test")
    return x_train, y_train, x_test, y_test


def test_pca_error_falls_with_k_and_matches_sklearn(digits):
    x_train, _, x_test, _ = digits
    errors = [metrics.mse(x_test, codes.pca_codes(x_train, x_test, k)[2],
                          per_image=True)
              for k in (2, 8, 32)]
    assert errors[0] > errors[1] > errors[2] > 0
    assert codes.pca_codes(x_train, x_test, 64)[2].shape == x_test.shape


def test_the_reduction_study_compares_codes_and_reuses_its_runs(tmp_path):
    import json

    from keras_aegan.config import StudyConfig
    from keras_aegan.studies import reduction, run_study

    lines = []
    config = StudyConfig(dataset="digits", task="reduction", models=("pca", "lle", "dense_ae"),
                         latent_dim=2, epochs=5, export=False, run_dir=str(tmp_path),
                         name="r", task_options={"lle_max_train": 400})
    results = run_study(config, log=lines.append)
    rows = {r["model"]: r for r in results["rows"]}
    # One progress line per method, as its row is done.
    assert [line.split(" seed")[0].split("] ")[1] for line in lines if line.startswith("[")] \
        == ["pca", "lle", "dense_ae"]
    assert rows["pca"]["family"] == "baseline" and rows["dense_ae"]["status"] == "trained"
    for row in rows.values():
        # Every method's 2-D codes classify above chance (0.1) on 10 classes.
        assert np.isfinite(row["error"]) and row["knn"] > 0.2 and row["logistic"] > 0.2, row
        assert row["knn_se"] > 0 and row["error_se"] > 0
    assert rows["pca"]["knn"] > 0.5 and rows["lle"]["note"] == "fit on 400 training images"
    text = (tmp_path / "r" / "report.md").read_text()
    assert "| model | family | error ↓ | k-NN ↑ | logistic ↑ | train s | parameters |" in text
    assert (tmp_path / "r" / "embeddings.png").exists()  # 2-D codes are drawn
    table = format_table(reduction.table_rows(results))
    assert table.count("\n") == 4 and "| dense_ae | 2 |" in table
    again = run_study(config, log=lambda *_: None)
    assert [r["status"] for r in again["rows"]] == ["computed", "computed", "reused"]
    assert again["rows"][2]["error"] == rows["dense_ae"]["error"]
    assert json.loads((tmp_path / "r" / "results.json").read_text())["code_size"] == 2


def test_code_accuracy_separable_codes():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 30)
    points = rng.normal(size=(90, 2)) * 0.1 + np.eye(3)[y][:, :2] * 5
    knn, logistic = codes.code_accuracy(points, y, points, y)
    assert knn == 1.0 and logistic == 1.0


def test_embedding_plot_and_feature_detectors(digits, tmp_path):
    x_train, y_train, x_test, y_test = digits
    pca = codes.pca_codes(x_train, x_test, 2)[1]
    path = pictures.embedding_plot(str(tmp_path / "embed.png"), {"PCA": pca, "copy": pca},
                                   y_test)
    assert Image.open(path).size[0] > 400
    with pytest.raises(UserError, match="embedding"):
        pictures.embedding_plot(str(tmp_path / "bad.png"), {"3d": np.zeros((5, 3))}, y_test[:5])
    dense, _ = train("dense_ae", x_train[:128], 4, units=(16,))
    image = Image.open(pictures.feature_detectors(dense, str(tmp_path / "dense.png")))
    assert image.size[0] > 8 * 8  # 8 columns of 8x8 unit pictures, upscaled
    conv, _ = train("conv_ae", x_train[:128], 4)
    assert pictures.feature_detectors(conv, str(tmp_path / "conv.png")).endswith("conv.png")
    recurrent, _ = train("recurrent_ae", x_train[:64], 4)
    with pytest.raises(UserError, match="recurrent"):
        pictures.feature_detectors(recurrent, str(tmp_path / "rnn.png"))


def test_vae_grids_and_denoising_psnr(digits, tmp_path):
    x_train, _, x_test, _ = digits
    vae, _ = train("vae", x_train[:256], 2)
    samples, interpolations = pictures.vae_grids(vae, x_test[:6], str(tmp_path), n=3, steps=4)
    # A 3x3 grid of 8x8 samples, 1-pixel gaps, each cell upscaled to 48 px (x6).
    assert Image.open(samples).size == ((3 * (8 + 1) + 1) * 6,) * 2
    assert Image.open(interpolations).size[0] > Image.open(interpolations).size[1]
    with pytest.raises(UserError, match="2 images"):
        pictures.vae_grids(vae, x_test[:1], str(tmp_path))
    denoiser, _ = train("denoising_ae", x_train[:256], 8)
    result = denoising_psnr(denoiser, x_test[:64], level=0.3)
    assert set(result) == {"noisy", "denoised"}
    noisy = add_noise(x_test[:64], "gaussian", 0.3)
    assert result["noisy"] == pytest.approx(metrics.psnr(x_test[:64], noisy))
    assert 5.0 < result["noisy"] < 15.0  # sigma 0.3 (clipped) is about 11-12 dB
