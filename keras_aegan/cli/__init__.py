"""Command line: argument parsing -> library calls. `train.py` is the entry point.

    python train.py [train] --model conv_ae --dataset idx:../shared/data/mnist --epochs 1
    python train.py study | export RUN_DIR | ...

Each command is a module of this package with `NAME`, `HELP`, `add_parser(subparsers)` and
`run(args)`; a new command adds its module to `COMMANDS`. `import keras_aegan` has
imported TensorFlow by then, quietly (`keras_aegan.noise`; `train.py` reads `--verbose`
before that import).

Exit codes: 0 done; 1 a failed export (a parity check); 2 bad input, one line
`error: ...` on stderr; 3 a run whose training diverged (a NaN loss); 130 interrupted.
"""

import importlib
import os
import sys

from keras_aegan import noise
from keras_aegan.cli import common
from keras_aegan.errors import EXIT_DIVERGED, TrainingDiverged, UserError, one_line

USAGE_ERROR = common.USAGE_ERROR
# Command modules, in the order `--help` lists them; the first is the default command.
COMMANDS = ("train", "study", "export", "apply", "sample", "augment", "robust")


def _commands():
    return {name: importlib.import_module(f"keras_aegan.cli.{name}") for name in COMMANDS}


def build_parser():
    from keras_aegan.cli.train import models_text

    parser = common.Parser(
        prog="train.py",
        description="keras_aegan: build, train, compare and export autoencoders and GANs. "
                    "With no arguments, `study` runs on the offline default; with options "
                    "but no command, `train` runs. `train.py COMMAND --help` shows a "
                    "command's options.",
        epilog=f"models (train --model NAME, study --models A,B):\n{models_text()}\n\n"
               "exit codes: 0 done, 1 export failed its parity check, 2 bad input, "
               "3 training diverged",
        formatter_class=common.argparse.RawDescriptionHelpFormatter)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=common.Parser)
    for name, module in _commands().items():
        command = module.add_parser(subparsers)
        command.add_argument("--verbose", action="store_true",
                             help="show TensorFlow's own log lines (also: "
                                  f"{noise.VERBOSE_ENV}=1)")
        command.set_defaults(handler=module.run)
    return parser


def main(argv=None):
    """Parse `argv` and run the command; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["study"]  # the default job: the comparative study on the offline default
    elif argv[0] not in (*COMMANDS, "-h", "--help"):
        argv.insert(0, COMMANDS[0])
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "crop", False) and args.image_shape is None:
        parser.error("--crop needs --image-shape")
    if args.verbose:
        os.environ[noise.VERBOSE_ENV] = "1"  # e.g. LiteRT's lines while exporting
    try:
        return args.handler(args)
    except TrainingDiverged as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        return EXIT_DIVERGED
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
