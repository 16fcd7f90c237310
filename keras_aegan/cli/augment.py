"""`augment`: does training on generated images help a classifier that has few labels?"""

import argparse

from keras_aegan import registry
from keras_aegan.cli import common

NAME = "augment"
HELP = ("train a small classifier on 1%% / 10%% of the labels with and without images from "
        "conditional generators (and shifts/rotations); write the table")


def _fractions(text):
    values = []
    for part in common.name_list(text):
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected labelled fractions in (0, 1], got "
                                             f"{part!r}") from None
        if not 0 < value <= 1:
            raise argparse.ArgumentTypeError(f"a labelled fraction must be in (0, 1], got "
                                             f"{part}")
        values.append(value)
    return tuple(values)


_share = common.number(float, "a share in (0, 1)", lambda v: 0 < v < 1)


def add_parser(subparsers):
    conditional = sorted(n for n in registry.model_names() if registry.MODELS[n].needs_labels
                         and registry.MODELS[n].consumes == "labeled_images")
    parser = subparsers.add_parser(
        NAME, help=HELP,
        description="For each labelled fraction and seed: a small CNN trained on the "
                    "labelled subset alone, with random shifts/rotations, with generated "
                    "images of each conditional generator (trained on the labelled subset "
                    "only), and with both; plus each generator's Classification Accuracy "
                    "Score. Runs the augmentation study (study --task augment): writes "
                    "OUT/report.md and report.html (mean ± std over seeds), results.json, "
                    "results.csv and sample grids; a rerun reuses the rows it finished.")
    common.add_data_arguments(parser)
    parser.add_argument("--fractions", type=_fractions, default=(0.01, 0.1), metavar="F,F",
                        help="labelled shares of the training images, each in (0, 1] "
                             "(default: 0.01,0.1)")
    parser.add_argument("--seeds", type=common.seed_list, default=(0, 1, 2), metavar="0,1,...",
                        help="one run per seed; the table gives mean ± std (default: 0,1,2)")
    parser.add_argument("--generators", type=common.name_list, default=("cgan", "caae"),
                        metavar="A,B", help="conditional generators, among: "
                                            f"{', '.join(conditional)} (default: cgan,caae)")
    parser.add_argument("--share", type=_share, default=0.5,
                        help="share of generated images in each batch (default: %(default)s)")
    parser.add_argument("--classifier-steps", type=common.positive_int, default=1500,
                        metavar="N", help="Adam steps of each classifier (default: %(default)s)")
    parser.add_argument("--generator-steps", type=common.positive_int, default=2000,
                        metavar="N", help="training steps of each generator "
                                          "(default: %(default)s)")
    parser.add_argument("--no-cas", dest="cas", action="store_false",
                        help="skip the Classification Accuracy Scores")
    common.add_labelled_experiment_arguments(parser, batch_size=64, out="runs/augment")
    return parser


def check_generators(names):
    """Registered conditional models only; a `UserError` that says why otherwise."""
    from keras_aegan.studies import get_study_kind

    for name in names:
        get_study_kind("augment").check_model(None, name)
    return tuple(names)


def config(args):
    """The augmentation study (`study --task augment`) the arguments describe, writing
    to `--out`."""
    import os

    from keras_aegan.config import StudyConfig

    generators = check_generators(args.generators)  # before TensorFlow starts
    out = os.path.normpath(args.out)
    return StudyConfig(
        **common.data_options(args), task="augment", models=("real", *generators),
        seeds=args.seeds, batch_size=args.batch_size, export=False,
        run_dir=os.path.dirname(out) or ".", name=os.path.basename(out),
        task_options={"fractions": args.fractions, "share": args.share,
                      "classifier_steps": args.classifier_steps,
                      "generator_steps": args.generator_steps, "cas": args.cas,
                      "test_images": args.test_images})


def run(args):
    return common.run_table_study(config(args))
