"""Natural failures found by a generator (Zhao et al. 2018), and fixing them, on real MNIST.

A conditional generator (`cgan`, trained on the labelled training images) is searched
around prior draws of each class for images that a classifier under test (the small CNN
of `keras_aegan.training.adversarial_training`, trained plainly) labels wrongly while an
independent judge (the dataset's evaluator: another architecture, trained separately) still gives the intended
class a probability of at least 0.9. The failures are counted and drawn; the classifier is
then fine-tuned on the training images mixed with the failures (labelled with their
intended class), and compared on a *fresh* set of failures of the original classifier
(found from other prior draws) with the original and with a control fine-tuned as long on
real images only. With `--generator caae` the search starts from the conditional AAE's
codes of real test images instead (the encoder's code of a real image).

    python benchmarks/natural_failures.py --out runs/natural_failures_mnist
    python benchmarks/natural_failures.py --generator-steps 4000 --starts 3000
    python benchmarks/natural_failures.py --smoke         # seconds, bundled digits
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_aegan import files  # noqa: E402
from keras_aegan.evaluation import attacks
from keras_aegan.studies.augment import GENERATOR_LATENT  # noqa: E402
from keras_aegan.training import adversarial_training, fixed_steps  # noqa: E402
from keras_aegan.evaluation.pictures import save_grid  # noqa: E402
from keras_aegan.data import open_source  # noqa: E402
from keras_aegan.training.speed import describe_machine  # noqa: E402

MNIST = "idx:" + os.path.join(os.path.dirname(ROOT), "shared", "data", "mnist")


def _list(convert):
    return lambda text: tuple(convert(p) for p in text.split(",") if p.strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=MNIST)
    parser.add_argument("--generator", default="cgan", choices=("cgan", "caae"))
    parser.add_argument("--generator-steps", type=int, default=3000)
    parser.add_argument("--classifier-epochs", type=int, default=2)
    parser.add_argument("--starts", type=int, default=2000, help="start codes per search")
    parser.add_argument("--radii", type=_list(float), default=(0.0, 0.25, 0.5, 0.75, 1.0, 1.5))
    parser.add_argument("--tries", type=int, default=16, help="codes per start and radius")
    parser.add_argument("--judge", default="evaluator", choices=("evaluator", "cnn"),
                        help="the independent judge: the dataset's evaluator, or a wider "
                             "small CNN trained here with another seed")
    parser.add_argument("--judge-confidence", type=float, default=0.9)
    parser.add_argument("--retrain-steps", type=int, default=600)
    parser.add_argument("--share", type=float, default=0.25,
                        help="share of failures in each retraining batch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/natural_failures_mnist")
    parser.add_argument("--smoke", action="store_true", help="seconds: bundled digits")
    args = parser.parse_args()
    print(f"machine: {describe_machine()}", flush=True)
    if args.smoke:
        args.data, args.generator_steps, args.classifier_epochs = "digits", 30, 2
        args.starts, args.tries, args.retrain_steps, args.judge = 100, 4, 20, "cnn"
    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()

    source = open_source(args.data)
    parts = [source.arrays("train"), source.arrays("validation")]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = source.arrays("test")
    num_classes = int(y_train.max()) + 1
    print(f"{source.info.name}: {len(x_train)} train / {len(x_test)} test images", flush=True)

    if args.judge == "evaluator":
        judge = attacks.evaluator_classifier(source)
    else:
        judge, _, _ = adversarial_training.train_adversarial_classifier(
            x_train, y_train, attack="none", width=32, hidden=128,
            epochs=args.classifier_epochs, seed=args.seed + 1)
        judge = judge.network
    model, _, seconds = adversarial_training.train_adversarial_classifier(
        x_train, y_train, attack="none", epochs=args.classifier_epochs, seed=args.seed)
    classifier = model.network
    print(f"classifier under test trained in {seconds:.0f}s; judge: {args.judge}", flush=True)
    generator, seconds = fixed_steps.train_registered(
        args.generator, x_train, y_train, latent_dim=GENERATOR_LATENT.get(args.generator, 16),
        steps=args.generator_steps, seed=args.seed)
    print(f"{args.generator} trained in {seconds:.0f}s", flush=True)

    rng = np.random.default_rng(args.seed)

    def starts(n):
        if args.generator == "caae":  # around the encoder's codes of real test images
            pick = rng.choice(len(x_test), n, replace=False)
            codes = keras.ops.convert_to_numpy(generator.encode(x_test[pick]))
            return codes, y_test[pick]
        codes = rng.standard_normal((n, generator.latent_dim)).astype("float32")
        return codes, (np.arange(n) % num_classes).astype("int32")

    def search(codes, intended, target, seed):
        return attacks.natural_failures(generator.generate, codes, intended, target, judge,
                                        radii=args.radii, tries=args.tries,
                                        judge_confidence=args.judge_confidence, seed=seed)

    found = search(*starts(args.starts), classifier, args.seed)
    fresh_starts = starts(args.starts)
    fresh = search(*fresh_starts, classifier, args.seed + 1)
    summary = {"found": attacks.summarize_failures(found),
               "fresh": attacks.summarize_failures(fresh)}
    print(f"search 1: {summary['found']}\nsearch 2 (fresh): {summary['fresh']}", flush=True)
    if found.count:
        save_grid(os.path.join(args.out, "failures.png"), attacks.failure_grid_rows(found))
    rows = [f"{c}->{p}" for c, p in zip(found.intended[found.found][:40],
                                         found.predicted[found.found][:40])]

    failures_x, failures_y = found.take()
    fresh_x, fresh_y = fresh.take()
    retrained = fixed_steps.fine_tune(classifier, x_train, y_train, failures_x, failures_y,
                                      share=args.share, steps=args.retrain_steps,
                                      seed=args.seed) \
        if found.count else None
    control = fixed_steps.fine_tune(classifier, x_train, y_train, steps=args.retrain_steps,
                                    seed=args.seed)

    def acc(net, x, y):
        return float(np.mean(attacks.predict_classes(net, x) == y)) if len(x) else float("nan")

    table = ["| classifier | fresh failures (intended class) | clean test | failures left "
             "from the fresh starts |", "|---|---|---|---|"]
    results = {"summary": summary, "models": {}}
    for name, net in (("original", classifier), ("fine-tuned with failures", retrained),
                      ("fine-tuned on real only (control)", control)):
        if net is None:
            continue
        left = search(*fresh_starts, net, args.seed + 1).count
        entry = {"fresh": acc(net, fresh_x, fresh_y), "clean": acc(net, x_test, y_test),
                 "failures_left": left}
        results["models"][name] = entry
        table.append(f"| {name} | {100 * entry['fresh']:.2f}% of {len(fresh_x)} | "
                     f"{100 * entry['clean']:.2f}% | {left} |")
    where = ("encoder codes of real test images" if args.generator == "caae"
             else "prior draws, classes in turn")
    text = "\n".join([
        f"# Natural failures found by a {args.generator} ({source.info.name})", "",
        f"Search: {args.starts} start codes ({where}), radii "
        f"{', '.join(f'{r:g}' for r in args.radii)}, {args.tries} codes per radius; a failure "
        f"is labelled wrongly by the classifier while the judge ({args.judge}) gives the "
        f"intended class >= {args.judge_confidence:g}.", "",
        f"- search 1 (for retraining): {summary['found']['found']} failures from "
        f"{summary['found']['starts']} starts ({100 * summary['found']['share']:.1f}%), "
        f"{summary['found']['decoded']} images decoded; intended->predicted: "
        f"{', '.join(rows)}",
        f"- search 2 (fresh, other starts): {summary['fresh']['found']} failures", "",
        f"Retraining: {args.retrain_steps} Adam steps (1e-4) on training batches with "
        f"{100 * args.share:g}% failures (labelled with the intended class); the control "
        "trains as long on real images only. 'failures left': failures the same search "
        "still finds from the fresh starts against each classifier.", "",
        *table, "",
        "Failures of search 1, one row per intended class ("
        + ", ".join(str(c) for c in np.unique(found.intended[found.found])) + "):", "",
        "![failures](failures.png)", "",
        f"Total time {time.perf_counter() - start:.0f} s.", ""])
    files.write_text(os.path.join(args.out, "natural_failures.md"), text)
    files.write_json(os.path.join(args.out, "results.json"), results)
    print("\n".join(table))
    print(f"(total {time.perf_counter() - start:.0f}s) -> {args.out}/natural_failures.md")


if __name__ == "__main__":
    main()
