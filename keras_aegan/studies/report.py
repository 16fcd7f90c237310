"""What every study's report shares: one table type, verdicts, the CSV, Markdown -> HTML.

A table is made of a kind's `Column`s (header with its direction arrow, format, meaning
for the legend) and the summary's entries (one per model, and reference rows). A figure
shows `± std` over seeds when there are several (or over a score's repeats). A verdict
within the measurement noise says "too close to call": the noise is each figure's
standard error (`<key>_se`: over seeds when there are several, else the figure's own,
e.g. bootstrap for FID, binomial for accuracies).

`report.md` is written as Markdown and `report.html` converted from it by the `markdown`
package (its `tables` extension), in a page that fits a laptop screen.
"""

import csv
import html
import math
import os

from keras_aegan import files

FAMILIES = ("autoencoder", "gan", "baseline")


# -------------------------------------------------------------------------------- tables


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def cell(entry, key, column, seeds):
    """One figure as the table shows it (`—` when absent)."""
    value = entry.get(key)
    if not _number(value):
        return "—"
    text = column.fmt.format(value)
    spread = entry.get(f"{key}_std")
    if column.better is not None and _number(spread) and (
            seeds > 1 or f"{key}_repeats" in entry):
        text += " ± " + column.fmt.format(spread)
    return text


class Tables:
    """The tables of one study: its columns and summary, drawn as Markdown.

    Args:
        summary: entries with `model`, `family` and figures by column key.
        columns: key -> `kinds.Column`, in table order.
        seeds: how many seeds the figures are means over.
    """

    def __init__(self, summary, columns, seeds):
        self.summary, self.columns, self.seeds = summary, columns, seeds

    def shown(self, keys=None):
        """The keys (of `keys`, default all columns) some entry has a figure for."""
        keys = self.columns if keys is None else keys
        return [k for k in keys if any(_number(e.get(k)) for e in self.summary)]

    def table(self, keys=None, extra=()):
        """Markdown lines: a header with arrows, a rule, one line per entry, then one per
        `extra` entry (published figures, shown but not summarised)."""
        keys = self.shown(keys)
        if not keys:
            return []
        lines = ["| model | family | " + " | ".join(
                     self.columns[k].header + self.columns[k].arrow for k in keys) + " |",
                 "|---|---|" + "---|" * len(keys)]
        return lines + [f"| {e['model']} | {e['family']} | " + " | ".join(
            cell(e, k, self.columns[k], self.seeds) for k in keys) + " |"
            for e in [*self.summary, *extra]]

    def legend(self, keys=None):
        """One line per shown column: header, arrow, meaning."""
        return [f"- **{self.columns[k].header}**{self.columns[k].arrow}: "
                f"{self.columns[k].meaning}" for k in self.shown(keys)]


ARROWS = ("↓: lower is better, ↑: higher is better; a column without an arrow describes. "
          "Verdicts within the noise say so.")


def write_csv(path, summary, columns):
    """The summary as CSV: one row per entry, means then standard deviations."""
    keys = ["model", "family", "seeds"]
    keys += [k for k in columns if any(k in e for e in summary)]
    keys += [f"{k}_std" for k in columns if any(f"{k}_std" in e for e in summary)]
    with files.atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, keys, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(summary)


# ------------------------------------------------------------------------------ verdicts


def _uncertainty(entry, key):
    value = entry.get(f"{key}_se")
    return value if _number(value) else None


def too_close(best, second, key):
    """Within twice the combined uncertainty of the two figures."""
    a, b = _uncertainty(best, key), _uncertainty(second, key)
    if a is None or b is None:
        return False
    return abs(best[key] - second[key]) <= 2.0 * math.hypot(a, b)


def figure(entry, key, column):
    """A figure with its uncertainty: `3.10 ± 0.20`."""
    text = column.fmt.format(entry[key])
    noise = _uncertainty(entry, key)
    return text + (f" ± {column.fmt.format(noise)}" if noise else "")


def ranked(summary, key, column):
    """The entries with a figure for `key`, best first."""
    scored = [e for e in summary if _number(e.get(key))]
    return sorted(scored, key=lambda e: e[key], reverse=column.better == "high")


def winners(summary, columns, families=FAMILIES):
    """Per contest column of `columns` (a study kind's): the best model and the best of
    each other family, a tie, or "too close to call" when the runner-up is within the
    noise."""
    lines, tally = [], {}
    for key, column in columns.items():
        order = ranked(summary, key, column)
        if not column.better or not column.contest or len(order) < 2:
            continue
        best, second = order[0], order[1]
        tied = [e["model"] for e in order if e[key] == best[key]]
        if len(tied) > 1:
            lines.append(f"- **{column.header}**: a tie at {column.fmt.format(best[key])} "
                         f"({', '.join(tied)})")
            continue
        if too_close(best, second, key):
            lines.append(f"- **{column.header}**: too close to call between {best['model']} "
                         f"({figure(best, key, column)}) and {second['model']} "
                         f"({figure(second, key, column)})")
            continue
        tally[best["family"]] = tally.get(best["family"], 0) + 1
        others = [f"best {family} {members[0]['model']} "
                  f"{column.fmt.format(members[0][key])}" for family in families
                  if family != best["family"]
                  and (members := [e for e in order if e["family"] == family])]
        lines.append(f"- **{column.header}**: {best['model']} ({best['family']}) "
                     f"{column.fmt.format(best[key])}"
                     + (f"; {', '.join(others)}" if others else ""))
    if tally:
        ranking = ", ".join(f"{family} {count}" for family, count in
                            sorted(tally.items(), key=lambda kv: -kv[1]))
        lines.insert(0, f"Columns won, by family: {ranking}.")
    return lines


def verdict(summary, key, column, families=FAMILIES):
    """One sentence answering a question by its deciding column."""
    order = ranked(summary, key, column)
    if not order:
        return "no model was measured on this."
    word = "lowest" if column.better == "low" else "highest"
    best = order[0]
    if len(order) > 1 and too_close(best, order[1], key):
        close = [e for e in order if too_close(best, e, key) or e is best]
        names = ", ".join(f"{e['model']} ({figure(e, key, column)})" for e in close)
        return f"too close to call: {names} are within the noise on {column.header}."
    text = (f"**{best['model']}** ({best['family']}), {word} {column.header} "
            f"{figure(best, key, column)}")
    rivals = [f"the best {family}, {members[0]['model']}, {figure(members[0], key, column)}"
              for family in families if family != best["family"]
              and (members := [e for e in order if e["family"] == family and e is not best])]
    return text + ("; " + "; ".join(rivals) if rivals else "") + "."


# -------------------------------------------------------------------------------- report


def model_done(name, seed, row, seconds):
    """The start of a model's progress line: its status, its training seconds when it
    trained, and the seconds spent on it in all (training, scoring, export)."""
    trained = (f" ({row['train_seconds']:.0f} s of training)"
               if row.get("status") == "trained" and row.get("train_seconds") else "")
    return f"{name} seed {seed}: {row['status']}{trained}, {seconds:.0f} s in all; "


def exports_line(rows, start):
    """The report's line listing each model's export, linked relative to the report."""
    exports = sorted({f"{r['model']}: `{relative(r['export'], start)}`" for r in rows
                      if "export" in r})
    return ("Exports: " + "; ".join(exports) + " (SavedModel and TF Lite, checked for "
            "parity).") if exports else "No exports."


def relative(path, start):
    """A path as the report (in `start`) can link it; messages stay as they are."""
    if not isinstance(path, str) or path.startswith("failed") or not os.path.exists(path):
        return path
    return os.path.relpath(path, start)


def write_report(path, lines, title="keras_aegan study"):
    """Write `report.md` (the lines) and `report.html` in the folder `path`."""
    text = "\n".join(lines) + "\n"
    files.write_text(os.path.join(path, "report.md"), text)
    files.write_text(os.path.join(path, "report.html"), markdown_to_html(text, title))


_STYLE = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;"
          "line-height:1.4}.scroll{overflow-x:auto}table{border-collapse:collapse;"
          "font-size:14px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right;"
          "white-space:nowrap}td:first-child,th:first-child,td:nth-child(2),"
          "th:nth-child(2){text-align:left}img{max-width:100%}"
          "blockquote{color:#555;border-left:3px solid #ccc;margin-left:0;padding-left:1em}")


def markdown_to_html(text, title="keras_aegan study"):
    """A report's Markdown as a standalone HTML page (wide tables scroll sideways)."""
    import markdown

    body = markdown.markdown(text, extensions=["tables"], output_format="html")
    body = body.replace("<table>", "<div class='scroll'><table>").replace(
        "</table>", "</table></div>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n")


def format_table(rows, columns=None):
    """Rows of dicts -> a Markdown table (floats to 4 significant figures)."""
    columns = columns or list(rows[0])

    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)
