"""`apply`: a trained run's model on your own images (PNG/JPEG in, PNG out)."""

from keras_aegan.cli import common

NAME = "apply"
HELP = "run a trained run's model on your own image files (PNG/JPEG in, PNG out)"


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help=HELP,
        description="Run a trained model on image files: an image-to-image translator "
                    "(unet_ae, pix2pix) makes one PNG per input. What to feed follows the "
                    "model's task: super_resolution takes the small image and writes one "
                    "`factor` times larger; colorize a grey image; inpaint the image and "
                    "--mask (white = fill, e.g. an object to remove); sketch an edge map "
                    "drawn as the task draws it (white lines on black). Images larger than "
                    "the model's size are processed in overlapping tiles, so any size "
                    "works (a 4000x3000 photo too); smaller ones are refused. A frame "
                    "predictor (frame_predictor, adversarial_predictor) takes one sequence "
                    "(a folder of PNG/JPEG frames, in name order, or an .npy array) and "
                    "writes the frames that follow (PNGs and a strip, or an .npy). An "
                    "autoencoder redraws each picture of its size as its reconstruction; "
                    "an unconditional GAN as the nearest picture it can draw (latent "
                    "search).",
        epilog="example: python train.py apply runs/pix2pix-mnist --input small.png "
               "--output big.png")
    parser.add_argument("run", metavar="RUN_DIR", help="a run folder (holding model.keras)")
    parser.add_argument("--input", required=True, metavar="FILE_OR_FOLDER",
                        help="a PNG/JPEG image, or a folder of them (a frame predictor: a "
                             "folder of frames or an .npy)")
    parser.add_argument("--output", required=True, metavar="FILE_OR_FOLDER",
                        help="the output .png (or an existing folder) for one image; the "
                             "output folder for a folder of images")
    parser.add_argument("--mask", metavar="FILE_OR_FOLDER",
                        help="for an inpainting model: the mask, white where to fill, of "
                             "the image's size; a folder holds one mask per input, of the "
                             "same file name; or a mask kind the model's task draws itself "
                             "on each image (eyes: a band over the eyes of an aligned face; "
                             "box: a random square; strokes; mixed)")
    parser.add_argument("--batch-size", type=common.positive_int, default=256, metavar="N",
                        help="images or tiles per model call (default: %(default)s)")
    parser.add_argument("--overlap", type=common.number(int, "a non-negative integer",
                                                        lambda v: 0 <= v < 4096),
                        metavar="PX",
                        help="pixels shared by neighbouring tiles of a large image "
                             "(default: a quarter of the model's image side)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace output files that exist")
    return parser


def run(args):
    from keras_aegan.apply.run import apply_run

    result = apply_run(args.run, args.input, args.output, mask=args.mask,
                       batch_size=args.batch_size, overlap=args.overlap,
                       overwrite=args.overwrite)
    print(result.summary())
    return 0
