"""Realism by a classifier two-sample test: can a fresh classifier tell samples from real?

A small classifier (`classifiers.build_classifier`'s `"cnn"` trunk, `CLASSIFIER`) is
trained from scratch to tell a model's samples from real images, then scored on samples
and real images it never saw (Lopez-Paz & Oquab 2017, "Revisiting classifier two-sample
tests"). Its held-out accuracy is the figure: 0.5 when it cannot tell them apart (the
samples are, to this classifier, real), 1.0 when it spots every sample. Unlike FID it needs
no evaluator and no Gaussian fit: it looks at the pixels, so blur, noise, checkerboards
and wrong contrast all count.

How it is made, and why:

- The two sets are trimmed to the same size (`n`, the smaller): with balanced classes
  chance is exactly 0.5, whatever the classifier learns.
- Each set is split in halves by a seeded permutation: one half trains, the other is
  scored. The held-out half fixes the standard error, `sqrt(a(1 - a) / m)` over `m =
  2 * held-out` images (0.016 at 0.5 for 1,000 of each). 50/50 is Lopez-Paz & Oquab's
  split. Measured on 1,000 real digits against lightly blurred copies (three seeds), a
  70/30 split trained a stronger classifier (accuracy 0.86-0.97 against 0.82-0.88) but
  scored it on 40% fewer images: the test's power, its distance from chance in standard
  errors, came out the same (z 21 against 22), with more spread over seeds. For equal
  power, the split with the smaller standard error and the steadier figure.
- A fixed, small amount of work: `STEPS` Adam steps of `BATCH_SIZE`, the same whatever the
  set sizes, so the test costs the same for every model of a study (it runs once per
  model in studies whose evaluation must stay a fraction of training). Measured on 2
  cores shared with other work (speed index 28-76 GFLOP/s), 1,000 + 1,000 images: 3.4-4.8
  s at 28x28 when the cores were quiet (10 s at worst), 10-25 s at 64x64 (55 s at worst),
  about 2-3 s of it tracing and building.
- Real against real scores 0.5 within its standard error: both held-out halves are drawn
  from one distribution, so whatever the classifier learnt, its calls are independent
  of the truth. The tests check this, and that noise, blur and constant images score
  near 1.0.

Example:
    >>> result = two_sample_test(model_samples, real_test_images, seed=0)
    >>> print(f"{result.accuracy:.3f} ± {result.standard_error:.3f}")
"""

import dataclasses
import math
import time

import keras
import numpy as np

from keras_aegan.errors import UserError, check_int, check_number
from keras_aegan.evaluation import classifiers
from keras_aegan.training import fixed_steps

# The classifier: the "cnn" trunk (two 4x4 stride-2 convolutions, a dense layer), narrower
# than the CAS classifier's (width 32, 128 units): a quarter of its multiply-adds. Against
# real digits it spots lightly blurred copies (70% image, 30% a 2x2 box blur) at 0.88 on
# 28x28 and 0.998 on 64x64 (1,000 of each, seed 0); width 8 fell to 0.74 on 28x28.
CLASSIFIER = {"trunk": "cnn", "width": 16, "hidden": 64}
# The work: Adam steps of this many images (about 13 passes over 500 + 500 images).
STEPS, BATCH_SIZE = 200, 64
# The share of each set scored; the rest trains the classifier.
HELD_OUT = 0.5
# Each half needs this many images of each kind: 20 scored put the standard error at
# chance at 0.11 already; fewer would say next to nothing.
MIN_IMAGES_PER_HALF = 10
# Pixels may stray this far outside [0, 1] (float rounding of decoded or resized
# images); beyond it the images are on another scale (0-255) and trivially told apart.
RANGE_SLACK = 1e-3


@dataclasses.dataclass(frozen=True)
class TwoSampleResult:
    """The outcome of `two_sample_test`.

    Attributes:
        accuracy: held-out accuracy of the classifier, samples and real together (0.5:
            it cannot tell them apart; 1.0: every image called right).
        standard_error: its binomial standard error over the held-out images.
        n: images of each kind used (the smaller set's size: the other is trimmed).
        held_out: held-out images of each kind scored (`2 * held_out` in all).
        spotted: share of held-out samples called samples.
        real_passed: share of held-out real images called real.
        p_value: one-sided chance of an accuracy this high if the two sets came from
            one distribution (normal approximation to the binomial).
        steps: Adam steps the classifier trained.
        seconds: wall-clock seconds of the whole test.
    """

    accuracy: float
    standard_error: float
    n: int
    held_out: int
    spotted: float
    real_passed: float
    p_value: float
    steps: int
    seconds: float


def two_sample_test(samples, real, *, seed=0, steps=STEPS, batch_size=BATCH_SIZE,
                    held_out=HELD_OUT):
    """Train a fresh classifier to tell `samples` from `real`; its held-out accuracy.

    Args:
        samples: a model's images, `(N, H, W, C)` in [0, 1].
        real: real images the model did not train on, `(M, H, W, C)` in [0, 1].
        seed: seeds the trimming, the split, the weights and the batches: the same seed
            gives the same result.
        steps: Adam steps of the classifier.
        batch_size: images per step (half samples, half real on average).
        held_out: the share of each set scored, in (0, 1).

    Returns:
        A `TwoSampleResult`.

    Raises:
        UserError: arrays that are not image batches of one shape, hold NaN or Inf or
            values outside [0, 1], or have too few images to split.

    Example:
        >>> result = two_sample_test(samples, x_test[:1000], seed=0)
        >>> result.accuracy, result.standard_error
        (0.93, 0.008)
    """
    start = time.perf_counter()
    seed = check_int("seed", seed, minimum=0)
    steps = check_int("steps", steps)
    batch_size = check_int("batch_size", batch_size)
    held_out = check_number("held_out", held_out, 0, 1, low_open=True, high_open=True)
    samples, real = _check_images(samples, "samples"), _check_images(real, "real images")
    if samples.shape[1:] != real.shape[1:]:
        raise UserError(f"samples of shape {samples.shape[1:]} and real images of shape "
                        f"{real.shape[1:]} cannot be compared: give images of one shape")
    n = min(len(samples), len(real))
    scored = int(round(held_out * n))
    if min(scored, n - scored) < MIN_IMAGES_PER_HALF:
        raise UserError(f"the two-sample test needs at least {MIN_IMAGES_PER_HALF} "
                        f"images of each kind to train on and as many to score, got "
                        f"{len(samples)} samples and {len(real)} real images")
    rng = np.random.default_rng(seed)
    # Label 1: a sample; 0: a real image. Each set is trimmed and split at random.
    samples, real = (x[rng.permutation(len(x))[:n]] for x in (samples, real))
    train_x = np.concatenate([samples[scored:], real[scored:]])
    train_y = np.repeat(np.array([1, 0], "int32"), n - scored)
    test_x = np.concatenate([samples[:scored], real[:scored]])

    keras.utils.set_random_seed(seed)
    model = classifiers.build_classifier(samples.shape[1:], 2, seed=seed,
                                         name="two_sample_classifier", **CLASSIFIER)
    data = fixed_steps.batches(train_x, train_y, batch_size=batch_size, seed=seed)
    fixed_steps.fit_classifier(model, data, steps)
    called_sample = np.argmax(classifiers.predict(model, test_x), axis=-1) == 1
    spotted = float(np.mean(called_sample[:scored]))
    real_passed = float(np.mean(~called_sample[scored:]))
    accuracy = (spotted + real_passed) / 2
    count = 2 * scored
    return TwoSampleResult(
        accuracy=accuracy,
        standard_error=math.sqrt(accuracy * (1 - accuracy) / count),
        n=n, held_out=scored, spotted=spotted, real_passed=real_passed,
        p_value=_chance_p_value(accuracy, count), steps=steps,
        seconds=time.perf_counter() - start)


def _chance_p_value(accuracy, count):
    """P(accuracy at least this high | the classifier guesses), by the normal approximation
    to Binomial(count, 1/2)."""
    z = (accuracy - 0.5) / (0.5 / math.sqrt(count))
    return 0.5 * math.erfc(z / math.sqrt(2))


def _check_images(images, what):
    try:
        x = np.asarray(images, "float32")
    except (TypeError, ValueError):
        raise UserError(f"{what} must be an array of images (N, H, W, C), got "
                        f"{type(images).__name__}") from None
    if x.ndim != 4:
        raise UserError(f"{what} must be a batch of images (N, H, W, C), got shape "
                        f"{x.shape}")
    if not np.all(np.isfinite(x)):
        raise UserError(f"{what} contain NaN or Inf")
    if len(x) and (x.min() < -RANGE_SLACK or x.max() > 1 + RANGE_SLACK):
        raise UserError(f"{what} must be in [0, 1], got values in [{x.min():.3g}, "
                        f"{x.max():.3g}] (divide 8-bit pixels by 255)")
    return x
