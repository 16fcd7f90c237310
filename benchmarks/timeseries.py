"""Time-series generation under a CPU time budget, scored as TimeGAN scores it.

    python benchmarks/timeseries.py --minutes 10                           # sines
    python benchmarks/timeseries.py --dataset statsmodels:elnino --minutes 10
    python benchmarks/timeseries.py --smoke                                # seconds

Runs the `timeseries` study kind (`keras_aegan.studies.run_study`, the same
code as `python train.py study --task timeseries`): each model (`timegan`,
`recurrent_gan`, `recurrent_vae`) is trained through the runner for `--minutes` of wall-clock time, draws
as many windows as there are training windows (at most 10,000), and is scored with
TimeGAN's discriminative score (post-hoc GRU classifier, |accuracy - 0.5|) and predictive
score (train on synthetic, MAE on real test windows), mean ± std over `--repeats`; held-out
real windows are scored the same way as the reference. Prints the table beside the
paper's sines figures (TimeGAN 0.011 / 0.093, RCGAN 0.022 / 0.097, C-RNN-GAN 0.229 /
0.127, real data 0.094) and writes `<out>/report.md`, `embeddings.png` (PCA and t-SNE of
real vs synthetic) and `samples.png`.

The issue's target: TimeGAN's figures on sines within 10 minutes of training on 2 cores.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="sines",
                        help="sines, statsmodels:elnino|co2|sunspots or csv:FILE")
    parser.add_argument("--minutes", type=float, default=10.0,
                        help="training budget per model, wall clock (default: 10)")
    parser.add_argument("--models", default="timegan,recurrent_gan,recurrent_vae")
    parser.add_argument("--batch-size", type=int, default=128, help="TimeGAN's 128")
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a builder option of the models, repeatable (e.g. hidden=24)")
    parser.add_argument("--out", default=None,
                        help="study folder (default: runs/bench-timeseries-<dataset>)")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: tiny models, short scores")
    args = parser.parse_args(argv)
    from keras_aegan.training.speed import describe_machine
    print(f"machine: {describe_machine()}", flush=True)

    from keras_aegan.cli.common import option
    from keras_aegan.config import StudyConfig, slug
    from keras_aegan.studies import run_study

    out = args.out or os.path.join("runs", f"bench-timeseries-{slug(args.dataset)}")
    options = {"repeats": args.repeats, **dict(option(o) for o in args.option)}
    budget = args.minutes * 60
    if args.smoke:
        options = {"repeats": 1, "disc_iterations": 30, "pred_iterations": 30,
                   "synthetic": 200, "pictures": 100, "hidden": 4, "layers": 1, "units": 4,
                   "d_units": 4}
        budget = 3.0
    config = StudyConfig(dataset=args.dataset, task="timeseries", task_options=options,
                         models=tuple(args.models.split(",")), budget_seconds=budget,
                         seeds=tuple(int(s) for s in args.seeds.split(",")),
                         batch_size=args.batch_size, latent_dim=args.latent_dim,
                         export=not args.smoke, run_dir=os.path.dirname(out) or ".",
                         name=os.path.basename(out) + ("-smoke" if args.smoke else ""))
    start = time.perf_counter()
    results = run_study(config, log=lambda m: print(m, flush=True))
    print()
    print(f"{'model':<26} {'discriminative':>16} {'predictive':>16} {'spread':>7} "
          f"{'train s':>8} {'steps':>7}")
    for e in results["summary"]:
        print(f"{e['model']:<26} {e['discriminative']:>8.3f} ± {e['discriminative_std']:.3f} "
              f"{e['predictive']:>8.3f} ± {e['predictive_std']:.3f} {e['spread_ratio']:>7.2f} "
              f"{e.get('train_seconds', 0):>8.0f} {e.get('steps', 0):>7.0f}")
    for name, disc, pred in results["published"]:
        disc = "—" if disc is None else f"{disc:.3f}"
        print(f"{name + ' [published]':<26} {disc:>16} {pred:>16.3f}")
    print(f"\n{config.path}/report.md (embeddings.png, samples.png); "
          f"{time.perf_counter() - start:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
