"""Faces the autoencoder way and the GAN way: the faces study's targets, printed.

    python benchmarks/faces.py                       # the ORL faces at 64x64, 6,000 steps a model
    python benchmarks/faces.py --steps 3000 --models dcgan,conv_ae,pca
    python benchmarks/faces.py --smoke               # seconds: scikit-image's 25x25 LFW crops

Runs the faces study (`train.py study --dataset faces`: conv_ae, vae, aae, dcgan with
DiffAugment, PCA) on one work budget (`--steps` optimizer steps a model, the same for both
families), then prints each model's realism (the two-sample accuracy: 0.5 means a fresh
classifier cannot tell its faces from held-out real ones), FID and coverage on the face
evaluator's features, sharpness, memorisation ratio, reconstruction of unseen people and the
person probes, with the seconds it trained on this machine and the machine's speed index.

Targets (issue 34): the GAN family's best model reaches a two-sample accuracy <= 0.80 with a
memorisation ratio >= 0.9 (it does not copy) within 20 minutes of training on a 2-core
machine at 64x64; the autoencoder family's figures beside it, from the same budget; the
person probes and reconstructions beside PCA's.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from keras_aegan.config import StudyConfig  # noqa: E402
from keras_aegan.studies import run_study  # noqa: E402
from keras_aegan.studies.faces import mission_answer  # noqa: E402
from keras_aegan.training.speed import describe_machine  # noqa: E402

FIGURES = (("two_sample", "two-sample acc", "{:.3f}"), ("fid", "FID", "{:.1f}"),
           ("coverage", "coverage", "{:.3f}"), ("sharpness", "sharpness", "{:.2f}"),
           ("memorisation_ratio", "memorisation", "{:.2f}"), ("psnr", "recon PSNR", "{:.2f}"),
           ("linear_probe", "person probe", "{:.3f}"), ("knn", "person k-NN", "{:.3f}"),
           ("steps", "steps", "{:,.0f}"), ("train_seconds", "train s", "{:.0f}"))
TWO_SAMPLE_TARGET, MEMORISATION_TARGET, MINUTES_TARGET = 0.80, 0.9, 20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="faces")
    parser.add_argument("--models", default=None,
                        help="comma-separated (default: the faces study's)")
    parser.add_argument("--steps", type=int, default=6000, help="optimizer steps a model")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--out", default="runs/benchmarks")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: lfw_faces, 20 steps, conv_ae, dcgan and PCA")
    args = parser.parse_args(argv)
    print(f"machine: {describe_machine()}", flush=True)
    models = tuple(args.models.split(",")) if args.models else None
    extra = {}
    if args.smoke:
        args.dataset, args.steps, models = "lfw_faces", 20, ("conv_ae", "dcgan", "pca")
        extra = {"eval_samples": 40, "timeline_points": 1, "export": False}
    config = StudyConfig(dataset=args.dataset, task="faces", models=models, steps=args.steps,
                         seeds=tuple(int(s) for s in args.seeds.split(",")),
                         run_dir=args.out, name="faces-smoke" if args.smoke else None,
                         **extra)
    results = run_study(config)
    summary = results["summary"]
    print(f"\nfaces study on {args.dataset}: {args.steps:,} steps a model, seeds {args.seeds}")
    print("| model | family | " + " | ".join(h for _, h, _ in FIGURES) + " |")
    print("|---|---|" + "---|" * len(FIGURES))
    for entry in summary:
        cells = [fmt.format(entry[key]) if isinstance(entry.get(key), (int, float)) else "-"
                 for key, _, fmt in FIGURES]
        print(f"| {entry['model']} | {entry['family']} | " + " | ".join(cells) + " |")
    print()
    for line in mission_answer(summary):
        print(line)
    gans = [e for e in summary if e["family"] == "gan"
            and isinstance(e.get("two_sample"), (int, float))]
    if gans:
        best = min(gans, key=lambda e: e["two_sample"])
        minutes = best.get("train_seconds", float("nan")) / 60
        ok = (best["two_sample"] <= TWO_SAMPLE_TARGET
              and best.get("memorisation_ratio", 0) >= MEMORISATION_TARGET
              and minutes <= MINUTES_TARGET)
        print(f"target: best GAN {best['model']} two-sample {best['two_sample']:.3f} <= "
              f"{TWO_SAMPLE_TARGET} with memorisation {best.get('memorisation_ratio', 0):.2f} "
              f">= {MEMORISATION_TARGET}, in {minutes:.1f} <= {MINUTES_TARGET} min of "
              f"training: {'met' if ok else 'NOT met'}")
    print(f"report: {os.path.join(config.path, 'report.md')} (every figure: results.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
