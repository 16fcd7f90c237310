"""Train (or load) the MNIST evaluator from local IDX files; print its test accuracy and time.

    python benchmarks/evaluator_mnist.py [--retrain]
    python benchmarks/evaluator_mnist.py --smoke   # seconds: 8x8 digits, 1 epoch, temp cache

The evaluator lands in the normal cache (`$KERAS_AEGAN_CACHE` or `~/.cache/keras_aegan`),
so a later study on the same spec reuses it.
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from keras_aegan.evaluation import metrics  # noqa: E402
from keras_aegan.data import open_source  # noqa: E402
from keras_aegan.training.speed import describe_machine  # noqa: E402

DEFAULT_DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder of MNIST IDX files")
    parser.add_argument("--cache-dir", default=None, help="evaluator cache root")
    parser.add_argument("--epochs", type=int, default=None, help="default: automatic (3 on MNIST)")
    parser.add_argument("--retrain", action="store_true", help="ignore a cached evaluator")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: the bundled 8x8 digits, 1 epoch, a temporary cache")
    args = parser.parse_args(argv)
    print(f"machine: {describe_machine()}", flush=True)
    if args.smoke:
        args.data, args.epochs, args.retrain = None, 1, True
        args.cache_dir = tempfile.mkdtemp(prefix="evaluator_smoke_")

    start = time.perf_counter()
    source = open_source(f"idx:{args.data}" if args.data else "digits")
    evaluator = metrics.get_evaluator(source, cache_dir=args.cache_dir, epochs=args.epochs,
                                      retrain=args.retrain, verbose=0)
    seconds = time.perf_counter() - start
    info = evaluator.info
    print(f"evaluator  {evaluator.path}")
    print(f"{'trained' if evaluator.trained else 'loaded from cache'} in {seconds:.1f} s "
          f"(training itself: {info['train_seconds']:.1f} s, {info.get('epochs')} epochs, "
          f"{info['train_examples']} images)")
    print(f"test accuracy  {info['test_accuracy']:.4f} on {info['test_examples']} images")


if __name__ == "__main__":
    main()
