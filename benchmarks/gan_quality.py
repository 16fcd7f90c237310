"""GAN sample quality per CPU minute on real MNIST, against calibration rows.

    python benchmarks/gan_quality.py                      # dcgan, MNIST, 10 min, FID at 1/3/10
    python benchmarks/gan_quality.py --model wgan_gp --minutes 3 --at 1,3
    python benchmarks/gan_quality.py --epochs 20 --option loss=hinge  # per step, not minute
    python benchmarks/gan_quality.py --smoke              # seconds: bundled mnist10k

One run of the registered model with the CLI's defaults (`keras_aegan.training.runner.train`, batch
64, the model's own latent size and optimizers) for `--minutes` of training. At each time
in `--at` (minutes of training; the measuring is not charged to the budget) it draws
`--samples` samples (10,000) and scores them on the study's evaluator (a BN conv net,
99.3% MNIST test accuracy; trained once and cached): FID against the 10,000 test
images' features, and each digit's share of the samples as the evaluator reads them.

`--epochs E` trains E epochs instead (scoring at `--points` even fractions of them, at
epoch ends): quality per training step, which does not depend on how fast the machine is
at the moment, for comparing settings (20 epochs of batch 64 on MNIST are 16,880 steps,
about what the DCGAN takes in 10 minutes here).

Calibration rows, on the same evaluator and the same test features, so the figures mean
something on any feature network (issue 13):
  (a) real training images (as many as the samples);
  (b) the same plus Gaussian noise of sigma 0.1, clipped to [0, 1];
  (c) sigma 0.2.
Targets (issue 13): FID <= (b) after 10 minutes, every digit within 5-15%; FID <= (c)
after 3 minutes. The run folder keeps the grids (`<out>/<name>/images/`, and
`at-<m>min.png` at each measuring time).
"""

import argparse
import os
import sys
import time
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from keras_aegan.evaluation import metrics  # noqa: E402
from keras_aegan.training.callbacks import TimeBudget  # noqa: E402
from keras_aegan.cli import common  # noqa: E402
from keras_aegan.data import open_source  # noqa: E402
from keras_aegan.evaluation.evaluator import get_evaluator  # noqa: E402
from keras_aegan.training.runner import RunConfig, train  # noqa: E402
from keras_aegan.studies.timeline import QualityTimeline  # noqa: E402
from keras_aegan.training.speed import describe_machine  # noqa: E402

MNIST = "idx:" + os.path.join(os.path.dirname(ROOT), "shared", "data", "mnist")
NOISE_ROWS = (("(b) real + noise sigma 0.1", 0.1), ("(c) real + noise sigma 0.2", 0.2))


def calibration(evaluator, x_train, real_features, n, seed=0):
    """`[(row, FID)]` of the calibration rows (a)-(c) against `real_features`."""
    rng = np.random.default_rng(seed)
    images = x_train[rng.permutation(len(x_train))[:n]]
    rows = [("(a) real training images", images)]
    for name, sigma in NOISE_ROWS:
        noisy = np.clip(images + rng.normal(0.0, sigma, images.shape), 0.0, 1.0)
        rows.append((name, noisy.astype("float32")))
    return [(name, metrics.fid(real_features, evaluator.features(x))) for name, x in rows]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="dcgan")
    parser.add_argument("--dataset", default=MNIST)
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget")
    parser.add_argument("--at", default="1,3,10",
                        help="minutes of training at which to score (default: 1,3,10)")
    parser.add_argument("--epochs", type=int,
                        help="train this many epochs instead of --minutes (quality per step)")
    parser.add_argument("--points", type=int, default=5,
                        help="with --epochs: score at this many even fractions of them (at "
                             "epoch ends, so at most one per epoch)")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        type=common.option,
                        help="a model option (repeatable), e.g. ema_decay=0.999")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--anneal", action=argparse.BooleanOptionalAction,
                        help="cosine-anneal the learning rates over --minutes (default: the "
                             "family's, off for GANs)")
    parser.add_argument("--out", default="runs/gan_quality")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: bundled mnist10k, 6 s of training, 1,000 samples")
    args = parser.parse_args(argv)
    print(f"machine: {describe_machine()}", flush=True)
    if args.smoke:
        args.dataset, args.minutes, args.at, args.samples = "mnist10k", 0.1, "0.05", 1000
        args.out = os.path.join(args.out, "smoke")

    source = open_source(args.dataset)
    tick = time.perf_counter()
    evaluator = get_evaluator(source, log=lambda m: print(m, flush=True))
    x_test, _ = source.arrays("test", limit=args.samples)
    real = evaluator.features(x_test)
    x_train, _ = source.arrays("train")
    print(f"evaluator: {evaluator.test_accuracy:.2%} test accuracy; {len(x_test):,} test "
          f"images as the reference ({time.perf_counter() - tick:.0f} s)", flush=True)
    rows = calibration(evaluator, x_train, real, args.samples)

    options = dict(args.option)
    data = SimpleNamespace(evaluator=evaluator, train_x=x_train, test_x=x_test)
    if args.epochs:
        budget, name = None, f"{args.model}-{args.epochs}epochs-seed{args.seed}"
        when = {"epochs": args.epochs, "points": args.points}
    else:
        budget = TimeBudget(args.minutes * 60)
        name = f"{args.model}-{args.minutes:g}min-seed{args.seed}"
        when = {"budget": budget, "times": [float(m) * 60 for m in args.at.split(",")
                                            if float(m) < args.minutes]}
    quality = QualityTimeline(args.model, data, **when, samples=args.samples,
                              images_dir=os.path.join(args.out, name, "images"),
                              log=lambda m: print(f"  {m}", flush=True))
    config = RunConfig(model=args.model, dataset=args.dataset, epochs=args.epochs or 100_000,
                       anneal=args.anneal, batch_size=args.batch_size, seed=args.seed,
                       run_dir=args.out,
                       name=name, model_options=options)
    result = train(config, verbose=0, restart=True, callbacks=[quality], budget=budget,
                   log=lambda m: print(f"  {m}", flush=True))
    end = quality.measurements[-1]  # the training time of the last step, not the save after it
    rate = end["steps"] * args.batch_size / end["seconds"]

    print(f"\n{args.model} on {source.info.name} ({options or 'defaults'}), "
          f"{args.samples:,} samples vs {len(x_test):,} test images, evaluator "
          f"{evaluator.test_accuracy:.2%}:\n")
    print("| row | training | FID | digit shares (min-max) |\n|---|---|---|---|")
    for name_, fid in rows:
        print(f"| {name_} | - | {fid:.2f} | - |")
    for row in quality.measurements:
        print(f"| {args.model} ({rate:,.0f} images/s) | {row['seconds'] / 60:.2f} min, "
              f"{row['steps']:,} steps | {row['fid']:.2f} | "
              f"{min(row['shares']):.1%}-{max(row['shares']):.1%} |")
    b, c = rows[1][1], rows[2][1]
    for minutes, bar, label in () if args.epochs else ((3, c, "(c)"), (10, b, "(b)")):
        row = next((r for r in quality.measurements if r["seconds"] >= minutes * 60 - 1), None)
        if row is None:
            continue
        fair = min(row["shares"]) >= 0.05 and max(row["shares"]) <= 0.15
        print(f"target at {minutes} min: FID {row['fid']:.2f} <= {label} {bar:.2f}: "
              f"{'met' if row['fid'] <= bar else 'not met'}"
              + (f"; every digit within 5-15%: {'met' if fair else 'not met'}"
                 if minutes == 10 else ""))
    print("digit shares at the end: "
          + "  ".join(f"{d}:{v:.1%}" for d, v in enumerate(end["shares"])))
    print(f"grids: {os.path.join(result.path, 'images')}")


if __name__ == "__main__":
    main()
