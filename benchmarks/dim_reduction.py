"""Dimensionality reduction: autoencoders vs PCA vs LLE at a code size k.

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

import numpy as np  # noqa: E402

from keras_aegan.studies import reduction  # noqa: E402
from keras_aegan.data import open_source  # noqa: E402
from keras_aegan.training.speed import describe_machine  # noqa: E402

DEFAULT_MODELS = "linear_ae,dense_ae,tied_ae,conv_ae,denoising_ae,sparse_ae,vae"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="digits")
    parser.add_argument("--k", type=int, default=8, help="code size (default: %(default)s)")
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lle-train", type=int, default=2000,
                        help="LLE is fitted on at most this many training images")
    parser.add_argument("--no-lle", action="store_true")
    parser.add_argument("--train-limit", type=int, help="use only this many training images")
    parser.add_argument("--plot", help="also draw 2-D embeddings to this PNG")
    parser.add_argument("--plot-points", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: digits, linear_ae and dense_ae, 1 epoch")
    args = parser.parse_args()
    print(f"machine: {describe_machine()}", flush=True)
    if args.smoke:
        args.data, args.models, args.epochs, args.lle_train = "digits", "linear_ae,dense_ae", 1, 300

    source = open_source(args.data)
    x_train, y_train = (np.concatenate(a) for a in zip(source.arrays("train"),
                                                       source.arrays("validation")))
    if args.train_limit:
        x_train, y_train = x_train[:args.train_limit], y_train[:args.train_limit]
    x_test, y_test = source.arrays("test")
    print(f"{args.data}: {len(x_train)} train / {len(x_test)} test images of "
          f"{x_train.shape[1:]}, k={args.k}", flush=True)
    start = time.perf_counter()
    rows = reduction.reduction_table(
        x_train, y_train, x_test, y_test, args.k,
        models=[m for m in args.models.split(",") if m], epochs=args.epochs,
        batch_size=args.batch_size, lle=not args.no_lle, lle_max_train=args.lle_train,
        seed=args.seed, log=lambda line: print(line, flush=True))
    print(reduction.format_table(rows, ["method", "k", "error", "knn", "logistic", "seconds",
                                        "note"]))
    print(f"(total {time.perf_counter() - start:.0f}s)", flush=True)

    if args.plot:
        n = min(args.plot_points, len(x_test))
        embeddings = {}
        model, _ = reduction.train_autoencoder("dense_ae", x_train, 2, epochs=args.epochs,
                                               batch_size=args.batch_size, seed=args.seed)
        embeddings["dense_ae (k=2)"] = reduction.predict(model.encode, x_test[:n])
        embeddings["PCA"] = reduction.pca_codes(x_train, x_test[:n], 2, args.seed)[1]
        embeddings["LLE"] = reduction.lle_codes(x_train, x_test[:n], 2,
                                                max_train=args.lle_train, seed=args.seed)[1]
        os.makedirs(os.path.dirname(os.path.abspath(args.plot)), exist_ok=True)
        reduction.embedding_plot(args.plot, embeddings, y_test[:n],
                                 title=f"{args.data}: 2-D codes of {n} test images")
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
