"""`sample`: new examples from a trained run's generator, in its data's natural format."""

from keras_aegan.cli import common

NAME = "sample"
HELP = ("write new samples of a trained run's generator (PNG, WAV, CSV or one text item a "
        "line)")


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help=HELP,
        description="Draw N samples from a trained run's model, as it samples (a GAN's "
                    "noise, a VAE's prior, a Gaussian fitted to an autoencoder's training "
                    "codes), and write them in their data's natural format: one PNG per "
                    "image (sample_00001.png, ...), one WAV per sound (sample_00001.wav, "
                    "...: a spectrogram model's samples inverted by Griffin-Lim), samples.csv for series (a row per "
                    "time step), samples.txt for text (one item a line).",
        epilog="example: python train.py sample runs/char_vae-surnames --n 100 --out names")
    parser.add_argument("run", metavar="RUN_DIR", help="a run folder (holding model.keras)")
    parser.add_argument("--n", type=common.positive_int, default=100,
                        help="samples to draw (default: %(default)s)")
    parser.add_argument("--out", metavar="DIR",
                        help="folder to write them to (default: RUN_DIR/samples)")
    parser.add_argument("--seed", type=common.non_negative_int, default=0,
                        help="the same seed draws the same samples (default: %(default)s)")
    parser.add_argument("--temperature", type=common.number(
                            float, "a positive number up to 100", lambda v: 0 < v <= 100),
                        metavar="T",
                        help="sampling temperature of a model of text: below 1 surer and "
                             "more repetitive, above 1 more varied (default: 1, as trained)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace sample files written before")
    return parser


def run(args):
    from keras_aegan.apply.samples import sample_run

    result = sample_run(args.run, args.out, n=args.n, seed=args.seed,
                        temperature=args.temperature, overwrite=args.overwrite)
    print(result.summary())
    return 0
