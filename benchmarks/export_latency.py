"""Latency per image of exported models: Keras vs SavedModel vs TF Lite (float32, int8).

Trains an MNIST DCGAN and a conv autoencoder briefly (or takes run folders), exports the
DCGAN generator and the autoencoder's encoder with an int8 variant, and times each runtime
at batch 1 and batch 64:

    python benchmarks/export_latency.py                 # trains both (~300 steps each)
    python benchmarks/export_latency.py --dcgan-run runs/dcgan-mnist --ae-run runs/conv_ae-mnist
    python benchmarks/export_latency.py --smoke   # seconds: digits, 3 steps, short timings

Run it on an otherwise idle machine: two benchmarks at once time each other. Figures are
medians of repeated calls, in milliseconds per image.
"""

import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = f"idx:{ROOT.parent / 'shared' / 'data' / 'mnist'}"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dcgan-run", help="a trained dcgan run folder (default: train one)")
    parser.add_argument("--ae-run", help="a trained conv_ae run folder (default: train one)")
    parser.add_argument("--dataset", default=DEFAULT_DATA,
                        help="data source for training (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=300,
                        help="training steps per model when training (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2,
                        help="CPU threads for TensorFlow and LiteRT (default: %(default)s)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--min-seconds", type=float, default=1.0,
                        help="time each case for at least this long (default: %(default)s)")
    parser.add_argument("--min-calls", type=int, default=5,
                        help="time each case over at least this many calls")
    parser.add_argument("--work", help="folder for runs and exports (default: a temp folder)")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: digits, 3 training steps, batches 1 and 4, "
                             "timings of 0.05 s")
    args = parser.parse_args(argv)
    if args.smoke:
        args.dataset, args.steps, args.batches = "digits", 3, [1, 4]
        args.min_seconds, args.min_calls = 0.0, 1
    return args


def train_run(model, dataset, steps, work):
    from keras_aegan.training.runner import RunConfig, train

    config = RunConfig(model=model, dataset=dataset, epochs=1, steps_per_epoch=steps,
                       batch_size=64, latent_dim=16, run_dir=work, name=f"bench-{model}")
    start = time.perf_counter()
    path = train(config, verbose=0).path
    print(f"trained {model} for {steps} steps in {time.perf_counter() - start:.0f}s -> {path}",
          flush=True)
    return path


def timed(fn, batch, min_seconds, min_calls):
    """Median milliseconds per image of `fn()` (which runs one batch)."""
    fn()  # the first call traces and allocates
    times = []
    start = time.perf_counter()
    while len(times) < min_calls or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times) / batch


def tflite_call(path, feed, threads):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path, num_threads=threads)
    details = {d["name"]: d["index"] for d in interpreter.get_input_details()}
    indices = {}
    for name, value in feed.items():
        (index,) = [i for k, i in details.items() if k.endswith(f"_{name}:0")]
        interpreter.resize_tensor_input(index, value.shape)
        indices[name] = index
    interpreter.allocate_tensors()
    output = interpreter.get_output_details()[0]["index"]

    def call():
        for name, value in feed.items():
            interpreter.set_tensor(indices[name], value)
        interpreter.invoke()
        return interpreter.get_tensor(output)

    return call


def bench_part(label, keras_model, keras_method, export_dir, part, make_feed, args):
    """Rows `(model, runtime, ms/img per batch)` for one exported part."""
    from keras_aegan.export import SIGNATURE

    loaded = tf.saved_model.load(os.path.join(export_dir, part))
    serve = loaded.signatures[SIGNATURE]
    runtimes = {
        "Keras predict": lambda feed, b: (
            lambda: keras_model.predict(*feed.values(), batch_size=b, verbose=0)),
        "Keras call": lambda feed, b: (lambda: keras_method(*feed.values())),
        "SavedModel": lambda feed, b: (
            lambda tf_feed=({k: tf.constant(v) for k, v in feed.items()}): serve(**tf_feed)),
        "TFLite float32": lambda feed, b: tflite_call(
            os.path.join(export_dir, f"{part}.tflite"), feed, args.threads),
        "TFLite int8": lambda feed, b: tflite_call(
            os.path.join(export_dir, f"{part}.int8.tflite"), feed, args.threads),
    }
    rows = []
    for runtime, make in runtimes.items():
        figures = []
        for batch in args.batches:
            feed = make_feed(batch)
            figures.append(timed(make(feed, batch), batch, args.min_seconds, args.min_calls))
        rows.append((label, runtime, figures))
        print(f"  {label:<22} {runtime:<15} " + "  ".join(f"{f:9.4f}" for f in figures),
              flush=True)
    return rows


def main(argv=None):
    args = parse_args(argv)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    except RuntimeError:  # TensorFlow already ran in this process (the smoke-test driver)
        print(f"note: TensorFlow already started; its thread pools keep their size, not "
              f"--threads {args.threads}")
    from keras_aegan.training.runner import export_run, load_model
    from keras_aegan.training.speed import describe_machine

    print(f"machine: {describe_machine()}", flush=True)

    work = args.work or tempfile.mkdtemp(prefix="keras_aegan_bench-")
    dcgan_run = args.dcgan_run or train_run("dcgan", args.dataset, args.steps, work)
    ae_run = args.ae_run or train_run("conv_ae", args.dataset, args.steps, work)
    rows = []
    rng = np.random.default_rng(0)

    gan_out = os.path.join(work, "export", "dcgan")
    result = export_run(dcgan_run, gan_out, parts=["generator"], quantize=["int8"],
                        overwrite=True)
    print(result.summary(), flush=True)
    gan = load_model(os.path.join(dcgan_run, "model.keras"))
    rows += bench_part(
        "DCGAN generator", gan.generator, gan.generate, gan_out, "generator",
        lambda b: {"z": rng.standard_normal((b, gan.latent_dim)).astype("float32")}, args)

    ae_out = os.path.join(work, "export", "conv_ae")
    result = export_run(ae_run, ae_out, parts=["encoder"], quantize=["int8"], overwrite=True)
    print(result.summary(), flush=True)
    ae = load_model(os.path.join(ae_run, "model.keras"))
    source_images = _images(ae_run, max(args.batches))
    rows += bench_part("conv_ae encoder", ae.encoder, ae.encode, ae_out, "encoder",
                       lambda b: {"images": source_images[:b]}, args)

    print(f"\nlatency per image in ms (median; {args.threads} threads; "
          f"{os.cpu_count()} CPUs visible; TF {tf.__version__})\n")
    header = ["model", "runtime", *[f"batch {b}" for b in args.batches]]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for label, runtime, figures in rows:
        print(f"| {label} | {runtime} | " + " | ".join(f"{f:.4f}" for f in figures) + " |")


def _images(run, n):
    from keras_aegan.training.runner import RunConfig

    source = RunConfig.load(run).open_data()
    images, _ = source.arrays("test", limit=n)
    return images


if __name__ == "__main__":
    main()
