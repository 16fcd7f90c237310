"""`augment`: does training on generated images help a classifier that has few labels?"""

import argparse

from keras_aegan import registry
from keras_aegan.cli import common
from keras_aegan.errors import UserError

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
                    "Score. Writes OUT/augmentation.md (mean ± std over seeds), "
                    "results.json and sample grids.")
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
    for name in names:
        entry = registry.get_model_entry(name)
        if not entry.needs_labels:
            raise UserError(f"{name} is an unconditional {entry.family}: augmentation needs a "
                            "conditional generator that draws a chosen class (cgan, caae); "
                            "an unconditional model's samples can only be labelled by the "
                            "evaluator, which has seen every label")
    return tuple(names)


def run(args):
    generators = check_generators(args.generators)  # before TensorFlow starts
    from keras_aegan.studies import augment

    source, x_train, y_train, x_test, y_test = common.labelled_data(
        args, "augmentation needs them")
    print(f"{source.info.name}: {len(x_train)} training images, {len(x_test)} test images; "
          f"fractions {', '.join(f'{f:g}' for f in args.fractions)}, seeds "
          f"{', '.join(map(str, args.seeds))} -> {args.out}", flush=True)
    rows, _ = augment.run_augmentation(
        x_train, y_train, x_test, y_test, args.out, fractions=args.fractions, seeds=args.seeds,
        dataset=source.info.name, generators=generators, share=args.share,
        classifier_steps=args.classifier_steps, generator_steps=args.generator_steps,
        batch_size=args.batch_size, cas=args.cas,
        log=lambda line: print(line, flush=True))
    print(augment.format_summary(rows))
    print(f"{args.out}/augmentation.md")
    return 0
