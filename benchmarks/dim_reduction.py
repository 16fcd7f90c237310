"""Dimensionality reduction: autoencoders vs PCA vs LLE at a code size k (the reduction
study, `study --task reduction`).

Prints, per method, the squared error per test image (summed over pixels), the test
accuracy of k-NN and of logistic regression trained on the codes, and the fitting time;
optionally draws the 2-D embeddings (an autoencoder with k=2, PCA, LLE) coloured by label.

    python benchmarks/dim_reduction.py --data digits --k 8 --plot runs/embedding_digits.png
    python benchmarks/dim_reduction.py \
        --data idx:../shared/data/mnist --k 30 --epochs 5 --lle-train 3000
    python benchmarks/dim_reduction.py --smoke      # seconds: two models, 1 epoch
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from keras_aegan.config import StudyConfig  # noqa: E402
from keras_aegan.data import open_source  # noqa: E402
from keras_aegan.data.subsets import labelled_arrays  # noqa: E402
from keras_aegan.evaluation import codes  # noqa: E402
from keras_aegan.evaluation.pictures import embedding_plot  # noqa: E402
from keras_aegan.studies import reduction, run_study  # noqa: E402
from keras_aegan.studies.report import format_table  # noqa: E402
from keras_aegan.training.fixed_steps import train_registered  # noqa: E402
from keras_aegan.training.speed import describe_machine  # noqa: E402

DEFAULT_MODELS = "linear_ae,dense_ae,tied_ae,conv_ae,denoising_ae,sparse_ae,vae"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="digits")
    parser.add_argument("--k", type=int, default=8, help="code size (default: %(default)s)")
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, help="default: each model's own")
    parser.add_argument("--lle-train", type=int, default=2000,
                        help="LLE is fitted on at most this many training images")
    parser.add_argument("--no-lle", action="store_true")
    parser.add_argument("--train-limit", type=int,
                        help="fit the baselines and the probes on this many training images")
    parser.add_argument("--run-dir", default="runs", help="the study goes in RUN_DIR/")
    parser.add_argument("--plot", help="also draw 2-D embeddings to this PNG")
    parser.add_argument("--plot-points", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: digits, linear_ae and dense_ae, 1 epoch")
    args = parser.parse_args()
    print(f"machine: {describe_machine()}", flush=True)
    if args.smoke:
        args.data, args.models, args.epochs, args.lle_train = "digits", "linear_ae,dense_ae", 1, 300

    models = [m for m in args.models.split(",") if m]
    study = StudyConfig(
        dataset=args.data, task="reduction", models=["pca", *([] if args.no_lle else ["lle"]),
                                                     *models],
        latent_dim=args.k, epochs=args.epochs, batch_size=args.batch_size, seeds=(args.seed,),
        export=False, run_dir=args.run_dir, name=f"reduction-{args.data.split(':')[0]}-k{args.k}",
        task_options={"lle_max_train": args.lle_train, "train_limit": args.train_limit})
    start = time.perf_counter()
    results = run_study(study, log=lambda line: print(line, flush=True))
    print(format_table(reduction.table_rows(results), ["method", "k", "error", "knn",
                                                      "logistic", "seconds", "note"]))
    print(f"(total {time.perf_counter() - start:.0f}s) -> {study.path}/report.md", flush=True)

    if args.plot:
        source = open_source(args.data)
        x_train, _, x_test, y_test = labelled_arrays(source, "the plot colours by label")
        x_train = x_train[:args.train_limit] if args.train_limit else x_train
        n = min(args.plot_points, len(x_test))
        embeddings = {}
        model, _ = train_registered("dense_ae", x_train, latent_dim=2, epochs=args.epochs,
                                    batch_size=args.batch_size or 128, seed=args.seed)
        embeddings["dense_ae (k=2)"] = codes.predict(model.encode, x_test[:n])
        embeddings["PCA"] = codes.pca_codes(x_train, x_test[:n], 2, args.seed)[1]
        embeddings["LLE"] = codes.lle_codes(x_train, x_test[:n], 2,
                                            max_train=args.lle_train, seed=args.seed)[1]
        os.makedirs(os.path.dirname(os.path.abspath(args.plot)), exist_ok=True)
        embedding_plot(args.plot, embeddings, y_test[:n],
                                 title=f"{args.data}: 2-D codes of {n} test images")
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
