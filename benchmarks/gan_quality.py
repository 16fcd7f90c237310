"""Sample quality of a GAN after a fixed budget of training time on real MNIST.

    python benchmarks/gan_quality.py \
        --model dcgan --dataset idx:../shared/data/mnist --minutes 10
    python benchmarks/gan_quality.py --smoke    # seconds: bundled mnist10k, 3 s of training

Trains the registered model through `keras_aegan.runner.train` (the CLI's path, with the
CLI's defaults: batch 64, latent 16, the model's default optimizers) until the time budget
runs out, writes the run folder (`runs/<name>/images/*.png`, including `final.png` at the
end), then generates 10,000 samples and reports the class coverage judged by a small
MNIST classifier: the share of each digit (mode collapse shows as a missing digit; the
target is every digit between 5% and 15%).

The classifier (two conv layers, ~99% test accuracy after 2 epochs) is trained once and
cached in `runs/_bench/mnist_classifier.keras`.
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_aegan.callbacks import save_grid  # noqa: E402
from keras_aegan.data import open_source  # noqa: E402
from keras_aegan.runner import RunConfig, train  # noqa: E402


class TimeLimit(keras.callbacks.Callback):
    """Stops `fit` after `seconds` of training (checked after every batch)."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if time.perf_counter() - self.start >= self.seconds:
            self.model.stop_training = True


def mnist_classifier(source, path, epochs=2):
    """A small CNN digit classifier on `source` (cached at `path`); returns (model, accuracy)."""
    x_test, y_test = source.arrays("test")
    if os.path.exists(path):
        model = keras.models.load_model(path)
    else:
        keras.utils.set_random_seed(1)
        model = keras.Sequential([
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(10),
        ], name="mnist_classifier")
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        model.fit(source.dataset("train", 128, seed=1), epochs=epochs, verbose=0)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        model.save(path)
    accuracy = float(np.mean(np.argmax(model.predict(x_test, batch_size=1000, verbose=0), -1)
                             == y_test))
    return model, accuracy


def class_coverage(model, classifier, n=10_000, seed=123, confidence=0.9):
    """Shares of each predicted digit among `n` samples, and the share classified confidently."""
    images = np.concatenate([model.sample(1000, seed=seed + i) for i in range(n // 1000)])
    probs = keras.ops.convert_to_numpy(
        keras.ops.softmax(classifier.predict(images, batch_size=1000, verbose=0)))
    shares = np.bincount(np.argmax(probs, -1), minlength=10) / len(images)
    return shares, float(np.mean(np.max(probs, -1) >= confidence))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="dcgan")
    parser.add_argument("--dataset", default="idx:../shared/data/mnist")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--name", default=None)
    parser.add_argument("--run-dir", default="runs")
    parser.add_argument("--classifier", default="runs/_bench/mnist_classifier.keras")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: bundled mnist10k, 3 s of training, a 1-epoch classifier "
                             "in a temporary folder, 1,000 samples")
    args = parser.parse_args(argv)
    samples, classifier_epochs = 10_000, 2
    if args.smoke:
        args.dataset, args.minutes = "mnist10k", 0.05
        args.run_dir = tempfile.mkdtemp(prefix="gan_quality_smoke_")
        args.classifier = os.path.join(args.run_dir, "classifier.keras")
        samples, classifier_epochs = 1000, 1

    source = open_source(args.dataset)
    start = time.perf_counter()
    classifier, accuracy = mnist_classifier(source, args.classifier, classifier_epochs)
    print(f"classifier test accuracy {accuracy:.4f} ({time.perf_counter() - start:.0f}s)",
          flush=True)

    limit = TimeLimit(args.minutes * 60)
    config = RunConfig(model=args.model, dataset=args.dataset, epochs=10_000,
                       batch_size=args.batch_size, latent_dim=args.latent_dim,
                       learning_rate=args.learning_rate, run_dir=args.run_dir,
                       name=args.name or f"bench-{args.model}-{args.minutes:g}min")
    result = train(config, verbose=2, callbacks=[limit])
    model = result.model
    final = save_grid(os.path.join(result.path, "images", "final.png"), model.preview())
    images = limit.steps * args.batch_size
    print(f"{args.model}: {limit.steps} steps, {images} images in {result.seconds:.0f}s "
          f"({images / result.seconds:.0f} images/s, {images / source.info.splits['train']:.1f} "
          f"epochs); grid: {final}")
    shares, confident = class_coverage(model, classifier, n=samples)
    print(f"class coverage of {samples:,} samples: "
          + "  ".join(f"{d}:{s:.1%}" for d, s in enumerate(shares)))
    print(f"min {shares.min():.1%}, max {shares.max():.1%}; every digit within 5-15%: "
          f"{bool(shares.min() >= 0.05 and shares.max() <= 0.15)}; classified with "
          f"confidence >= 0.9: {confident:.1%}")


if __name__ == "__main__":
    main()
