"""What autoencoders are for, shown on real images: feature detectors, unsupervised
pre-training with 1% / 10% of the labels, VAE samples and interpolations, denoising PSNR,
and the code activation a sparsity penalty achieves.

    python benchmarks/ae_uses.py --data digits --out runs/ae_uses_digits
    python benchmarks/ae_uses.py \
        --data idx:../shared/data/mnist --epochs 3 --out runs/ae_uses_mnist
    python benchmarks/ae_uses.py --smoke      # seconds: every step once, tiny budgets
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from keras_aegan.evaluation import codes, few_labels, metrics, pictures  # noqa: E402
from keras_aegan.evaluation.reconstruction_metrics import denoising_psnr  # noqa: E402
from keras_aegan.studies.report import format_table  # noqa: E402
from keras_aegan.training.fixed_steps import train_registered  # noqa: E402
from keras_aegan.data import open_source  # noqa: E402
from keras_aegan.training.speed import describe_machine  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="digits")
    parser.add_argument("--epochs", type=int, default=30, help="autoencoder epochs")
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--noise-level", type=float, default=0.3)
    parser.add_argument("--out", default="runs/ae_uses")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: digits, 1 epoch, few classifier steps")
    args = parser.parse_args()
    print(f"machine: {describe_machine()}", flush=True)
    if args.smoke:
        args.data, args.epochs = "digits", 1
    os.makedirs(args.out, exist_ok=True)

    source = open_source(args.data)
    x_train, y_train = (np.concatenate(a) for a in zip(source.arrays("train"),
                                                       source.arrays("validation")))
    x_test, y_test = source.arrays("test")
    if args.smoke:  # enough images for every step to run once
        x_train, y_train, x_test, y_test = x_train[:300], y_train[:300], x_test[:100], y_test[:100]
    print(f"{args.data}: {len(x_train)} train / {len(x_test)} test images", flush=True)
    k = args.latent_dim

    def train(name, latent_dim, **options):
        return train_registered(name, x_train, latent_dim=latent_dim, epochs=args.epochs,
                                batch_size=128, seed=args.seed, options=options)

    # Feature detectors: first-layer units of a dense AE, filters of a conv AE.
    start = time.perf_counter()
    dense, _ = train("dense_ae", k, units=(256, 128))
    conv, _ = train("conv_ae", k)
    for name, model in (("dense", dense), ("conv", conv)):
        path = pictures.feature_detectors(model, os.path.join(args.out, f"features_{name}.png"))
        print(f"feature detectors ({name}): {path}")

    # Unsupervised pre-training (the dense AE above) vs the same classifier from scratch.
    steps = {"head_steps": 20, "finetune_steps": 10} if args.smoke else {"head_steps": 800}
    sets = few_labels.label_sets(y_train, per_class=0, fractions=(0.01, 0.1), seed=args.seed)
    rows = few_labels.few_label_rows({"dense_ae": dense}, x_train, y_train, x_test, y_test,
                                     sets, seed=args.seed, **steps)
    print("\nunsupervised pre-training: test accuracy of encoder + softmax")
    print(format_table(rows))

    # Generation: VAE samples and interpolations.
    vae, _ = train("vae", k)
    samples, interpolations = pictures.vae_grids(vae, x_test[:16], args.out, seed=args.seed)
    print(f"\nVAE: {samples}, {interpolations}; test ELBO terms:",
          {key: round(float(v), 3) for key, v in
           vae.evaluate(x_test, x_test, verbose=0, return_dict=True).items()})

    # Denoising: the same noise the denoising AE trained with, on test images.
    denoiser, _ = train("denoising_ae", k, noise_level=args.noise_level)
    rows = []
    for name, model in (("denoising_ae", denoiser), ("conv_ae (no noise in training)", conv)):
        result = denoising_psnr(model, x_test, "gaussian", args.noise_level, args.seed)
        rows.append(dict(model=name, noisy_psnr=result["noisy"],
                         denoised_psnr=result["denoised"]))
    print(f"\ndenoising: PSNR (dB) against clean test images, Gaussian noise "
          f"sigma={args.noise_level}")
    print(format_table(rows))

    # Sparsity: mean code activation with and without the KL penalty (target 0.05).
    rows = []
    for kl_weight in (0.0, 1.0):
        model, _ = train("sparse_ae", 64, kl_weight=kl_weight, sparsity_target=0.05)
        recon = codes.predict(lambda x: model(x, training=False), x_test)
        rows.append(dict(kl_weight=kl_weight, target=0.05,
                         mean_activation=model.mean_activation(x_test),
                         error=metrics.mse(x_test, recon, per_image=True)))
    print("\nsparse autoencoder (64 sigmoid code units): mean code activation on test images")
    print(format_table(rows))
    print(f"(total {time.perf_counter() - start:.0f}s)")


if __name__ == "__main__":
    main()
