"""Training speed of the GAN family: images/s at a fixed batch size on real data.

    python benchmarks/gan_speed.py \
        --dataset idx:../shared/data/mnist --models gan dcgan wgan_gp cgan --steps 100
    python benchmarks/gan_speed.py --smoke     # seconds: bundled mnist10k, 3 timed steps

Each model is built through the registry (its defaults, as the CLI would), compiled with
its default optimizers, warmed up (tracing, first steps), then timed over `--steps`
training steps of `fit`. Add `--mixed-precision` and/or `--jit-compile` on a GPU.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402

from keras_aegan.cli import common  # noqa: E402
from keras_aegan.data import open_source  # noqa: E402
from keras_aegan.protocol import describe  # noqa: E402
from keras_aegan.registry import get_model_entry  # noqa: E402
from keras_aegan.training.speed import describe_machine  # noqa: E402


def measure(name, source, batch_size, steps, warmup, latent_dim, jit_compile, options):
    entry = get_model_entry(name)
    info = source.info
    model = entry.builder(info.image_shape, latent_dim=latent_dim,
                          num_classes=info.num_classes, **options)
    model.compile(jit_compile=jit_compile)
    ds = entry.fit_inputs(source.dataset("train", batch_size, seed=0, drop_remainder=True),
                          info.labeled, describe(model)).repeat()
    model.fit(ds, epochs=1, steps_per_epoch=warmup, verbose=0)
    start = time.perf_counter()
    history = model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = time.perf_counter() - start
    logs = {k: round(float(v[-1]), 3) for k, v in history.history.items()}
    return steps * batch_size / seconds, model.count_params(), logs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="idx:../shared/data/mnist")
    parser.add_argument("--models", nargs="+", default=["gan", "dcgan", "wgan_gp", "cgan"])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--width", type=int, help="width option of the conv models")
    parser.add_argument("--option", action="append", default=[], type=common.option,
                        metavar="KEY=VALUE",
                        help="a builder option for every model, e.g. d_steps=1 (repeatable)")
    parser.add_argument("--mixed-precision", action="store_true")
    parser.add_argument("--jit-compile", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: bundled mnist10k, 3 timed steps after 1 warm-up")
    args = parser.parse_args(argv)
    print(f"machine: {describe_machine()}", flush=True)
    if args.smoke:
        args.dataset, args.steps, args.warmup = "mnist10k", 3, 1
    if args.mixed_precision:
        keras.mixed_precision.set_dtype_policy("mixed_float16")
    source = open_source(args.dataset)
    print(f"{args.dataset}: {source.info.splits['train']} training images of "
          f"{source.info.image_shape}; batch {args.batch_size}, {args.steps} timed steps, "
          f"mixed_precision={args.mixed_precision}, jit_compile={args.jit_compile}")
    for name in args.models:
        options = {"width": args.width} if args.width and name != "gan" else {}
        options.update(args.option)
        rate, params, logs = measure(name, source, args.batch_size, args.steps, args.warmup,
                                     args.latent_dim, args.jit_compile, options)
        print(f"{name:<8} {options} {rate:8.0f} images/s  {params:>9,} parameters  {logs}",
              flush=True)


if __name__ == "__main__":
    main()
