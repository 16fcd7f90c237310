"""The pictures of the sequence studies (`next_frame`, `timeseries`)."""

import os

import numpy as np

from keras_aegan import files
from keras_aegan.apply import frames as video_files
from keras_aegan.evaluation import sequence_metrics
from keras_aegan.evaluation.pictures import save_grid


def video_pictures(path, observed, future, shown, summary):
    """`strip.png` (observed | true | each model's prediction, three sequences),
    `<model>.gif` per model and `per_step.png` (the summary's scores by future step)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    for i in range(min(3, len(observed))):
        rows.extend([observed[i], future[i], *[shown[name][i] for name in shown]])
    save_grid(os.path.join(path, "strip.png"), rows, min_cell=32)
    for name, predicted in shown.items():
        video_files.save_gif(os.path.join(path, f"{name}.gif"), observed[0], future[0],
                             predicted[0])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for entry in summary:
        steps = np.arange(1, len(entry["mse_per_step"]) + 1)
        axes[0].plot(steps, entry["mse_per_step"], marker="o", label=entry["model"])
        axes[1].plot(steps, entry["ssim_per_step"], marker="o", label=entry["model"])
    for label, value in sequence_metrics.PUBLISHED_MOVING_MNIST[:1]:
        axes[0].axhline(value, color="grey", linestyle="--", label=f"{label} (mean)")
    axes[0].set(xlabel="future frame", ylabel="MSE per frame")
    axes[1].set(xlabel="future frame", ylabel="SSIM")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    with files.atomic_path(os.path.join(path, "per_step.png")) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)


def series_pictures(path, real, shown, samples):
    """`embeddings.png` (PCA and t-SNE of real vs each model's windows) and `samples.png`
    (line charts: real, then each model)."""
    from keras_aegan.models.timeseries import series_images

    sequence_metrics.embedding_plot(os.path.join(path, "embeddings.png"), real, shown,
                                    samples=samples)
    save_grid(os.path.join(path, "samples.png"),
              [series_images(real[:12]), *[series_images(shown[n][:12]) for n in shown]])
