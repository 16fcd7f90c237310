"""The study's report: `report.md` and `report.html`, organised by the questions it asks.

Each question (who samples best, who reconstructs best, whose codes are most useful, what
it cost) gets a verdict, a table of its columns with their direction and meaning, and its
pictures. A verdict that lies within the measurement noise says "too close to call": the
noise is the spread over seeds when there are several, else each figure's own standard
error (bootstrap for FID, over test images for reconstruction, binomial for accuracies).

`write_figures` draws the grids (samples, reconstructions, interpolations, with their row
labels in the picture), the 2-D embeddings of the codes, the training curves and the
quality-against-training-time plot.
"""

import csv
import dataclasses
import html
import math
import os
import re

import numpy as np

from keras_aegan import files
from keras_aegan.callbacks import save_grid
from keras_aegan.study.timeline import plot_timelines


@dataclasses.dataclass(frozen=True)
class Column:
    """A column of the report: its header, which way is better (`"low"`, `"high"` or
    `None` for a descriptive figure), its format, whether it is a contest (cost columns
    are facts, not wins), and what it measures."""

    header: str
    better: str | None
    fmt: str
    meaning: str
    contest: bool = True


COLUMNS = {
    "fid": Column("FID", "low", "{:.2f}", "Fréchet distance between Gaussian fits of the "
                  "evaluator's features of samples and of real test images (0: the same)."),
    "kid": Column("KID", "low", "{:.4f}", "kernel distance between the same features; "
                  "unbiased, so fairer than FID with few samples."),
    "precision": Column("precision", "high", "{:.3f}", "share of samples that fall among "
                        "real images (quality)."),
    "recall": Column("recall", "high", "{:.3f}", "share of real images the samples reach "
                     "(diversity)."),
    "density": Column("density", None, "{:.3f}", "about 1 when samples spread like real "
                      "images; above 1, samples crowd the commonest real images; below 1, "
                      "they sit where real images are rare. Not a score."),
    "coverage": Column("coverage", "high", "{:.3f}", "share of real images with a sample "
                       "nearby (diversity, robust to outliers)."),
    "classes_seen": Column("classes seen", "high", "{:.1f}", "classes the evaluator finds "
                           "among the samples (mode collapse drops some)."),
    "min_class_share": Column("min class share", "high", "{:.3f}", "share of the rarest "
                              "class among the samples (1/classes when balanced)."),
    "sharpness": Column("sharpness", None, "{:.2f}", "edge energy of the samples over that "
                        "of real images, in pixels: 1 is as sharp as real, well below 1 "
                        "blurry, above 1 noisy. Not a score: it says what FID can miss."),
    "memorisation_ratio": Column("memorisation", None, "{:.2f}", "distance of samples to "
                                 "their nearest training image over that of fresh real "
                                 "images: about 1 is healthy, well below 1 means copying."),
    "cas": Column("CAS", "high", "{:.3f}", "Classification Accuracy Score: real test "
                  "accuracy of a classifier trained only on the model's class-balanced "
                  "samples, labelled by the classes they were drawn for (conditional "
                  "models)."),
    "cas_evaluator_labels": Column("CAS (evaluator labels)", "high", "{:.3f}", "the same "
                                   "for an unconditional model, its samples labelled by "
                                   "the evaluator: it says whether the samples carry "
                                   "their class well enough to learn from, not whether "
                                   "the model knows the classes."),
    "mse": Column("recon MSE", "low", "{:.4f}", "mean squared error per pixel of test "
                  "images' reconstructions."),
    "psnr": Column("recon PSNR", "high", "{:.2f}", "peak signal-to-noise ratio of the "
                   "reconstructions, in dB."),
    "ssim": Column("recon SSIM", "high", "{:.3f}", "structural similarity of the "
                   "reconstructions (1: identical)."),
    "linear_probe": Column("linear probe acc", "high", "{:.3f}", "test accuracy of a "
                           "logistic regression on the model's features of images."),
    "knn": Column("k-NN acc", "high", "{:.3f}", "test accuracy of 5 nearest neighbours in "
                  "the model's feature space."),
    "train_seconds": Column("train s", "low", "{:.1f}", "training time (closed form for "
                            "a baseline).", contest=False),
    "parameters": Column("parameters", None, "{:,.0f}", "trainable and fixed weights.",
                         contest=False),
    "images_per_second": Column("images/s", "high", "{:,.0f}", "training images "
                                "processed per second.", contest=False),
}

# The questions the study asks: key, heading, the column that answers it, its columns,
# and what the reader should know about how it is measured.
QUESTIONS = (
    ("samples", "Who samples best?", "fid",
     ("fid", "kid", "precision", "recall", "density", "coverage", "classes_seen",
      "min_class_share", "sharpness", "memorisation_ratio", "cas", "cas_evaluator_labels"),
     "Generated images against real test images, on the features of the study's "
     "evaluator (a small classifier trained on this dataset's training images). FID here "
     "is not comparable with published Inception FIDs: other features, other data."),
    ("reconstruction", "Who reconstructs best?", "psnr", ("mse", "psnr", "ssim"),
     "Test images and their reconstructions. A GAN has no encoder: it reconstructs by "
     "searching its noise for the closest image."),
    ("codes", "Whose codes are most useful?", "linear_probe", ("linear_probe", "knn"),
     "Probes trained on the features of training images (an autoencoder's code, a GAN "
     "discriminator's last hidden layer), tested on test images."),
    ("cost", "What did it cost?", None, ("train_seconds", "parameters", "images_per_second"),
     "Facts, not contests: a closed-form baseline is not 'faster' at learning."),
)
FAMILIES = ("autoencoder", "gan", "baseline")


# ------------------------------------------------------------------------------ verdicts


def _uncertainty(entry, key):
    value = entry.get(f"{key}_se")
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def _too_close(best, second, key):
    """Within twice the combined uncertainty of the two figures."""
    a, b = _uncertainty(best, key), _uncertainty(second, key)
    if a is None or b is None:
        return False
    return abs(best[key] - second[key]) <= 2.0 * math.hypot(a, b)


def _figure(entry, key):
    column = COLUMNS[key]
    text = column.fmt.format(entry[key])
    noise = _uncertainty(entry, key)
    return text + (f" ± {column.fmt.format(noise)}" if noise else "")


def _ranked(summary, key):
    better = COLUMNS[key].better
    scored = [e for e in summary if isinstance(e.get(key), (int, float))
              and math.isfinite(e[key])]
    return sorted(scored, key=lambda e: e[key], reverse=better == "high")


def winners(summary):
    """Per contest column: the best model and the best of each other family, a tie, or
    "too close to call" when the runner-up is within the noise (see the module doc)."""
    lines = []
    tally = {}
    for key, column in COLUMNS.items():
        ranked = _ranked(summary, key)
        if not column.better or not column.contest or len(ranked) < 2:
            continue
        best, second = ranked[0], ranked[1]
        tied = [e["model"] for e in ranked if e[key] == best[key]]
        if len(tied) > 1:
            lines.append(f"- **{column.header}**: a tie at {column.fmt.format(best[key])} "
                         f"({', '.join(tied)})")
            continue
        if _too_close(best, second, key):
            lines.append(f"- **{column.header}**: too close to call between {best['model']} "
                         f"({_figure(best, key)}) and {second['model']} "
                         f"({_figure(second, key)})")
            continue
        tally[best["family"]] = tally.get(best["family"], 0) + 1
        others = []
        for family in FAMILIES:
            members = [e for e in ranked if e["family"] == family and e is not best]
            if members and family != best["family"]:
                rival = members[0]
                others.append(f"best {family} {rival['model']} "
                              f"{column.fmt.format(rival[key])}")
        lines.append(f"- **{column.header}**: {best['model']} ({best['family']}) "
                     f"{column.fmt.format(best[key])}"
                     + (f"; {', '.join(others)}" if others else ""))
    if tally:
        ranking = ", ".join(f"{family} {count}" for family, count in
                            sorted(tally.items(), key=lambda kv: -kv[1]))
        lines.insert(0, f"Columns won, by family: {ranking}.")
    return lines


def verdict(summary, key):
    """One sentence answering a question by its deciding column."""
    column = COLUMNS[key]
    ranked = _ranked(summary, key)
    if not ranked:
        return "no model was measured on this."
    word = "lowest" if column.better == "low" else "highest"
    best = ranked[0]
    if len(ranked) > 1 and _too_close(best, ranked[1], key):
        close = [e for e in ranked if _too_close(best, e, key) or e is best]
        names = ", ".join(f"{e['model']} ({_figure(e, key)})" for e in close)
        return f"too close to call: {names} are within the noise on {column.header}."
    text = f"**{best['model']}** ({best['family']}), {word} {column.header} {_figure(best, key)}"
    rivals = []
    for family in FAMILIES:
        members = [e for e in ranked if e["family"] == family and e is not best]
        if members and family != best["family"]:
            rivals.append(f"the best {family}, {members[0]['model']}, "
                          f"{_figure(members[0], key)}")
    return text + ("; " + "; ".join(rivals) if rivals else "") + "."


def _cost_verdict(summary):
    trained = [e for e in summary if e["family"] != "baseline" and "images_per_second" in e]
    if not trained:
        return "no trained model."
    fastest = max(trained, key=lambda e: e["images_per_second"])
    smallest = min(trained, key=lambda e: e.get("parameters", math.inf))
    return (f"the fastest to train per image is **{fastest['model']}** "
            f"({fastest['images_per_second']:,.0f} images/s); the smallest is "
            f"{smallest['model']} ({smallest.get('parameters', 0):,.0f} parameters).")


# -------------------------------------------------------------------------------- tables


def _cell(entry, key, seeds):
    if key not in entry:
        return "—"
    column = COLUMNS[key]
    text = column.fmt.format(entry[key])
    if seeds > 1 and column.better is not None:
        text += " ± " + column.fmt.format(entry[f"{key}_std"])
    return text


def _arrow(column):
    return {"low": " ↓", "high": " ↑"}.get(column.better, "")


def _table(summary, keys, seeds):
    keys = [k for k in keys if any(k in e for e in summary)]
    if not keys:
        return []
    header = "| model | family | " + " | ".join(
        COLUMNS[k].header + _arrow(COLUMNS[k]) for k in keys) + " |"
    rule = "|---|---|" + "---|" * len(keys)
    return [header, rule] + [
        f"| {e['model']} | {e['family']} | " + " | ".join(_cell(e, k, seeds) for k in keys)
        + " |" for e in summary]


def _legend(summary, keys):
    return [f"- **{COLUMNS[k].header}**{_arrow(COLUMNS[k])}: {COLUMNS[k].meaning}"
            for k in keys if any(k in e for e in summary)]


# -------------------------------------------------------------------------------- report


def model_done(name, seed, row, seconds):
    """The start of a task study's progress line for one finished model: its status, its
    training seconds when it trained, and the seconds spent on it in all (training,
    scoring, export)."""
    trained = (f" ({row['train_seconds']:.0f} s of training)"
               if row.get("status") == "trained" and row.get("train_seconds") else "")
    return f"{name} seed {seed}: {row['status']}{trained}, {seconds:.0f} s in all; "


def write_report(config, results):
    """Write `report.md` and `report.html` from a study's results."""
    summary, seeds = results["summary"], len(results["seeds"])
    figure_rows = {k: ", ".join(v) for k, v in results.get("figure_rows", {}).items()}
    evaluator = results["evaluator"]
    lines = [
        f"# Study {results['study']}",
        "",
        f"Dataset `{results['dataset']}`, budget {results['budget']} per model, seeds "
        f"{', '.join(map(str, results['seeds']))}"
        + (" (mean ± std over seeds)" if seeds > 1 else "") + ". "
        + "↓: lower is better, ↑: higher is better; a column without an arrow describes. "
        + "Verdicts within the noise say so.",
        "",
        f"Evaluator: `{os.path.basename(evaluator['path'])}`"
        + (f", test accuracy {evaluator['test_accuracy']:.4f}"
           if evaluator["test_accuracy"] is not None else "") + ".",
        "",
        *[f"> {note}" for note in results["notes"]],
        "",
        "## The verdicts",
        "",
    ]
    for key, question, deciding, _, _ in QUESTIONS:
        answer = verdict(summary, deciding) if deciding else _cost_verdict(summary)
        lines.append(f"- **{question}** {answer}")
    pictures = {
        "samples": [f"Samples (rows, top to bottom: {figure_rows.get('samples', '')}):", "",
                    "![samples](samples.png)", "",
                    "Quality against training time (each model measured a few times while "
                    "it trained; the measuring is not charged to it):", "",
                    "![quality](quality.png)", "",
                    "Interpolations between two test images' codes, or two noise vectors "
                    f"for GANs (rows: {figure_rows.get('interpolations', '')}):", "",
                    "![interpolations](interpolations.png)"],
        "reconstruction": [f"Reconstructions of test images (rows: "
                           f"{figure_rows.get('reconstructions', '')}):", "",
                           "![reconstructions](reconstructions.png)"],
        "codes": ["Features of test images projected to 2-D by PCA, coloured by label:", "",
                  "![embeddings](embeddings.png)"],
        "cost": ["Training curves (solid: training loss, dashed: validation loss):", "",
                 "![curves](curves.png)"],
    }
    for key, question, _, keys, about in QUESTIONS:
        table = _table(summary, keys, seeds)
        if not table:
            continue
        lines += ["", f"## {question}", "", about, "", *table, "", *_legend(summary, keys), "",
                  *[p for p in pictures[key]
                    if not p.startswith("![") or _exists(config, p)]]
    samplers = sorted({f"{r['model']}: {r['sampler']}" for r in results["rows"]})
    exports = sorted({f"{r['model']}: `{_relative(r['export'], config.path)}`"
                      for r in results["rows"] if "export" in r})
    lines += [
        "",
        "## Who won what",
        "",
        *winners(summary),
        "",
        "## Details",
        "",
        "How each model samples: " + "; ".join(samplers) + ".",
        "",
        ("Exports (SavedModel and TF Lite, checked for parity): " + "; ".join(exports) + ".")
        if exports else "No exports.",
        "",
        "Full figures per seed: `results.json`; the tables as CSV: `results.csv`.",
    ]
    text = "\n".join(lines) + "\n"
    files.write_text(os.path.join(config.path, "report.md"), text)
    files.write_text(os.path.join(config.path, "report.html"), markdown_to_html(text))


def _exists(config, picture):
    name = re.fullmatch(r"!\[.*\]\((.*)\)", picture)[1]
    return os.path.exists(os.path.join(config.path, name))


def _relative(path, start):
    """A path as the report (in `start`) can link it; messages stay as they are."""
    if not isinstance(path, str) or path.startswith("failed") or not os.path.exists(path):
        return path
    return os.path.relpath(path, start)


def markdown_to_html(text, title="keras_aegan study"):
    """The report's small Markdown subset (headings, tables, images, lists, quotes, bold,
    code) as a standalone HTML page that fits a laptop screen."""
    out, in_table, in_list = [], False, False
    for line in text.splitlines():
        escaped = html.escape(line)
        escaped = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escaped)
        escaped = re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set(line) <= set("|-"):
                continue
            tag = "th" if not in_table else "td"
            if not in_table:
                out.append("<div class='scroll'><table>")
                in_table = True
            out.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells)
                       + "</tr>")
            continue
        if in_table:
            out.append("</table></div>")
            in_table = False
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{escaped[2:]}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        image = re.fullmatch(r"!\[(.*)\]\((.*)\)", line)
        if image:
            out.append(f'<p><img alt="{html.escape(image[1])}" src="{html.escape(image[2])}">'
                       "</p>")
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{escaped[level:].strip()}</h{level}>")
        elif line.startswith("> "):
            out.append(f"<blockquote>{escaped[5:]}</blockquote>")
        elif line.strip():
            out.append(f"<p>{escaped}</p>")
    if in_table:
        out.append("</table></div>")
    if in_list:
        out.append("</ul>")
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;"
             "line-height:1.4}.scroll{overflow-x:auto}table{border-collapse:collapse;"
             "font-size:14px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right;"
             "white-space:nowrap}td:first-child,th:first-child,td:nth-child(2),"
             "th:nth-child(2){text-align:left}img{max-width:100%}"
             "blockquote{color:#555;border-left:3px solid #ccc;margin-left:0;padding-left:1em}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{style}</style></head><body>\n" + "\n".join(out)
            + "\n</body></html>\n")


# ------------------------------------------------------------------------------ pictures


def write_figures(config, subjects, test_x, test_y, timelines=None):
    """Draw the study's pictures from its subjects; returns the row names of each grid."""
    from keras_aegan.reduction import embedding_plot

    names = list(subjects)
    rows = {"samples": [], "reconstructions": ["originals"], "interpolations": []}
    sample_rows = []
    for n in names:
        samples = subjects[n].sample(12, seed=99)
        if samples is not None:
            sample_rows.append(samples)
            rows["samples"].append(n)
    if sample_rows:
        save_grid(os.path.join(config.path, "samples.png"), sample_rows,
                  labels=rows["samples"])
    recon_rows = [test_x[:12]]
    for n in names:
        recon = subjects[n].reconstruct(test_x[:12], steps=50)
        if recon is not None:
            recon_rows.append(recon)
            rows["reconstructions"].append(n)
    save_grid(os.path.join(config.path, "reconstructions.png"), recon_rows,
              labels=rows["reconstructions"])
    interp = []
    for n in names:
        line = subjects[n].interpolate(test_x[0], test_x[1])
        if line is not None:
            interp.append(line)
            rows["interpolations"].append(n)
    if interp:
        save_grid(os.path.join(config.path, "interpolations.png"), interp,
                  labels=rows["interpolations"])
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
        plot_timelines(os.path.join(config.path, "quality.png"), timelines)
    return rows


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


def write_csv(path, summary):
    """The summary table as CSV: one row per model, means then standard deviations."""
    keys = ["model", "family", "seeds"]
    keys += [k for k in COLUMNS if any(k in e for e in summary)]
    keys += [f"{k}_std" for k in COLUMNS if any(f"{k}_std" in e for e in summary)]
    with files.atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, keys, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(summary)
