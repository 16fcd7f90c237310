"""Moving MNIST next-frame prediction under a CPU time budget, beside the published table.

    python benchmarks/next_frame.py --minutes 20                 # the target run
    python benchmarks/next_frame.py --smoke                      # seconds, tiny everything

Runs the `next_frame` study kind (`keras_aegan.studies.run_study`, the same
code as `python train.py study --task next_frame`): Moving MNIST made from the real MNIST
digits (training sequences drawn afresh from the training digits, a fixed test set from
the test digits), each model trained through the runner for `--minutes` of wall-clock
time, then scored on the test set: MSE per frame (squared error summed over the 64x64
pixels, averaged over the 10 predicted frames) and SSIM per future step, beside the
copy-last-frame baseline and the published GPU results (ConvLSTM 103.3, PredRNN 56.8,
SimVP 23.8). Prints the table and writes `<out>/report.md`, `strip.png` (observed | true |
predicted), `per_step.png` and a GIF per model. With `--tfds-test`, the models are also
scored on tensorflow-datasets' fixed `moving_mnist` test set where it is prepared.

The issue's target: `frame_predictor` below ConvLSTM's 103.3 within 20 minutes on 2 cores.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
MNIST = "idx:" + os.path.join(os.path.dirname(ROOT), "shared", "data", "mnist")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--digits", default=MNIST,
                        help="image source of the digits (default: ../shared/data/mnist)")
    parser.add_argument("--minutes", type=float, default=20.0,
                        help="training budget per model, wall clock (default: 20)")
    parser.add_argument("--models", default="copy_last,frame_predictor,adversarial_predictor")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--test-sequences", type=int, default=2000)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--out", default=os.path.join("runs", "bench-next-frame"))
    parser.add_argument("--tfds-test", action="store_true",
                        help="also score on tensorflow-datasets' moving_mnist test set")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: bundled digits, 32x32 frames, tiny models")
    args = parser.parse_args(argv)
    from keras_aegan.training.speed import describe_machine
    print(f"machine: {describe_machine()}", flush=True)

    from keras_aegan.config import StudyConfig
    from keras_aegan.studies import run_study

    options = {"test_sequences": args.test_sequences}
    data = {"dataset": f"moving_mnist:{args.digits}"}
    budget = args.minutes * 60
    if args.smoke:
        data = {"dataset": "moving_mnist:digits", "image_shape": (32, 32, 1)}
        options = {"test_sequences": 16, "width": 8, "blocks": 1}
        budget = 3.0
    config = StudyConfig(**data, task="next_frame", task_options=options,
                         models=tuple(args.models.split(",")), budget_seconds=budget,
                         seeds=tuple(int(s) for s in args.seeds.split(",")),
                         batch_size=args.batch_size, export=not args.smoke,
                         run_dir=os.path.dirname(args.out) or ".",
                         name=os.path.basename(args.out) + ("-smoke" if args.smoke else ""))
    start = time.perf_counter()
    results = run_study(config, log=lambda m: print(m, flush=True))
    print()
    print(f"{'model':<28} {'MSE/frame':>10} {'SSIM':>7} {'train s':>8} {'steps':>7}")
    for entry in results["summary"]:
        print(f"{entry['model']:<28} {entry['mse_per_frame']:>10.1f} {entry['ssim']:>7.3f} "
              f"{entry.get('train_seconds', 0):>8.0f} {entry.get('steps', 0):>7.0f}")
    for name, value in results["published"]:
        print(f"{name + ' [GPU, published]':<28} {value:>10.1f}")
    for entry in results["summary"]:
        steps = " ".join(f"{v:.0f}" for v in entry["mse_per_step"])
        print(f"  {entry['model']}: MSE per future step {steps}")
    if args.tfds_test:
        _tfds_scores(config, results)
    print(f"\n{config.path}/report.md (strip.png, per_step.png, *.gif); "
          f"{time.perf_counter() - start:.0f} s in all")
    return 0


def _tfds_scores(config, results):
    """Score the study's trained models on tensorflow-datasets' fixed test set."""
    from keras_aegan.evaluation import sequence_metrics
    from keras_aegan.training import runner
    from keras_aegan.data.synthetic import tfds_moving_mnist_test
    from keras_aegan.errors import DataError

    try:
        test = tfds_moving_mnist_test(config.data_dir)
    except DataError as e:
        print(f"tfds test set: skipped ({e})")
        return
    observed, future = test[:, :10], test[:, 10:]
    baseline = sequence_metrics.frame_scores(future, sequence_metrics.copy_last_frame(
        observed, 10))["mse_per_frame"]
    print(f"tfds moving_mnist test ({len(test)} sequences): copy_last {baseline:.1f}")
    for entry in results["summary"]:
        path = os.path.join(config.path, "models", f"{entry['model']}-seed0", "model.keras")
        if os.path.isfile(path):
            model = runner.load_model(path)
            predicted = sequence_metrics.predict_batched(model.predict_next, observed)
            score = sequence_metrics.frame_scores(future, predicted)["mse_per_frame"]
            print(f"tfds moving_mnist test: {entry['model']} {score:.1f}")


if __name__ == "__main__":
    sys.exit(main())
