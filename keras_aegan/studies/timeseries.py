"""The `timeseries` study: time-series generation by both families on TimeGAN's scores.

Data: a series source (`sines`, `statsmodels:NAME`, `csv:FILE`). Models: `timegan`,
`recurrent_gan` and `recurrent_vae`. Scores: TimeGAN's discriminative and predictive
scores (mean ± std over `repeats`), a spread ratio (does the model cover the data's
variety?), and the same scores for held-out real windows as the reference. Pictures:
`embeddings.png` (PCA and t-SNE of real vs synthetic) and `samples.png` (line charts).

Options: `repeats` (5), `disc_iterations` (2000), `disc_units` (the post-hoc classifier's
GRU units; default the paper's, half the channels: 1 for a single-channel series, which it
can barely judge), `pred_iterations` (5000), `synthetic` (windows drawn per model; default
as many as the training windows, at most 10,000), `pictures` (windows per kind in the
PCA/t-SNE picture, 1000). Any other option goes to the models' builders (`hidden`,
`units`, ...).
"""

import dataclasses

import numpy as np

from keras_aegan.errors import UserError
from keras_aegan.studies import kinds, report


def spread_ratio(real, synthetic):
    """Mean over steps and channels of the synthetic windows' standard deviation (across
    windows) over the real ones': near 1 when a model covers the data's variety, near 0
    when it collapses to a few windows (which a weak post-hoc classifier may not catch)."""
    real, synthetic = np.asarray(real), np.asarray(synthetic)
    return float(np.mean(synthetic.std(0) / np.maximum(real.std(0), 1e-6)))


@dataclasses.dataclass
class SeriesData:
    info: object
    real: object
    test: object
    scoring: dict
    pictures: int


class TimeseriesStudy(kinds.StudyKind):
    name = "timeseries"
    # The default work, optimizer steps a model (TimeGAN's five networks: about two
    # minutes on 2 cores, the others well under one).
    steps = 600
    description = ("time-series generation (--dataset sines, statsmodels:NAME or csv:FILE), "
                   "timegan and recurrent_gan vs recurrent_vae on TimeGAN's scores")
    models = ("timegan", "recurrent_gan", "recurrent_vae")
    options = {"repeats": 5, "disc_iterations": 2000, "disc_units": None,
               "pred_iterations": 5000, "synthetic": None, "pictures": 1000}
    columns = {
        "discriminative": kinds.Column(
            "discriminative", "low", "{:.3f}", "|accuracy - 0.5| of a post-hoc GRU "
            "classifier of real (training) vs synthetic windows, tested on a held-out 20 % "
            "(TimeGAN, Yoon et al. 2019)."),
        "predictive": kinds.Column(
            "predictive", "low", "{:.3f}", "mean absolute error on the real test windows of "
            "a post-hoc GRU trained on synthetic windows to predict the last channel's next "
            "step."),
        "spread_ratio": kinds.Column(
            "spread ratio", None, "{:.2f}", "the synthetic windows' standard deviation "
            "across windows over the real ones' (1: the data's variety; near 0: collapse)."),
        "train_seconds": kinds.TRAIN_SECONDS_CPU,
        "steps": kinds.STEPS,
        "parameters": kinds.PARAMETERS,
    }
    throughput = None
    title = "Task study {study}: time-series generation"

    def prepare(self, config, options, log):
        source = config.open_data()
        info = source.info
        if len(info.image_shape) != 2:
            raise UserError(f"the timeseries study needs a series source (--dataset sines, "
                            f"statsmodels:elnino or csv:FILE); {info.name} holds examples "
                            f"of shape {info.image_shape}")
        real, _ = source.arrays("train")
        test, _ = source.arrays("test")
        units = options["disc_units"]
        count = options["synthetic"]
        # A model's scores are reused with its run only if they were scored the same way.
        scoring = {"repeats": int(options["repeats"]),
                   "disc": int(options["disc_iterations"]),
                   "pred": int(options["pred_iterations"]),
                   "disc_units": None if units is None else int(units),
                   "synthetic": int(min(len(real), 10_000) if count is None else count)}
        log(f"study {config.study_name}: timeseries on {info.name} "
            f"({'x'.join(map(str, info.image_shape))}: {len(real)} training, {len(test)} "
            f"test windows), models {', '.join(config.models)}, budget {config.budget_text} "
            f"per model, scores over {scoring['repeats']} repeats -> {config.path}")
        return SeriesData(info, real, test, scoring, int(options["pictures"]))

    def answer(self, config, data, name, model, seed):
        return np.asarray(model.sample(data.scoring["synthetic"], seed=seed), "float32")

    def score(self, config, data, windows, seed):
        from keras_aegan.evaluation import sequence_metrics

        s = data.scoring
        disc = sequence_metrics.repeated(sequence_metrics.discriminative_score, s["repeats"],
                                         real=data.real, synthetic=windows,
                                         iterations=s["disc"], units=s["disc_units"])
        pred = sequence_metrics.repeated(sequence_metrics.predictive_score, s["repeats"],
                                         train=windows, test=data.test, iterations=s["pred"])
        return {"discriminative": disc[0], "discriminative_std": disc[1],
                "discriminative_repeats": disc[2], "predictive": pred[0],
                "predictive_std": pred[1], "predictive_repeats": pred[2],
                "spread_ratio": spread_ratio(data.real, windows)}

    def scoring(self, config, data):
        return data.scoring

    def progress(self, row):
        return (f"discriminative {row['discriminative']:.3f} ± {row['discriminative_std']:.3f}"
                f", predictive {row['predictive']:.3f} ± {row['predictive_std']:.3f}")

    def references(self, config, data):
        return [{"model": "real (held out)", "family": "reference", "seeds": 1,
                 **self.score(config, data, data.test, 0),
                 "spread_ratio": spread_ratio(data.real, data.test)}]

    def export_inputs(self, data, model):
        return {"examples": {"sequences": data.test[:32]}}

    def results(self, config, data):
        from keras_aegan.evaluation import sequence_metrics

        s = data.scoring
        return {"task": "timeseries", "dataset": data.info.name,
                "window": list(data.info.image_shape), "train_windows": len(data.real),
                "test_windows": len(data.test), "synthetic_windows": s["synthetic"],
                "repeats": s["repeats"], "iterations": {"disc": s["disc"], "pred": s["pred"]},
                "disc_units": s["disc_units"],
                "published": [list(p) for p in sequence_metrics.PUBLISHED_SINES]
                if data.info.name == "sines" else []}

    def pictures(self, config, data, answers, results):
        from keras_aegan.studies.sequence_pictures import series_pictures

        series_pictures(config.path, data.real, answers, data.pictures)
        return {"samples": ["real", *answers]}

    def report(self, config, results, tables):
        summary, seeds = results["summary"], len(results["seeds"])
        published = [{"model": f"{name} (published)", "family": "TimeGAN paper",
                      "discriminative": d, "predictive": p}
                     for name, d, p in results["published"]]
        models = [e for e in summary if e["family"] != "reference"]
        found = []
        for key, header in (("discriminative", "discriminative score"),
                            ("predictive", "predictive score")):
            scored = [e for e in models if key in e]
            if scored:
                best = min(scored, key=lambda e: e[key])
                found.append(f"- Best {header}: {best['model']} ({best['family']}) "
                             f"{best[key]:.3f}.")
        collapsed = [e["model"] for e in models if e.get("spread_ratio", 1) < 0.5]
        if collapsed:
            found.append(f"- Spread ratio below 0.5 (the samples vary much less than the "
                         f"data: a partial collapse): {', '.join(collapsed)}.")
        spread = "mean ± std over seeds" if seeds > 1 else \
            f"mean ± std over {results['repeats']} repeats of each score"
        units = results.get("disc_units") or "the paper's (half the channels, at least 1)"
        iterations = results["iterations"]
        return [
            f"Dataset `{results['dataset']}`: windows of {results['window'][0]} steps x "
            f"{results['window'][1]} channels, {results['train_windows']} training and "
            f"{results['test_windows']} test windows (split by time); budget "
            f"{results['budget']} of CPU training per model; {results['synthetic_windows']} "
            f"synthetic windows per model; {spread}. The post-hoc classifier of the "
            f"discriminative score: a GRU of {units} units, {iterations['disc']} steps.",
            "", "## Results", "", *tables.table(extra=published), "", *tables.legend(), "",
            f"The post-hoc classifiers train for {iterations['disc']} (discriminative) and "
            f"{iterations['pred']} (predictive) steps. The reference row scores held-out "
            "real windows the same way.", "",
            "## Findings", "", *found, "", "## Pictures", "",
            "Real (red) vs synthetic (blue) windows, each reduced to its mean over channels, "
            "by PCA and t-SNE:", "", "![embeddings](embeddings.png)", "",
            "Windows as line charts (one colour per channel); rows: real, then "
            + ", ".join(e["model"] for e in models) + ":", "", "![samples](samples.png)", "",
            report.exports_line(results["rows"], config.path), "",
            "Per seed (with every repeat): `results.json`; the table as CSV: `results.csv`."]
