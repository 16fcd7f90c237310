"""Command line: argument parsing -> library calls. `train.py` is the entry point.

    python train.py [train] --model conv_ae --dataset idx:../shared/data/mnist --epochs 1

Bad input ends with a one-line `error: ...` on stderr and exit code 2; a run whose training
diverged (a NaN loss) with exit code 3; a failed export (a parity check) with exit code 1.
Option defaults are the config dataclasses' own (`RunConfig`, `StudyConfig`).
"""

import argparse
import dataclasses
import json
import sys

from keras_aegan.errors import UserError, one_line

USAGE_ERROR = 2
DIVERGED = 3  # the same as callbacks.EXIT_DIVERGED, without importing TensorFlow here


class _Parser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors are one line (no usage dump) and exit code 2."""

    def error(self, message):
        self.exit(USAGE_ERROR, f"error: {message} (see --help)\n")


# Large enough for any real run, small enough to catch a typo before it allocates memory
# or trains for ever.
MAX_COUNT = 10**9


def _number(convert, what, valid):
    """An argparse type: `convert(text)`, accepted when `valid(value)`; else "expected {what}"."""

    def parse(text):
        try:
            value = convert(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not valid(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
        return value

    return parse


_positive_int = _number(int, f"a positive integer up to {MAX_COUNT:,}",
                        lambda v: 1 <= v <= MAX_COUNT)
_non_negative_int = _number(int, "an integer in [0, 2**32)", lambda v: 0 <= v < 2**32)
_positive_float = _number(float, "a positive number below 10", lambda v: 0 < v < 10)
_fraction = _number(float, "a number in [0, 1)", lambda v: 0 <= v < 1)


def _option(text):
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value  # a bare string
    return key, parsed


def _image_shape(text):
    from keras_aegan.data import parse_image_shape

    try:
        return parse_image_shape(text)
    except UserError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_data_arguments(parser):
    """The data-source options shared by every command that reads data."""
    from keras_aegan.data import DataOptions

    group = parser.add_argument_group("data")
    group.add_argument("--dataset", default=_default(DataOptions, "dataset"), metavar="SPEC",
                       help="data source: digits (bundled 8x8, offline default), idx:DIR "
                            "(MNIST-format IDX files), folder:DIR (PNG/JPEG, class "
                            "sub-folders as labels), npz:FILE (arrays x[, y]) or a "
                            "tensorflow-datasets name such as mnist, fashion_mnist, cifar10 "
                            "(default: %(default)s)")
    group.add_argument("--data-dir", metavar="DIR",
                       help="tensorflow-datasets data folder (default: ~/tensorflow_datasets)")
    group.add_argument("--manual-dir", metavar="DIR",
                       help="folder of dataset files fetched by hand, for tensorflow-datasets "
                            "builders that prepare from it (e.g. --dataset mnist --manual-dir "
                            "../shared/data/mnist prepares offline)")
    group.add_argument("--no-download", dest="download", action="store_false",
                       help="never let tensorflow-datasets download; fail if the dataset is "
                            "not prepared in --data-dir")
    group.add_argument("--image-shape", type=_image_shape, metavar="HxWxC",
                       help="resize images to this shape, converting grayscale/RGB as needed "
                            "(e.g. 32x32x3); needed for folders of mixed image sizes")
    group.add_argument("--crop", action="store_true",
                       help="center-crop to the aspect ratio of --image-shape before resizing")
    group.add_argument("--validation-fraction", type=_fraction,
                       default=_default(DataOptions, "validation_fraction"), metavar="F",
                       help="share of the training split held out for validation when the "
                            "source has no validation split (default: %(default)s)")


def _default(config_class, field):
    """The default of a config dataclass's field: the one place defaults live."""
    for f in dataclasses.fields(config_class):
        if f.name == field:
            return f.default
    raise KeyError(field)


def _add_train_parser(subparsers):
    from keras_aegan.registry import MODELS, model_names
    from keras_aegan.runner import RunConfig

    names = model_names()
    models = "\n".join(f"  {n:<12} {MODELS[n].family:<12} {MODELS[n].description}"
                       for n in names)
    parser = subparsers.add_parser(
        "train", help="train one model and write its run folder (the default command)",
        description="Train one model on one data source and write runs/<name>/ with "
                    "config.json, model.keras, history.csv, TensorBoard logs and a PNG grid "
                    "after each epoch.",
        epilog=f"models:\n{models}", formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=_default(RunConfig, "model"), choices=names,
                        metavar="NAME",
                        help=f"model to train, one of: {', '.join(names)} "
                             "(default: %(default)s)")
    parser.add_argument("--option", dest="model_options", action="append", type=_option,
                        default=[], metavar="KEY=VALUE",
                        help="an option of the model's builder, repeatable; VALUE is a "
                             "number, true/false, a string or a JSON list, e.g. --option "
                             "beta=4 (vae), --option d_steps=5 (wgan_gp), --option "
                             "noise=dropout (denoising_ae)")
    add_data_arguments(parser)
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=_positive_int, default=_default(RunConfig, "epochs"),
                       help="passes over the training split (default: %(default)s)")
    group.add_argument("--batch-size", type=_positive_int,
                       default=_default(RunConfig, "batch_size"),
                       help="images per step (default: %(default)s)")
    group.add_argument("--latent-dim", type=_positive_int,
                       default=_default(RunConfig, "latent_dim"),
                       help="size of the code / latent noise (default: %(default)s)")
    group.add_argument("--learning-rate", type=_positive_float, metavar="LR",
                       help="optimizer learning rate (default: the model's own)")
    group.add_argument("--steps-per-epoch", type=_positive_int, metavar="N",
                       help="cap each epoch at N steps (default: the whole split)")
    group.add_argument("--seed", type=_non_negative_int, default=_default(RunConfig, "seed"),
                       help="random seed for weights, noise and shuffling "
                            "(default: %(default)s)")
    group.add_argument("--deterministic", action="store_true",
                       help="enable TensorFlow op determinism: the same seed gives bitwise "
                            "the same weights (slower on some ops)")
    group.add_argument("--strategy", default="default",
                       choices=("default", "mirrored", "multiworker", "tpu"),
                       help="tf.distribute strategy: default (one device), mirrored (this "
                            "machine's GPUs/CPUs), multiworker (the cluster in TF_CONFIG; "
                            "run the same command on every worker), tpu; --batch-size is "
                            "the global batch (default: %(default)s)")
    group = parser.add_argument_group("output")
    group.add_argument("--run-dir", default=_default(RunConfig, "run_dir"), metavar="DIR",
                       help="parent folder of run folders (default: %(default)s)")
    group.add_argument("--name", help="run folder name (default: <model>-<dataset>)")
    group.add_argument("--checkpoint-every", type=_positive_int,
                       default=_default(RunConfig, "checkpoint_every"), metavar="N",
                       help="checkpoint the whole training state every N steps and at each "
                            "epoch end; rerunning the same command resumes from the newest "
                            "checkpoint (default: %(default)s)")
    group.add_argument("--restart", action="store_true",
                       help="discard the run folder's checkpoints and train from scratch")
    group.add_argument("--quiet", action="store_true", help="print only errors and the result")
    parser.set_defaults(handler=_run_train)


def _run_train(args):
    from keras_aegan.runner import RunConfig, train

    config = RunConfig(
        model=args.model, dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
        latent_dim=args.latent_dim, seed=args.seed, learning_rate=args.learning_rate,
        model_options=dict(args.model_options),
        steps_per_epoch=args.steps_per_epoch, run_dir=args.run_dir, name=args.name,
        image_shape=args.image_shape, crop=args.crop, data_dir=args.data_dir,
        download=args.download, manual_dir=args.manual_dir,
        validation_fraction=args.validation_fraction, checkpoint_every=args.checkpoint_every,
        deterministic=args.deterministic, strategy=args.strategy)
    result = train(config, verbose=0 if args.quiet else 1, restart=args.restart)
    print(result.path)
    return 0


def _add_export_parser(subparsers):
    from keras_aegan.export import PARITY_BATCH, QUANTIZATIONS
    from keras_aegan.protocol import PART_NAMES

    parser = subparsers.add_parser(
        "export", help="export a trained run's parts to SavedModel and TF Lite",
        description="Export each part of a trained run (encoder, decoder, autoencoder, "
                    "generator) as a SavedModel and a .tflite file, with manifest.json. "
                    "Every artifact is reloaded and checked against the Keras model on a "
                    "real batch; an export that fails the check is not written.")
    parser.add_argument("run", metavar="RUN_DIR", help="a run folder (holding model.keras)")
    parser.add_argument("--out", metavar="DIR",
                        help="export folder (default: export/<run-name>)")
    parser.add_argument("--parts", nargs="+", choices=PART_NAMES, metavar="PART",
                        help=f"parts to export, of: {', '.join(PART_NAMES)} (default: every "
                             "part the model has)")
    parser.add_argument("--quantize", nargs="+", choices=QUANTIZATIONS, default=[],
                        metavar="KIND",
                        help="extra TF Lite variants: float16, dynamic (int8 weights) and/or "
                             "int8 (weights and activations, calibrated on the run's data)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing export folder")
    parser.add_argument("--parity-batch", type=_positive_int, default=PARITY_BATCH,
                        metavar="N",
                        help="real images in the parity check (default: %(default)s)")
    parser.set_defaults(handler=_run_export, crop=False, image_shape=None)


def _run_export(args):
    from keras_aegan.export import ExportError
    from keras_aegan.runner import export_run

    try:
        result = export_run(args.run, args.out, parts=args.parts, quantize=args.quantize,
                            overwrite=args.overwrite, parity_batch=args.parity_batch)
    except ExportError as e:
        print(f"error: export failed: {one_line(e)}", file=sys.stderr)
        return 1
    print(result.summary())
    print(result.path)
    return 0


def _name_list(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return tuple(names)


def _seed_list(text):
    return tuple(_non_negative_int(part) for part in _name_list(text))


def _add_study_parser(subparsers):
    from keras_aegan.study import DEFAULT_BUDGET_SECONDS, StudyConfig

    models = _default(StudyConfig, "models")

    parser = subparsers.add_parser(
        "study", help="train autoencoders and GANs under one budget, evaluate all with the "
                      "same metrics, write a report (the default when run with no arguments)",
        description="The comparative study: trains each model on the same data, splits, seed "
                    "and budget, evaluates all with the same metrics (sample quality, "
                    "reconstruction, representation, cost), exports their encoders and "
                    "generators, and writes runs/<study>/report.md and report.html. Rerunning "
                    "an interrupted study reuses the models it already finished.")
    parser.add_argument("--models", type=_name_list, default=models, metavar="A,B,...",
                        help=f"models to compare (default: {','.join(models)}; "
                             "pca is the classical baseline)")
    add_data_arguments(parser)
    group = parser.add_argument_group("budget and evaluation")
    budget = group.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=_positive_int, help="budget: epochs per model")
    budget.add_argument("--budget-seconds", type=_positive_float_seconds, metavar="S",
                        help="budget: wall-clock training seconds per model (default: "
                             f"{DEFAULT_BUDGET_SECONDS:g}, when --epochs is not given)")
    group.add_argument("--seeds", type=_seed_list, default=_default(StudyConfig, "seeds"),
                       metavar="0,1,...",
                       help="train and evaluate each model once per seed; the report gives "
                            "mean ± std (default: 0)")
    group.add_argument("--batch-size", type=_positive_int,
                       default=_default(StudyConfig, "batch_size"),
                       help="images per step, for every model (default: %(default)s)")
    group.add_argument("--latent-dim", type=_positive_int,
                       default=_default(StudyConfig, "latent_dim"),
                       help="code / noise size, for every model (default: %(default)s)")
    group.add_argument("--eval-samples", type=_positive_int,
                       default=_default(StudyConfig, "eval_samples"), metavar="N",
                       help="generated and real images compared per model "
                            "(default: %(default)s)")
    group.add_argument("--no-export", dest="export", action="store_false",
                       help="do not export encoders and generators to export/<study>/")
    group = parser.add_argument_group("output")
    group.add_argument("--run-dir", default=_default(StudyConfig, "run_dir"), metavar="DIR",
                       help="parent folder of the study folder (default: %(default)s)")
    group.add_argument("--name", help="study folder name (default: study-<dataset>)")
    parser.set_defaults(handler=_run_study)


_positive_float_seconds = _number(float, "a positive number of seconds",
                                  lambda v: 0 < v < 10**7)


def _run_study(args):
    from keras_aegan.study import StudyConfig, run_study

    config = StudyConfig(
        dataset=args.dataset, models=args.models, epochs=args.epochs,
        budget_seconds=args.budget_seconds,
        seeds=args.seeds, batch_size=args.batch_size, latent_dim=args.latent_dim,
        eval_samples=args.eval_samples, export=args.export, run_dir=args.run_dir,
        name=args.name, image_shape=args.image_shape, crop=args.crop, data_dir=args.data_dir,
        download=args.download, manual_dir=args.manual_dir,
        validation_fraction=args.validation_fraction)
    run_study(config)
    print(f"{config.path}/report.md")
    return 0


def build_parser():
    parser = _Parser(
        prog="train.py",
        description="keras_aegan: build, train, compare and export autoencoders and GANs. "
                    "With no arguments, `study` runs on the offline default; with options "
                    "but no command, `train` runs.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=_Parser)
    _add_train_parser(subparsers)
    _add_export_parser(subparsers)
    _add_study_parser(subparsers)
    return parser


COMMANDS = ("train", "export", "study")


def main(argv=None):
    """Parse `argv` and run the command; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["study"]  # the default job: the comparative study on the offline default
    elif argv[0] not in (*COMMANDS, "-h", "--help"):
        argv.insert(0, "train")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.crop and args.image_shape is None:
        parser.error("--crop needs --image-shape")
    from keras_aegan.callbacks import TrainingDiverged

    try:
        return args.handler(args)
    except TrainingDiverged as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        return DIVERGED
    except UserError as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as e:  # an unwritable run folder, a full disk, a vanished file
        where = f": {e.filename}" if e.filename else ""
        print(f"error: {e.strerror or one_line(e)}{where}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
