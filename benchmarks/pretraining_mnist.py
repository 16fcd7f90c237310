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

from keras_aegan import files  # noqa: E402
from keras_aegan.cli.common import study_table  # noqa: E402
from keras_aegan.config import StudyConfig  # noqa: E402
from keras_aegan.studies import pretraining, reduction, run_study  # noqa: E402
from keras_aegan.studies.report import format_table  # noqa: E402
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
                        help="each model's pre-training time (instead of --epochs)")
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

    name = args.data.split(":")[0]
    report = [f"# Pre-training and dimensionality reduction ({name})", ""]
    common = dict(dataset=args.data, export=False, run_dir=args.out)

    if not args.skip_pretraining:
        study = StudyConfig(
            **common, task="pretraining", models=args.models,
            epochs=None if args.budget_seconds else args.epochs,
            budget_seconds=args.budget_seconds,
            latent_dim=args.latent_dim, seeds=args.seeds, name="pretraining",
            task_options={"per_class": 5 if args.smoke else 10, "fractions": args.fractions,
                          "head_steps": args.head_steps,
                          "finetune_steps": args.finetune_steps,
                          "test_images": args.test_images})
        results = run_study(study, log=lambda line: print(line, flush=True))
        table = study_table(study, results)
        print("\nunsupervised pre-training: test accuracy, mean ± std over seeds "
              f"{', '.join(map(str, args.seeds))}\n{table}")
        report += ["## Unsupervised pre-training with few labels", "",
                   "See [the study's report](pretraining/report.md).", "", table, ""]

    if not args.skip_reduction:
        rows = []
        for k in args.ks:
            study = StudyConfig(
                **common, task="reduction", models=("pca", "lle", *args.reduction_models),
                epochs=args.reduction_epochs, latent_dim=k, seeds=args.seeds[:1],
                name=f"reduction-k{k}",
                task_options={"lle_max_train": args.lle_max_train,
                              "test_images": args.test_images})
            rows += reduction.table_rows(run_study(study, log=lambda line: print(
                line, flush=True)))
        table = format_table(rows, ["method", "k", "error", "knn", "logistic", "seconds",
                                    "note"])
        print(f"\ndimensionality reduction (error: squared error summed over pixels, mean "
              f"over test images; knn / logistic: test accuracy on the codes)\n{table}")
        report += ["## Dimensionality reduction", "",
                   "error: squared reconstruction error summed over pixels, mean over test "
                   "images (LLE: a k-NN pre-image); knn / logistic: test accuracy of 5-NN and "
                   f"logistic regression on the codes; seed {args.seeds[0]}.", "", table, ""]
    report.append(f"Total time {time.perf_counter() - start:.0f} s.")
    files.write_text(os.path.join(args.out, "report.md"), "\n".join(report) + "\n")
    print(f"(total {time.perf_counter() - start:.0f}s) -> {args.out}/report.md")


if __name__ == "__main__":
    main()
