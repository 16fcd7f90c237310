"""Spoken digits: the data's facts and the audio evaluator's accuracies, printed.

    python benchmarks/audio.py                  # spoken_digits (4,000 clips), its evaluator
    python benchmarks/audio.py --dataset spoken_digits:10560
    python benchmarks/audio.py --smoke          # seconds: spoken_digits:100

Opens `spoken_digits` (synthesized with espeak-ng on first use, then cached) and prints its
clips and voices per split (the split is by voice: no voice variant on two sides) and what
synthesizing them cost. Then trains (or loads) its evaluator, the digit classifier whose
features the image study's FID and coverage use, and prints its accuracy on the held-out
voices (`test`) and on Asterisk's real recordings (`asterisk_digits`, each voice's too).

Targets (issue 35): the evaluator reads >= 95% of the held-out synthetic voices' digits
right; its accuracy on the real recordings is reported (no target). The GAN, VAE and PCA
targets come with the audio models.
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="spoken_digits",
                        help="spoken_digits[:N] (default 4,000 clips)")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: spoken_digits:100 and a 3-epoch evaluator")
    args = parser.parse_args(argv)
    print(f"machine: {describe_machine()}", flush=True)
    if args.smoke:
        args.dataset = "spoken_digits:100"
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
