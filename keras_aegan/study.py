"""The comparative study: autoencoders and GANs on the same data, budget and yardsticks.

`run_study(StudyConfig(...))` trains every model of the study through the runner (same
dataset, splits, seed and budget), evaluates all of them with the same metrics, exports
their encoders and generators, and writes `runs/<study>/`:

- `report.md` and `report.html`: the table, picture grids, curves and a summary.
- `results.json` / `results.csv`: one row per model (mean and std over seeds).
- `models/<model>-seed<seed>/`: each model's run folder and its `results.json`.

Every model is judged by the same functions:

- sample quality: FID, KID, precision/recall, density/coverage, class coverage and
  memorisation on the study's evaluator features, samples vs real test images. Models
  without a sampler of their own (plain autoencoders, PCA) decode draws from a Gaussian
  fitted to their training codes.
- reconstruction: MSE/PSNR/SSIM of test images; GANs reconstruct by latent optimisation.
- representation: linear-probe and k-NN accuracy on codes (autoencoders, PCA) or
  discriminator features (GANs).
- cost: training seconds, parameters, training images per second.
"""

import csv
import dataclasses
import html
import json
import math
import os
import re
import time

import keras
import numpy as np

from keras_aegan import metrics, runner
from keras_aegan.callbacks import TimeBudget, save_grid
from keras_aegan.data import slug
from keras_aegan.errors import UserError
from keras_aegan.registry import get_model_entry, model_names

BASELINES = ("pca",)
DEFAULT_MODELS = ("conv_ae", "denoising_ae", "vae", "dcgan", "wgan_gp", "pca")
# With a wall-clock budget the epoch count only caps training.
MAX_EPOCHS = 10_000

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


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """One study; saved as `study.json` in its folder.

    Attributes:
        dataset: data source spec (see `keras_aegan.data`).
        models: registered model names and baselines (`pca`).
        epochs: budget in epochs per model; or
        budget_seconds: budget in wall-clock training seconds per model.
        seeds: each model is trained and evaluated once per seed; tables give mean ± std.
        batch_size, latent_dim: shared by every model.
        eval_samples: generated and real images compared per model.
        export: export each model's encoder / generator to `export/<study>/`.
        run_dir, name: the study writes `<run_dir>/<name>/`.
        image_shape, crop, data_dir, download, manual_dir: data options, as for a run.
    """

    dataset: str = "digits"
    models: tuple = DEFAULT_MODELS
    epochs: int | None = None
    budget_seconds: float | None = None
    seeds: tuple = (0,)
    batch_size: int = 64
    latent_dim: int = 16
    eval_samples: int = 1000
    export: bool = True
    run_dir: str = "runs"
    name: str | None = None
    image_shape: tuple | None = None
    crop: bool = False
    data_dir: str | None = None
    download: bool = True
    manual_dir: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        if not self.models:
            raise UserError("a study needs at least one model")
        known = [*model_names(), *BASELINES]
        for name in self.models:
            if name not in known:
                raise UserError(f"unknown model {name!r} in the study; known: "
                                f"{', '.join(sorted(known))}")
        if len(set(self.models)) != len(self.models):
            raise UserError(f"models listed twice: {', '.join(self.models)}")
        if (self.epochs is None) == (self.budget_seconds is None):
            raise UserError("give the study one budget: epochs or budget_seconds")
        if self.epochs is not None and (not isinstance(self.epochs, int) or self.epochs < 1):
            raise UserError(f"epochs must be a positive integer, got {self.epochs!r}")
        if self.budget_seconds is not None and not 0 < self.budget_seconds < 10**7:
            raise UserError(f"budget_seconds must be positive, got {self.budget_seconds!r}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise UserError(f"seeds must be distinct, got {self.seeds}")
        if self.eval_samples < 10:
            raise UserError(f"eval_samples must be at least 10, got {self.eval_samples}")

    @property
    def study_name(self):
        if self.name:
            return self.name
        return f"study-{slug(self.dataset)}"

    @property
    def path(self):
        return os.path.join(self.run_dir, self.study_name)

    def run_config(self, model, seed):
        """The `RunConfig` of one model of the study."""
        return runner.RunConfig(
            model=model, dataset=self.dataset, epochs=self.epochs or MAX_EPOCHS,
            batch_size=self.batch_size, latent_dim=self.latent_dim, seed=seed,
            run_dir=os.path.join(self.path, "models"), name=f"{model}-seed{seed}",
            image_shape=self.image_shape, crop=self.crop, data_dir=self.data_dir,
            download=self.download, manual_dir=self.manual_dir)

    def open_data(self):
        return self.run_config(self.models[0], self.seeds[0]).open_data()


# ----------------------------------------------------------------------------- subjects


class PCABaseline:
    """PCA as a (linear, Gaussian) autoencoder and generator: the classical yardstick."""

    family = "baseline"

    def __init__(self, latent_dim, image_shape, seed=0):
        from sklearn.decomposition import PCA

        self.image_shape = tuple(image_shape)
        self.latent_dim = latent_dim
        self.seed = seed
        self.pca = PCA(n_components=latent_dim, random_state=seed)

    def fit(self, images):
        flat = images.reshape(len(images), -1)
        if self.latent_dim > min(flat.shape):
            raise UserError(f"latent_dim {self.latent_dim} exceeds what PCA can fit "
                            f"({min(flat.shape)})")
        self.pca.fit(flat)
        return self

    def encode(self, images):
        return self.pca.transform(images.reshape(len(images), -1)).astype("float32")

    def decode(self, codes):
        flat = self.pca.inverse_transform(np.asarray(codes))
        return np.clip(flat, 0, 1).reshape(-1, *self.image_shape).astype("float32")

    def sample(self, n, seed=0):
        rng = np.random.default_rng(seed)
        codes = rng.standard_normal((n, self.latent_dim)) * np.sqrt(self.pca.explained_variance_)
        return self.decode(codes)

    def __call__(self, images, training=False):
        return self.decode(self.encode(images))

    def count_params(self):
        return int(self.pca.components_.size + self.pca.mean_.size)


def _batched(fn, x, batch_size=512):
    return np.concatenate([np.asarray(fn(x[i:i + batch_size]))
                           for i in range(0, len(x), batch_size)]) if len(x) else x


class Subject:
    """A uniform view of a trained model for the metrics: codes, reconstructions, samples.

    Args:
        name: model name.
        family: `autoencoder`, `gan` or `baseline`.
        model: a keras_aegan model or a `PCABaseline`.
        train_images: training images, to fit code Gaussians for models without a sampler.
    """

    def __init__(self, name, family, model, train_images):
        self.name = name
        self.family = family
        self.model = model
        self.has_codes = hasattr(model, "encode") and hasattr(model, "decode")
        self._code_gaussian = None
        if self.has_codes and not hasattr(model, "sample"):
            codes = self.codes(train_images[:5000])
            self._code_gaussian = (codes.mean(0), np.cov(codes, rowvar=False))
        self._features = None
        if family == "gan" and not hasattr(model, "num_classes"):
            disc = model.discriminator
            self._features = keras.Model(disc.input, disc.layers[-2].output)
        self.sampler_note = ("decoded draws from a Gaussian fitted to its training codes"
                             if self._code_gaussian is not None else "its own sampler")

    def codes(self, images):
        """Codes (autoencoders, PCA) or discriminator features (GANs); `None` otherwise."""
        if self.has_codes:
            return _batched(self.model.encode, images).reshape(len(images), -1)
        if self._features is not None:
            return _batched(lambda b: self._features(b, training=False),
                            images).reshape(len(images), -1)
        return None

    def reconstruct(self, images, steps=100):
        if self.has_codes:
            return _batched(lambda b: self.model(b, training=False), images)
        if self.family == "gan" and not hasattr(self.model, "num_classes"):
            generator = self.model.generator
            recon, _ = metrics.latent_optimisation_reconstruction(
                lambda z: generator(z, training=False), images, self.model.latent_dim,
                steps=steps)
            return recon
        return None

    def sample(self, n, seed=0):
        if self._code_gaussian is not None:
            mean, cov = self._code_gaussian
            codes = np.random.default_rng(seed).multivariate_normal(mean, cov, n,
                                                                    method="eigh")
            return _batched(self.model.decode, codes.astype("float32"))
        return np.asarray(self.model.sample(n, seed=seed), "float32")

    def interpolate(self, a, b, steps=8):
        """Images along a straight line between two codes (or two noise vectors)."""
        weights = np.linspace(0, 1, steps, dtype="float32")[:, None]
        if self.has_codes:
            ca, cb = self.codes(np.stack([a, b]))
            codes = (1 - weights) * ca + weights * cb
            return np.asarray(self.model.decode(codes))
        if self.family == "gan" and not hasattr(self.model, "num_classes"):
            rng = np.random.default_rng(7)
            za, zb = rng.standard_normal((2, self.model.latent_dim)).astype("float32")
            return keras.ops.convert_to_numpy(self.model.generate((1 - weights) * za
                                                                  + weights * zb))
        return None


# ---------------------------------------------------------------------------- the study


def run_study(config, *, verbose=1, log=print):
    """Train, evaluate and report every model of a `StudyConfig`; returns the results.

    A study interrupted and run again reuses each model it already evaluated (its
    `models/<model>-seed<seed>/results.json`), and resumes a model killed mid-training
    from its checkpoints.

    Returns:
        A dict with `rows` (one per model and seed), `summary` (per model, mean and std
        over seeds) and `notes`.

    Example:
        >>> results = run_study(StudyConfig(dataset="digits", budget_seconds=20))
        >>> print(open("runs/study-digits/report.md").read())
    """
    os.makedirs(config.path, exist_ok=True)
    _write_json(os.path.join(config.path, "study.json"), _jsonable(dataclasses.asdict(config)))
    source = config.open_data()
    info = source.info
    notes = []
    test_x, test_y = source.arrays("test", limit=max(config.eval_samples, 1000))
    train_x, train_y = source.arrays("train", limit=20000)
    log(f"study {config.study_name}: {len(config.models)} models x {len(config.seeds)} "
        f"seed(s) on {info.name} ({'x'.join(map(str, info.image_shape))}), budget "
        f"{_budget_text(config)} per model -> {config.path}")
    evaluator = metrics.get_evaluator(source, verbose=0)
    if evaluator.has_classes:
        log(f"evaluator: {evaluator.path} (test accuracy {evaluator.test_accuracy:.4f})")
    else:
        notes.append("The dataset has no labels: class coverage and the representation "
                     "probes are skipped; sample metrics use PCA features of the images.")
        log("evaluator: PCA features (unlabeled dataset; label-based metrics skipped)")
    jobs = [(model, seed) for seed in config.seeds for model in config.models]
    rows, subjects, start = [], {}, time.perf_counter()
    for i, (model, seed) in enumerate(jobs):
        job_start = time.perf_counter()
        row, subject = _run_one(config, model, seed, source, evaluator, train_x, train_y,
                                test_x, test_y, verbose)
        rows.append(row)
        if seed == config.seeds[0]:
            subjects[model] = subject
        elapsed = time.perf_counter() - start
        eta = elapsed / (i + 1) * (len(jobs) - i - 1)
        log(f"[{i + 1}/{len(jobs)}] {model} seed {seed}: {row['status']}, done in "
            f"{time.perf_counter() - job_start:.1f}s (training {row['train_seconds']:.1f}s) - "
            f"elapsed {_clock(elapsed)}, ETA {_clock(eta)}")
    summary = _summarise(rows, config.models)
    results = {"study": config.study_name, "dataset": info.name, "budget": _budget_text(config),
               "seeds": list(config.seeds), "rows": rows, "summary": summary, "notes": notes,
               "evaluator": {"path": os.fspath(evaluator.path),
                             "test_accuracy": evaluator.test_accuracy}}
    _write_csv(os.path.join(config.path, "results.csv"), summary)
    results["figure_rows"] = _write_figures(config, subjects, test_x, test_y)
    _write_json(os.path.join(config.path, "results.json"), results)
    write_report(config, results)
    log(f"study done in {_clock(time.perf_counter() - start)}: {config.path}/report.md "
        "(and report.html)")
    return results


def _run_one(config, model, seed, source, evaluator, train_x, train_y, test_x, test_y, verbose):
    folder = os.path.join(config.path, "models", f"{model}-seed{seed}")
    results_path = os.path.join(folder, "results.json")
    cached = _read_json(results_path)
    if model in BASELINES:
        start = time.perf_counter()
        baseline = PCABaseline(config.latent_dim, source.info.image_shape, seed).fit(train_x)
        seconds = time.perf_counter() - start
        subject = Subject(model, "baseline", baseline, train_x)
        trained = {"train_seconds": seconds, "images_per_second": len(train_x) / seconds,
                   "parameters": baseline.count_params(), "steps": 1}
    else:
        run_config = config.run_config(model, seed)
        entry = get_model_entry(model)
        if cached is not None and os.path.exists(os.path.join(folder, "model.keras")):
            loaded = runner.load_model(os.path.join(folder, "model.keras"))
            return {**cached, "status": "reused"}, Subject(model, entry.family, loaded, train_x)
        if entry.targets == "labels" and not source.info.labeled:
            raise UserError(f"{model} needs class labels, and {source.info.name} has none")
        budget = [TimeBudget(config.budget_seconds)] if config.budget_seconds else []
        # A model interrupted before its results were written resumes from its checkpoints.
        result = runner.train(run_config, verbose=0, callbacks=budget)
        subject = Subject(model, entry.family, result.model, train_x)
        trained = {"train_seconds": result.seconds, "parameters": result.model.count_params(),
                   "images_per_second": result.images / max(result.seconds, 1e-9),
                   "steps": result.steps}
    if cached is not None:
        return {**cached, "status": "reused"}, subject
    row = {"model": model, "family": subject.family, "seed": seed, "status": "trained",
           "sampler": subject.sampler_note, **trained}
    row.update(_evaluate(subject, evaluator, config, train_x, train_y, test_x, test_y, seed))
    if config.export and model not in BASELINES:
        row["export"] = _export(config, model, seed, folder, subject.model)
    os.makedirs(folder, exist_ok=True)
    _write_json(results_path, row)
    return row, subject


def _evaluate(subject, evaluator, config, train_x, train_y, test_x, test_y, seed):
    n = config.eval_samples
    real = test_x[:n]
    samples = subject.sample(n, seed=seed)
    scores = metrics.sample_quality(evaluator, samples, real,
                                    kid_subset_size=min(1000, n // 2, len(real) // 2))
    scores.pop("class_metrics", None)
    memo = metrics.memorisation(evaluator.features(samples[:500]),
                                evaluator.features(train_x[:5000]),
                                evaluator.features(test_x[-500:]))
    scores["memorisation_ratio"] = memo["ratio"]
    recon = subject.reconstruct(test_x[:256])
    if recon is not None:
        scores.update({k: v for k, v in metrics.reconstruction_scores(test_x[:256], recon).items()
                       if k in ("mse", "psnr", "ssim")})
    if train_y is not None and test_y is not None:
        train_codes, test_codes = subject.codes(train_x[:2000]), subject.codes(test_x[:1000])
        if train_codes is not None:
            scores["linear_probe"] = metrics.linear_probe_accuracy(
                train_codes, train_y[:2000], test_codes, test_y[:1000])
            scores["knn"] = metrics.knn_accuracy(train_codes, train_y[:2000], test_codes,
                                                 test_y[:1000])
    return {k: float(v) for k, v in scores.items()}


def _export(config, model, seed, folder, trained):
    from keras_aegan import export

    parts = [p for p in ("encoder", "generator") if p in export.available_parts(trained)]
    if not parts:
        return "nothing to export"
    out = os.path.join("export", config.study_name, f"{model}-seed{seed}")
    try:
        export.export_run(folder, out, parts=parts, overwrite=True)
    except (UserError, export.ExportError) as e:
        return f"failed: {str(e).splitlines()[0][:200]}"
    return out


def _summarise(rows, order):
    summary = []
    for model in order:
        mine = [r for r in rows if r["model"] == model]
        if not mine:
            continue
        entry = {"model": model, "family": mine[0]["family"], "seeds": len(mine)}
        for key in COLUMNS:
            values = [r[key] for r in mine if isinstance(r.get(key), (int, float))]
            if values:
                entry[key] = float(np.mean(values))
                entry[f"{key}_std"] = float(np.std(values))
        summary.append(entry)
    return summary


# ------------------------------------------------------------------------------ report


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
    _write_text(os.path.join(config.path, "report.md"), text)
    _write_text(os.path.join(config.path, "report.html"), _markdown_to_html(text))


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


def _write_figures(config, subjects, test_x, test_y):
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
    _plot_curves(config, [n for n in names if n not in BASELINES])
    return rows


def _plot_curves(config, names):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, max(1, len(names)), figsize=(4 * max(1, len(names)), 3),
                             squeeze=False)
    for ax, name in zip(axes[0], names):
        path = os.path.join(config.path, "models", f"{name}-seed{config.seeds[0]}",
                            "history.csv")
        if os.path.exists(path):
            with open(path) as f:
                rows = list(csv.DictReader(f))
            for key in rows[0] if rows else []:
                if key.endswith("loss") and not key.startswith("val_"):
                    ax.plot([float(r[key]) for r in rows if r[key] not in ("", "NA")],
                            label=key)
            ax.legend(fontsize=7)
        ax.set_title(name)
        ax.set_xlabel("epoch")
    fig.tight_layout()
    fig.savefig(os.path.join(config.path, "curves.png"), dpi=90)
    plt.close(fig)


# ----------------------------------------------------------------------------- helpers


def _budget_text(config):
    return f"{config.epochs} epochs" if config.epochs else f"{config.budget_seconds:g} s"


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _jsonable(value):
    return json.loads(json.dumps(value, default=list))


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _write_text(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _write_json(path, value):
    _write_text(path, json.dumps(value, indent=2, default=_plain) + "\n")


def _plain(value):
    """JSON for numpy numbers and paths."""
    return os.fspath(value) if isinstance(value, os.PathLike) else float(value)


def _write_csv(path, summary):
    keys = ["model", "family", "seeds"]
    keys += [k for k in COLUMNS if any(k in e for e in summary)]
    keys += [f"{k}_std" for k in COLUMNS if any(f"{k}_std" in e for e in summary)]
    tmp = f"{path}.tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, keys, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(summary)
    os.replace(tmp, path)
