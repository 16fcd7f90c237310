"""The text study's picture and report: held-out hits against novelty along each model's
temperature curve (`curve.png`), samples of each model marked by what they are, and the
report's words."""

from keras_aegan.studies import report

NEURAL = ("autoencoder", "gan")
# Line styles by family: the n-gram baselines dotted, the GAN dashed.
_STYLES = {"autoencoder": "-", "gan": "--", "baseline": ":"}


def curve_picture(path, rows, seed, novelty):
    """Held-out hits (y) against novelty (x) at each sampling temperature of each model
    (the rows of `seed`), the temperatures written beside the points, the novelty bar
    drawn as a vertical line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5))
    for row in rows:
        if row.get("seed") != seed or not row.get("sweep"):
            continue
        points = sorted(row["sweep"], key=lambda p: p["temperature"])
        x = [p["novelty"] for p in points]
        y = [100 * p["held_out_hits"] for p in points]
        line, = ax.plot(x, y, _STYLES.get(row["family"], "-"), marker="o",
                        label=f"{row['model']} ({row['family']})")
        for p, xi, yi in zip(points, x, y):
            ax.annotate(f"{p['temperature']:g}", (xi, yi), textcoords="offset points",
                        xytext=(4, 3), fontsize=7, color=line.get_color())
    ax.axvline(novelty, color="grey", linewidth=0.8)
    ax.set_xlabel("novelty (share of samples not in the training list)")
    ax.set_ylabel("held-out hits (% of samples that are unseen real items)")
    ax.set_title("Quality against novelty; points labelled by sampling temperature")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def shown_samples(answers, data, count):
    """`{model: [[item, mark], ...]}`: the first `count` samples of each model at
    temperature 1, each marked `hit` (a test item), `copy` (a training item) or `new`."""
    train, test = set(data.train), set(data.test)
    shown = {}
    for name, answer in answers.items():
        samples = answer.get(1.0) or next(iter(answer.values()))
        shown[name] = [[s, "hit" if s in test else "copy" if s in train else "new"]
                       for s in samples[:count]]
    return shown


def _markdown(item, mark):
    text = "".join(f"\\{c}" if c in "\\`*_{}[]()#+-.!|<>~" else c for c in item) or "∅"
    return {"hit": f"**{text}**", "copy": f"*{text}*"}.get(mark, text)


def samples_table(shown):
    """The shown samples, a column per model (Markdown lines)."""
    names = list(shown)
    if not names:
        return []
    rows = max(len(v) for v in shown.values())
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for i in range(rows):
        lines.append("| " + " | ".join(_markdown(*shown[n][i]) if i < len(shown[n]) else ""
                                       for n in names) + " |")
    return lines


def findings(summary, novelty):
    """The headline: the best neural model's hits at the novelty bar against each
    baseline's, and where the GAN stands."""
    key = "hits_at_novelty"
    scored = [e for e in summary if e.get(key) is not None and e["family"] != "reference"]
    lines = []
    unscored = [e["model"] for e in summary if e["family"] != "reference"
                and e.get(key) is None]
    if unscored:
        lines.append(f"- No point of {', '.join(unscored)}'s temperature curve reached "
                     f"novelty {novelty:g}: they copy their training list too much.")
    neural = sorted((e for e in scored if e["family"] in NEURAL), key=lambda e: -e[key])
    baselines = [e for e in scored if e["family"] == "baseline"]
    if neural:
        best = neural[0]
        lines.append(f"- Best neural model at novelty ≥ {novelty:g}: **{best['model']}** "
                     f"({best['family']}), {best[key]:.2%} of its samples are unseen real "
                     "items.")
        for base in baselines:
            word = "at least" if best[key] >= base[key] else "below"
            close = report.too_close(best, base, key)
            lines.append(f"  - {word} {base['model']}'s {base[key]:.2%}"
                         + (" (within the noise)" if close else "") + ".")
    order = sorted(scored, key=lambda e: -e[key])
    for gan in (e for e in scored if e["family"] == "gan"):
        rank = order.index(gan) + 1
        lines.append(f"- The GAN {gan['model']} ranks {rank} of {len(order)} at novelty ≥ "
                     f"{novelty:g} ({gan[key]:.2%}); at temperature 1 its samples are "
                     f"{gan['novelty']:.0%} new and {gan['diversity']:.0%} distinct"
                     + (f", and a classifier tells them from real items "
                        f"{gan['two_sample']:.0%} of the time" if "two_sample" in gan
                        else "") + ".")
    return lines


def report_lines(config, results, tables):
    """The report's Markdown after its title."""
    temperatures = ", ".join(f"{t:g}" for t in results["temperatures"])
    shown = results["pictures"]["samples"]
    count = max((len(v) for v in shown.values()), default=0)
    return [
        f"Dataset `{results['dataset']}`: {results['train_items']:,} training and "
        f"{results['test_items']:,} test items (each distinct item on one side of the "
        f"split only), {len(results['characters'])} characters, at most "
        f"{results['max_length']} a item. Each model drew {results['samples']:,} samples "
        f"at each temperature ({temperatures}; models without a temperature at 1); the "
        "table's row is temperature 1, as the model was trained. The n-gram baselines "
        "are fitted on the training items (their train s is that fit).", "",
        "## Results", "", *tables.table(), "", *tables.legend(), "", report.ARROWS, "",
        "The reference row scores held-out real items (the validation split) the same "
        "way: the floor of each distance and of the two-sample accuracy.", "",
        "## Findings", "", *findings(results["summary"], results["novelty"]), "",
        *report.winners([e for e in results["summary"] if e["family"] != "reference"],
                        tables.columns), "",
        "## Held-out hits against novelty", "",
        "A colder temperature makes a model surer: more real items, but more copies of "
        "its training list and fewer distinct items. Each curve is one model at each "
        "temperature (labelled); up and to the right is better. The grey line is the "
        f"novelty bar of the first column ({results['novelty']:g}).", "",
        "![held-out hits against novelty](curve.png)", "",
        f"## {count} samples of each model", "",
        "At temperature 1, in the order drawn. " + "; ".join(
            ("**bold**: a real item of the test split the model never saw",
             "*italic*: a copy of a training item", "plain: new; ∅: an empty item")) + ".",
        "", *samples_table(shown), "",
        report.exports_line(results["rows"], config.path), "",
        "Every temperature's measures, per seed: `results.json`; the table as CSV: "
        "`results.csv`."]

