"""Augmentation with generated images on real MNIST: a small CNN trained on 1% / 10% of the
labels alone, with shifts/rotations, with samples of a conditional generator (cgan; caae,
the autoencoder family's conditional decoder), and with both; plus each generator's
Classification Accuracy Score. The generators train on the labelled subset only.

    python benchmarks/augmentation.py                              # 3 seeds, see --help
    python benchmarks/augmentation.py --classifier-steps 1500 --generator-steps 3000 \
        --seeds 0,1,2 --out runs/augmentation_mnist
    python benchmarks/augmentation.py --smoke                      # seconds, bundled digits

(The augmentation study, `study --task augment`: the same table as
`python train.py augment --dataset idx:../shared/data/mnist`.)
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
    parser.add_argument("--fractions", type=_list(float), default=(0.01, 0.1))
    parser.add_argument("--seeds", type=_list(int), default=(0, 1, 2))
    parser.add_argument("--generators", type=_list(str), default=("cgan", "caae"))
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--classifier-steps", type=int, default=1500)
    parser.add_argument("--generator-steps", type=int, default=3000)
    parser.add_argument("--test-images", type=int, help="default: all")
    parser.add_argument("--out", default="runs/augmentation_mnist")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: bundled digits, one seed, one generator, a few steps, "
                             "no CAS")
    args = parser.parse_args()
    print(f"machine: {describe_machine()}", flush=True)
    if args.smoke:
        args.data, args.fractions, args.seeds, args.generators = "digits", (0.2,), (0,), ("cgan",)
        args.classifier_steps, args.generator_steps, args.test_images = 20, 5, 100

    study = StudyConfig(
        dataset=args.data, task="augment", models=("real", *args.generators),
        seeds=args.seeds, export=False, run_dir=os.path.dirname(args.out) or ".",
        name=os.path.basename(args.out),
        task_options={"fractions": args.fractions, "share": args.share,
                      "classifier_steps": args.classifier_steps,
                      "generator_steps": args.generator_steps,
                      "pool": 500 if args.smoke else None, "cas": not args.smoke,
                      "test_images": args.test_images})
    results = run_study(study, log=lambda line: print(line, flush=True))
    print("\ntest accuracy, mean ± std over seeds")
    print(study_table(study, results))
    print(f"-> {study.path}/report.md")


if __name__ == "__main__":
    main()
