"""`export`: a trained run's parts -> SavedModel and TF Lite, checked for parity."""

import sys

from keras_aegan.cli import common
from keras_aegan.export import PARITY_BATCH, QUANTIZATIONS
from keras_aegan.errors import one_line
from keras_aegan.protocol import PART_NAMES

NAME = "export"
HELP = "export a trained run's parts to SavedModel and TF Lite"
EXPORT_FAILED = 1


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help=HELP,
        description="Export each part of a trained run (encoder, decoder, autoencoder, "
                    "generator, ...) as a SavedModel and a .tflite file, with manifest.json. "
                    "Every artifact is reloaded and checked against the Keras model on a "
                    "real batch; an export that fails the check is not written (exit 1).")
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
    parser.add_argument("--parity-batch", type=common.positive_int, default=PARITY_BATCH,
                        metavar="N",
                        help="real images in the parity check (default: %(default)s)")
    return parser


def run(args):
    from keras_aegan.export import ExportError
    from keras_aegan.training.runner import export_run

    try:
        result = export_run(args.run, args.out, parts=args.parts, quantize=args.quantize,
                            overwrite=args.overwrite, parity_batch=args.parity_batch)
    except ExportError as e:
        print(f"error: export failed: {one_line(e)}", file=sys.stderr)
        return EXPORT_FAILED
    print(result.summary())
    print(result.path)
    return 0
