"""The one study runner: seeds x models, reuse, budgets, training, export, summary, report.

`run_study(StudyConfig(...))` runs the study kind `config.task` names (the image study
without one; see `keras_aegan.studies.kinds`). For each seed and model it reuses a finished
run (`models/<model>-seed<seed>/results.json` beside its `model.keras`), or answers with
a baseline, or trains the model through `keras_aegan.training.runner.train` within the study's
budget (resuming a run killed mid-training from its checkpoints); it scores the answer
with the kind, exports the parts of every new model to `<export_dir>/<study>/`, and writes
`results.json`, `results.csv`, the kind's pictures and `report.md` / `report.html`.
"""

import dataclasses
import os
import time

import numpy as np

from keras_aegan import files
from keras_aegan.training import runner
from keras_aegan.errors import UserError, one_line
from keras_aegan.registry import get_model_entry
from keras_aegan.studies import report
from keras_aegan.training import speed
from keras_aegan.training.progress import clock, heartbeat
from keras_aegan.training.run_folder import check_run_folder


# Before any model is evaluated, evaluation and export are guessed at this share of the
# training time (the study's aim; after the first model, the share seen is used).
EVALUATION_SHARE = 0.25


def run_study(config, *, verbose=1, log=print):
    """Train, evaluate and report every model of a `StudyConfig`; returns the results.

    Returns:
        A dict with `rows` (one per model and seed), `summary` (per model: mean, std and
        standard error over seeds, then the kind's reference rows) and the kind's facts.

    Example:
        >>> results = run_study(StudyConfig(dataset="digits", epochs=1))
        >>> print(open("runs/study-digits/report.md").read())
    """
    kind = config.kind
    options, model_options = kind.split_options(config)
    columns = kind.study_columns(options)
    for name in config.models:
        if name not in kind.baselines:
            kind.check_model(config, name)
    tick = time.perf_counter()
    data = kind.prepare(config, options, log)  # bad data fails here, before anything trains
    setup = time.perf_counter() - tick
    machine = speed.machine()
    log(f"machine: {speed.describe_machine(machine)}")
    runs = {(name, seed): kind.run_config(config, name, seed, model_options[name])
            for seed in config.seeds for name in config.models if not kind.computes(name)}
    if config.steps:
        runs = {job: runner.for_steps(run, config.steps) for job, run in runs.items()}
    for (name, seed), run in runs.items():  # so does a finished model of other options
        if os.path.isfile(os.path.join(run.path, "model.keras")):  # e.g. mask=eyes, now box
            check_run_folder(run, fields=("model_options",),
                             advice="give this study another --name, or delete that folder")
    for name in config.models:  # a bad model option fails before anything trains
        if not kind.computes(name) and model_options.get(name):
            runner.build_model(runs[(name, config.seeds[0])], data.info)
    os.makedirs(config.path, exist_ok=True)
    files.write_json(os.path.join(config.path, "study.json"), dataclasses.asdict(config))
    jobs = [(name, seed) for seed in config.seeds for name in config.models]
    planned, calibrated = _plan(config, runs, log)
    rows, answers, start = [], {}, time.perf_counter()
    trained = overhead = 0.0  # seconds of training, and of everything else, so far
    for i, (name, seed) in enumerate(jobs):
        tick = time.perf_counter()
        row, answer = _run_one(config, kind, data, name, seed, runs.get((name, seed)), log,
                               calibrated.pop((name, seed), None))
        rows.append(row)
        if seed == config.seeds[0]:
            answers[name] = answer
        now = time.perf_counter()
        if row["status"] == "trained" and (name, seed) in planned:
            trained += row["train_seconds"]
            overhead += now - tick - row["train_seconds"]
        # What is left: the planned training, and evaluating at the rate seen so far.
        left = sum(planned.get(job, 0.0) for job in jobs[i + 1:])
        eta = left * (1 + (overhead / trained if trained else EVALUATION_SHARE))
        log(f"[{i + 1}/{len(jobs)}] {report.model_done(name, seed, row, now - tick)}"
            f"{kind.progress(row)} - elapsed {clock(now - start)}, ETA {clock(eta)}")
    summary = summarise(rows, config.models, [*columns, *kind.series])
    summary += kind.references(config, data)
    results = {"study": config.study_name, "kind": kind.name, **kind.results(config, data),
               "budget": config.budget_text if runs else None, "seeds": list(config.seeds),
               "rows": rows, "summary": summary, "machine": machine,
               "setup_seconds": setup}
    results["pictures"] = kind.pictures(config, data, answers, results)
    report.write_csv(os.path.join(config.path, "results.csv"), summary, columns)
    files.write_json(os.path.join(config.path, "results.json"), results)
    tables = report.Tables(summary, columns, len(config.seeds))
    report.write_report(config.path, ["# " + kind.title.format(study=config.study_name), "",
                                      *_header(config, machine, runs, setup),
                                      *kind.report(config, results, tables)],
                        title=f"keras_aegan study {config.study_name}")
    log(f"study done in {clock(time.perf_counter() - start)}: {config.path}/report.md "
        "(and report.html)")
    return results


def _plan(config, runs, log):
    """`({(model, seed): training seconds}, {(model, seed): runner.Calibration})` of the
    jobs still to train, from a few timed steps of each model's first job on this machine
    (an epoch budget; that job then trains the calibrated model) or the time budget; logs
    the plan and its estimate of the whole study."""
    to_train = {job: run for job, run in runs.items()
                if not os.path.isfile(os.path.join(run.path, "model.keras"))}
    if not to_train:
        return {}, {}
    seconds, calibrated, parts = {}, {}, []
    if config.budget_seconds:
        seconds = {job: float(config.budget_seconds) for job in to_train}
        parts = [f"{config.budget_seconds:g} s for each of {len(to_train)} model run(s)"]
    else:
        measured = {}
        for (name, seed), run in to_train.items():
            if name not in measured:
                calibration = calibrated[(name, seed)] = runner.calibrate(run)
                measured[name] = calibration.seconds
                parts.append(f"{name} {calibration.steps:,} steps x "
                             f"{calibration.step * 1000:.0f} ms")
            seconds[(name, seed)] = measured[name]
    total = sum(seconds.values())
    log(f"plan: {'; '.join(parts)}: about {clock(total)} of training, "
        f"{clock(total * (1 + EVALUATION_SHARE))} with evaluation and export")
    return seconds, calibrated


def _run_one(config, kind, data, name, seed, run_config, log, calibrated=None):
    """`(row, answer)` of one model and seed: reused, a baseline's, or trained (the
    model of its `runner.Calibration` when it has one)."""
    folder = os.path.join(config.path, "models", f"{name}-seed{seed}")
    results_path, model_path = (os.path.join(folder, "results.json"),
                                os.path.join(folder, "model.keras"))
    # A row is reused only with the model it describes: without its model.keras the model
    # is trained (or resumed) and scored afresh (unless the kind keeps model-less rows).
    has_model = os.path.isfile(model_path)
    kept = kind.keeps_rows and kind.computes(name)
    scoring = kind.scoring(config, data)
    cached = files.read_json(results_path) if has_model or kept else None
    if cached is not None and not has_model and cached.get("scoring") != scoring:
        cached = None  # a kept row made another way (other settings) is made again
    answer, fresh, answering = None, True, 0.0
    if cached is not None:
        model = runner.load_model(model_path) if has_model else None
        row, fresh = {**cached, "status": "reused"}, False
    elif kind.computes(name):
        row, answer, model = kind.baseline(config, data, name, seed)
        row = {"model": name, "family": "baseline", "seed": seed, **row}
        if model is not None:
            os.makedirs(folder, exist_ok=True)
            runner.save_model(model, model_path)
    else:
        row, model = _train(config, kind, data, name, seed, run_config, log, calibrated)
    rescore = fresh or row.get("scoring") != scoring
    with heartbeat(log, f"{name} seed {seed}: evaluating", enabled=rescore):
        if answer is None and model is not None:  # a kept row reused answers nothing
            tick = time.perf_counter()
            answer = kind.answer(config, data, name, model, seed)
            answering = time.perf_counter() - tick
        if rescore:
            tick = time.perf_counter()
            row.update(kind.score(config, data, answer, seed))
            # Measuring while training (the timeline) is evaluation too.
            row["evaluate_seconds"] = (row.get("measure_seconds", 0.0) + answering
                                       + time.perf_counter() - tick)
    if rescore:
        if scoring is not None:
            row["scoring"] = scoring
        else:  # scored the plain way now: a rerun the same way need not rescore it again
            row.pop("scoring", None)
        if fresh and model is not None and config.export:
            with heartbeat(log, f"{name} seed {seed}: exporting"):
                tick = time.perf_counter()
                row["export"] = _export(config, kind, data, name, seed, model)
                row["export_seconds"] = time.perf_counter() - tick
        if model is not None or kept:  # what a rerun reuses with the model
            os.makedirs(folder, exist_ok=True)
            files.write_json(results_path, row)
    return row, answer


def _train(config, kind, data, name, seed, run_config, log, calibrated=None):
    """Train one registered model within the study's budget; `(row, model)`."""
    from keras_aegan.training.callbacks import TimeBudget

    budget = TimeBudget(config.budget_seconds) if config.budget_seconds else None
    watch = kind.watch(config, data, name, budget)
    if watch is None:
        budget = None  # the runner's own budget counts a resumed run's seconds
    result = runner.train(run_config, verbose=0, callbacks=[watch] if watch else [],
                          budget=budget, log=log, progress=f"{name} seed {seed}: training",
                          calibrated=calibrated)
    # The whole run's steps and seconds: a run resumed, or finished before a crash
    # stopped the study, trained earlier too. Measuring along the way is not training:
    # a time budget leaves it out, the wall clock does not.
    seconds = max(result.total_seconds - (watch.spent if watch and budget is None else 0.0),
                  1e-9)
    row = {"model": name, "family": get_model_entry(name).family, "seed": seed,
           "status": "trained", "train_seconds": seconds, "steps": result.total_steps,
           "parameters": result.model.count_params()}
    if kind.throughput:
        row[kind.throughput] = result.total_steps * run_config.batch_size / seconds
    if watch is not None:
        row["timeline"], row["measure_seconds"] = watch.measurements, watch.spent
    return row, result.model


def _header(config, machine, runs=True, setup=None):
    """The report's first lines: the machine, what a time budget means on it (when the
    runner trains models: a kind that computes every row says its own training), and the
    seconds of set-up every model shared."""
    shared = [] if setup is None else [
        f"Set-up shared by every model (the data, the evaluator, what every model is "
        f"compared with): {setup:.0f} s; each model's own seconds are in the cost table.", ""]
    if not runs:
        return [f"Run on {speed.describe_machine(machine)}, {len(config.seeds)} seed(s).", "",
                *shared]
    lines = [f"Run on {speed.describe_machine(machine)}, {len(config.seeds)} seed(s), "
             f"{config.budget_text} of training per model."]
    if config.budget_seconds:
        lines.append("**Each model trained for a time budget on this machine**: the "
                     "figures answer *who gets good faster here*, and a faster or slower "
                     "machine reaches others (the steps each model made are in the cost "
                     "table). Train for `--steps` or `--epochs` for figures any machine "
                     "reproduces.")
    else:
        lines.append("Each model trained a fixed amount of work: another machine reaches "
                     "the same figures (within the seeds' noise) in another time.")
    return [*lines, "", *shared]


def _export(config, kind, data, name, seed, model):
    """Export a model's parts to `<export_dir>/<study>/<model>-seed<seed>/`; the folder, or
    `failed: ...`."""
    from keras_aegan import export, protocol

    out = os.path.join(config.export_dir, config.study_name, f"{name}-seed{seed}")
    source = {"study": config.study_name, "model": name, "dataset": config.dataset,
              "seed": seed}
    spec = protocol.describe(model)
    if spec.task is not None:
        source["task"] = spec.task
    parts = None if kind.export_parts is None else \
        [part for part in kind.export_parts if spec.has(part)]
    try:
        export.export_model(model, out, overwrite=True, source=source, parts=parts,
                            **kind.export_inputs(data, model))
    except (UserError, export.ExportError) as e:
        return f"failed: {one_line(e, 200)}"
    return out


def summarise(rows, order, keys):
    """Per model (in `order`): the mean and std over seeds of every figure in `keys`
    (element-wise for per-step lists) and its standard error `_se`: over seeds when there
    are several, else the figure's own. With one seed a repeated score's own spread over
    its repeats (`_std`, `_repeats`) is kept."""
    summary = []
    for model in order:
        mine = [r for r in rows if r["model"] == model]
        if not mine:
            continue
        entry = {"model": model, "family": mine[0]["family"], "seeds": len(mine)}
        for key in keys:
            values = [r[key] for r in mine if isinstance(r.get(key), (int, float, list))
                      and not isinstance(r.get(key), bool)]
            if not values:
                continue
            mean, spread = np.mean(values, axis=0), np.std(values, axis=0)
            entry[key], entry[f"{key}_std"] = mean.tolist(), spread.tolist()
            if len(values) > 1 and np.ndim(mean) == 0:
                entry[f"{key}_se"] = float(np.std(values, ddof=1) / np.sqrt(len(values)))
            elif len(mine) == 1:
                own = mine[0]
                if f"{key}_se" in own:
                    entry[f"{key}_se"] = own[f"{key}_se"]
                if f"{key}_repeats" in own:  # a score repeated: its spread over repeats
                    entry[f"{key}_std"] = own[f"{key}_std"]
                    entry[f"{key}_repeats"] = own[f"{key}_repeats"]
        summary.append(entry)
    return summary

