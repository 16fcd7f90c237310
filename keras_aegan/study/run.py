"""The study's orchestration: its config, one budget per model, the same metrics for all.

`run_study(StudyConfig(...))` trains every model of the study through the runner (same
dataset, splits, seed and budget), evaluates all of them with the same metrics (through
`subjects.Subject`, which asks each model what it is), exports their parts, and writes
`runs/<study>/` (see `keras_aegan.study`).
"""

import dataclasses
import math
import os
import time

import numpy as np

from keras_aegan import augment, files, metrics, runner
from keras_aegan.callbacks import TimeBudget
from keras_aegan.errors import UserError, one_line
from keras_aegan import registry
from keras_aegan.registry import BASELINES, get_model_entry
from keras_aegan.study import report, timeline
from keras_aegan.study.subjects import Subject



def run_study(config, *, verbose=1, log=print):
    """Train, evaluate and report every model of a `StudyConfig`; returns the results.

    A study interrupted and run again reuses each model it already evaluated (its
    `models/<model>-seed<seed>/results.json` and `model.keras`), and resumes a model
    killed mid-training from its checkpoints.

    Returns:
        A dict with `rows` (one per model and seed), `summary` (per model, mean and std
        over seeds) and `notes`.

    Example:
        >>> results = run_study(StudyConfig(dataset="digits", budget_seconds=20))
        >>> print(open("runs/study-digits/report.md").read())
    """
    if config.task is not None:
        results = registry.get_study_task(config.task).run(config, log=log)
        files.write_json(os.path.join(config.path, "study.json"), dataclasses.asdict(config))
        return results
    source = config.open_data()  # bad data fails here, before anything is written
    os.makedirs(config.path, exist_ok=True)
    files.write_json(os.path.join(config.path, "study.json"), dataclasses.asdict(config))
    info = source.info
    notes = []
    test_x, test_y = source.arrays("test", limit=max(config.eval_samples, config.probe_test))
    train_x, train_y = source.arrays("train", limit=config.train_images)
    log(f"study {config.study_name}: {len(config.models)} models x {len(config.seeds)} "
        f"seed(s) on {info.name} ({'x'.join(map(str, info.image_shape))}), budget "
        f"{config.budget_text} per model -> {config.path}")
    evaluator = metrics.get_evaluator(source, verbose=0, log=log)
    if evaluator.has_classes:
        log(f"evaluator: {evaluator.path} (test accuracy {evaluator.test_accuracy:.4f})")
    else:
        notes.append("The dataset has no labels: class coverage and the representation "
                     "probes are skipped; sample metrics use PCA features of the images.")
        log("evaluator: PCA features (unlabeled dataset; label-based metrics skipped)")
    data = _Data(source, evaluator, train_x, train_y, test_x, test_y)
    jobs = [(model, seed) for seed in config.seeds for model in config.models]
    rows, subjects, start = [], {}, time.perf_counter()
    for i, (model, seed) in enumerate(jobs):
        job_start = time.perf_counter()
        row, subject = _run_one(config, model, seed, data)
        rows.append(row)
        if seed == config.seeds[0]:
            subjects[model] = subject
        elapsed = time.perf_counter() - start
        eta = elapsed / (i + 1) * (len(jobs) - i - 1)
        log(f"[{i + 1}/{len(jobs)}] {model} seed {seed}: {row['status']}, done in "
            f"{time.perf_counter() - job_start:.1f}s (training {row['train_seconds']:.1f}s) - "
            f"elapsed {_clock(elapsed)}, ETA {_clock(eta)}")
    summary = _summarise(rows, config.models)
    results = {"study": config.study_name, "dataset": info.name, "budget": config.budget_text,
               "seeds": list(config.seeds), "rows": rows, "summary": summary, "notes": notes,
               "evaluator": {"path": os.fspath(evaluator.path),
                             "test_accuracy": evaluator.test_accuracy}}
    report.write_csv(os.path.join(config.path, "results.csv"), summary)
    timelines = {r["model"]: r["timeline"] for r in rows
                 if r["seed"] == config.seeds[0] and r.get("timeline")}
    results["figure_rows"] = report.write_figures(config, subjects, test_x, test_y,
                                                  timelines)
    files.write_json(os.path.join(config.path, "results.json"), results)
    report.write_report(config, results)
    log(f"study done in {_clock(time.perf_counter() - start)}: {config.path}/report.md "
        "(and report.html)")
    return results


@dataclasses.dataclass
class _Data:
    """What every model of a study is evaluated on."""

    source: object
    evaluator: object
    train_x: object
    train_y: object
    test_x: object
    test_y: object


def _run_one(config, model, seed, data):
    folder = os.path.join(config.path, "models", f"{model}-seed{seed}")
    results_path = os.path.join(folder, "results.json")
    model_path = os.path.join(folder, "model.keras")
    # A row is reused only with the model it describes: without its model.keras the model
    # is trained (or resumed) and evaluated afresh.
    cached = files.read_json(results_path) if os.path.exists(model_path) else None
    if cached is not None:
        trained = runner.load_model(model_path)
        return {**cached, "status": "reused"}, Subject(model, trained, data.train_x)
    if model in BASELINES:
        start = time.perf_counter()
        trained = registry.fit_baseline(model, data.train_x, config.latent_dim, seed=seed)
        seconds = time.perf_counter() - start
        os.makedirs(folder, exist_ok=True)
        runner.save_model(trained, model_path)
        cost = {"train_seconds": seconds, "images_per_second": len(data.train_x) / seconds,
                "parameters": trained.count_params(), "steps": 1,
                "timeline": [timeline.measure(model, trained, data, seconds)]}
    else:
        entry = get_model_entry(model)
        if entry.needs_labels and not data.source.info.labeled:
            raise UserError(f"{model} needs class labels, and {data.source.info.name} has none")
        budget = TimeBudget(config.budget_seconds) if config.budget_seconds else None
        watch = timeline.QualityTimeline(model, data, points=config.timeline_points,
                                         budget=budget, epochs=config.epochs)
        # A model interrupted before its results were written resumes from its checkpoints.
        result = runner.train(config.run_config(model, seed), verbose=0, callbacks=[watch],
                              budget=budget)
        trained = result.model
        # Measuring along the way is not training: it is not charged to the model.
        seconds = max(result.seconds - watch.spent, 1e-9)
        cost = {"train_seconds": seconds, "parameters": trained.count_params(),
                "images_per_second": result.images / seconds, "steps": result.steps,
                "timeline": watch.measurements}
    subject = Subject(model, trained, data.train_x)
    row = {"model": model, "family": subject.family, "seed": seed, "status": "trained",
           "sampler": subject.sampler_note, **cost}
    row.update(_evaluate(subject, config, data, seed))
    if config.export:
        row["export"] = _export(config, model, seed, trained, data)
    files.write_json(results_path, row)
    return row, subject


def _evaluate(subject, config, data, seed):
    n = config.eval_samples
    real = data.test_x[:n]
    scores = {}
    samples = subject.sample(n, seed=seed)
    if samples is not None:
        scores = metrics.sample_quality(data.evaluator, samples, real,
                                        kid_subset_size=min(1000, n // 2, len(real) // 2))
        scores.pop("class_metrics", None)
        scores["kid_se"] = scores.pop("kid_std_error")
        scores["fid_se"] = metrics.fid_standard_error(data.evaluator.features(real),
                                                      data.evaluator.features(samples),
                                                      seed=seed)
        memo = metrics.memorisation(data.evaluator.features(samples[:500]),
                                    data.evaluator.features(data.train_x[:5000]),
                                    data.evaluator.features(data.test_x[-500:]))
        scores["memorisation_ratio"] = memo["ratio"]
        if data.test_y is not None and data.evaluator.has_classes:
            scores.update(_classification_accuracy_score(subject, data, samples, seed))
    images = data.test_x[:config.reconstruct_images]
    recon = subject.reconstruct(images)
    if recon is not None:
        scores.update({k: v for k, v in metrics.reconstruction_scores(
                           images, recon, standard_errors=True).items()
                       if k.partition("_se")[0] in ("mse", "psnr", "ssim")})
    if data.train_y is not None and data.test_y is not None:
        train_codes = subject.codes(data.train_x[:config.probe_train])
        if train_codes is not None:
            test_codes = subject.codes(data.test_x[:config.probe_test])
            probes = metrics.probe_scores(train_codes, data.train_y[:config.probe_train],
                                          test_codes, data.test_y[:config.probe_test])
            scores.update(probes)
            scores.update({f"{k}_se": metrics.accuracy_standard_error(v, len(test_codes))
                           for k, v in probes.items()})
    return {k: float(v) for k, v in scores.items()}


# The CAS classifier trains for 10 passes over the samples, at most this many steps.
CAS_STEPS = 1500


def _classification_accuracy_score(subject, data, samples, seed):
    """The CAS column (Ravuri & Vinyals 2019): the real test accuracy of a classifier
    trained only on the model's samples. A conditional model draws its own class-balanced
    samples (`cas`); an unconditional one's samples are labelled by the evaluator
    (`cas_evaluator_labels`, a separate column: the labels are not the model's)."""
    n = len(samples)
    steps = min(CAS_STEPS, math.ceil(10 * n / 64))
    score = augment.cas_for_model(subject.model, data.test_x, data.test_y, samples=samples,
                                  label_by=data.evaluator, n=n, steps=steps, seed=seed)
    (key, value), = score.items()
    return {key: value, f"{key}_se": metrics.accuracy_standard_error(value, len(data.test_x))}


def _export(config, model, seed, trained, data):
    from keras_aegan import export

    out = os.path.join(config.export_dir, config.study_name, f"{model}-seed{seed}")
    images, labels = data.source.arrays("test", limit=export.PARITY_BATCH)
    try:
        export.export_model(trained, out, overwrite=True, images=images, labels=labels,
                            source={"study": config.study_name, "model": model,
                                    "dataset": config.dataset, "seed": seed})
    except (UserError, export.ExportError) as e:
        return f"failed: {one_line(e, 200)}"
    return out


def _summarise(rows, order):
    """Per model: the mean and std over seeds of every column, and its uncertainty
    (`_se`): the standard error over seeds, or with one seed the figure's own."""
    summary = []
    for model in order:
        mine = [r for r in rows if r["model"] == model]
        if not mine:
            continue
        entry = {"model": model, "family": mine[0]["family"], "seeds": len(mine)}
        for key in report.COLUMNS:
            values = [r[key] for r in mine if isinstance(r.get(key), (int, float))]
            if not values:
                continue
            entry[key] = float(np.mean(values))
            entry[f"{key}_std"] = float(np.std(values))
            if len(values) > 1:
                entry[f"{key}_se"] = float(np.std(values, ddof=1) / np.sqrt(len(values)))
            elif isinstance(mine[0].get(f"{key}_se"), (int, float)):
                entry[f"{key}_se"] = float(mine[0][f"{key}_se"])
        summary.append(entry)
    return summary


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
