"""Task studies (`study --task super_resolution|colorize|inpaint|sketch`): one translation
done by a classical baseline, the autoencoder way (`unet_ae`) and the GAN way (`pix2pix`)
on the same data, split, seed and budget, judged by the same yardsticks.

`run(config, log)` (registered in `keras_aegan.registry.STUDY_TASKS`) degrades the test
images once with the task (`keras_aegan.data.tasks`), trains each registered model through
the runner with the task as its model options, runs each baseline, and scores every
answer against the clean test images:

- distortion: PSNR (per image, mean over images; each image's MSE floored at 1e-6, so an
  exact answer counts 60 dB rather than infinity) and SSIM (`metrics.ssim`);
- realism: FID between the answers and the clean test images on the study's evaluator
  features (a trained classifier's embedding, or PCA for unlabeled data), and, with
  labels, the evaluator's accuracy on the answers (does a restored digit read as the
  right digit?). A `truth` row gives the evaluator's accuracy on the clean images.

It writes `<study>/report.md` and `report.html` (the table, who won, the picture grid),
`grid.png` (one test image per row: input | baselines | models | truth), `results.json`,
`results.csv`, and each model's run folder under `models/`. Rerunning reuses the models
that finished (their `results.json` and `model.keras`).
"""

import csv
import dataclasses
import math
import os
import time

import numpy as np

from keras_aegan import files, metrics, protocol, runner
from keras_aegan.callbacks import save_grid
from keras_aegan.data import tasks
from keras_aegan.errors import UserError, one_line
from keras_aegan.registry import get_model_entry
from keras_aegan.study import report

PSNR_CAP_DB = 60.0
GRID_IMAGES = 8
# name -> (header, better, format)
COLUMNS = {
    "psnr": ("PSNR dB", "high", "{:.2f}"),
    "ssim": ("SSIM", "high", "{:.3f}"),
    "fid": ("FID", "low", "{:.2f}"),
    "accuracy": ("evaluator accuracy", "high", "{:.4f}"),
    "train_seconds": ("train s", None, "{:.1f}"),
    "images_per_second": ("train images/s", None, "{:,.0f}"),
    "parameters": ("parameters", None, "{:,.0f}"),
}


def psnr(images, answers, cap_db=PSNR_CAP_DB):
    """Mean over images of `10 log10(1 / MSE_i)` in dB, each MSE floored at `10**(-cap/10)`."""
    a = np.asarray(images, "float64").reshape(len(images), -1)
    b = np.asarray(answers, "float64").reshape(len(answers), -1)
    mse = np.maximum(((a - b) ** 2).mean(1), 10.0 ** (-cap_db / 10.0))
    return float(np.mean(-10.0 * np.log10(mse)))


def score(evaluator, truth, labels, answers, truth_features=None):
    """The study's yardsticks for one set of answers (see the module docstring)."""
    answers = np.clip(np.asarray(answers, "float32"), 0.0, 1.0)
    if truth_features is None:
        truth_features = evaluator.features(truth)
    scores = {"psnr": psnr(truth, answers), "ssim": metrics.ssim(truth, answers),
              "fid": metrics.fid(truth_features, evaluator.features(answers))}
    if evaluator.has_classes and labels is not None:
        scores["accuracy"] = float(np.mean(evaluator.predict_classes(answers) == labels))
    return scores


def translate(model, inputs, batch_size=256):
    """A trained model's answers to a task's inputs (numpy), through its declared
    `translator` part."""
    part = protocol.describe(model).part("translator")
    count = len(inputs[0])
    return np.concatenate([np.asarray(part.fn(*[x[i:i + batch_size] for x in inputs]),
                                      "float32") for i in range(0, count, batch_size)])


def model_options(config):
    """The builder options of a task study's models: the task and its options (`seed`
    becomes `task_seed`)."""
    options = {("task_seed" if k == "seed" else k): v for k, v in config.task_options.items()}
    return {"task": config.task, **options}


def run(config, log=print):
    """Run a task study (see the module docstring); returns its results dict."""
    start = time.perf_counter()
    source = config.open_data()
    info = source.info
    # Fail on a bad option before anything trains: the task's own options make the task,
    # the rest are the models' (width, l1_weight, ...), checked by building each model.
    kind = tasks.task_class(config.task, tasks.ImageTask)
    task = kind(info.image_shape, **{k: v for k, v in config.task_options.items()
                                     if k in kind.OPTIONS})
    baselines = task.baselines
    for name in config.models:
        if name not in baselines:
            _check_task_model(config, name)
            runner.build_model(dataclasses.replace(config.run_config(name, config.seeds[0]),
                                                   model_options=model_options(config)), info)
    truth, labels = source.arrays("test", limit=config.eval_samples)
    inputs = task.make_input_arrays(truth)
    log(f"study {config.study_name}: task {config.task} {_options_text(task.describe())} on "
        f"{info.name} ({'x'.join(map(str, info.image_shape))}), {len(truth)} test images, "
        f"models {', '.join(config.models)}, budget {config.budget_text} per model -> "
        f"{config.path}")
    evaluator = metrics.get_evaluator(source, verbose=0, log=log)
    truth_features = evaluator.features(truth)
    rows, grid = [], {}
    for seed in config.seeds:
        for name in config.models:
            tick = time.perf_counter()
            if name in baselines:
                answers = task.baseline(name, inputs)
                row = {"model": name, "family": "baseline", "seed": seed, "status": "computed",
                       "train_seconds": 0.0}
            else:
                row, answers = _trained(config, name, seed, inputs, truth)
            row.update(score(evaluator, truth, labels, answers, truth_features))
            if row["status"] == "trained":  # what a rerun reuses with the model
                files.write_json(os.path.join(config.path, "models", f"{name}-seed{seed}",
                                              "results.json"), row)
            rows.append(row)
            if seed == config.seeds[0]:
                grid[name] = answers[:GRID_IMAGES]
            log(report.model_done(name, seed, row, time.perf_counter() - tick)
                + ", ".join(f"{COLUMNS[k][0]} {COLUMNS[k][2].format(row[k])}"
                            for k in ("psnr", "ssim", "fid", "accuracy") if k in row))
    truth_row = {"model": "truth", "family": "reference",
                 "fid": 0.0, "psnr": PSNR_CAP_DB, "ssim": 1.0}
    if evaluator.has_classes and labels is not None:
        truth_row["accuracy"] = float(np.mean(evaluator.predict_classes(truth) == labels))
    summary = _summarise(rows, config.models) + [truth_row]
    results = {"study": config.study_name, "task": task.describe(), "dataset": info.name,
               "image_shape": list(info.image_shape), "test_images": len(truth),
               "budget": config.budget_text, "seeds": list(config.seeds), "rows": rows,
               "summary": summary, "convention": task.convention(),
               "evaluator": {"path": os.fspath(evaluator.path),
                             "test_accuracy": evaluator.test_accuracy,
                             "kind": "classifier" if evaluator.has_classes else "PCA"},
               "grid_columns": ["input", *config.models, "truth"]}
    _write_grid(config, task, inputs, grid, truth)
    _write_csv(os.path.join(config.path, "results.csv"), summary)
    files.write_json(os.path.join(config.path, "results.json"), results)
    write_report(config, results)
    log(f"study done in {time.perf_counter() - start:.0f}s: {config.path}/report.md")
    return results


def _trained(config, name, seed, inputs, truth):
    """Train (or reuse) one registered model of the study; `(row, answers)`."""
    entry = get_model_entry(name)
    folder = os.path.join(config.path, "models", f"{name}-seed{seed}")
    cached = files.read_json(os.path.join(folder, "results.json"))
    if cached is not None and os.path.isfile(os.path.join(folder, "model.keras")):
        trained = runner.load_model(os.path.join(folder, "model.keras"))
        row = {k: v for k, v in cached.items() if k not in COLUMNS or k in (
            "train_seconds", "images_per_second", "parameters")}
        return {**row, "status": "reused"}, translate(trained, inputs)
    run_config = dataclasses.replace(config.run_config(name, seed),
                                     model_options=model_options(config))
    result = runner.train(run_config, verbose=0)
    trained = result.model
    row = {"model": name, "family": entry.family, "seed": seed, "status": "trained",
           "train_seconds": result.seconds, "steps": result.steps,
           "images_per_second": result.images / max(result.seconds, 1e-9),
           "parameters": trained.count_params()}
    if config.export:
        row["export"] = _export(config, name, seed, trained, truth)
    return row, translate(trained, inputs)


def _check_task_model(config, name):
    entry = get_model_entry(name)
    if entry.consumes != "task_pairs":
        raise UserError(f"{name} does not learn a task (it consumes {entry.consumes}); a "
                        f"{config.task} study compares task models and the task's baselines "
                        f"({', '.join(tasks.task_class(config.task).BASELINES) or 'none'})")


def _export(config, name, seed, trained, truth):
    from keras_aegan import export

    images = truth[:export.PARITY_BATCH]
    spec = protocol.describe(trained)
    out = os.path.join(config.export_dir, config.study_name, f"{name}-seed{seed}")
    try:
        export.export_model(trained, out, overwrite=True, images=images,
                            examples=tasks.task_from_description(
                                spec.task, spec.image_shape).examples(images),
                            source={"study": config.study_name, "model": name,
                                    "dataset": config.dataset, "seed": seed,
                                    "task": spec.task})
    except (UserError, export.ExportError) as e:
        return f"failed: {one_line(e, 200)}"
    return out


def _summarise(rows, order):
    summary = []
    for name in order:
        mine = [r for r in rows if r["model"] == name]
        if not mine:
            continue
        entry = {"model": name, "family": mine[0]["family"], "seeds": len(mine)}
        for key in COLUMNS:
            values = [r[key] for r in mine if isinstance(r.get(key), (int, float))]
            if values:
                entry[key] = float(np.mean(values))
                entry[f"{key}_std"] = float(np.std(values))
        summary.append(entry)
    return summary


def _options_text(task):
    return ", ".join(f"{k}={v}" for k, v in task.items() if k != "name") or "defaults"


def _write_grid(config, task, inputs, grid, truth):
    count = min(GRID_IMAGES, len(truth))
    shown = task.display([x[:count] for x in inputs])
    columns = [shown, *[grid[name][:count] for name in config.models], truth[:count]]
    rows = [np.stack([column[i] for column in columns]) for i in range(count)]
    save_grid(os.path.join(config.path, "grid.png"), rows)


def _write_csv(path, summary):
    keys = ["model", "family", "seeds", *COLUMNS, *[f"{k}_std" for k in COLUMNS]]
    with files.atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, keys, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(summary)


def _cell(entry, key, seeds):
    if key not in entry or not math.isfinite(entry[key]):
        return "—"
    text = COLUMNS[key][2].format(entry[key])
    if seeds > 1 and f"{key}_std" in entry and COLUMNS[key][1] is not None:
        text += " ± " + COLUMNS[key][2].format(entry[f"{key}_std"])
    return text


def findings(summary):
    """Lines saying who won each yardstick and whether the perception-distortion
    expectation held (the pixel loss wins PSNR, the GAN wins realism)."""
    scored = [e for e in summary if e["family"] != "reference"]
    lines, best = [], {}
    for key in ("psnr", "ssim", "fid", "accuracy"):
        header, better, fmt = COLUMNS[key]
        entries = [e for e in scored if key in e and math.isfinite(e[key])]
        if len(entries) < 2:
            continue
        pick = max if better == "high" else min
        winner = pick(entries, key=lambda e: e[key])
        best[key] = winner
        others = "; ".join(f"{e['model']} {fmt.format(e[key])}" for e in entries
                           if e is not winner)
        lines.append(f"- **{header}**: {winner['model']} ({winner['family']}) "
                     f"{fmt.format(winner[key])}; {others}")
    ae = [e for e in scored if e["family"] == "autoencoder"]
    gan = [e for e in scored if e["family"] == "gan"]
    if ae and gan:
        a, g = ae[0], gan[0]
        verdicts = []
        if "psnr" in a and "psnr" in g:
            verdicts.append(f"the pixel loss {'wins' if a['psnr'] >= g['psnr'] else 'loses'} "
                            f"PSNR ({a['psnr']:.2f} vs {g['psnr']:.2f} dB)")
        if "fid" in a and "fid" in g:
            verdicts.append(f"the GAN {'wins' if g['fid'] <= a['fid'] else 'loses'} FID "
                            f"({g['fid']:.2f} vs {a['fid']:.2f})")
        if "accuracy" in a and "accuracy" in g:
            verdicts.append(f"the GAN's outputs read as the right class "
                            f"{g['accuracy']:.2%} of the time, the pixel loss's "
                            f"{a['accuracy']:.2%}")
        if verdicts:
            lines.append(f"- Perception-distortion (Blau & Michaeli 2018): {'; '.join(verdicts)}.")
    return lines


def write_report(config, results):
    """Write `report.md` and `report.html` for a task study's results."""
    summary, seeds = results["summary"], len(results["seeds"])
    keys = [k for k in COLUMNS if any(k in e for e in summary)]
    table = ["| model | family | " + " | ".join(COLUMNS[k][0] for k in keys) + " |",
             "|---|---|" + "---|" * len(keys)]
    table += [f"| {e['model']} | {e['family']} | "
              + " | ".join(_cell(e, k, seeds) for k in keys) + " |" for e in summary]
    evaluator = results["evaluator"]
    exports = sorted({f"{r['model']}: `{r['export']}`" for r in results["rows"]
                      if "export" in r})
    accuracy = evaluator["test_accuracy"]
    lines = [
        f"# Task study {results['study']}: {results['task']['name']}",
        "",
        f"Dataset `{results['dataset']}` ({'x'.join(map(str, results['image_shape']))}), "
        f"{results['test_images']} test images, budget {results['budget']} per model, "
        f"seeds {', '.join(map(str, results['seeds']))}"
        + (" (mean ± std over seeds)" if seeds > 1 else "") + ".",
        f"Task: {_options_text(results['task'])}. Input: {results['convention']}.",
        f"Evaluator ({evaluator['kind']} features): {evaluator['path']}"
        + (f" (test accuracy {accuracy:.4f})" if accuracy is not None else ""),
        "",
        "## Results",
        "",
        *table,
        "",
        f"PSNR is per image (MSE floored at 1e-6: an exact image counts {PSNR_CAP_DB:g} dB), "
        "averaged; FID compares the answers with the clean test images on the evaluator's "
        "features; the evaluator's accuracy asks whether an answer reads as its image's "
        "class. The `truth` row is the clean test images themselves.",
        "",
        "## Who won what",
        "",
        *findings(summary),
        "",
        "## Pictures",
        "",
        f"One test image per row; columns: {', '.join(results['grid_columns'])}.",
        "",
        "![grid](grid.png)",
        "",
        ("Exports: " + "; ".join(exports) + ".") if exports else "No exports.",
        "",
        "Per seed: `results.json`; the table as CSV: `results.csv`.",
    ]
    text = "\n".join(lines) + "\n"
    files.write_text(os.path.join(config.path, "report.md"), text)
    html = report.markdown_to_html(text, title=f"keras_aegan task study {results['study']}")
    files.write_text(os.path.join(config.path, "report.html"), html)
