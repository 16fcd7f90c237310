"""Task studies of sequences: `study --task next_frame` and `study --task timeseries`.

Both compare the two families on one job, with the same data, split, seeds and budget as
the image study, and write `runs/<study>/report.md` and `report.html` with a table, the
published yardsticks beside our numbers, and pictures:

- `next_frame`: Moving MNIST (`moving_mnist:SPEC`; any other image source `SPEC` is taken
  as the digits, e.g. `--dataset idx:../shared/data/mnist`). Models: `copy_last` (the
  baseline), `frame_predictor` (pixel loss, plain fit) and `adversarial_predictor` (with a
  discriminator). Scores on the fixed test set: MSE per frame and SSIM per future step;
  pictures: `strip.png` (observed | true | each model's prediction), `per_step.png` (the
  scores by future step), `<model>.gif` (one sequence, true beside predicted).
- `timeseries`: a series source (`sines`, `statsmodels:NAME`, `csv:FILE`). Models:
  `timegan`, `recurrent_gan` and `recurrent_vae`. Scores: TimeGAN's discriminative and
  predictive scores (mean ± std over `repeats`), a spread ratio (does the model cover the
  data's variety?), and the same scores for held-out real windows as the reference; pictures:
  `embeddings.png` (PCA and t-SNE of real vs synthetic) and `samples.png` (line charts).

Task options (`--task-option KEY=VALUE`): `next_frame`: `test_sequences` (default 1000),
`observed`, `predicted`; `timeseries`: `repeats` (5), `disc_iterations` (2000),
`disc_units` (the post-hoc classifier's GRU units; default the paper's, half the channels:
1 for a single-channel series, which it can barely judge), `pred_iterations` (5000),
`synthetic` (windows drawn per model; default as many as the
training windows, at most 10,000), `pictures` (windows per kind in the PCA/t-SNE picture,
1000). Any other option goes to the models' builders (`width`, `loss`,
`adversarial_weight`, `hidden`, `units`, ...), each model taking those its builder has.
"""

import dataclasses
import math
import os
import time

import numpy as np

from keras_aegan import files, protocol, runner, sequence_metrics, video_files
from keras_aegan.callbacks import save_grid
from keras_aegan.data.tasks import NextFrames
from keras_aegan.errors import UserError, one_line
from keras_aegan.registry import get_model_entry
from keras_aegan.registry import model_names as get_model_names
from keras_aegan.study import report

# name -> (header, better, format)
VIDEO_COLUMNS = {
    "mse_per_frame": ("MSE / frame", "low", "{:.1f}"),
    "ssim": ("SSIM", "high", "{:.3f}"),
    "train_seconds": ("train s (CPU)", None, "{:.0f}"),
    "steps": ("steps", None, "{:,.0f}"),
    "sequences_per_second": ("sequences/s", None, "{:.1f}"),
    "parameters": ("parameters", None, "{:,.0f}"),
}
SERIES_COLUMNS = {
    "discriminative": ("discriminative", "low", "{:.3f}"),
    "predictive": ("predictive", "low", "{:.3f}"),
    "spread_ratio": ("spread ratio", None, "{:.2f}"),
    "train_seconds": ("train s (CPU)", None, "{:.0f}"),
    "steps": ("steps", None, "{:,.0f}"),
    "parameters": ("parameters", None, "{:,.0f}"),
}
VIDEO_OPTIONS = ("test_sequences",)
SERIES_OPTIONS = ("repeats", "disc_iterations", "disc_units", "pred_iterations", "synthetic",
                  "pictures")


def _split_options(config, own):
    """`(task options, {model: builder options})` of a study's `task_options`: each
    registered model gets the options its builder takes; an option no model takes is an
    error (a typo)."""
    import inspect

    task = {k: v for k, v in config.task_options.items() if k in own}
    rest = {k: v for k, v in config.task_options.items() if k not in own}
    per_model, used = {}, set()
    for name in config.models:
        if name not in get_model_names():
            continue
        accepted = inspect.signature(get_model_entry(name).builder).parameters
        per_model[name] = {k: v for k, v in rest.items() if k in accepted}
        used.update(per_model[name])
    unknown = sorted(set(rest) - used)
    if unknown:
        raise UserError(f"task option(s) {', '.join(unknown)}: not an option of the "
                        f"{config.task} study ({', '.join(own)}) nor of its models' builders")
    return task, per_model


def _train(config, name, seed, run_config, log):
    """Train (or reuse) one registered model; `(trained model, row)`."""
    entry = get_model_entry(name)
    folder = run_config.path
    cached = files.read_json(os.path.join(folder, "results.json"))
    if cached is not None and os.path.isfile(os.path.join(folder, "model.keras")):
        return runner.load_model(os.path.join(folder, "model.keras")), \
            {**cached, "status": "reused"}
    result = runner.train(run_config, verbose=0, log=log)
    return result.model, {"model": name, "family": entry.family, "seed": seed,
                          "status": "trained", "train_seconds": result.seconds,
                          "steps": result.steps, "examples": result.images,
                          "parameters": result.model.count_params()}


def _export(config, name, seed, model, examples):
    from keras_aegan import export

    out = os.path.join("export", config.study_name, f"{name}-seed{seed}")
    try:
        export.export_model(model, out, overwrite=True, examples=examples,
                            source={"study": config.study_name, "model": name,
                                    "dataset": config.dataset, "seed": seed,
                                    "task": protocol.describe(model).task})
    except (UserError, export.ExportError) as e:
        return f"failed: {one_line(e, 200)}"
    return out


def _summarise(rows, order, columns):
    summary = []
    for name in order:
        mine = [r for r in rows if r["model"] == name]
        if not mine:
            continue
        entry = {"model": name, "family": mine[0]["family"], "seeds": len(mine)}
        for key in [*columns, "mse_per_step", "ssim_per_step"]:
            values = [r[key] for r in mine if isinstance(r.get(key), (int, float, list))]
            if values:
                entry[key] = np.mean(values, axis=0).tolist()
                entry[f"{key}_std"] = np.std(values, axis=0).tolist()
        summary.append(entry)
    return summary


def _cell(entry, key, columns, seeds):
    value = entry.get(key)
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "—"
    header, better, fmt = columns[key]
    text = fmt.format(value)
    spread = entry.get(f"{key}_std")
    if better is not None and spread is not None and (seeds > 1 or f"{key}_repeats" in entry):
        text += " ± " + fmt.format(spread)
    return text


def _table(summary, columns, seeds):
    keys = [k for k in columns if any(k in e for e in summary)]
    lines = ["| model | family | " + " | ".join(columns[k][0] for k in keys) + " |",
             "|---|---|" + "---|" * len(keys)]
    lines += [f"| {e['model']} | {e['family']} | "
              + " | ".join(_cell(e, k, columns, seeds) for k in keys) + " |" for e in summary]
    return lines


def _write(config, results, lines, columns):
    text = "\n".join(lines) + "\n"
    files.write_text(os.path.join(config.path, "report.md"), text)
    files.write_text(os.path.join(config.path, "report.html"), report.markdown_to_html(text))
    files.write_json(os.path.join(config.path, "results.json"), results)
    _write_csv(os.path.join(config.path, "results.csv"), results["summary"], columns)


def _write_csv(path, summary, columns):
    import csv

    keys = ["model", "family", "seeds", *columns, *[f"{k}_std" for k in columns]]
    with files.atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, keys, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(summary)


# --------------------------------------------------------------------------- next frame


def video_dataset(spec):
    """`spec` as a Moving MNIST spec: an image source becomes the digits of one."""
    return spec if spec.partition(":")[0] == "moving_mnist" else f"moving_mnist:{spec}"


def run_next_frame(config, log=print):
    """The `next_frame` task study (see the module docstring); returns its results."""
    start = time.perf_counter()
    options, builder_options = _split_options(config, VIDEO_OPTIONS)
    dataset = video_dataset(config.dataset)
    if dataset != config.dataset:
        log(f"next_frame: Moving MNIST over the digits of {config.dataset} ({dataset})")
    data = dataclasses.replace(config.data_options(), dataset=dataset)
    source = data.open_data()
    info = source.info
    for name in config.models:
        if name != "copy_last" and get_model_entry(name).consumes != "frame_sequences":
            raise UserError(f"{name} does not predict frames; the next_frame study compares "
                            "copy_last, frame_predictor and adversarial_predictor")
    runs = {(name, seed): dataclasses.replace(
        config.run_config(name, seed), dataset=dataset, model_options=builder_options[name])
        for seed in config.seeds for name in config.models if name != "copy_last"}
    for run_config in runs.values():  # fail on a bad option before anything trains
        runner.build_model(run_config, info)
    count = int(options.get("test_sequences", 1000))
    test, _ = source.arrays("test", limit=count)
    given = {k: v for options in builder_options.values() for k, v in options.items()}
    task = NextFrames(test.shape[1:], observed=given.get("observed"),
                      predicted=given.get("predicted"))
    (observed,), future = task.make_pair(test)
    observed_count, predicted_count = task.observed, task.predicted
    log(f"study {config.study_name}: next_frame on {info.name}, {len(test)} test sequences "
        f"({observed_count} observed -> {predicted_count} predicted), models "
        f"{', '.join(config.models)}, budget {config.budget_text} per model -> {config.path}")
    rows, shown = [], {}
    for seed in config.seeds:
        for name in config.models:
            tick = time.perf_counter()
            if name == "copy_last":
                predicted = task.baseline(name, (observed,))
                row = {"model": name, "family": "baseline", "seed": seed,
                       "status": "computed", "train_seconds": 0.0}
            else:
                model, row = _train(config, name, seed, runs[(name, seed)], log)
                predicted = sequence_metrics.predict_batched(model.predict_next, observed)
                if row["status"] == "trained":
                    row["sequences_per_second"] = row["examples"] / max(row["train_seconds"],
                                                                        1e-9)
                    if config.export:
                        row["export"] = _export(config, name, seed, model,
                                                task.examples(test[:32]))
            row.update(sequence_metrics.frame_scores(future, predicted))
            if row["status"] == "trained":
                files.write_json(os.path.join(runs[(name, seed)].path, "results.json"), row)
            rows.append(row)
            if seed == config.seeds[0]:
                shown[name] = predicted[:8]
            log(report.model_done(name, seed, row, time.perf_counter() - tick)
                + f"MSE/frame {row['mse_per_frame']:.1f}, SSIM {row['ssim']:.3f}")
    summary = _summarise(rows, config.models, VIDEO_COLUMNS)
    _video_pictures(config, observed[:8], future[:8], shown, summary)
    results = {"study": config.study_name, "task": "next_frame", "dataset": info.name,
               "test_sequences": len(test), "frame_shape": list(info.image_shape[1:]),
               "observed": observed_count,
               "predicted": predicted_count, "budget": config.budget_text,
               "seeds": list(config.seeds), "rows": rows, "summary": summary,
               "published": [list(p) for p in sequence_metrics.PUBLISHED_MOVING_MNIST]}
    _write(config, results, _video_report(results), VIDEO_COLUMNS)
    log(f"study done in {time.perf_counter() - start:.0f}s: {config.path}/report.md")
    return results


def _video_pictures(config, observed, future, shown, summary):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    for i in range(min(3, len(observed))):
        rows.extend([observed[i], future[i], *[shown[name][i] for name in shown]])
    save_grid(os.path.join(config.path, "strip.png"), rows, min_cell=32)
    for name, predicted in shown.items():
        video_files.save_gif(os.path.join(config.path, f"{name}.gif"), observed[0], future[0],
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
    with files.atomic_path(os.path.join(config.path, "per_step.png")) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)


def _video_report(results):
    summary, seeds = results["summary"], len(results["seeds"])
    published = [f"| {name} | published (GPU, hours) | {value:.1f} | — | — | — | — | — |"
                 for name, value in results["published"]]
    scored = [e for e in summary if "mse_per_frame" in e]
    best = min(scored, key=lambda e: e["mse_per_frame"]) if scored else None
    beat = [e["model"] for e in scored if e["mse_per_frame"] < results["published"][0][1]]
    comparable = results["frame_shape"][:2] == [64, 64] and results["predicted"] == 10
    exports = sorted({f"{r['model']}: `{r['export']}`" for r in results["rows"]
                      if "export" in r})
    lines = [
        f"# Task study {results['study']}: next-frame prediction",
        "",
        f"Dataset `{results['dataset']}`: {results['test_sequences']} fixed test sequences "
        f"(test digits only), {results['observed']} frames observed, {results['predicted']} "
        f"predicted; budget {results['budget']} of CPU training per model, seeds "
        f"{', '.join(map(str, results['seeds']))}"
        + (" (mean ± std over seeds)" if seeds > 1 else "") + ".",
        "",
        "## Results",
        "",
        *_table(summary, VIDEO_COLUMNS, seeds),
        *published,
        "",
        "MSE per frame: squared error summed over a frame's pixels (in [0, 1]), averaged over "
        "the predicted frames and the test sequences (Srivastava et al. 2015's protocol). "
        "The published rows were trained for hours on GPUs; ours for the budget above on "
        "a CPU.",
        "",
        "## Findings",
        "",
        (f"- Lowest MSE per frame: {best['model']} ({best['family']}) "
         f"{best['mse_per_frame']:.1f}." if best else "- No scores."),
        (f"- Below ConvLSTM's {results['published'][0][1]}: "
         + (", ".join(beat) if beat else "none of the models") + "."
         if comparable else f"- Not comparable with the published figures: they are for "
         f"64x64 frames, these are {'x'.join(map(str, results['frame_shape'][:2]))}."),
        "",
        "## Pictures",
        "",
        "Three test sequences; for each, rows: observed frames, true future, then each "
        f"model's prediction ({', '.join(e['model'] for e in summary)}):",
        "",
        "![strip](strip.png)",
        "",
        "Scores by future step:",
        "",
        "![per step](per_step.png)",
        "",
        "One test sequence as a GIF per model (true left, predicted right): "
        + ", ".join(f"`{e['model']}.gif`" for e in summary) + ".",
        "",
        ("Exports: " + "; ".join(exports) + ".") if exports else "No exports.",
        "",
        "Per seed (with per-step scores): `results.json`; the table as CSV: `results.csv`.",
    ]
    return lines


# -------------------------------------------------------------------------- time series


def run_timeseries(config, log=print):
    """The `timeseries` task study (see the module docstring); returns its results."""
    start = time.perf_counter()
    options, builder_options = _split_options(config, SERIES_OPTIONS)
    source = config.open_data()
    info = source.info
    if len(info.image_shape) != 2:
        raise UserError(f"the timeseries study needs a series source (--dataset sines, "
                        f"statsmodels:elnino or csv:FILE); {info.name} holds examples of "
                        f"shape {info.image_shape}")
    runs = {(name, seed): dataclasses.replace(config.run_config(name, seed),
                                              model_options=builder_options[name])
            for seed in config.seeds for name in config.models}
    for run_config in runs.values():
        runner.build_model(run_config, info)
    repeats = int(options.get("repeats", 5))
    iterations = {"disc": int(options.get("disc_iterations", 2000)),
                  "pred": int(options.get("pred_iterations", 5000))}
    units = options.get("disc_units")
    units = None if units is None else int(units)
    real, _ = source.arrays("train")
    test, _ = source.arrays("test")
    count = int(options.get("synthetic", min(len(real), 10_000)))
    # A model's scores are reused with its run only if they were scored the same way.
    scoring = {"repeats": repeats, **iterations, "disc_units": units, "synthetic": count}
    log(f"study {config.study_name}: timeseries on {info.name} "
        f"({'x'.join(map(str, info.image_shape))}: {len(real)} training, {len(test)} test "
        f"windows), models {', '.join(config.models)}, budget {config.budget_text} per "
        f"model, scores over {repeats} repeats -> {config.path}")

    def scores(windows):
        disc = sequence_metrics.repeated(sequence_metrics.discriminative_score, repeats,
                                         real=real, synthetic=windows,
                                         iterations=iterations["disc"], units=units)
        pred = sequence_metrics.repeated(sequence_metrics.predictive_score, repeats,
                                         train=windows, test=test,
                                         iterations=iterations["pred"])
        return {"discriminative": disc[0], "discriminative_std": disc[1],
                "discriminative_repeats": disc[2], "predictive": pred[0],
                "predictive_std": pred[1], "predictive_repeats": pred[2],
                "spread_ratio": spread_ratio(real, windows)}

    rows, shown = [], {}
    for seed in config.seeds:
        for name in config.models:
            tick = time.perf_counter()
            model, row = _train(config, name, seed, runs[(name, seed)], log)
            windows = np.asarray(model.sample(count, seed=seed), "float32")
            if row.get("scoring") != scoring:  # a reused row keeps scores scored alike
                row.update(scores(windows), scoring=scoring)
                if config.export and row["status"] == "trained":
                    row["export"] = _export(config, name, seed, model,
                                            {"sequences": test[:32]})
                files.write_json(os.path.join(runs[(name, seed)].path, "results.json"), row)
            rows.append(row)
            if seed == config.seeds[0]:
                shown[name] = windows
            log(report.model_done(name, seed, row, time.perf_counter() - tick)
                + f"discriminative {row['discriminative']:.3f} ± {row['discriminative_std']:.3f}, "
                f"predictive {row['predictive']:.3f} ± {row['predictive_std']:.3f}")
    summary = _summarise(rows, config.models, SERIES_COLUMNS)
    for entry in summary:  # one seed: the spread over the scores' repeats
        mine = [r for r in rows if r["model"] == entry["model"]]
        if len(mine) == 1:
            for key in ("discriminative", "predictive"):
                entry[f"{key}_std"] = mine[0][f"{key}_std"]
                entry[f"{key}_repeats"] = mine[0][f"{key}_repeats"]
    reference = {"model": "real (held out)", "family": "reference", "seeds": 1,
                 **scores(test), "spread_ratio": spread_ratio(real, test)}
    summary.append(reference)
    sequence_metrics.embedding_plot(os.path.join(config.path, "embeddings.png"), real, shown,
                                    samples=int(options.get("pictures", 1000)))
    from keras_aegan.timeseries import series_images

    save_grid(os.path.join(config.path, "samples.png"),
              [series_images(real[:12]), *[series_images(shown[n][:12]) for n in shown]])
    results = {"study": config.study_name, "task": "timeseries", "dataset": info.name,
               "window": list(info.image_shape), "train_windows": len(real),
               "test_windows": len(test), "synthetic_windows": count, "repeats": repeats,
               "iterations": iterations, "disc_units": units, "budget": config.budget_text,
               "seeds": list(config.seeds), "rows": rows, "summary": summary,
               "published": [list(p) for p in sequence_metrics.PUBLISHED_SINES]
               if info.name == "sines" else []}
    _write(config, results, _series_report(results), SERIES_COLUMNS)
    log(f"study done in {time.perf_counter() - start:.0f}s: {config.path}/report.md")
    return results


def spread_ratio(real, synthetic):
    """Mean over steps and channels of the synthetic windows' standard deviation (across
    windows) over the real ones': near 1 when a model covers the data's variety, near 0
    when it collapses to a few windows (which a weak post-hoc classifier may not catch)."""
    real, synthetic = np.asarray(real), np.asarray(synthetic)
    return float(np.mean(synthetic.std(0) / np.maximum(real.std(0), 1e-6)))


def _series_report(results):
    summary, seeds = results["summary"], len(results["seeds"])
    published = [f"| {name} (published) | TimeGAN paper | "
                 f"{'—' if d is None else f'{d:.3f}'} | {p:.3f} | — | — | — | — |"
                 for name, d, p in results["published"]]
    models = [e for e in summary if e["family"] != "reference"]
    lines_found = []
    for key, header in (("discriminative", "discriminative score"),
                        ("predictive", "predictive score")):
        scored = [e for e in models if key in e]
        if scored:
            best = min(scored, key=lambda e: e[key])
            lines_found.append(f"- Best {header}: {best['model']} ({best['family']}) "
                               f"{best[key]:.3f}.")
    collapsed = [e["model"] for e in models if e.get("spread_ratio", 1) < 0.5]
    if collapsed:
        lines_found.append(f"- Spread ratio below 0.5 (the samples vary much less than the "
                           f"data: a partial collapse): {', '.join(collapsed)}.")
    exports = sorted({f"{r['model']}: `{r['export']}`" for r in results["rows"]
                      if "export" in r})
    spread = "mean ± std over seeds" if seeds > 1 else \
        f"mean ± std over {results['repeats']} repeats of each score"
    units = results.get("disc_units") or "the paper's (half the channels, at least 1)"
    return [
        f"# Task study {results['study']}: time-series generation",
        "",
        f"Dataset `{results['dataset']}`: windows of {results['window'][0]} steps x "
        f"{results['window'][1]} channels, {results['train_windows']} training and "
        f"{results['test_windows']} test windows (split by time); budget "
        f"{results['budget']} of CPU training per model; {results['synthetic_windows']} "
        f"synthetic windows per model; {spread}. The post-hoc classifier of the "
        f"discriminative score: a GRU of {units} units, {results['iterations']['disc']} "
        "steps.",
        "",
        "## Results",
        "",
        *_table(summary, SERIES_COLUMNS, seeds),
        *published,
        "",
        "Discriminative score: |accuracy - 0.5| of a post-hoc GRU classifier of real "
        f"(training) vs synthetic windows ({results['iterations']['disc']} steps, tested on "
        "a held-out 20 %). Predictive score: a post-hoc GRU trained on synthetic windows "
        f"({results['iterations']['pred']} steps) predicts the last channel's next step; "
        "its mean absolute error on the real test windows. Both lower is better (TimeGAN, "
        "Yoon et al. 2019). The reference row scores held-out real windows the same way. "
        "Spread ratio: the synthetic windows' standard deviation across windows over the "
        "real ones' (1: the data's variety; near 0: collapse).",
        "",
        "## Findings",
        "",
        *lines_found,
        "",
        "## Pictures",
        "",
        "Real (red) vs synthetic (blue) windows, each reduced to its mean over channels, by "
        "PCA and t-SNE:",
        "",
        "![embeddings](embeddings.png)",
        "",
        "Windows as line charts (one colour per channel); rows: real, then "
        + ", ".join(e["model"] for e in models) + ":",
        "",
        "![samples](samples.png)",
        "",
        ("Exports: " + "; ".join(exports) + ".") if exports else "No exports.",
        "",
        "Per seed (with every repeat): `results.json`; the table as CSV: `results.csv`.",
    ]
