"""Generated images as training data: augmentation with few labels, and the
Classification Accuracy Score.

**Augmentation.** A small classifier (`classifiers.build_classifier`: conv 32 and 64, 4x4
stride 2, dense 128, dropout 0.3) is trained on a seeded, class-stratified subset of the
labelled training images (1%, 10%, ...) for a fixed number of steps, in four ways:

- `real`: the labelled subset only;
- `shifts`: the subset with random shifts (up to 10% of the side) and rotations (up to
  10 degrees), drawn afresh for every batch;
- `<generator>`: every batch holds `share` generated images of the classes asked for,
  with those classes as labels, the rest real;
- `<generator>+shifts`: both.

The conditional generators (the `cgan`, and the `caae`, the autoencoder family's
conditional decoder) are trained on what a user in that situation has: **the labelled
subset only** (a conditional model needs a label for every image it learns from).

**Classification Accuracy Score** (Ravuri & Vinyals 2019): the same classifier trained
*only* on a model's samples, labelled by the class they were generated for, and tested on
real test images. A perfect conditional generator scores the accuracy of real data; a
generator that draws the wrong class, or one mode per class, scores less. An unconditional
model has no class to ask for: its samples can be labelled by the dataset's evaluator
instead (`label_by=`), and the score is then marked as such (`cas_evaluator_labels`),
since it measures agreement with the evaluator rather than conditioning.
"""

import time

import keras
import numpy as np

from keras_aegan import protocol
from keras_aegan.data import subsets
from keras_aegan.evaluation import classifiers
from keras_aegan.training import fixed_steps
from keras_aegan.errors import UserError, check_int, check_number

# The classifier all comparisons train (`classifiers.build_classifier`'s small CNN): small,
# documented, the same everywhere.
CLASSIFIER = {"width": 32, "hidden": 128, "dropout": 0.3}
# The generators' noise / code size: the conditional AAE's code must leave the class to
# its label, and a small code does (see `hybrids.ConditionalAdversarialAutoencoder`).
GENERATOR_LATENT = {"cgan": 16, "caae": 8}


# ------------------------------------------------------------------------- samples


def generate_balanced(generate, latent_dim, num_classes, n, *, seed=0, batch_size=500):
    """`n` images from a conditional generator, the classes in turn (`0, 1, ..., 0, ...`).

    Args:
        generate: `(noise, labels) -> images in [0, 1]` (a conditional model's
            `generator` part).
        latent_dim: size of the noise (drawn from `N(0, I)`).
        num_classes: number of classes.
        n: images to draw.
        seed: seeds the noise.
        batch_size: images per call.

    Returns:
        `(images, labels)` numpy arrays; `labels[i]` is the class image `i` was drawn for.
    """
    n = check_int("n", n)
    z = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype("float32")
    labels = (np.arange(n) % num_classes).astype("int32")
    images = np.concatenate([
        np.asarray(keras.ops.convert_to_numpy(generate(z[i:i + batch_size],
                                                       labels[i:i + batch_size])), "float32")
        for i in range(0, n, batch_size)])
    return images, labels


def conditional_samples(model, n, *, seed=0):
    """`n` class-balanced samples of a conditional keras_aegan model and their classes.

    Raises:
        UserError: the model is not conditional (it cannot be asked for a class).
    """
    spec = protocol.describe(model)
    if not spec.conditional:
        raise UserError(f"{model.name} is an unconditional {spec.family}: it cannot draw a "
                        "chosen class; use a conditional model (cgan, caae), or label its "
                        "samples by the evaluator")
    part = spec.part("generator")
    return generate_balanced(part.fn, spec.latent_dim, spec.num_classes, n, seed=seed)


# ---------------------------------------------------------------------- classifiers


def train_classifier(dataset, image_shape, num_classes, *, steps=1500, shifts=False,
                     learning_rate=1e-3, seed=0, log=None):
    """Train the comparisons' classifier (`CLASSIFIER`, optionally behind random shifts and
    rotations) on a batched stream for `steps` Adam steps (`log`: progress lines)."""
    keras.utils.set_random_seed(seed)
    model = classifiers.build_classifier(image_shape, num_classes, shifts=shifts, seed=seed,
                                         **CLASSIFIER)
    fixed_steps.fit_classifier(model, dataset, steps, learning_rate=learning_rate, log=log,
                               what="classifier")
    return model


# ---------------------------------------------------------------- classification score


def classification_accuracy_score(images, labels, test_images, test_labels, *, steps=1500,
                                  batch_size=64, num_classes=None, seed=0):
    """The accuracy on real test images of the classifier trained only on `(images,
    labels)` (a model's samples and the classes they were drawn for).

    Args:
        images, labels: the training examples (generated).
        test_images, test_labels: the real test set.
        steps: Adam steps of the classifier.
        batch_size: examples per step.
        num_classes: classes (default: from the labels).
        seed: seeds the classifier and the shuffling.

    Returns:
        The score, a float in [0, 1].

    Example:
        >>> images, labels = conditional_samples(cgan, 10000)
        >>> classification_accuracy_score(images, labels, x_test, y_test)
    """
    images = np.asarray(images, "float32")
    labels = np.asarray(labels).astype("int32")
    if len(images) != len(labels) or not len(images):
        raise UserError(f"need one label per image, got {len(images)} images and "
                        f"{len(labels)} labels")
    num_classes = num_classes or int(max(labels.max(), np.max(test_labels)) + 1)
    data = fixed_steps.mixed_dataset(images, labels, batch_size=batch_size, seed=seed)
    model = train_classifier(data, images.shape[1:], num_classes, steps=steps, seed=seed)
    return classifiers.accuracy(model, test_images, test_labels)


def cas_for_model(model, test_images, test_labels, *, samples=None, label_by=None, n=10000,
                  steps=1500, seed=0):
    """The Classification Accuracy Score of a keras_aegan model: the study's column.

    A conditional model is asked for `n` class-balanced samples (`"cas"`). An
    unconditional one needs `label_by`, a classifier of its samples (the dataset's
    `evaluator.Evaluator`, or anything with `predict_classes(images)`), and gives
    `"cas_evaluator_labels"`: marked as such because the labels come from the evaluator,
    not from the model.

    Args:
        model: a keras_aegan model.
        test_images, test_labels: the real test set.
        samples: the model's samples (for an unconditional model; default: its own
            `sample(n, seed=seed)` when it declares `protocol.SAMPLES_OWN`).
        label_by: labels an unconditional model's samples.
        n: samples drawn.
        steps: Adam steps of the classifier.
        seed: seeds the samples and the classifier.

    Returns:
        `{"cas": score}` or `{"cas_evaluator_labels": score}`.

    Raises:
        UserError: an unconditional model without `label_by`, or without samples it can
            draw itself.
    """
    spec = protocol.describe(model)
    if spec.conditional:
        images, labels = conditional_samples(model, n, seed=seed)
        key = "cas"
    else:
        if label_by is None:
            raise UserError(f"{model.name} is unconditional: its samples have no class; "
                            "pass label_by (the evaluator) to label them, or use a "
                            "conditional model")
        if samples is None:
            if spec.sampler != protocol.SAMPLES_OWN:
                raise UserError(f"{model.name} has no sampler of its own: pass its samples")
            samples = keras.ops.convert_to_numpy(model.sample(n, seed=seed))
        images = np.asarray(samples, "float32")
        labels = np.asarray(label_by.predict_classes(images))
        key = "cas_evaluator_labels"
    num_classes = spec.num_classes or int(np.max(test_labels)) + 1
    return {key: classification_accuracy_score(images, labels, test_images, test_labels,
                                               steps=steps, num_classes=num_classes,
                                               seed=seed)}


# -------------------------------------------------------------------- augmentation table


def train_generator(name, x, y, *, steps=2000, batch_size=64, latent_dim=None, seed=0,
                    budget_seconds=None, options=None, log=None):
    """Train the registered conditional model `name` on `(x, y)` for `steps` steps
    (`latent_dim`: default `GENERATOR_LATENT`, else 16; `log`: progress lines).

    Returns:
        `(model, seconds)`.
    """
    from keras_aegan.registry import get_model_entry

    entry = get_model_entry(name)
    if not entry.needs_labels:
        raise UserError(f"{name} is unconditional: augmentation needs a conditional "
                        "generator (cgan, caae) to draw images of a chosen class")
    steps = check_int("steps", steps)
    latent_dim = latent_dim or GENERATOR_LATENT.get(name, 16)
    keras.utils.set_random_seed(seed)
    num_classes = int(np.max(y)) + 1
    model = entry.builder(tuple(x.shape[1:]), latent_dim=latent_dim, num_classes=num_classes,
                          **(options or {}))
    model.compile()
    data = fixed_steps.batches(x, y, batch_size=batch_size, seed=seed, drop_remainder=True)
    _, seconds = fixed_steps.fit_steps(model, data, steps, budget_seconds=budget_seconds,
                                       log=log, what=name)
    return model, seconds


def augmentation_runs(x_train, y_train, x_test, y_test, *, fraction, seed=0,
                      generators=("cgan", "caae"), share=0.5, pool=None,
                      classifier_steps=1500, generator_steps=2000, batch_size=64,
                      latent_dim=None, generator_options=None, cas=True, log=None):
    """One labelled fraction and seed: every variant's test accuracy, and each generator's
    CAS.

    Args:
        x_train, y_train, x_test, y_test: images in [0, 1] and int labels.
        fraction: the labelled share of the training images, in (0, 1].
        seed: seeds the subset, the generators and the classifiers.
        generators: registered conditional models, trained on the labelled subset only.
        share: the share of generated images in each batch.
        pool: generated images drawn per generator (default: 10 per labelled image, at
            least 5,000).
        classifier_steps: Adam steps of each classifier.
        generator_steps: training steps of each generator.
        batch_size: examples per step (classifiers and generators).
        latent_dim: the generators' noise size (default: `GENERATOR_LATENT`).
        generator_options: `{name: builder options}`.
        cas: also score each generator's Classification Accuracy Score.
        log: a function for progress lines (`None`: quiet).

    Returns:
        A dict: `fraction`, `labels` (count), `seed`, `accuracy` (`{variant: test
        accuracy}`), `cas` (`{generator: score}`), `seconds` (`{what: seconds}`), and
        `samples` (`{generator: (images, labels)}`, a few per class, for a grid).
    """
    log = log or (lambda *_: None)
    fraction = subsets.check_fraction(fraction)
    check_number("share", share, 0, 1, low_open=True, high_open=True)
    index = subsets.labeled_subset(y_train, fraction, seed)
    x, y = x_train[index], y_train[index]
    shape, num_classes = x.shape[1:], int(max(y_train.max(), y_test.max())) + 1
    pool = pool_size(len(x), pool)
    out = {"fraction": fraction, "labels": int(len(x)), "seed": seed, "accuracy": {},
           "cas": {}, "seconds": {}, "samples": {}}

    def run(variant, extra=None, shifts=False):
        start = time.perf_counter()
        data = fixed_steps.mixed_dataset(x, y, *(extra or (None, None)), share=share,
                                         batch_size=batch_size, seed=seed)
        model = train_classifier(data, shape, num_classes, steps=classifier_steps,
                                 shifts=shifts, seed=seed, log=log)
        out["accuracy"][variant] = classifiers.accuracy(model, x_test, y_test)
        out["seconds"][variant] = time.perf_counter() - start
        log(f"  {fraction:g} seed {seed} {variant}: {out['accuracy'][variant]:.4f}")

    run("real")
    run("shifts", shifts=True)
    for name in generators:
        model, seconds = train_generator(name, x, y, steps=generator_steps,
                                         batch_size=batch_size, latent_dim=latent_dim,
                                         seed=seed, log=log,
                                         options=(generator_options or {}).get(name))
        out["seconds"][f"{name} training"] = seconds
        extra = conditional_samples(model, pool, seed=seed + 1)
        picks = np.concatenate([np.flatnonzero(extra[1] == c)[:8] for c in range(num_classes)])
        out["samples"][name] = (extra[0][picks], extra[1][picks])
        run(name, extra)
        run(f"{name}+shifts", extra, shifts=True)
        if cas:
            out["cas"][name] = classification_accuracy_score(
                *extra, x_test, y_test, steps=classifier_steps, batch_size=batch_size,
                num_classes=num_classes, seed=seed)
            log(f"  {fraction:g} seed {seed} {name} CAS: {out['cas'][name]:.4f}")
    return out


def summarize(runs):
    """Mean and standard deviation over seeds, per fraction: rows for a table.

    Returns:
        A list of dicts: `fraction`, `labels`, `seeds`, and for every variant (and
        `<generator> CAS`) its mean and `<name>_std`.
    """
    rows = []
    for fraction in sorted({r["fraction"] for r in runs}):
        mine = [r for r in runs if r["fraction"] == fraction]
        row = {"fraction": fraction, "labels": mine[0]["labels"], "seeds": len(mine)}
        keys = list(mine[0]["accuracy"]) + [f"{g} CAS" for g in mine[0]["cas"]]
        for key in keys:
            values = [r["cas"][key[:-4]] if key.endswith(" CAS") else r["accuracy"][key]
                      for r in mine]
            row[key] = float(np.mean(values))
            row[f"{key}_std"] = float(np.std(values))
        rows.append(row)
    return rows


def format_summary(rows):
    """The summary as a Markdown table of `mean ± std` cells (accuracies in %)."""
    if not rows:
        return ""
    keys = [k for k in rows[0] if k not in ("fraction", "labels", "seeds")
            and not k.endswith("_std")]
    lines = ["| labelled | labels | " + " | ".join(keys) + " |",
             "|---|---|" + "---|" * len(keys)]
    for row in rows:
        cells = [f"{100 * row[k]:.2f} ± {100 * row[k + '_std']:.2f}" for k in keys]
        lines.append(f"| {100 * row['fraction']:g}% | {row['labels']} | " + " | ".join(cells)
                     + " |")
    return "\n".join(lines)


def pool_size(labelled, pool=None):
    """The generated images drawn per generator for a labelled subset of `labelled`
    images: `pool`, or 10 per labelled image and at least 5,000."""
    return check_int("pool", pool) if pool is not None else max(5000, 10 * labelled)


def run_augmentation(x_train, y_train, x_test, y_test, out, *, fractions=(0.01, 0.1),
                     seeds=(0, 1, 2), dataset="", log=print, **options):
    """The augmentation table over labelled fractions and seeds; writes `out/`:
    `augmentation.md` (the table), `results.json` (every run) and, per generator and
    fraction, `samples_<generator>_<fraction>.png` (first seed; a row per class).

    Args:
        x_train, y_train, x_test, y_test: images in [0, 1] and int labels.
        out: the output folder.
        fractions: labelled shares of the training images, each in (0, 1].
        seeds: one run per seed; the table gives mean ± std.
        dataset: the data's name, for the report.
        log: where progress lines go.
        **options: see `augmentation_runs`.

    Returns:
        `(summary rows, runs)`.
    """
    import os

    from keras_aegan import files
    from keras_aegan.evaluation.pictures import save_grid

    fractions = [subsets.check_fraction(f) for f in fractions]
    seeds = [check_int("seed", s, 0) for s in seeds]
    os.makedirs(out, exist_ok=True)
    runs = []
    start = time.perf_counter()
    for fraction in fractions:
        for seed in seeds:
            run = augmentation_runs(x_train, y_train, x_test, y_test, fraction=fraction,
                                    seed=seed, log=log, **options)
            if seed == seeds[0]:
                for name, (images, labels) in run.pop("samples").items():
                    rows = [images[labels == c] for c in np.unique(labels)]
                    save_grid(os.path.join(out, f"samples_{name}_{fraction:g}.png"), rows)
            run.pop("samples", None)
            runs.append(run)
            files.write_json(os.path.join(out, "results.json"), {"runs": runs})
    rows = summarize(runs)
    settings = {k: v for k, v in options.items() if k not in ("log",)}
    text = "\n".join([
        f"# Augmentation with generated images{f' ({dataset})' if dataset else ''}",
        "",
        f"Test accuracy (%) of the same small CNN trained on the labelled subset, mean ± std "
        f"over seeds {', '.join(map(str, seeds))}; {len(x_test)} real test images. Variants: "
        "`real` (subset only), `shifts` (random shifts <= 10% and rotations <= 10 degrees), "
        "`<generator>` (each batch "
        f"{100 * options.get('share', 0.5):g}% generated images labelled with the class they "
        "were drawn for), `<generator>+shifts` (both). `<generator> CAS`: the classifier "
        "trained on that generator's samples only (Classification Accuracy Score). The "
        "generators are trained on the labelled subset only.",
        "",
        format_summary(rows),
        "",
        f"Settings: {settings}. Total time {time.perf_counter() - start:.0f} s.",
        ""])
    files.write_text(os.path.join(out, "augmentation.md"), text)
    files.write_json(os.path.join(out, "results.json"), {"summary": rows, "runs": runs})
    return rows, runs
