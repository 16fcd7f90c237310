"""Image-to-image translation: the classical baseline, the autoencoder way (unet_ae) and the
GAN way (pix2pix) on the same data, split and budget per task; and `apply`'s speed.

Each study case trains both models for `--minutes` each (wall clock) through the task
study (`python train.py study --task ...`), prints its table (PSNR, SSIM, FID on the
evaluator's features, evaluator accuracy) and writes its picture grid
(`<out>/<case>/grid.png`: input | baseline | unet_ae | pix2pix | truth) and report.

    python benchmarks/translation.py --task mnist_sr --minutes 10       # 4x SR from 7x7
    python benchmarks/translation.py --task mnist_inpaint --minutes 10  # a 14x14 box
    python benchmarks/translation.py --task mnist_sketch --minutes 10
    python benchmarks/translation.py --task photo_colorize --minutes 10
    python benchmarks/translation.py --task photo_sr --minutes 10       # 4x SR of 32x32
    python benchmarks/translation.py --task apply_speed   # MNIST-sized images per second
    python benchmarks/translation.py --task apply_large   # a 4000x3000 photo, by tiles
    python benchmarks/translation.py --task all --minutes 10
    python benchmarks/translation.py --smoke              # well under a minute, digits

The apply cases use the models the study cases trained (`<out>/mnist_sr`, `<out>/photo_*`)
when they exist, and otherwise train one for 30 s (speed does not depend on quality).
Targets (issue 11): MNIST 4x SR read as the right digit >= 97% with a PSNR above
bicubic's; apply >= 500 MNIST-sized images/s; a 4000x3000 photo without exhausting memory.
"""

import argparse
import os
import resource
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


MNIST = "idx:" + os.path.join(os.path.dirname(ROOT), "shared", "data", "mnist")
# case -> (dataset, task, task and model options)
CASES = {
    "mnist_sr": (MNIST, "super_resolution", {"factor": 4, "width": 16, "blocks": 1}),
    "mnist_inpaint": (MNIST, "inpaint", {"mask": "box", "box": 14, "width": 16}),
    "mnist_sketch": (MNIST, "sketch", {"width": 16}),
    "photo_colorize": ("photos:32", "colorize", {"width": 16}),
    "photo_sr": ("photos:32", "super_resolution", {"factor": 4, "width": 16}),
}
APPLY_CASES = ("apply_speed", "apply_large")
SMOKE_CASE = ("digits", "super_resolution", {"factor": 2, "width": 4, "blocks": 1})


def study(name, dataset, task, options, args):
    from keras_aegan.studies import StudyConfig, run_study

    config = StudyConfig(dataset=dataset, task=task, task_options=options,
                         budget_seconds=args.minutes * 60, batch_size=args.batch_size,
                         eval_samples=args.eval_samples, export=False, run_dir=args.out,
                         name=name)
    start = time.perf_counter()
    results = run_study(config, log=lambda m: print(f"  {m}", flush=True))
    report = open(os.path.join(config.path, "report.md")).read()
    table = report.split("## Results")[1].split("PSNR is per image")[0].strip()
    found = report.split("## Who won what")[1].split("## Pictures")[0].strip()
    print(f"\n{name}: {task} {options} on {dataset}, {args.minutes:g} min per model "
          f"({time.perf_counter() - start:.0f} s in all)\n\n{table}\n\n{found}\n")
    print(f"grid: {os.path.join(config.path, 'grid.png')} (columns: "
          f"{', '.join(results['grid_columns'])})")
    if name == "mnist_sr":
        rows = {e["model"]: e for e in results["summary"]}
        bicubic = rows.get("bicubic", {}).get("psnr")
        for model in ("unet_ae", "pix2pix"):
            if model in rows and "accuracy" in rows[model]:
                row = rows[model]
                print(f"target {model}: accuracy {row['accuracy']:.2%} (>= 97%: "
                      f"{'met' if row['accuracy'] >= 0.97 else 'not met'}), PSNR "
                      f"{row['psnr']:.2f} dB vs bicubic {bicubic:.2f} "
                      f"({'above' if row['psnr'] > bicubic else 'not above'})")
    return results


def trained_run(args, case, dataset, task, options, seconds):
    """A run folder of a model trained on the case: the study's pix2pix, or a short run."""
    from keras_aegan.training.callbacks import TimeBudget
    from keras_aegan.config import RunConfig
    from keras_aegan.training.runner import train

    folder = os.path.join(args.out, case, "models", "pix2pix-seed0")
    if os.path.isfile(os.path.join(folder, "model.keras")):
        return folder
    config = RunConfig(model="pix2pix", dataset=dataset, epochs=1000, batch_size=64,
                       run_dir=os.path.join(args.out, "apply_runs"), name=case,
                       model_options={"task": task, **options})
    print(f"  training a {case} pix2pix for {seconds} s to apply it", flush=True)
    return train(config, verbose=0, restart=True, callbacks=[TimeBudget(seconds)]).path


def apply_speed(args):
    """`apply` on a folder of MNIST-sized inputs: images per second."""
    from keras_aegan.apply.run import apply_run, write_png
    from keras_aegan.data import open_source, tasks

    dataset, task, options = SMOKE_CASE if args.smoke else CASES["mnist_sr"]
    case = "smoke_sr" if args.smoke else "mnist_sr"
    run = trained_run(args, case, dataset, task, options, 5 if args.smoke else 30)
    count = 200 if args.smoke else args.apply_images
    x, _ = open_source(dataset).arrays("test", limit=count)
    small, = tasks.make_task(task, x.shape[1:], factor=options["factor"]).make_input_arrays(x)
    folder = os.path.join(args.out, "apply_speed")
    shutil.rmtree(folder, ignore_errors=True)
    for i, image in enumerate(small):
        write_png(os.path.join(folder, "in", f"{i:05d}.png"), image)
    start = time.perf_counter()
    result = apply_run(run, os.path.join(folder, "in"), os.path.join(folder, "out"))
    wall = time.perf_counter() - start
    print(f"\napply_speed: {result.images} inputs of {small.shape[1]}x{small.shape[2]} -> "
          f"{x.shape[1]}x{x.shape[2]} PNGs; {result.summary()}; the model's share "
          f"{result.compute_seconds:.2f}s; with loading the model {wall:.2f}s "
          f"({result.images / wall:,.0f} images/s)")
    rate = result.images / result.seconds
    print(f"target: >= 500 images/s: {'met' if rate >= 500 else 'not met'} ({rate:,.0f})")


def apply_large(args):
    """`apply` on a 4000x3000 photo (colorize) and to a 4000x3000 output (4x SR), by tiles."""
    from PIL import Image

    from keras_aegan.apply.run import apply_run
    from keras_aegan.data import photos

    folder = os.path.join(args.out, "apply_large")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    size = (400, 300) if args.smoke else (4000, 3000)
    photo = Image.fromarray(photos.load_photo("coffee")).resize(size, Image.BICUBIC)
    if args.smoke:
        jobs = [("smoke_sr", SMOKE_CASE, photo.convert("L"))]
    else:
        small = photo.resize((size[0] // 4, size[1] // 4), Image.BOX)
        jobs = [("photo_colorize", CASES["photo_colorize"], photo.convert("L")),
                ("photo_sr", CASES["photo_sr"], small)]
    for case, (dataset, task, options), image in jobs:
        run = trained_run(args, case, dataset, task, options, 5 if args.smoke else 30)
        src = os.path.join(folder, f"{case}_in.png")
        image.save(src)
        out = os.path.join(folder, f"{case}_out.png")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = apply_run(run, src, out)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with Image.open(out) as written:
            shape = written.size
        print(f"\napply_large {case}: {image.size[0]}x{image.size[1]} -> "
              f"{shape[0]}x{shape[1]} in {result.seconds:.1f}s, {result.tiles:,} tiles; peak "
              f"memory of this process {peak / 1024:,.0f} MB (before: {before / 1024:,.0f} MB)"
              f"; wrote {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="mnist_sr",
                        choices=(*CASES, *APPLY_CASES, "all"), help="what to measure")
    parser.add_argument("--minutes", type=float, default=10.0,
                        help="training budget per model, in minutes (default: 10)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--eval-samples", type=int, default=10000,
                        help="test images each answer is scored on, at most the test split "
                             "(default: 10000: all of MNIST's, all 1,000 photo patches)")
    parser.add_argument("--apply-images", type=int, default=5000,
                        help="MNIST-sized inputs for apply_speed (default: 5000)")
    parser.add_argument("--out", default="runs/translation")
    parser.add_argument("--smoke", action="store_true",
                        help="well under a minute: digits, a 2x SR study with seconds of "
                             "training, apply on 200 images and a 400x300 image")
    args = parser.parse_args()
    from keras_aegan.training.speed import describe_machine
    print(f"machine: {describe_machine()}", flush=True)
    if args.smoke:
        args.minutes, args.eval_samples = 0.02, 64
        args.out = os.path.join(args.out, "smoke")
        study("smoke_sr", *SMOKE_CASE, args)
        apply_speed(args)
        apply_large(args)
        return
    names = [*CASES, *APPLY_CASES] if args.task == "all" else [args.task]
    for name in names:
        if name in CASES:
            study(name, *CASES[name], args)
        else:
            {"apply_speed": apply_speed, "apply_large": apply_large}[name](args)


if __name__ == "__main__":
    main()
