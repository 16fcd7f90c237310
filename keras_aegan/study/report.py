"""The study's report: `report.md` and `report.html`, the tables, the pictures, the curves.

`write_report(config, results)` turns the results of `run_study` into Markdown and HTML;
`write_figures` draws the grids (samples, reconstructions, interpolations), the 2-D
embeddings of the codes and the training curves.
"""

import csv
import html
import math
import os
import re

import numpy as np

from keras_aegan import files
from keras_aegan.callbacks import save_grid

# name -> (header, better: "low" / "high" / None, format)
COLUMNS = {
    "fid": ("FID", "low", "{:.2f}"),
    "kid": ("KID", "low", "{:.4f}"),
    "precision": ("precision", "high", "{:.3f}"),
    "recall": ("recall", "high", "{:.3f}"),
    "density": ("density", "high", "{:.3f}"),
    "coverage": ("coverage", "high", "{:.3f}"),
    "classes_seen": ("classes seen", "high", "{:.1f}"),
    "min_class_share": ("min class share", "high", "{:.3f}"),
    "memorisation_ratio": ("memorisation ratio", None, "{:.2f}"),
    "mse": ("recon MSE", "low", "{:.4f}"),
    "psnr": ("recon PSNR", "high", "{:.2f}"),
    "ssim": ("recon SSIM", "high", "{:.3f}"),
    "linear_probe": ("linear probe acc", "high", "{:.3f}"),
    "knn": ("k-NN acc", "high", "{:.3f}"),
    "train_seconds": ("train s", "low", "{:.1f}"),
    "parameters": ("parameters", None, "{:,.0f}"),
    "images_per_second": ("images/s", "high", "{:,.0f}"),
}



def _cell(entry, key, seeds):
    if key not in entry:
        return "—"
    text = COLUMNS[key][2].format(entry[key])
    if seeds > 1 and COLUMNS[key][1] is not None:
        text += " ± " + COLUMNS[key][2].format(entry[f"{key}_std"])
    return text


def winners(summary):
    """Per column with a direction: the best model and the best of each family."""
    lines = []
    tally = {}
    for key, (header, better, fmt) in COLUMNS.items():
        scored = [e for e in summary if key in e and math.isfinite(e[key])]
        if not better or len(scored) < 2:
            continue
        pick = min if better == "low" else max
        best = pick(scored, key=lambda e: e[key])
        tied = [e["model"] for e in scored if e[key] == best[key]]
        if len(tied) > 1:
            lines.append(f"- **{header}**: a tie at {fmt.format(best[key])} "
                         f"({', '.join(tied)})")
            continue
        tally[best["family"]] = tally.get(best["family"], 0) + 1
        others = []
        for family in ("autoencoder", "gan", "baseline"):
            members = [e for e in scored if e["family"] == family and e is not best]
            if members and family != best["family"]:
                rival = pick(members, key=lambda e: e[key])
                others.append(f"best {family} {rival['model']} {fmt.format(rival[key])}")
        lines.append(f"- **{header}**: {best['model']} ({best['family']}) "
                     f"{fmt.format(best[key])}" + (f"; {', '.join(others)}" if others else ""))
    if tally:
        ranking = ", ".join(f"{family} {count}" for family, count in
                            sorted(tally.items(), key=lambda kv: -kv[1]))
        lines.insert(0, f"Columns won, by family: {ranking}.")
    return lines


def write_report(config, results):
    """Write `report.md` and `report.html` from a study's results."""
    summary, seeds = results["summary"], len(results["seeds"])
    keys = [k for k in COLUMNS if any(k in e for e in summary)]
    header = "| model | family | " + " | ".join(COLUMNS[k][0] for k in keys) + " |"
    rule = "|---|---|" + "---|" * len(keys)
    table = [header, rule] + [
        f"| {e['model']} | {e['family']} | " + " | ".join(_cell(e, k, seeds) for k in keys) + " |"
        for e in summary]
    samplers = sorted({f"{r['model']}: {r['sampler']}" for r in results["rows"]})
    figure_rows = {k: ", ".join(v) for k, v in results.get("figure_rows", {}).items()}
    exports = sorted({f"{r['model']}: `{r['export']}`" for r in results["rows"] if "export" in r})
    lines = [
        f"# Study {results['study']}",
        "",
        f"Dataset `{results['dataset']}`, budget {results['budget']} per model, seeds "
        f"{', '.join(map(str, results['seeds']))}"
        + (" (mean ± std over seeds)" if seeds > 1 else "") + ".",
        f"Evaluator: {results['evaluator']['path']}"
        + (f" (test accuracy {results['evaluator']['test_accuracy']:.4f})"
           if results['evaluator']['test_accuracy'] is not None else ""),
        "",
        *[f"> {note}" for note in results["notes"]],
        "## Results",
        "",
        *table,
        "",
        "Sample metrics compare generated with real test images on evaluator features; "
        "reconstruction uses test images (GANs by latent optimisation); the probes train on "
        "codes of training images (GANs: discriminator features) and test on test images. "
        "A memorisation ratio well below 1 means samples sit closer to training images "
        "than real test images do.",
        "",
        "## Who won what",
        "",
        *winners(summary),
        "",
        "## Pictures",
        "",
        f"Samples (rows, top to bottom: {figure_rows.get('samples', '')}):",
        "",
        "![samples](samples.png)",
        "",
        "Reconstructions of test images (rows: "
        f"{figure_rows.get('reconstructions', '')}):",
        "",
        "![reconstructions](reconstructions.png)",
        "",
        "Interpolations between two test images' codes, or two noise vectors for GANs (rows: "
        f"{figure_rows.get('interpolations', '')}):",
        "",
        "![interpolations](interpolations.png)",
        "",
        "Codes of test images projected to 2-D by PCA, coloured by label:",
        "",
        "![embeddings](embeddings.png)",
        "",
        "Training curves:",
        "",
        "![curves](curves.png)",
        "",
        "## Details",
        "",
        "How each model samples: " + "; ".join(samplers) + ".",
        "",
        ("Exports: " + "; ".join(exports) + ".") if exports else "No exports.",
        "",
        "Full figures per seed: `results.json`; the table as CSV: `results.csv`.",
    ]
    text = "\n".join(lines) + "\n"
    files.write_text(os.path.join(config.path, "report.md"), text)
    files.write_text(os.path.join(config.path, "report.html"), _markdown_to_html(text))


def _markdown_to_html(text):
    """The report's small markdown subset (headings, tables, images, lists) as HTML."""
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
                out.append("<table>")
                in_table = True
            out.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells)
                       + "</tr>")
            continue
        if in_table:
            out.append("</table>")
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
            out.append(f'<p><img alt="{html.escape(image[1])}" src="{html.escape(image[2])}"></p>')
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{escaped[level:].strip()}</h{level}>")
        elif line.startswith("> "):
            out.append(f"<blockquote>{escaped[5:]}</blockquote>")
        elif line.strip():
            out.append(f"<p>{escaped}</p>")
    if in_table:
        out.append("</table>")
    if in_list:
        out.append("</ul>")
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
             "text-align:right}img{max-width:100%}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>keras_aegan study"
            f"</title><style>{style}</style></head><body>\n" + "\n".join(out)
            + "\n</body></html>\n")


def write_figures(config, subjects, test_x, test_y):
    """Draw the study's pictures from its subjects; returns the row names of each grid."""
    from keras_aegan.reduction import embedding_plot

    names = list(subjects)
    rows = {"samples": names, "reconstructions": ["originals"], "interpolations": []}
    save_grid(os.path.join(config.path, "samples.png"),
              [subjects[n].sample(12, seed=99) for n in names])
    recon_rows = [test_x[:12]]
    for n in names:
        recon = subjects[n].reconstruct(test_x[:12], steps=50)
        if recon is not None:
            recon_rows.append(recon)
            rows["reconstructions"].append(n)
    save_grid(os.path.join(config.path, "reconstructions.png"), recon_rows)
    interp = []
    for n in names:
        line = subjects[n].interpolate(test_x[0], test_x[1])
        if line is not None:
            interp.append(line)
            rows["interpolations"].append(n)
    if interp:
        save_grid(os.path.join(config.path, "interpolations.png"), interp)
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

    histories = {n: h for n in names if (h := _history(config, n)) is not None}
    fig, axes = plt.subplots(1, max(1, len(histories)), figsize=(4 * max(1, len(histories)), 3),
                             squeeze=False)
    for ax, (name, rows) in zip(axes[0], histories.items()):
        for key in rows[0] if rows else []:
            if key.endswith("loss") and not key.startswith("val_"):
                ax.plot([float(r[key]) for r in rows if r[key] not in ("", "NA")], label=key)
        ax.legend(fontsize=7)
        ax.set_title(name)
        ax.set_xlabel("epoch")
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
