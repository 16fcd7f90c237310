"""`robust`: attack a classifier, train it adversarially, and compare before and after."""

from keras_aegan.cli import common

NAME = "robust"
HELP = ("adversarial robustness: FGSM/PGD accuracy of the evaluator and of a small CNN "
        "before and after adversarial training")

_epsilon = common.number(float, "an epsilon in [0, 1]", lambda v: 0 <= v <= 1)
_step = common.number(float, "a step size in (0, 1]", lambda v: 0 < v <= 1)


def _epsilons(text):
    return tuple(_epsilon(part) for part in common.name_list(text))


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help=HELP,
        description="Trains the same small CNN (Wong et al. 2020's MNIST network) twice on "
                    "the training split, plainly and adversarially (the attack crafted in "
                    "each train_step), and evaluates both, and optionally the dataset's "
                    "evaluator, clean, under FGSM and under PGD at each --eval-epsilons. "
                    "Runs the robustness study (study --task robust): writes OUT/report.md "
                    "and report.html, results.json, results.csv, the models "
                    "(OUT/models/<model>-seed<seed>/model.keras, reused on rerun) and a grid "
                    "of adversarial images.")
    common.add_data_arguments(parser)
    group = parser.add_argument_group("adversarial training")
    group.add_argument("--epsilon", type=_epsilon, default=0.3,
                       help="L-infinity budget of the training attack, pixels in [0, 1] "
                            "(default: %(default)s)")
    group.add_argument("--train-attack", choices=("fgsm", "pgd"), default="pgd",
                       help="pgd: --train-steps steps of 2.5 epsilon / steps from a random "
                            "start (Madry et al. 2018); fgsm: one step of 1.25 epsilon from a "
                            "random start (Wong et al. 2020: 5x cheaper, but at epsilon 0.3 "
                            "on MNIST it overfits to its own attack: 74%% under PGD-40 where "
                            "PGD-10 training keeps 96%%) (default: %(default)s)")
    group.add_argument("--train-steps", type=common.positive_int, metavar="N",
                       help="PGD steps of the training attack (default: 10)")
    group.add_argument("--epochs", type=common.positive_int, default=12,
                       help="training epochs of each classifier (default: %(default)s)")
    group.add_argument("--warmup-epochs", type=common.non_negative_int, default=2,
                       help="epochs over which the training epsilon grows from 0: without "
                            "it, FGSM training at 0.3 overfits to its own attack (PGD "
                            "accuracy 0) (default: %(default)s)")
    group.add_argument("--learning-rate", type=common.positive_float, default=5e-3,
                       metavar="LR", help="peak of the one-cycle learning rate "
                                          "(default: %(default)s)")
    group.add_argument("--budget-seconds", type=common.positive_seconds, metavar="S",
                       help="stop each training after S seconds")
    group.add_argument("--no-baseline", dest="baseline", action="store_false",
                       help="skip the plainly trained classifier (the 'before')")
    group.add_argument("--seed", type=common.non_negative_int, default=0,
                       help="random seed (default: %(default)s)")
    group = parser.add_argument_group("evaluation")
    group.add_argument("--eval-epsilons", type=_epsilons, default=(0.1, 0.2, 0.3),
                       metavar="E,E", help="budgets of the evaluation attacks "
                                           "(default: 0.1,0.2,0.3)")
    group.add_argument("--eval-steps", type=common.positive_int, default=40,
                       help="PGD steps of the evaluation attack (default: %(default)s)")
    group.add_argument("--eval-step-size", type=_step, default=0.01,
                       help="PGD step size of the evaluation attack (default: %(default)s)")
    group.add_argument("--restarts", type=common.positive_int, default=1,
                       help="PGD random starts per image (default: %(default)s)")
    group.add_argument("--attack-evaluator", action="store_true",
                       help="also attack the dataset's evaluator (trained once and cached)")
    common.add_labelled_experiment_arguments(parser, batch_size=100, out="runs/robust")
    return parser


def config(args):
    """The robustness study (`study --task robust`) the arguments describe, writing to
    `--out`."""
    import os

    from keras_aegan.config import StudyConfig
    from keras_aegan.errors import UserError

    if args.train_attack == "fgsm" and args.train_steps not in (None, 1):
        raise UserError("--train-steps is for --train-attack pgd (FGSM takes one step)")
    out = os.path.normpath(args.out)
    models = (("evaluator",) if args.attack_evaluator else ()) + \
        (("baseline",) if args.baseline else ()) + ("robust",)
    return StudyConfig(
        **common.data_options(args), task="robust", models=models, seeds=(args.seed,),
        batch_size=args.batch_size, export=False, run_dir=os.path.dirname(out) or ".",
        name=os.path.basename(out),
        task_options={"epsilon": args.epsilon, "attack": args.train_attack,
                      "train_steps": args.train_steps, "epochs": args.epochs,
                      "warmup_epochs": args.warmup_epochs,
                      "learning_rate": args.learning_rate, "cap_seconds": args.budget_seconds,
                      "eval_epsilons": args.eval_epsilons, "eval_steps": args.eval_steps,
                      "eval_step_size": args.eval_step_size, "restarts": args.restarts,
                      "test_images": args.test_images})


def run(args):
    return common.run_table_study(config(args))
