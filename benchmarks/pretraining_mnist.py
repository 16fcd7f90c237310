"""Unsupervised pre-training with few labels on real MNIST, and the dimensionality-reduction
table (AE codes vs PCA vs LLE at k = 2, 10, 30).

Pre-training: each model (conv AE, denoising AE, VAE, AAE, DCGAN discriminator) trains on
all 60,000 training images without labels; a classifier on its features is trained with
100 labels (10 per class), 1% and 10% of the labels, frozen then fine-tuned, against the
same architecture from scratch; mean ± std over seeds.

    python benchmarks/pretraining_mnist.py                        # everything, see --help
    python benchmarks/pretraining_mnist.py --epochs 5 --seeds 0,1,2 --out runs/pretraining_mnist
    python benchmarks/pretraining_mnist.py --skip-reduction       # pre-training table only
    python benchmarks/pretraining_mnist.py --smoke                # seconds, bundled digits
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from keras_aegan import files  # noqa: E402
from keras_aegan.studies import pretraining, reduction
from keras_aegan.evaluation.pictures import save_grid  # noqa: E402
from keras_aegan.data import open_source  # noqa: E402
from keras_aegan.training.speed import describe_machine  # noqa: E402

MNIST = "idx:" + os.path.join(os.path.dirname(ROOT), "shared", "data", "mnist")


def _list(convert):
    return lambda text: tuple(convert(p) for p in text.split(",") if p.strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=MNIST)
    parser.add_argument("--models", type=_list(str), default=pretraining.PRETRAINERS)
    parser.add_argument("--epochs", type=int, default=5, help="pre-training epochs per model")
    parser.add_argument("--budget-seconds", type=float,
                        help="cap on each model's pre-training time")
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--seeds", type=_list(int), default=(0, 1, 2))
    parser.add_argument("--fractions", type=_list(float), default=(0.01, 0.1),
                        help="labelled fractions besides the 10 labels per class")
    parser.add_argument("--head-steps", type=int, default=600)
    parser.add_argument("--finetune-steps", type=int, default=400)
    parser.add_argument("--test-images", type=int, help="default: all")
    parser.add_argument("--ks", type=_list(int), default=(2, 10, 30))
    parser.add_argument("--reduction-models", type=_list(str),
                        default=("linear_ae", "dense_ae", "conv_ae", "aae"))
    parser.add_argument("--reduction-epochs", type=int, default=5)
    parser.add_argument("--lle-max-train", type=int, default=2000,
                        help="training images LLE embeds (it is quadratic in them)")
    parser.add_argument("--skip-reduction", action="store_true")
    parser.add_argument("--skip-pretraining", action="store_true")
    parser.add_argument("--out", default="runs/pretraining_mnist")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: bundled digits, two models, one seed, a few steps")
    args = parser.parse_args()
    print(f"machine: {describe_machine()}", flush=True)
    if args.smoke:
        args.data, args.models, args.epochs, args.seeds = "digits", ("aae",), 1, (0,)
        args.fractions = ()
        args.head_steps, args.finetune_steps, args.ks = 20, 10, (2,)
        args.reduction_models, args.reduction_epochs = ("linear_ae",), 1
        args.latent_dim, args.lle_max_train = 4, 300
    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()

    source = open_source(args.data)
    parts = [source.arrays("train"), source.arrays("validation")]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = source.arrays("test", limit=args.test_images)
    print(f"{source.info.name}: {len(x_train)} train / {len(x_test)} test images", flush=True)
    report = [f"# Pre-training and dimensionality reduction ({source.info.name})", ""]

    if not args.skip_pretraining:
        rows, seconds = [], {}
        per_class = 10 if not args.smoke else 5
        for seed in args.seeds:
            pretrained = {}
            for name in args.models:
                model, took = pretraining.pretrain(name, x_train, latent_dim=args.latent_dim,
                                                   epochs=args.epochs, seed=seed,
                                                   budget_seconds=args.budget_seconds,
                                                   log=lambda line: print(line, flush=True))
                pretrained[name] = model
                seconds.setdefault(name, []).append(took)
                print(f"seed {seed}: pre-trained {name} in {took:.0f}s", flush=True)
                if seed == args.seeds[0] and name in ("vae", "aae", "dcgan"):
                    samples = np.asarray(model.sample(64, seed=0))
                    save_grid(os.path.join(args.out, f"samples_{name}.png"),
                              [samples[i:i + 8] for i in range(0, 64, 8)])
            sets = pretraining.label_sets(y_train, per_class=per_class,
                                          fractions=args.fractions, seed=seed)
            new = pretraining.few_label_rows(pretrained, x_train, y_train, x_test, y_test,
                                             sets, head_steps=args.head_steps,
                                             finetune_steps=args.finetune_steps, seed=seed)
            for row in new:
                print(f"seed {seed} {row['labels']:>10} {row['model']:>12}: scratch "
                      f"{row['scratch']:.4f} frozen {row['frozen']:.4f} fine-tuned "
                      f"{row['finetuned']:.4f} 1-NN {row['knn']:.4f}", flush=True)
            rows.extend(new)
            files.write_json(os.path.join(args.out, "pretraining.json"), {"rows": rows})
        summary = pretraining.summarize(rows)
        table = pretraining.format_summary(summary)
        print("\nunsupervised pre-training: test accuracy (%), mean ± std over seeds "
              f"{', '.join(map(str, args.seeds))}\n{table}")
        report += [
            "## Unsupervised pre-training with few labels", "",
            f"Pre-training: {args.epochs} epochs on the {len(x_train)} training images "
            f"without labels (code size {args.latent_dim}); seconds per model: "
            + ", ".join(f"{n} {np.mean(s):.0f}" for n, s in seconds.items()) + ". "
            f"Classifier: features -> standardise -> softmax; frozen: {args.head_steps} Adam "
            f"steps on the head; fine-tuned: then {args.finetune_steps} steps of everything "
            f"at a tenth of the rate; scratch: the same architecture, fresh weights, "
            f"{args.head_steps + args.finetune_steps} steps. 1-NN: nearest neighbour on the "
            "pre-trained features. gain: fine-tuned minus scratch. "
            f"Test accuracy (%) on {len(x_test)} test images, mean ± std over seeds "
            f"{', '.join(map(str, args.seeds))}.", "", table, ""]
        files.write_json(os.path.join(args.out, "pretraining.json"),
                         {"rows": rows, "summary": summary})

    if not args.skip_reduction:
        rows = reduction.reduction_tables(x_train, y_train, x_test, y_test, args.ks,
                                          models=args.reduction_models,
                                          epochs=args.reduction_epochs, seed=args.seeds[0],
                                          lle_max_train=args.lle_max_train,
                                          log=lambda line: print(line, flush=True))
        table = reduction.format_table(rows, ["method", "k", "error", "knn", "logistic",
                                              "seconds", "note"])
        print(f"\ndimensionality reduction (error: squared error summed over pixels, mean "
              f"over test images; knn / logistic: test accuracy on the codes)\n{table}")
        report += ["## Dimensionality reduction", "",
                   "error: squared reconstruction error summed over pixels, mean over test "
                   "images (LLE: a k-NN pre-image); knn / logistic: test accuracy of 5-NN and "
                   f"logistic regression on the codes; seed {args.seeds[0]}.", "", table, ""]
        files.write_json(os.path.join(args.out, "reduction.json"), {"rows": rows})
    report.append(f"Total time {time.perf_counter() - start:.0f} s.")
    files.write_text(os.path.join(args.out, "report.md"), "\n".join(report) + "\n")
    print(f"(total {time.perf_counter() - start:.0f}s) -> {args.out}/report.md")


if __name__ == "__main__":
    main()
