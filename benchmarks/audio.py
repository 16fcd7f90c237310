"""Spoken digits: the data's facts, the audio evaluator's accuracies, and the audio study's
GAN, VAE and PCA against the targets, printed.

    python benchmarks/audio.py                  # spoken_digits (4,000 clips), 1,500 steps
    python benchmarks/audio.py --steps 3000 --dataset spoken_digits:10560
    python benchmarks/audio.py --no-study       # the data and the evaluator only
    python benchmarks/audio.py --smoke          # seconds: spoken_digits:100, 2 steps

Opens `spoken_digits` (synthesized with espeak-ng on first use, then cached) and prints its
clips and voices per split (the split is by voice: no voice variant on two sides) and what
synthesizing them cost. Then trains (or loads) its evaluator, the digit classifier whose
features the image study's FID and coverage use, and prints its accuracy on the held-out
voices (`test`) and on Asterisk's real recordings (`asterisk_digits`, each voice's too).

Then runs the audio study (`keras_aegan.studies.audio`: `train.py study --dataset
spoken_digits`) with a budget in optimizer STEPS per model, the same work on any machine
(the seconds it took are printed with the machine's speed index): dcgan (SpecGAN-style:
the DCGAN on the 64x64 spectrograms), vae and pca, scored on `--samples` samples each,
beside the calibration rows (real training spectrograms, plus noise of sigma 0.1 and 0.2).

Targets (issue 35): the evaluator reads >= 95% of the held-out synthetic voices' digits
right; its accuracy on the real recordings is reported (no target). After the budget
(`STEPS`, chosen to train the GAN in at most 20 minutes on an idle 2-core machine), the
best GAN's samples: every digit at 5-15% of them, >= 80% read as a digit with probability
>= 0.9, FID at or below the "real + noise sigma 0.2" calibration row (and the 0.1 row
beside it); the VAE and PCA rows from the same budget beside it.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from keras_aegan.data import open_source, spoken  # noqa: E402
from keras_aegan.errors import UserError  # noqa: E402
from keras_aegan.evaluation.metrics import get_evaluator  # noqa: E402
from keras_aegan.training.speed import describe_machine  # noqa: E402

ACCURACY_TARGET = 0.95
# The study's budget: optimizer steps per model (see the module docstring).
STEPS = 1500
SHARES = (0.05, 0.15)
CONFIDENT_TARGET = 0.8
STUDY_MODELS = ("dcgan", "vae", "pca")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="spoken_digits",
                        help="spoken_digits[:N] (default 4,000 clips)")
    parser.add_argument("--steps", type=int, default=STEPS,
                        help="the study's budget: optimizer steps per model (default: "
                             "%(default)s)")
    parser.add_argument("--samples", type=int, default=1000,
                        help="samples scored per model (default: %(default)s)")
    parser.add_argument("--study", action=argparse.BooleanOptionalAction, default=True,
                        help="run the audio study after the evaluator (default: yes)")
    parser.add_argument("--out", default="runs",
                        help="the study's run folder (default: %(default)s)")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: spoken_digits:100, a 3-epoch evaluator, 2 steps")
    args = parser.parse_args(argv)
    print(f"machine: {describe_machine()}", flush=True)
    if args.smoke:
        args.dataset, args.steps, args.samples = "spoken_digits:100", 2, 50
    kind, _, arg = args.dataset.partition(":")
    if kind != "spoken_digits":
        parser.error("--dataset must be spoken_digits[:N]")
    start = time.perf_counter()
    source = open_source(args.dataset)
    seconds = time.perf_counter() - start
    info = source.info
    clips = spoken.spoken_digit_clips(int(arg) if arg else spoken.DEFAULT_CLIPS, log=print)
    print(f"\n{info.name}: {sum(info.splits.values()):,} clips, {info.image_shape[0]}x"
          f"{info.image_shape[1]} spectrograms ({info.audio.rate} Hz, "
          f"{info.audio.samples / info.audio.rate:.3f} s, {info.audio.band_hz:g} Hz bands)")
    print("| split | clips | voices | variants | accents |")
    print("|---|---|---|---|---|")
    for split, (_, labels, voices) in clips.items():
        variants = {v.split("+")[1] for v in voices}
        accents = {v.split("+")[0] for v in voices}
        print(f"| {split} | {len(labels):,} | {len(set(voices))} | {len(variants)} | "
              f"{len(accents)} |")
    build = spoken.build_record()
    if build:
        print(f"synthesis: {build['voices']} voices x 10 digits in {build['seconds']:.0f} s "
              f"of wall time (builds: {build['builds']}; {build['workers']} espeak-ng "
              f"processes at once); opening it now took {seconds:.1f} s")
    evaluator = get_evaluator(source, epochs=3 if args.smoke else None, log=print)
    what = "trained now" if evaluator.trained else "loaded from the cache"
    print(f"\nevaluator ({what}, {evaluator.info.get('train_seconds', 0):.0f} s to train): "
          f"{evaluator.describe()}")
    held_out = evaluator.test_accuracy
    print(f"held-out voices: accuracy {held_out:.4f} on {info.splits['test']:,} clips of "
          f"{len(set(clips['test'][2]))} voices never heard in training")
    try:
        real = open_source("asterisk_digits")
    except UserError as e:
        print(f"real recordings: skipped ({e})")
        real = None
    if real is not None:
        x, y = real.arrays("test")
        predicted = evaluator.predict_classes(x)
        _, _, voices = spoken.asterisk_clips()
        print(f"real recordings (asterisk_digits): accuracy {np.mean(predicted == y):.4f} on "
              f"{len(y)} clips of {len(set(voices))} voices (no target)")
        for voice in dict.fromkeys(voices):
            mine = np.array([v == voice for v in voices])
            print(f"  {voice}: {np.mean(predicted[mine] == y[mine]):.2f} "
                  f"(read {''.join(str(int(p)) for p in predicted[mine])})")
    ok = held_out >= ACCURACY_TARGET
    print(f"target: held-out voices {held_out:.4f} >= {ACCURACY_TARGET}: "
          f"{'met' if ok else 'NOT met'}" + (" (smoke: a tiny set, not the target's)"
                                            if args.smoke else ""))
    if args.study:
        study(args)
    return 0


def study(args):
    """Run the audio study on the budget and print its rows against the targets."""
    from keras_aegan.config import StudyConfig
    from keras_aegan.studies import run_study

    name = f"audio-{args.dataset.replace(':', '')}-{args.steps}steps" + (
        "-smoke" if args.smoke else "")
    config = StudyConfig(dataset=args.dataset, task="audio", models=STUDY_MODELS,
                         steps=args.steps, eval_samples=args.samples, run_dir=args.out,
                         name=name, export=False)
    print(f"\nthe audio study, {args.steps:,} steps a model -> {config.path}", flush=True)
    start = time.perf_counter()
    results = run_study(config, log=lambda line: print(f"  {line}", flush=True))
    print(f"study: {time.perf_counter() - start:.0f} s; machine: "
          f"{describe_machine()}\n")
    print("| row | family | steps | train s | FID | read as a digit (p >= 0.9) | "
          "digit shares (min-max) | two-sample acc | memorisation |")
    print("|---|---|---|---|---|---|---|---|---|")
    calibration = results["calibration"]
    for entry in [*results["summary"], *calibration]:
        shares = entry.get("class_shares") or [float("nan")]
        print(f"| {entry['model']} | {entry['family']} | {_fmt(entry.get('steps'), '{:,.0f}')}"
              f" | {_fmt(entry.get('train_seconds'), '{:.0f}')} | {entry['fid']:.2f} | "
              f"{entry.get('confident', float('nan')):.1%} | "
              f"{min(shares):.1%}-{max(shares):.1%} | "
              f"{_fmt(entry.get('two_sample'), '{:.3f}')} | "
              f"{_fmt(entry.get('memorisation_ratio'), '{:.2f}')} |")
    gans = sorted((e for e in results["summary"] if e["family"] == "gan"),
                  key=lambda e: e["fid"])
    if not gans:
        print("targets: no GAN in the study")
        return
    best = gans[0]
    noise = {e["model"]: e["fid"] for e in calibration}
    low, high = SHARES
    shares = best["class_shares"]
    smoke = " (smoke: a tiny set and budget, not the target's)" if args.smoke else ""
    print(f"\ntargets for the best GAN, {best['model']}, after {args.steps:,} steps{smoke}:")
    print(f"- every digit at {low:.0%}-{high:.0%} of samples: {min(shares):.1%}-"
          f"{max(shares):.1%}: {_met(min(shares) >= low and max(shares) <= high)}")
    print(f"- read as a digit with p >= 0.9: {best['confident']:.1%} >= "
          f"{CONFIDENT_TARGET:.0%}: {_met(best['confident'] >= CONFIDENT_TARGET)}")
    for row, fid in noise.items():
        if "noise" in row:
            print(f"- FID {best['fid']:.2f} <= {row} {fid:.2f}: {_met(best['fid'] <= fid)}")
    print(f"report: {os.path.join(config.path, 'report.md')} (and report.html, with WAVs)")


def _fmt(value, fmt):
    return "-" if value is None else fmt.format(value)


def _met(ok):
    return "met" if ok else "NOT met"


if __name__ == "__main__":
    sys.exit(main())
