"""Adversarial robustness on real MNIST: the evaluator's accuracy under FGSM and PGD at
epsilon 0.1, 0.2, 0.3, and a small CNN before and after adversarial training (PGD-10 from a
random start, Madry et al. 2018, with the budget warmed up over the first epochs),
evaluated with a 40-step PGD (step 0.01, random start): stronger than the training attack.

    python benchmarks/robustness.py                       # 12 epochs, 10,000 test images
    python benchmarks/robustness.py --no-evaluator        # skip the evaluator (6 minutes)
    python benchmarks/robustness.py --train-attack fgsm --train-steps 1 --epochs 10

FGSM from a random start (Wong et al. 2020) is 5x cheaper a step but, at epsilon 0.3 on
MNIST, overfits to its own attack here (74% under PGD-40; its FGSM accuracy exceeds its
clean accuracy): PGD-10 training is the default.
    python benchmarks/robustness.py --smoke               # seconds, bundled digits

Target (issue 15): >= 85% under PGD-40 at epsilon 0.3 with >= 98% clean accuracy, trained
in <= 30 minutes on 2 cores.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from keras_aegan.cli.common import study_table  # noqa: E402
from keras_aegan.config import StudyConfig  # noqa: E402
from keras_aegan.studies import run_study  # noqa: E402
from keras_aegan.training.speed import describe_machine  # noqa: E402

MNIST = "idx:" + os.path.join(os.path.dirname(ROOT), "shared", "data", "mnist")


def _list(convert):
    return lambda text: tuple(convert(p) for p in text.split(",") if p.strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=MNIST)
    parser.add_argument("--epsilon", type=float, default=0.3, help="training budget")
    parser.add_argument("--train-attack", default="pgd", choices=("fgsm", "pgd"))
    parser.add_argument("--train-steps", type=int, default=10, help="PGD training steps")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--warmup-epochs", type=int, default=2)
    parser.add_argument("--budget-seconds", type=float, default=1800,
                        help="cap on each training (default: 30 minutes)")
    parser.add_argument("--eval-epsilons", type=_list(float), default=(0.1, 0.2, 0.3))
    parser.add_argument("--eval-steps", type=int, default=40)
    parser.add_argument("--eval-step-size", type=float, default=0.01)
    parser.add_argument("--restarts", type=int, default=1)
    parser.add_argument("--test-images", type=int, help="default: all")
    parser.add_argument("--no-evaluator", dest="evaluator", action="store_false")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/robustness_mnist")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: bundled digits, 2 epochs, a 5-step PGD on 100 images, "
                             "no evaluator")
    args = parser.parse_args()
    print(f"machine: {describe_machine()}", flush=True)
    if args.smoke:
        args.data, args.epochs, args.warmup_epochs, args.epsilon = "digits", 2, 1, 0.1
        args.train_steps = 2
        args.eval_epsilons, args.eval_steps, args.test_images = (0.1,), 5, 100
        args.evaluator = False  # training the evaluator would take most of the smoke's time

    models = (("evaluator",) if args.evaluator else ()) + ("baseline", "robust")
    study = StudyConfig(
        dataset=args.data, task="robust", models=models, seeds=(args.seed,), export=False,
        run_dir=os.path.dirname(args.out) or ".", name=os.path.basename(args.out),
        task_options={"epsilon": args.epsilon, "attack": args.train_attack,
                      "train_steps": 1 if args.train_attack == "fgsm" else args.train_steps,
                      "epochs": args.epochs, "warmup_epochs": args.warmup_epochs,
                      "cap_seconds": args.budget_seconds, "eval_epsilons": args.eval_epsilons,
                      "eval_steps": args.eval_steps, "eval_step_size": args.eval_step_size,
                      "restarts": args.restarts, "test_images": args.test_images})
    results = run_study(study, log=lambda line: print(line, flush=True))
    print()
    print(study_table(study, results))
    print(f"-> {study.path}/report.md, {study.path}/adversarial.png")


if __name__ == "__main__":
    main()
