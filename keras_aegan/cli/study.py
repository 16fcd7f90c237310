"""`study`: autoencoders and GANs under one budget, the same metrics, one report."""

from keras_aegan import studies
from keras_aegan.cli import common
from keras_aegan.config import DEFAULT_BUDGET_SECONDS, DEFAULT_STUDY_MODELS, StudyConfig

NAME = "study"
HELP = ("train autoencoders and GANs under one budget, evaluate all with the same metrics, "
        "write a report (the default when run with no arguments)")


def kinds_text():
    """The registered study kinds, a few lines each, for `--help`: description, default
    models and the options each owns (with their defaults)."""
    import textwrap

    lines = []
    for name in studies.study_kind_names():
        kind = studies.get_study_kind(name)
        default = " (the default)" if name == studies.DEFAULT_KIND else ""
        text = (f"{name}{default}: {kind.description}. Models: {','.join(kind.models)}"
                + (f"; options: {', '.join(f'{k}={v}' for k, v in kind.options.items())}"
                   if kind.options else "") + ".")
        lines += textwrap.wrap(text, 88, initial_indent="  ", subsequent_indent="      ")
    return "\n".join(lines)


def add_parser(subparsers):
    models = DEFAULT_STUDY_MODELS
    parser = subparsers.add_parser(
        NAME, help=HELP,
        description="The comparative study: trains each model on the same data, splits, seed "
                    "and budget, evaluates all with the same metrics (sample quality, "
                    "reconstruction, representation, cost), exports their parts, and writes "
                    "runs/<study>/report.md and report.html. Rerunning an interrupted study "
                    "reuses the models it already finished.",
        epilog=f"study kinds (--task NAME):\n{kinds_text()}",
        formatter_class=common.argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", type=common.one_of(tuple(studies.study_kind_names()),
                                                     "study kind"),
                        metavar="NAME",
                        help="the kind of study: the image study by default, or the "
                             "families compared on a task (listed below)")
    parser.add_argument("--task-option", dest="task_options", action="append",
                        type=common.option, default=[], metavar="KEY=VALUE",
                        help="an option of the study kind (listed below) or of its models' "
                             "builders, repeatable (e.g. factor=4)")
    parser.add_argument("--models", type=common.name_list, metavar="A,B,...",
                        help=f"models to compare (default: {','.join(models)}; "
                             "pca is the classical baseline; a task has its own default)")
    common.add_data_arguments(parser, StudyConfig)
    group = parser.add_argument_group("budget and evaluation")
    budget = group.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=common.positive_int, metavar="N",
                        help="budget: optimizer steps per model (default: the kind's, "
                             f"{kinds_steps()}): the same figures on any machine")
    budget.add_argument("--epochs", type=common.positive_int, help="budget: epochs per model")
    budget.add_argument("--budget-seconds", type=common.positive_seconds, metavar="S",
                        help="budget: wall-clock training seconds per model: who gets "
                             "good faster on this machine")
    group.add_argument("--seeds", type=common.seed_list,
                       default=common.default(StudyConfig, "seeds"), metavar="0,1,...",
                       help="train and evaluate each model once per seed; the report gives "
                            "mean ± std (default: 0)")
    group.add_argument("--batch-size", type=common.positive_int,
                       help="images per step, for every model (default: each model's own: "
                            f"{common.batch_sizes()})")
    group.add_argument("--latent-dim", type=common.positive_int,
                       default=common.default(StudyConfig, "latent_dim"),
                       help="code / noise size, for every model (default: %(default)s)")
    group.add_argument("--eval-samples", type=common.positive_int,
                       default=common.default(StudyConfig, "eval_samples"), metavar="N",
                       help="generated and real images compared per model "
                            "(default: %(default)s)")
    group.add_argument("--no-export", dest="export", action="store_false",
                       help="do not export the models' parts to export/<study>/")
    group = parser.add_argument_group("output")
    group.add_argument("--run-dir", default=common.default(StudyConfig, "run_dir"),
                       metavar="DIR", help="parent folder of the study folder "
                                           "(default: %(default)s)")
    group.add_argument("--name", help="study folder name (default: study-<dataset>)")
    return parser


def kinds_steps():
    """`images 1,200, ...`: each study kind's default steps (or its time budget)."""
    from keras_aegan.studies.kinds import STUDY_KINDS

    def budget(kind):
        if all(kind.computes(name) for name in kind.models):
            return "its own"  # every row is the kind's (augment, robust: --task-option)
        return f"{kind.steps:,}" if kind.steps else f"{DEFAULT_BUDGET_SECONDS:g} s"

    return ", ".join(f"{name} {budget(kind)}" for name, kind in sorted(STUDY_KINDS.items()))


def config(args):
    """The `StudyConfig` the arguments describe (checked before TensorFlow starts)."""
    return StudyConfig(
        **common.data_options(args), task=args.task, task_options=dict(args.task_options),
        models=args.models, steps=args.steps, epochs=args.epochs,
        budget_seconds=args.budget_seconds, seeds=args.seeds, batch_size=args.batch_size,
        latent_dim=args.latent_dim, eval_samples=args.eval_samples, export=args.export,
        run_dir=args.run_dir, name=args.name)


def run(args):
    study = config(args)
    from keras_aegan.studies import run_study

    run_study(study)
    print(f"{study.path}/report.md")
    return 0
