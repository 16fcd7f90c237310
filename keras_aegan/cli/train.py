"""`train`: train one model and write its run folder (the default command)."""

import argparse

from keras_aegan import registry
from keras_aegan.cli import common
from keras_aegan.config import MAX_EPOCHS, STRATEGY_NAMES, RunConfig

NAME = "train"
HELP = "train one model and write its run folder (the default command)"


def models_text():
    """The registered models, a line each, for `--help`."""
    names = registry.model_names()
    width = max(map(len, names))
    return "\n".join(f"  {n:<{width}}  {registry.MODELS[n].family:<12} "
                     f"{registry.MODELS[n].description}" for n in names)


def add_parser(subparsers):
    names = registry.model_names()
    parser = subparsers.add_parser(
        NAME, help=HELP,
        description="Train one model on one data source and write runs/<name>/ with "
                    "config.json, model.keras, history.csv, TensorBoard logs and a PNG grid "
                    "after each epoch.",
        epilog=f"models:\n{models_text()}", formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=common.default(RunConfig, "model"),
                        type=common.one_of(names, "model"), metavar="NAME",
                        help=f"model to train, one of: {', '.join(names)} "
                             "(default: %(default)s)")
    parser.add_argument("--option", dest="model_options", action="append", type=common.option,
                        default=[], metavar="KEY=VALUE",
                        help="an option of the model's builder, repeatable; VALUE is a "
                             "number, true/false, a string or a JSON list, e.g. --option "
                             "beta=4 (vae), --option d_steps=5 (wgan_gp), --option "
                             "noise=dropout (denoising_ae)")
    common.add_data_arguments(parser, RunConfig)
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=common.positive_int,
                       help="passes over the training split (default: "
                            f"{common.default(RunConfig, 'epochs')}; with --budget-seconds, "
                            "no cap)")
    group.add_argument("--budget-seconds", type=common.positive_seconds, metavar="S",
                       help="train for S seconds of training time (resuming counts the "
                            "seconds already spent); --epochs then caps it (default: "
                            "no cap)")
    group.add_argument("--batch-size", type=common.positive_int,
                       help=f"images per step (default: the model's own: {common.batch_sizes()})")
    group.add_argument("--latent-dim", type=common.positive_int,
                       default=common.default(RunConfig, "latent_dim"),
                       help="size of the code / latent noise (default: %(default)s)")
    group.add_argument("--learning-rate", type=common.positive_float, metavar="LR",
                       help="optimizer learning rate (default: the model's own)")
    group.add_argument("--anneal", action=argparse.BooleanOptionalAction,
                       help="cosine-anneal the learning rate to 0 over the run (--epochs, or "
                            "--budget-seconds when that ends it first) (default: on for "
                            "autoencoders, off for GANs)")
    group.add_argument("--steps-per-epoch", type=common.positive_int, metavar="N",
                       help="cap each epoch at N steps (default: the whole split)")
    group.add_argument("--seed", type=common.non_negative_int,
                       default=common.default(RunConfig, "seed"),
                       help="random seed for weights, noise and shuffling "
                            "(default: %(default)s)")
    group.add_argument("--deterministic", action="store_true",
                       help="enable TensorFlow op determinism: the same seed gives bitwise "
                            "the same weights (slower on some ops)")
    group.add_argument("--strategy", default=common.default(RunConfig, "strategy"),
                       choices=STRATEGY_NAMES,
                       help="tf.distribute strategy: default (one device), mirrored (this "
                            "machine's GPUs/CPUs), multiworker (the cluster in TF_CONFIG; "
                            "run the same command on every worker), tpu; --batch-size is "
                            "the global batch (default: %(default)s)")
    group = parser.add_argument_group("output")
    group.add_argument("--run-dir", default=common.default(RunConfig, "run_dir"), metavar="DIR",
                       help="parent folder of run folders (default: %(default)s)")
    group.add_argument("--name", help="run folder name (default: <model>-<dataset>)")
    group.add_argument("--checkpoint-every", type=common.positive_int,
                       default=common.default(RunConfig, "checkpoint_every"), metavar="N",
                       help="checkpoint the whole training state every N steps and at each "
                            "epoch end; rerunning the same command resumes from the newest "
                            "checkpoint (default: %(default)s)")
    group.add_argument("--grid-seconds", type=common.non_negative_float,
                       default=common.default(RunConfig, "grid_seconds"), metavar="S",
                       help="write a progress grid (images/epoch_NNN.png) at most every S "
                            "seconds of training, and after the last epoch; 0: after every "
                            "epoch (default: %(default)s)")
    group.add_argument("--restart", action="store_true",
                       help="discard the run folder's checkpoints and train from scratch")
    group.add_argument("--quiet", action="store_true", help="print only errors and the result")
    return parser


def config(args):
    """The `RunConfig` the arguments describe (checked before TensorFlow starts)."""
    epochs = args.epochs or (MAX_EPOCHS if args.budget_seconds else
                             common.default(RunConfig, "epochs"))
    return RunConfig(
        **common.data_options(args), model=args.model, epochs=epochs,
        budget_seconds=args.budget_seconds,
        batch_size=args.batch_size, latent_dim=args.latent_dim, seed=args.seed,
        learning_rate=args.learning_rate, anneal=args.anneal,
        model_options=dict(args.model_options),
        steps_per_epoch=args.steps_per_epoch, run_dir=args.run_dir, name=args.name,
        checkpoint_every=args.checkpoint_every, grid_seconds=args.grid_seconds,
        deterministic=args.deterministic,
        strategy=args.strategy)


def run(args):
    run_config = config(args)
    from keras_aegan.training.runner import train

    result = train(run_config, verbose=0 if args.quiet else 1, restart=args.restart)
    print(result.path)
    return 0
