"""Strengthening a classifier: adversarial training, with the attack crafted in `train_step`.

`AdversarialClassifier` is a `keras.Model` around a classifier network (images in [0, 1]
-> logits). Each training step first crafts adversarial versions of the batch against
the current weights (`keras_aegan.evaluation.attacks`), then takes one optimizer step on them, so the
network learns on the worst inputs within the budget, not on clean ones (Madry et al.
2018: the min-max problem of robust optimisation).

The cheap route is the default: FGSM from a random start (Wong et al. 2020, "Fast is
better than free"): `delta ~ U(-eps, eps)`, one signed-gradient step of `1.25 * eps`,
projection on the epsilon-ball and [0, 1]; one extra forward/backward pass per step
instead of PGD's `steps`. With `attack="pgd"` it is Madry et al.'s PGD training, and with
`attack="none"` plain training of the same network (the "before" of a comparison).

Family: `"classifier"`; one part, the `classifier` (images -> logits), and features =
the network's `features` layer.

- `build_adversarial_classifier`: the small CNN of Wong et al.'s MNIST experiments
  (`classifiers.build_classifier`: conv 16 and 32, 4x4 stride 2, dense 100, or a wider
  one) inside an `AdversarialClassifier`.
- `TriangularSchedule`: the one-cycle learning rate of Wong et al. (up linearly to the
  peak at 40% of training, down linearly to 0).
- `train_classifier`: build, compile and fit on numpy arrays, with a time budget
  (`fixed_steps.fit_steps`).
"""

import math
import time

import keras
import numpy as np
import tensorflow as tf

from keras_aegan.evaluation import attacks, classifiers
from keras_aegan.training import fixed_steps
from keras_aegan.errors import UserError, check_int, check_number
from keras_aegan.models.robust_model import AdversarialClassifier


@keras.saving.register_keras_serializable(package="keras_aegan")
class TriangularSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to `peak` over the first `warmup_fraction` of `total_steps`,
    then linear decay to 0 (Wong et al. 2020's cyclic learning rate, one cycle).

    Args:
        peak: the highest learning rate.
        total_steps: the steps of the whole training.
        warmup_fraction: where the peak is, as a share of `total_steps`.
    """

    def __init__(self, peak, total_steps, warmup_fraction=0.4):
        self.peak = check_number("peak", peak, 0, 10, low_open=True)
        self.total_steps = check_int("total_steps", total_steps)
        self.warmup_fraction = check_number("warmup_fraction", warmup_fraction, 0, 1,
                                            low_open=True, high_open=True)

    def __call__(self, step):
        t = keras.ops.cast(step, "float32") + 1.0
        up = self.warmup_fraction * self.total_steps
        rising = t / up
        falling = (self.total_steps - t) / (self.total_steps - up)
        return self.peak * keras.ops.clip(keras.ops.minimum(rising, falling), 0.0, 1.0)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps,
                "warmup_fraction": self.warmup_fraction}


def fine_tune(network, x, y, extra_x=None, extra_y=None, *, share=0.25, steps=500,
              batch_size=64, learning_rate=1e-4, seed=0):
    """A copy of a classifier network trained `steps` more Adam steps on `(x, y)` mixed
    with `(extra_x, extra_y)` (e.g. the natural failures found for it, labelled with their
    intended class): every batch holds `share` extra examples
    (`fixed_steps.mixed_dataset`).

    Returns:
        The fine-tuned copy (the original is unchanged).
    """
    keras.utils.set_random_seed(seed)
    tuned = keras.models.clone_model(network)
    tuned.set_weights(network.get_weights())
    data = fixed_steps.mixed_dataset(x, y, extra_x, extra_y,
                                     share=share if extra_x is not None else 0.0,
                                     batch_size=batch_size, seed=seed)
    fixed_steps.fit_classifier(tuned, data, steps, learning_rate=learning_rate)
    return tuned


def build_adversarial_classifier(image_shape, latent_dim=None, num_classes=10, width=16,
                                 hidden=100, dropout=0.0, epsilon=0.3, attack="fgsm", steps=1,
                                 step_size=None, random_start=True, clean_weight=0.0,
                                 epsilon_warmup=0, seed=None):
    """An adversarially trained small CNN (the registry's builder signature; `latent_dim`
    is not used: a classifier has no code)."""
    del latent_dim
    if num_classes is None:
        raise UserError("a classifier needs class labels, and the dataset has none")
    return AdversarialClassifier(
        classifiers.build_classifier(image_shape, num_classes, width=width, hidden=hidden,
                                     dropout=dropout),
        epsilon=epsilon, attack=attack, steps=steps, step_size=step_size,
        random_start=random_start, clean_weight=clean_weight, epsilon_warmup=epsilon_warmup,
        seed=seed, name=f"{attack}_trained_classifier")


def train_classifier(x_train, y_train, *, attack="fgsm", epsilon=0.3, epochs=10,
                     batch_size=100, learning_rate=5e-3, budget_seconds=None, seed=0,
                     validation=None, verbose=0, log=None, **options):
    """Build and adversarially train a classifier on numpy arrays.

    The learning rate follows `TriangularSchedule` (peak `learning_rate`) over `epochs`;
    `budget_seconds` stops training early (the schedule is then cut short, so give
    `epochs` that fit the budget).

    Args:
        x_train, y_train: images in [0, 1] and int labels.
        attack, epsilon: the training attack and its budget (see `AdversarialClassifier`).
        epochs, batch_size: the fit.
        learning_rate: the schedule's peak.
        budget_seconds: a wall-clock cap on training (`None`: none).
        seed: seeds the weights, the shuffling and the attack.
        validation: optional `(x, y)` for clean validation accuracy per epoch.
        verbose: Keras verbosity.
        log: a function given a progress line every 30 s or so (`None`: quiet).
        **options: options of `build_adversarial_classifier` (`width`, `steps`,
            `epsilon_warmup`, ...).

    Returns:
        `(model, history, seconds)`.

    Example:
        >>> model, _, seconds = train_classifier(x, y, epsilon=0.3, epochs=10)
    """
    x_train = np.asarray(x_train, "float32")
    y_train = np.asarray(y_train).astype("int32")
    epochs, batch_size = check_int("epochs", epochs), check_int("batch_size", batch_size)
    keras.utils.set_random_seed(seed)
    model = build_adversarial_classifier(x_train.shape[1:], num_classes=int(y_train.max()) + 1,
                                         epsilon=epsilon, attack=attack, seed=seed, **options)
    steps = math.ceil(len(x_train) / batch_size)
    model.compile(learning_rate=TriangularSchedule(learning_rate, epochs * steps))
    data = fixed_steps.batches(x_train, y_train, batch_size=batch_size, seed=seed,
                               whole_epochs=True)
    history, seconds = fixed_steps.fit_steps(
        model, data, steps, epochs=epochs, budget_seconds=budget_seconds, verbose=verbose,
        validation=None if validation is None else
        tf.data.Dataset.from_tensor_slices(validation).batch(512),
        log=log, what=model.name)
    return model, history, seconds


def run_robustness(x_train, y_train, x_test, y_test, out, *, epsilon=0.3, attack="fgsm",
                   epochs=10, warmup_epochs=2, batch_size=100, learning_rate=5e-3,
                   budget_seconds=None, eval_epsilons=(0.1, 0.2, 0.3), eval_steps=40,
                   eval_step_size=0.01, restarts=1, baseline=True, evaluator=None, seed=0,
                   dataset="", log=print, **options):
    """Before and after adversarial training, under the same attacks; writes `out/`:
    `robustness.md` (the tables), `results.json`, `baseline.keras` and `robust.keras`
    (the trained `AdversarialClassifier`s) and `adversarial.png` (test images over their
    PGD versions at `epsilon`, before and after).

    The *before* model is the same network trained the same way without an attack
    (`attack="none"`); with `evaluator` (a Keras classifier, e.g.
    `attacks.evaluator_classifier(source)`) the dataset's evaluator is attacked too. Every
    model is evaluated clean, under FGSM and under PGD (`eval_steps` steps of
    `eval_step_size` from a random start, `restarts` starts) at each of
    `eval_epsilons`: PGD is at least as strong as the training attack (one FGSM step, or
    PGD with fewer or equal steps).

    Returns:
        The results dict (also in `results.json`).
    """
    import os

    from keras_aegan import files
    from keras_aegan.evaluation.pictures import save_grid

    eval_epsilons = [attacks.check_epsilon(e) for e in eval_epsilons]
    steps_per_epoch = math.ceil(len(x_train) / batch_size)
    os.makedirs(out, exist_ok=True)
    pgd_text = attacks.describe_pgd(eval_steps, eval_step_size, restarts)
    train_steps = options.get("steps", 1) if attack == "pgd" else 1
    # At least as many steps, and able to cross the whole budget, from a random start.
    stronger = eval_steps >= train_steps and eval_steps * eval_step_size >= epsilon
    results = {"dataset": dataset, "epsilon": epsilon, "training_attack": attack,
               "training_steps": train_steps, "evaluation_attack": pgd_text,
               "evaluation_at_least_as_strong": stronger, "epochs": epochs,
               "test_images": len(x_test), "models": {}}

    def evaluate(name, network, seconds=None):
        start = time.perf_counter()
        rows = attacks.robustness_rows(network, x_test, y_test, eval_epsilons,
                                       pgd_steps=eval_steps, pgd_step_size=eval_step_size,
                                       restarts=restarts, seed=seed)
        results["models"][name] = {"rows": rows, "train_seconds": seconds,
                                   "eval_seconds": time.perf_counter() - start}
        log(f"{name}: clean {rows[0]['clean']:.4f}; " + "; ".join(
            f"eps {r['epsilon']:g}: FGSM {r['fgsm']:.4f}, PGD {r['pgd']:.4f}" for r in rows))
        files.write_json(os.path.join(out, "results.json"), results)

    if evaluator is not None:
        evaluate("evaluator", evaluator)
    trained = {}
    runs = [("baseline", "none")] if baseline else []
    runs.append(("robust", attack))
    for name, training_attack in runs:
        log(f"training {name} ({training_attack} at epsilon {epsilon:g}, {epochs} epochs of "
            f"{steps_per_epoch} steps)...")
        model, _, seconds = train_classifier(
            x_train, y_train, attack=training_attack, epsilon=epsilon, epochs=epochs,
            batch_size=batch_size, learning_rate=learning_rate, budget_seconds=budget_seconds,
            seed=seed, epsilon_warmup=warmup_epochs * steps_per_epoch, log=log, **options)
        trained[name] = model
        model.save(os.path.join(out, f"{name}.keras"))
        evaluate(name, model.network, seconds)
    show = x_test[:10]
    rows = [show]
    for model in trained.values():
        rows.append(attacks.pgd(model.network, show, y_test[:10], epsilon, steps=eval_steps,
                                step_size=eval_step_size, seed=seed))
    save_grid(os.path.join(out, "adversarial.png"), rows)
    files.write_json(os.path.join(out, "results.json"), results)
    files.write_text(os.path.join(out, "robustness.md"), robustness_report(results))
    return results


def robustness_report(results):
    """The Markdown report of `run_robustness`'s results."""
    dataset = f" ({results['dataset']})" if results["dataset"] else ""
    lines = [f"# Adversarial robustness{dataset}",
             "",
             f"Test images: {results['test_images']}. Training attack of the robust model: "
             f"{results['training_attack']} at epsilon {results['epsilon']:g} "
             f"({results['epochs']} epochs). Evaluation: FGSM, and "
             f"{results['evaluation_attack']} ("
             + ("at least as strong as the training attack: as many steps or more, and "
                "able to cross the whole budget"
                if results["evaluation_at_least_as_strong"] else
                "WEAKER than the training attack: fewer steps, or too small to cross the "
                "budget") + "). Accuracies in %.",
             "",
             "| model | train s | epsilon | clean | FGSM | PGD |",
             "|---|---|---|---|---|---|"]
    for name, entry in results["models"].items():
        seconds = "—" if entry["train_seconds"] is None else f"{entry['train_seconds']:.0f}"
        for row in entry["rows"]:
            lines.append(f"| {name} | {seconds} | {row['epsilon']:g} | "
                         f"{100 * row['clean']:.2f} | {100 * row['fgsm']:.2f} | "
                         f"{100 * row['pgd']:.2f} |")
    return "\n".join(lines) + "\n"
