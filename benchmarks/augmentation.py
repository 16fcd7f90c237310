"""Augmentation with generated images on real MNIST: a small CNN trained on 1% / 10% of the
labels alone, with shifts/rotations, with samples of a conditional generator (cgan; caae,
the autoencoder family's conditional decoder), and with both; plus each generator's
Classification Accuracy Score. The generators train on the labelled subset only.

    python benchmarks/augmentation.py                              # 3 seeds, see --help
    python benchmarks/augmentation.py --classifier-steps 1500 --generator-steps 3000 \
        --seeds 0,1,2 --out runs/augmentation_mnist
    python benchmarks/augmentation.py --smoke                      # seconds, bundled digits

(The same table as `python train.py augment --dataset idx:../shared/data/mnist`.)
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from keras_aegan.studies import augment  # noqa: E402
from keras_aegan.data import open_source  # noqa: E402
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

    source = open_source(args.data)
    parts = [source.arrays("train"), source.arrays("validation")]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = source.arrays("test", limit=args.test_images)
    print(f"{source.info.name}: {len(x_train)} train / {len(x_test)} test images", flush=True)
    rows, _ = augment.run_augmentation(
        x_train, y_train, x_test, y_test, args.out, fractions=args.fractions, seeds=args.seeds,
        dataset=source.info.name, generators=args.generators, share=args.share,
        classifier_steps=args.classifier_steps, generator_steps=args.generator_steps,
        pool=500 if args.smoke else None, cas=not args.smoke,
        log=lambda line: print(line, flush=True))
    print("\ntest accuracy (%), mean ± std over seeds")
    print(augment.format_summary(rows))
    print(f"-> {args.out}/augmentation.md")


if __name__ == "__main__":
    main()
