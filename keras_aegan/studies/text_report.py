"""The text study's picture and report: held-out hits against novelty along each model's
temperature curve (`curve.png`), samples of each model marked by what they are, and the
report's words."""

import math

from keras_aegan.studies import report

NEURAL = ("autoencoder", "gan")
# Line styles by family: the n-gram baselines dotted, the GAN dashed.
_STYLES = {"autoencoder": "-", "gan": "--", "baseline": ":"}


def curve_picture(path, summary, novelty):
    """Held-out hits (y) against novelty (x) at each sampling temperature of each model
    (means over seeds), the temperatures written beside the points, the novelty bar drawn
    as a vertical line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5))
    for entry in summary:
        if not entry.get("curve_novelty"):
            continue
        x, y = entry["curve_novelty"], [100 * h for h in entry["curve_hits"]]
        line, = ax.plot(x, y, _STYLES.get(entry["family"], "-"), marker="o",
                        label=f"{entry['model']} ({entry['family']})")
        for t, xi, yi in zip(entry["curve_temperatures"], x, y):
            ax.annotate(f"{t:g}", (xi, yi), textcoords="offset points", xytext=(4, 3),
                        fontsize=7, color=line.get_color())
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


def rivals_at(entry, summary, samples):
    """Each baseline's held-out hits on its own curve at the novelty of `entry`'s point at
    the bar: `{baseline: (hits, novelty read, standard error)}` (`samples`: a
    temperature's samples per seed, for the binomial standard error)."""
    from keras_aegan.studies.text import hits_at

    rivals = {}
    for e in summary:
        if e["family"] == "baseline" and e.get("curve_novelty"):
            hits, read = hits_at(e["curve_novelty"], e["curve_hits"], entry["novelty_there"])
            rivals[e["model"]] = (hits, read,
                                  math.sqrt(hits * (1 - hits) / (samples * e["seeds"])))
    return rivals


def neural_at_bar(summary):
    """The neural models with a point at the novelty bar, the most held-out hits first."""
    return sorted((e for e in summary if e["family"] in NEURAL
                   and e.get("hits_at_novelty") is not None),
                  key=lambda e: -e["hits_at_novelty"])


def beats(entry, hits, se):
    """`at least` / `below`, and whether the gap is within twice the combined standard
    error of the two figures."""
    word = "at least" if entry["hits_at_novelty"] >= hits else "below"
    gap = abs(entry["hits_at_novelty"] - hits)
    return word, gap <= 2 * math.hypot(entry.get("hits_at_novelty_se") or 0.0, se)


def compared(entry, rivals):
    """`trigram 5.90% (at least it), fourgram ...`: a model against each baseline."""
    parts = []
    for name, (hits, read, se) in rivals.items():
        word, close = beats(entry, hits, se)
        where = "" if abs(read - entry["novelty_there"]) < 1e-9 else \
            f" at its nearest point, novelty {read:.1%}"
        parts.append(f"{name} {hits:.2%}{where} ({entry['model']} {word} it"
                     + (", within the noise" if close else "") + ")")
    return "; ".join(parts)


def place_at_bar(entry, summary, novelty):
    """`rank 2 of 4` on the first column (1: the most held-out hits at the bar; models
    with the same figure share the better rank, `(tied)`), or `never reaches novelty
    0.5`."""
    key = "hits_at_novelty"
    if entry.get(key) is None:
        return f"never reaches novelty {novelty:g}"
    scored = [e[key] for e in summary if e["family"] != "reference" and e.get(key) is not None]
    rank = 1 + sum(hits > entry[key] for hits in scored)
    tied = sum(hits == entry[key] for hits in scored) > 1
    return f"rank {rank} of {len(scored)}" + (" (tied)" if tied else "")


def findings(summary, novelty, samples):
    """The headline: each neural model's hits at the novelty bar against each baseline's
    at the same novelty, the best first, and where the GAN stands."""
    key = "hits_at_novelty"
    models = [e for e in summary if e["family"] != "reference"]
    lines = []
    unscored = [e["model"] for e in models if e.get(key) is None]
    if unscored:
        lines.append(f"- No point of {', '.join(unscored)}'s temperature curve reached "
                     f"novelty {novelty:g}.")
    for rank, entry in enumerate(neural_at_bar(summary)):
        lead = "Best neural model" if rank == 0 else "Then"
        rivals = rivals_at(entry, summary, samples)
        lines.append(f"- {lead} at novelty ≥ {novelty:g}: **{entry['model']}** "
                     f"({entry['family']}): {entry[key]:.2%} of its samples are unseen real "
                     f"items, at novelty {entry['novelty_there']:.1%}"
                     + (f"; at that novelty, {compared(entry, rivals)}" if rivals else "")
                     + ".")
    for gan in (e for e in models if e["family"] == "gan"):
        place = place_at_bar(gan, summary, novelty)
        if gan.get(key) is not None:
            place += " on the first column"
        lines.append(f"- The GAN {gan['model']}: {place}; at temperature 1 its samples are "
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
        "## Findings", "",
        *findings(results["summary"], results["novelty"], results["samples"]), "",
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

