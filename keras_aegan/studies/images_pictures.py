"""The image study's pictures: sample, reconstruction and interpolation grids (their row
labels in the picture), 2-D embeddings of the codes, training curves and quality against
training time; and the report's lines showing them."""

import csv
import os
import re

import numpy as np

from keras_aegan.evaluation.pictures import save_grid
from keras_aegan.studies.timeline import plot_timelines


def picture_lines(config, results):
    """The report's picture lines per question (those whose file exists)."""
    rows = {k: ", ".join(v) for k, v in results["pictures"].items()}
    pictures = {
        "samples": [f"Samples (rows, top to bottom: {rows.get('samples', '')}):", "",
                    "![samples](samples.png)", "",
                    "Quality against training (each model measured a few times while "
                    "it trained, against its steps, or its seconds when the budget was "
                    "seconds; the measuring is not charged to it):", "",
                    "![quality](quality.png)", "",
                    "Interpolations between two test images' codes, or two noise vectors "
                    f"for GANs (rows: {rows.get('interpolations', '')}):", "",
                    "![interpolations](interpolations.png)"],
        "reconstruction": [f"Reconstructions of test images (rows: "
                           f"{rows.get('reconstructions', '')}):", "",
                           "![reconstructions](reconstructions.png)"],
        "codes": ["Features of test images projected to 2-D by PCA, coloured by label:", "",
                  "![embeddings](embeddings.png)"],
        "cost": ["Training curves (solid: training loss, dashed: validation loss):", "",
                 "![curves](curves.png)"],
    }
    return {key: [line for line in lines if not line.startswith("![") or os.path.exists(
                os.path.join(config.path, re.fullmatch(r"!\[.*\]\((.*)\)", line)[1]))]
            for key, lines in pictures.items()}


def write_figures(config, subjects, test_x, test_y, timelines=None):
    """Draw the study's pictures from its subjects; returns the row names of each grid."""
    from keras_aegan.evaluation.pictures import embedding_plot

    names = list(subjects)
    rows = {
        "samples": _grid(config, "samples.png", subjects,
                         lambda subject: subject.sample(12, seed=99)),
        "reconstructions": _grid(config, "reconstructions.png", subjects,
                                 lambda subject: subject.reconstruct(test_x[:12], steps=50),
                                 first=test_x[:12], first_label="originals"),
        "interpolations": _grid(config, "interpolations.png", subjects,
                                lambda subject: subject.interpolate(test_x[0], test_x[1])),
    }
    from sklearn.decomposition import PCA

    embeddings = {}
    for n in names:
        codes = subjects[n].codes(test_x[:1000])
        if codes is not None and codes.shape[1] >= 2:
            embeddings[n] = PCA(2, random_state=0).fit_transform(codes)
    labels = test_y[:1000] if test_y is not None else np.zeros(min(1000, len(test_x)), int)
    if embeddings:
        embedding_plot(os.path.join(config.path, "embeddings.png"), embeddings, labels)
    _plot_curves(config, names)
    if timelines:
        plot_timelines(os.path.join(config.path, "quality.png"), timelines,
                       x="seconds" if config.budget_seconds else "steps")
    return rows


def _grid(config, file, subjects, draw, first=None, first_label=None):
    """Save the grid `file` of one row per subject that can draw one (`draw(subject)` is
    not `None`: a GAN cannot reconstruct), below an optional `first` row; returns the
    rows' labels. Nothing is written when there is no row."""
    rows, labels = ([], []) if first is None else ([first], [first_label])
    for name, subject in subjects.items():
        row = draw(subject)
        if row is not None:
            rows.append(row)
            labels.append(name)
    if rows:
        save_grid(os.path.join(config.path, file), rows, labels=labels)
    return labels


def _history(config, name):
    path = os.path.join(config.path, "models", f"{name}-seed{config.seeds[0]}", "history.csv")
    if not os.path.exists(path):
        return None  # not trained by fit (a baseline)
    with open(path) as f:
        return list(csv.DictReader(f))


def _plot_curves(config, names):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    histories = {n: h for n in names if (h := _history(config, n))}
    count = max(1, len(histories))
    fig, axes = plt.subplots(1, count, figsize=(3.6 * count, 3.2), squeeze=False)
    for ax, (name, rows) in zip(axes[0], histories.items()):
        epochs = [int(r["epoch"]) + 1 for r in rows]
        for i, key in enumerate(k for k in rows[0] if k.endswith("loss")
                                and not k.startswith("val_")):
            for series, style in ((key, "-"), (f"val_{key}", "--")):
                points = [(e, float(r[series])) for e, r in zip(epochs, rows)
                          if r.get(series) not in (None, "", "NA")]
                if points:
                    ax.plot(*zip(*points), style, label=series, color=f"C{i}")
        ax.set(title=name, xlabel="epoch", ylabel="loss")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(config.path, "curves.png"), dpi=90)
    plt.close(fig)
