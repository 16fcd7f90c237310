"""Study kinds: what a study compares, declared once; `study.run.run_study` does the rest.

A study kind is an object (a `StudyKind` subclass instance) registered by name, as a model
is: `register_study_kind(kind)`, then `study --task NAME` runs it. It declares its name
and description, its default models and baselines, the options it owns (`--task-option`
keys with their defaults), its columns (`Column`: header, direction, format, meaning) and
how it prepares data, answers with a trained model or a baseline, scores the answers,
draws its pictures and words its report. The runner owns the seeds x models loop, reuse of
finished runs, budgets, training, export, mean / std / standard error, CSV and tables.

This module imports no TensorFlow (the CLI lists the kinds in `--help`); each kind imports
what it needs inside its methods. The built-in kinds are registered in
`keras_aegan/studies/__init__.py`. See ARCHITECTURE.md, "How to add a study kind".
"""

import dataclasses
import inspect

from keras_aegan.errors import UserError, lookup

# The kind a study runs when it is given no `task` (the image study).
DEFAULT_KIND = "images"


@dataclasses.dataclass(frozen=True)
class Column:
    """A column of a study's tables and CSV.

    Attributes:
        header: the table's header.
        better: `"low"`, `"high"`, or `None` for a figure that describes.
        fmt: its format (`"{:.3f}"`).
        meaning: what it measures, one sentence for the report's legend.
        contest: whether "who won" counts it (cost columns are facts, not wins).
    """

    header: str
    better: str | None
    fmt: str
    meaning: str
    contest: bool = True

    @property
    def arrow(self):
        return {"low": " ↓", "high": " ↑"}.get(self.better, "")


def accuracy_column(header, meaning, fmt="{:.2%}"):
    """A column of an accuracy (higher is better), shown as a percentage."""
    return Column(header, "high", fmt, meaning)


# The cost columns every kind that trains may show (the runner writes these keys).
TRAIN_SECONDS = Column("train s", None, "{:.1f}", "training seconds (measurements made "
                       "while training are not charged).", contest=False)
# The sequence studies' (next_frame, timeseries): whole seconds, said to be the CPU's.
TRAIN_SECONDS_CPU = dataclasses.replace(TRAIN_SECONDS, header="train s (CPU)", fmt="{:.0f}")
STEPS = Column("steps", None, "{:,.0f}", "optimizer steps taken in the budget.",
               contest=False)
PARAMETERS = Column("parameters", None, "{:,.0f}", "trainable and fixed weights.",
                    contest=False)


class StudyKind:
    """The base of a study kind: override the attributes and the methods your kind needs.

    Attributes:
        name: `--task NAME`.
        description: one line for `--help`.
        models: the default models (registered names and this kind's baselines).
        baselines: this kind's classical baselines (answered by `baseline`, not trained).
        options: the `--task-option` keys the kind owns -> their defaults; any other
            option goes to the models' builders (each model takes those its builder has).
        columns: key -> `Column`, in table order (the row keys the scores write).
        throughput: the row key of examples trained per second (`None`: not shown).
        series: keys of list-valued figures (per step) averaged over seeds too.
        title: the report's first heading, `{study}` filled in.
        export_parts: the parts of each model the study exports, those a model has
            (`None`: every part it declares).
        datasets: source kinds (`faces` of `faces:64`) whose study this kind is when no
            `--task` is given (`train.py study --dataset faces` runs the faces study).
        steps: the default budget, optimizer steps per model: enough work for the
            contrast the kind exists to show, on any machine (`None`: a time budget,
            `config.DEFAULT_BUDGET_SECONDS`).
        keeps_rows: rows the kind computes (`computes`) without a model to save are
            stored and reused on rerun like a trained model's: for experiments whose rows
            are classifiers trained for the table (minutes each), not models a user keeps.
    """

    name = ""
    description = ""
    models = ()
    baselines = ()
    options = {}
    columns = {}
    throughput = "images_per_second"
    series = ()
    title = "Task study {study}"
    export_parts = None
    datasets = ()
    steps = None
    keeps_rows = False

    # ------------------------------------------------------------------------ options

    def split_options(self, config):
        """`(own options with defaults, {model: builder options})` of `config.task_options`;
        an option neither the kind nor any of its models takes is an error (a typo)."""
        from keras_aegan.registry import get_model_entry

        own = {**self.options, **{k: v for k, v in config.task_options.items()
                                  if k in self.options}}
        rest = {k: v for k, v in config.task_options.items() if k not in self.options}
        per_model, used = {}, set()
        for name in config.models:
            if name in self.baselines:
                continue
            accepted = inspect.signature(get_model_entry(name).builder).parameters
            per_model[name] = {k: v for k, v in rest.items() if k in accepted}
            used.update(per_model[name])
        unknown = sorted(set(rest) - used)
        if unknown:
            raise UserError(f"task option(s) {', '.join(unknown)}: not an option of the "
                            f"{self.name} study ({', '.join(self.options) or 'none'}) nor "
                            "of its models' builders")
        return own, per_model

    def run_config(self, config, name, seed, model_options):
        """The `RunConfig` of one trained model of the study."""
        return dataclasses.replace(config.run_config(name, seed), model_options=model_options)

    def computes(self, name):
        """Whether the kind makes the row of `name` itself (`baseline`) rather than the
        runner training it on the study's data and budget: a baseline, or a registered
        model an experiment trains its own way (a generator on a labelled subset for fixed
        steps, its samples then training the classifiers the row scores)."""
        return name in self.baselines

    def study_columns(self, options):
        """The columns of one study (`columns` by default): a kind whose columns follow
        its options (one per evaluation epsilon, per labelled fraction) builds them here;
        `columns` declares their kinds for `--help` and the catalogue's checks."""
        return self.columns

    # --------------------------------------------------------------------------- data

    def prepare(self, config, options, log):
        """Open and check the data (fail here, before anything trains), log the study's
        first line; returns the kind's data object, with at least `info` (the source's)."""
        raise NotImplementedError

    def check_model(self, config, name):
        """Raise `UserError` when a registered model cannot take part in this study."""

    # ------------------------------------------------------------- answers and scores

    def watch(self, config, data, name, budget):
        """A callback measuring the model while it trains, or `None`. It has `spent`
        (seconds not charged to training) and `measurements` (the row's `timeline`)."""
        return None

    def baseline(self, config, data, name, seed):
        """`(row, answer, model or None)` of a baseline; a model is saved and exported like
        a trained one and reused on rerun."""
        raise NotImplementedError

    def answer(self, config, data, name, model, seed):
        """What the scores and pictures need of a trained model (its outputs, samples,
        a view of it)."""
        raise NotImplementedError

    def score(self, config, data, answer, seed):
        """The row's figures for one answer: `{column key: value, key_se: ..., ...}`."""
        raise NotImplementedError

    def scoring(self, config, data):
        """How the scores are made; a reused row keeps its scores when it was scored the
        same way (`None`: always)."""
        return None

    def progress(self, row):
        """The end of a model's progress line: its main figures."""
        return ", ".join(f"{c.header} {c.fmt.format(row[k])}"
                         for k, c in self.columns.items() if c.better and k in row)

    def references(self, config, data):
        """Rows appended to the summary (the truth, held-out real data, published)."""
        return []

    def export_inputs(self, data, model):
        """Keyword arguments of `export.export_model` for its parity check (`images`,
        `labels`, `examples`)."""
        return {}

    # ------------------------------------------------------------------------ report

    def results(self, config, data):
        """Facts of the study for `results.json` and the report (dataset, sizes, ...)."""
        return {"dataset": data.info.name}

    def pictures(self, config, data, answers, results):
        """Draw the pictures in `config.path` from the first seed's answers (by model)
        and the results so far (`rows`, `summary`); returns anything the report needs to
        word them (kept as `results["pictures"]`)."""
        return {}

    def report(self, config, results, tables):
        """The report's Markdown lines after its title (`tables`: `report.Tables`)."""
        raise NotImplementedError


STUDY_KINDS = {}


def register_study_kind(kind):
    """Add a study kind (a `StudyKind` instance) to the catalogue; returns it."""
    if not kind.name or kind.name in STUDY_KINDS:
        raise ValueError(f"study kind {kind.name!r} is unnamed or registered twice")
    for key, column in kind.columns.items():
        if column.better not in ("low", "high", None) or not column.meaning:
            raise ValueError(f"column {key!r} of {kind.name!r}: give better and meaning")
    STUDY_KINDS[kind.name] = kind
    return kind


def get_study_kind(name):
    """The registered kind `name`; a one-line `UserError` naming the known ones otherwise."""
    return lookup(STUDY_KINDS, name, "study kind")


def kind_for_dataset(spec):
    """The name of the kind that claims the source kind of `spec` (`StudyKind.datasets`),
    or `DEFAULT_KIND`."""
    source_kind = spec.partition(":")[0]
    for name, kind in STUDY_KINDS.items():
        if source_kind in kind.datasets:
            return name
    return DEFAULT_KIND


def study_kind_names():
    return sorted(STUDY_KINDS)
