"""Finding where a classifier fails: adversarial attacks and natural failures.

**Attacks** are pure functions of any Keras classifier mapping images in [0, 1] to class
logits (or probabilities, with `from_logits=False`); they never change the model. Both
work under the L-infinity threat model: every pixel moves by at most `epsilon`, and every
adversarial image stays in [0, 1].

- `fgsm` (Goodfellow et al. 2015): one step of size `epsilon` along the sign of the loss
  gradient: `x' = clip(x + epsilon * sign(grad_x L(x, y)), 0, 1)`.
- `pgd` (Madry et al. 2018): projected gradient descent on the loss: from a random start
  in the epsilon-ball (uniform), `steps` signed-gradient steps of `step_size`, each followed
  by projection on the epsilon-ball around `x` and on [0, 1]. The default step size is
  `2.5 * epsilon / steps` (Madry et al.: with 40 steps at epsilon 0.3 that is 0.01875;
  their MNIST evaluation used 0.01, which `step_size=0.01` gives). With `restarts > 1`,
  an image counts as robust only if no restart fools the model.

The tensor functions (`fgsm_tensor`, `pgd_tensor`) are graph-traceable, for a
`train_step` that crafts its attack on the fly (`models.robust_model`, trained by
`training.adversarial_training`); `fgsm`, `pgd` and `robust_accuracy` run them over numpy
arrays in batches.

**Natural failures** (Zhao et al. 2018, "Generating natural adversarial examples"):
`natural_failures` searches the latent space of a conditional generator, around given
start codes (prior draws, or an encoder's codes of real test images), for images that a
classifier labels wrongly while an independent judge still labels them as the intended
class with high confidence: failures on images that look like the data, not on
imperceptible perturbations.
"""

import dataclasses
import math
import time
import weakref

import keras
import numpy as np
import tensorflow as tf

from keras_aegan.errors import UserError, check_int, check_number

# The attacks by name, for the command line and the robustness tables.
ATTACKS = ("fgsm", "pgd")
PROGRESS_SECONDS = 30.0  # a long attack given a `log` says how far it is this often


def check_epsilon(epsilon):
    """An L-infinity budget in [0, 1] (images live in [0, 1]); else a `UserError`."""
    return check_number("epsilon", epsilon, 0, 1)


def _per_example_loss(model, images, labels, from_logits, training):
    outputs = model(images, training=training)
    return keras.losses.sparse_categorical_crossentropy(
        labels, keras.ops.cast(outputs, "float32"), from_logits=from_logits)


def _input_gradient(model, images, labels, from_logits, training):
    # Each example's loss depends only on its own image, so the gradient of the sum is
    # every example's own input gradient, whatever the batch.
    with tf.GradientTape() as tape:
        tape.watch(images)
        loss = keras.ops.sum(_per_example_loss(model, images, labels, from_logits, training))
    return tape.gradient(loss, images)


def fgsm_tensor(model, images, labels, epsilon, *, from_logits=True, training=False):
    """One FGSM step on a batch of tensors (graph-traceable).

    Args:
        model: a Keras classifier, images in [0, 1] -> logits (or probabilities).
        images: float `(batch, H, W, C)` in [0, 1].
        labels: int `(batch,)` true classes (the loss they raise).
        epsilon: the L-infinity budget (a float or a scalar tensor).
        from_logits: whether the model outputs logits.
        training: call the model in training mode (batch statistics, dropout).

    Returns:
        The adversarial images, `clip(x + epsilon * sign(grad), 0, 1)`.
    """
    images = keras.ops.cast(images, "float32")
    grad = _input_gradient(model, images, labels, from_logits, training)
    return keras.ops.clip(images + epsilon * keras.ops.sign(grad), 0.0, 1.0)


def pgd_tensor(model, images, labels, epsilon, *, steps=40, step_size=None, random_start=True,
               seed=None, from_logits=True, training=False, start=None):
    """Projected gradient descent on a batch of tensors (graph-traceable).

    Args:
        model: a Keras classifier, images in [0, 1] -> logits (or probabilities).
        images: float `(batch, H, W, C)` in [0, 1].
        labels: int `(batch,)` true classes.
        epsilon: the L-infinity budget.
        steps: signed-gradient steps (1 with a random start and `step_size = 1.25 *
            epsilon` is the "FGSM with random start" of Wong et al. 2020).
        step_size: size of each step; default `2.5 * epsilon / steps`.
        random_start: start from a uniform draw in the epsilon-ball (clipped to [0, 1]).
        seed: an int or a `keras.random.SeedGenerator` for the random start.
        from_logits: whether the model outputs logits.
        training: call the model in training mode.
        start: an explicit starting perturbation (overrides `random_start`).

    Returns:
        Adversarial images within `epsilon` of `images` (L-infinity) and in [0, 1].
    """
    images = keras.ops.cast(images, "float32")
    if step_size is None:
        step_size = 2.5 * epsilon / steps
    if start is not None:
        delta = start
    elif random_start:
        delta = keras.random.uniform(keras.ops.shape(images), -1.0, 1.0, seed=seed) * epsilon
    else:
        delta = keras.ops.zeros_like(images)
    low = keras.ops.maximum(images - epsilon, 0.0)
    high = keras.ops.minimum(images + epsilon, 1.0)
    adversarial = keras.ops.clip(images + delta, low, high)

    def step(i, adversarial):
        grad = _input_gradient(model, adversarial, labels, from_logits, training)
        return i + 1, keras.ops.clip(adversarial + step_size * keras.ops.sign(grad), low, high)

    if isinstance(steps, int) and steps == 1:
        return step(0, adversarial)[1]
    # A loop in the graph, not `steps` unrolled copies of the network: tracing stays fast.
    _, adversarial = tf.while_loop(lambda i, _: i < steps, step,
                                   (tf.constant(0), adversarial))
    return adversarial


def _check_batch(images, labels):
    x = np.asarray(images, "float32")
    y = np.asarray(labels).reshape(-1).astype("int32")
    if x.ndim != 4:
        raise UserError(f"images must be a batch (N, H, W, C), got shape {x.shape}")
    if len(x) != len(y):
        raise UserError(f"got {len(x)} images and {len(y)} labels")
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise UserError("images must be in [0, 1] (the attacks keep them there)")
    return x, y


def _batched(function, x, y, batch_size):
    out = [keras.ops.convert_to_numpy(function(tf.constant(x[i:i + batch_size]),
                                               tf.constant(y[i:i + batch_size])))
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros_like(x)


def fgsm(model, images, labels, epsilon, *, from_logits=True, batch_size=256):
    """FGSM adversarial images for numpy arrays (see `fgsm_tensor`).

    Args:
        model: a Keras classifier of images in [0, 1].
        images: `(N, H, W, C)` in [0, 1].
        labels: `(N,)` true classes.
        epsilon: the L-infinity budget, in [0, 1].
        from_logits: whether the model outputs logits.
        batch_size: images per gradient computation.

    Returns:
        `(N, H, W, C)` float32 adversarial images in [0, 1].

    Example:
        >>> adversarial = fgsm(classifier, x_test, y_test, epsilon=0.1)
    """
    epsilon = check_epsilon(epsilon)
    x, y = _check_batch(images, labels)
    batch_size = check_int("batch_size", batch_size)
    attack = _compiled(model, from_logits)[0]
    return _batched(lambda a, b: attack(a, b, tf.constant(epsilon)), x, y, batch_size)


# Compiled attacks per model (and output kind), made once: the budget, step count, step
# size and random start are arguments, so new settings do not retrace the graph.
_COMPILED = weakref.WeakKeyDictionary()


def _compiled(model, from_logits):
    cache = _COMPILED.setdefault(model, {})
    if from_logits not in cache:
        def fgsm_graph(x, y, epsilon):
            return fgsm_tensor(model, x, y, epsilon, from_logits=from_logits)

        def pgd_graph(x, y, epsilon, steps, step_size, start):
            return pgd_tensor(model, x, y, epsilon, steps=steps, step_size=step_size,
                              start=start, from_logits=from_logits)

        cache[from_logits] = (tf.function(fgsm_graph, reduce_retracing=True),
                              tf.function(pgd_graph, reduce_retracing=True))
    return cache[from_logits]


def pgd(model, images, labels, epsilon, *, steps=40, step_size=None, random_start=True,
        restarts=1, seed=0, from_logits=True, batch_size=256, log=None):
    """PGD adversarial images for numpy arrays (see `pgd_tensor`).

    Args:
        model: a Keras classifier of images in [0, 1].
        images: `(N, H, W, C)` in [0, 1].
        labels: `(N,)` true classes.
        epsilon: the L-infinity budget, in [0, 1].
        steps: gradient steps per restart (>= 1).
        step_size: size of each step, in (0, 1]; default `2.5 * epsilon / steps`.
        random_start: start each restart from a uniform draw in the epsilon-ball.
        restarts: independent random starts; per image the first that fools the model
            is kept (else the last).
        seed: seeds the random starts (numpy's generator: repeatable).
        from_logits: whether the model outputs logits.
        batch_size: images per gradient computation.
        log: a function given a progress line every `PROGRESS_SECONDS` (`None`: quiet).

    Returns:
        `(N, H, W, C)` float32 adversarial images within `epsilon` of `images`, in [0, 1].

    Example:
        >>> adversarial = pgd(classifier, x_test, y_test, 0.3, steps=40, step_size=0.01)
    """
    epsilon = check_epsilon(epsilon)
    steps = check_int("steps", steps)
    restarts = check_int("restarts", restarts)
    if step_size is not None:
        step_size = check_number("step_size", step_size, 0, 1, low_open=True)
    x, y = _check_batch(images, labels)
    batch_size = check_int("batch_size", batch_size)
    best = x.copy()
    fooled = np.zeros(len(x), bool)
    if step_size is None:
        step_size = 2.5 * epsilon / steps
    attack = _compiled(model, from_logits)[1]
    rng = np.random.default_rng(seed)
    for _ in range(restarts):
        start = (rng.uniform(-epsilon, epsilon, x.shape) if random_start
                 else np.zeros(x.shape)).astype("float32")
        parts, last = [], time.perf_counter()
        for i in range(0, len(x), batch_size):
            parts.append(keras.ops.convert_to_numpy(attack(
                tf.constant(x[i:i + batch_size]), tf.constant(y[i:i + batch_size]),
                tf.constant(epsilon), tf.constant(steps), tf.constant(step_size, "float32"),
                tf.constant(start[i:i + batch_size]))))
            if log is not None and time.perf_counter() - last >= PROGRESS_SECONDS:
                last = time.perf_counter()
                log(f"  PGD-{steps} at epsilon {epsilon:g}: {i + len(parts[-1])}/{len(x)} "
                    "images")
        adversarial = np.concatenate(parts) if parts else x.copy()
        wrong = predict_classes(model, adversarial, batch_size) != y
        take = ~fooled  # keep the first success of each image
        best[take] = adversarial[take]
        fooled |= wrong
        if fooled.all() or not random_start:
            break  # without a random start every restart is the same attack
    return best


def predict_classes(model, images, batch_size=512):
    """The classifier's predicted class per image (numpy)."""
    x = np.asarray(images, "float32")
    out = [np.argmax(keras.ops.convert_to_numpy(model(x[i:i + batch_size], training=False)),
                     axis=-1) for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros((0,), "int64")


def robust_accuracy(model, images, labels, *, attack="pgd", epsilon=0.3, batch_size=256,
                    **options):
    """Accuracy of `model` on adversarial versions of `images` (clean when `epsilon` is 0).

    Args:
        model: a Keras classifier of images in [0, 1].
        images, labels: the test set.
        attack: `"fgsm"` or `"pgd"`.
        epsilon: the L-infinity budget.
        batch_size: images per gradient computation.
        **options: options of the attack (`steps`, `step_size`, `restarts`, `seed`, ...).

    Returns:
        The accuracy, a float in [0, 1].
    """
    if attack not in ATTACKS:
        raise UserError(f"attack must be one of {', '.join(ATTACKS)}, got {attack!r}")
    epsilon = check_epsilon(epsilon)
    x, y = _check_batch(images, labels)
    if epsilon > 0:
        x = (fgsm if attack == "fgsm" else pgd)(model, x, y, epsilon, batch_size=batch_size,
                                                 **options)
    return float(np.mean(predict_classes(model, x) == y))


def robustness_rows(model, images, labels, epsilons=(0.1, 0.2, 0.3), *, pgd_steps=40,
                    pgd_step_size=0.01, restarts=1, seed=0, batch_size=256, log=None):
    """Clean, FGSM and PGD accuracy at each epsilon: one row per epsilon.

    Args:
        log: given a line as each attack is done (`None`: quiet): PGD takes minutes.

    Returns:
        A list of dicts: `epsilon`, `clean`, `fgsm`, `pgd` (accuracies) and `pgd_attack`
        (its description, e.g. `"PGD-40, step 0.01, 1 random start"`).
    """
    log = log or (lambda *_: None)
    x, y = _check_batch(images, labels)
    clean = float(np.mean(predict_classes(model, x) == y))
    rows = []
    for epsilon in epsilons:
        row = {"epsilon": check_epsilon(epsilon), "clean": clean,
               "fgsm": robust_accuracy(model, x, y, attack="fgsm", epsilon=epsilon,
                                       batch_size=batch_size)}
        log(f"  epsilon {epsilon:g}: clean {clean:.4f}, FGSM {row['fgsm']:.4f}")
        row["pgd"] = robust_accuracy(model, x, y, attack="pgd", epsilon=epsilon,
                                     steps=pgd_steps, step_size=pgd_step_size,
                                     restarts=restarts, seed=seed, batch_size=batch_size,
                                     log=log)
        row["pgd_attack"] = describe_pgd(pgd_steps, pgd_step_size, restarts)
        log(f"  epsilon {epsilon:g}: {row['pgd_attack']} {row['pgd']:.4f}")
        rows.append(row)
    return rows


def describe_pgd(steps, step_size, restarts=1):
    """A one-line description of a PGD attack, for tables."""
    size = "2.5 eps/steps" if step_size is None else f"{step_size:g}"
    return (f"PGD-{steps}, step {size}, {restarts} random start"
            f"{'s' if restarts > 1 else ''}")


def evaluator_classifier(source):
    """The Keras network of a labelled source's evaluator (`metrics.get_evaluator`),
    trained and cached once per dataset: the classifier the issue attacks."""
    from keras_aegan.evaluation import metrics

    evaluator = metrics.get_evaluator(source, verbose=0)
    if not evaluator.has_classes:
        raise UserError(f"{evaluator.info['spec']}: an unlabeled source has no classifier "
                        "to attack")
    return keras.saving.load_model(evaluator.path / "model.keras", safe_mode=True)


# -------------------------------------------------------------------- natural failures


@dataclasses.dataclass
class NaturalFailures:
    """What `natural_failures` found, one entry per start code (numpy arrays).

    Attributes:
        found: `(N,)` bool: a failure was found near this start.
        images: `(N, H, W, C)`: the failure (or the start's own image when none was).
        codes: `(N, latent_dim)`: the latent code of each image.
        intended: `(N,)` the intended class (the generator's label; the judge agrees).
        predicted: `(N,)` the classifier's label of each image.
        judge_confidence: `(N,)` the judge's probability of the intended class.
        distance: `(N,)` the L2 distance in latent space from the start (`inf`: none).
        tried: latent codes decoded in all.
    """

    found: np.ndarray
    images: np.ndarray
    codes: np.ndarray
    intended: np.ndarray
    predicted: np.ndarray
    judge_confidence: np.ndarray
    distance: np.ndarray
    tried: int

    @property
    def count(self):
        return int(self.found.sum())

    def take(self):
        """`(images, intended labels)` of the failures found."""
        return self.images[self.found], self.intended[self.found]


def _softmax(logits):
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def natural_failures(generate, codes, intended, classifier, judge, *,
                     radii=(0.0, 0.25, 0.5, 0.75, 1.0, 1.5), tries=16, judge_confidence=0.9,
                     seed=0, batch_size=512):
    """Search around latent codes for images the classifier gets wrong and the judge right.

    Zhao et al.'s iterative stochastic search: for each start code `z0` with intended
    class `c`, and for each radius `r` in `radii` in turn, decode `tries` codes drawn
    uniformly from the shell `r_prev < ||z - z0|| <= r` (radius 0: `z0` itself) with the
    label `c`; keep the one nearest to `z0` that `classifier` labels other than `c` while
    `judge` labels `c` with probability at least `judge_confidence`; stop at the first
    radius that yields one.

    Args:
        generate: `(codes, labels) -> images in [0, 1]` (numpy or tensors), e.g. a
            conditional GAN's or conditional AAE's `generate`.
        codes: `(N, latent_dim)` start codes (prior draws, or an encoder's codes of real
            images).
        intended: `(N,)` the class each start should show.
        classifier: the classifier under test, images -> logits.
        judge: an independent classifier (trained separately), images -> logits; its
            agreement with the intended class is what makes a failure "natural".
        radii: increasing search radii in latent space (L2).
        tries: codes decoded per start and radius.
        judge_confidence: the judge's least probability for the intended class.
        seed: seeds the search.
        batch_size: images per forward pass.

    Returns:
        A `NaturalFailures`.

    Example:
        >>> z = np.random.default_rng(0).standard_normal((500, cgan.latent_dim))
        >>> found = natural_failures(cgan.generate, z, np.arange(500) % 10, net, judge)
        >>> print(found.count)
    """
    codes = np.asarray(codes, "float32")
    intended = np.asarray(intended).reshape(-1).astype("int32")
    if codes.ndim != 2 or len(codes) != len(intended):
        raise UserError(f"codes must be (N, latent_dim) with one intended class each, got "
                        f"{codes.shape} and {intended.shape}")
    radii = [check_number("radius", r, 0) for r in radii]
    if radii != sorted(radii):
        raise UserError(f"radii must increase, got {radii}")
    tries = check_int("tries", tries)
    check_number("judge_confidence", judge_confidence, 0, 1)
    rng = np.random.default_rng(seed)
    n, dim = codes.shape
    found = np.zeros(n, bool)
    best_codes = codes.copy()
    distance = np.full(n, np.inf)
    tried = 0
    previous = 0.0
    for radius in radii:
        todo = np.flatnonzero(~found)
        if not len(todo):
            break
        count = 1 if radius == 0 else tries
        # Uniform directions, norms uniform in (previous, radius]: the shell's codes.
        direction = rng.standard_normal((len(todo), count, dim))
        direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
        norms = rng.uniform(previous, radius, (len(todo), count, 1)) if radius else \
            np.zeros((len(todo), count, 1))
        candidates = (codes[todo, None, :] + direction * norms).astype("float32")
        flat = candidates.reshape(-1, dim)
        labels = np.repeat(intended[todo], count)
        images = _generate(generate, flat, labels, batch_size)
        tried += len(flat)
        predicted = _logits(classifier, images, batch_size).argmax(-1)
        confidence = _softmax(_logits(judge, images, batch_size))[np.arange(len(labels)), labels]
        ok = ((predicted != labels) & (confidence >= judge_confidence)).reshape(len(todo), count)
        gaps = np.where(ok, norms[..., 0], np.inf)
        pick = gaps.argmin(axis=1)
        hit = np.isfinite(gaps[np.arange(len(todo)), pick])
        winners = todo[hit]
        best_codes[winners] = candidates[hit, pick[hit]]
        distance[winners] = gaps[hit, pick[hit]]
        found[winners] = True
        previous = radius
    images = _generate(generate, best_codes, intended, batch_size)
    logits_judge = _softmax(_logits(judge, images, batch_size))
    return NaturalFailures(found=found, images=images, codes=best_codes, intended=intended,
                           predicted=_logits(classifier, images, batch_size).argmax(-1),
                           judge_confidence=logits_judge[np.arange(n), intended],
                           distance=distance, tried=tried)


def _generate(generate, codes, labels, batch_size):
    out = [np.asarray(keras.ops.convert_to_numpy(
        generate(codes[i:i + batch_size], labels[i:i + batch_size].astype("int32"))), "float32")
        for i in range(0, len(codes), batch_size)]
    return np.concatenate(out)


def _logits(model, images, batch_size):
    out = [np.asarray(keras.ops.convert_to_numpy(model(images[i:i + batch_size],
                                                       training=False)), "float64")
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, 0))


def failure_grid_rows(failures, columns=10, max_rows=None):
    """Rows of failure images for `callbacks.save_grid`, one row per intended class
    that has failures (in class order, at most `max_rows` rows), at most `columns`
    images each."""
    rows = []
    for c in np.unique(failures.intended[failures.found]):
        members = np.flatnonzero(failures.found & (failures.intended == c))[:columns]
        rows.append(failures.images[members])
        if len(rows) == max_rows:
            break
    return rows


def summarize_failures(failures):
    """Counts of a search for a table: starts, found, share, tried, mean latent distance."""
    found = failures.found
    return {"starts": int(len(found)), "found": int(found.sum()),
            "share": float(found.mean()) if len(found) else math.nan,
            "decoded": int(failures.tried),
            "mean_distance": float(failures.distance[found].mean()) if found.any()
            else math.nan}
