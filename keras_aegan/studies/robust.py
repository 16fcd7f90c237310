"""The robustness study: a classifier before and after adversarial training, under the same
attacks (`study --task robust`, and `train.py robust`).

Rows (all made by the kind, not by the runner's budget):

- `baseline`: the small CNN of Wong et al.'s MNIST experiments trained plainly (an
  `AdversarialClassifier` with `attack="none"`), the "before";
- `robust`: the same network trained adversarially, the attack crafted in each
  `train_step` (PGD-10 by default, Madry et al. 2018; FGSM from a random start, Wong et
  al. 2020, with `attack=fgsm`), the budget warmed up over the first epochs;
- `evaluator` (optional): the dataset's evaluator, attacked as it is.

Both trained rows are `model.keras` files the runner saves, reuses and (in a study)
exports. Every row is scored clean, under FGSM and under PGD (`eval_steps` steps of
`eval_step_size` from a random start, `restarts` starts) at each of `eval_epsilons`: a
column per attack and epsilon, accuracies with their binomial standard errors. A reused
model is rescored when the evaluation settings change.
"""

import dataclasses
import math
from types import SimpleNamespace

from keras_aegan.errors import UserError
from keras_aegan.studies import kinds, report
from keras_aegan.studies.augment import numbers

PGD_TRAIN_STEPS = 10


class RobustStudy(kinds.StudyKind):
    name = "robust"
    description = ("FGSM/PGD accuracy of a small CNN before and after adversarial training "
                   "(and of the dataset's evaluator)")
    models = ("evaluator", "baseline", "robust")
    baselines = models
    options = {"epsilon": 0.3, "attack": "pgd", "train_steps": None, "epochs": 12,
               "warmup_epochs": 2, "learning_rate": 5e-3, "cap_seconds": None,
               "eval_epsilons": (0.1, 0.2, 0.3), "eval_steps": 40, "eval_step_size": 0.01,
               "restarts": 1, "test_images": None}
    columns = {
        "clean": kinds.Column("clean", "high", "{:.2%}", "accuracy on the test images."),
        "fgsm": kinds.Column("FGSM ε", "high", "{:.2%}", "accuracy under FGSM at ε."),
        "pgd": kinds.Column("PGD ε", "high", "{:.2%}", "accuracy under the evaluation PGD "
                            "at ε (the strongest attack: the deciding column)."),
        "train_seconds": kinds.TRAIN_SECONDS}
    throughput = None
    title = "Adversarial robustness: {study}"

    def study_columns(self, options):
        columns = {"clean": self.columns["clean"]}
        for e in numbers(options["eval_epsilons"], "eval_epsilons"):
            for key in ("fgsm", "pgd"):
                column = self.columns[key]
                columns[f"{key}_{e:g}"] = dataclasses.replace(
                    column, header=column.header.replace("ε", f"{e:g}"),
                    meaning=column.meaning.replace("ε", f"ε = {e:g}"))
        return {**columns, "train_seconds": kinds.TRAIN_SECONDS}

    def prepare(self, config, options, log):
        from keras_aegan.data import subsets
        from keras_aegan.evaluation import attacks

        o = dict(options)
        if o["attack"] not in ("fgsm", "pgd"):
            raise UserError(f"attack must be fgsm or pgd, got {o['attack']!r}")
        if o["attack"] == "fgsm" and o["train_steps"] not in (None, 1):
            raise UserError("train_steps is for attack pgd (FGSM takes one step)")
        o["train_steps"] = 1 if o["attack"] == "fgsm" else o["train_steps"] or PGD_TRAIN_STEPS
        o["eval_epsilons"] = [attacks.check_epsilon(e)
                              for e in numbers(o["eval_epsilons"], "eval_epsilons")]
        attacks.check_epsilon(o["epsilon"])
        source = config.open_data()
        x, y, x_test, y_test = subsets.labelled_arrays(source, "a classifier needs them",
                                                       o["test_images"])
        batch_size = config.batch_size or 100
        log(f"{source.info.name}: {len(x)} training images, {len(x_test)} test images; "
            f"training attack {o['attack']} at epsilon {o['epsilon']:g}, {o['epochs']} epochs "
            f"of {math.ceil(len(x) / batch_size)} steps -> {config.path}")
        return SimpleNamespace(info=source.info, source=source, x=x, y=y, x_test=x_test,
                               y_test=y_test, options=o, batch_size=batch_size, log=log)

    def baseline(self, config, data, name, seed):
        from keras_aegan.evaluation import attacks
        from keras_aegan.training import adversarial_training

        if name == "evaluator":
            network = attacks.evaluator_classifier(data.source)
            return {"status": "computed", "family": "evaluator"}, network, None
        o = data.options
        attack = "none" if name == "baseline" else o["attack"]
        steps = math.ceil(len(data.x) / data.batch_size)
        data.log(f"training {name} ({attack} at epsilon {o['epsilon']:g}, {o['epochs']} "
                 f"epochs of {steps} steps)...")
        model, _, seconds = adversarial_training.train_adversarial_classifier(
            data.x, data.y, attack=attack, epsilon=o["epsilon"], epochs=o["epochs"],
            batch_size=data.batch_size, learning_rate=o["learning_rate"],
            budget_seconds=o["cap_seconds"], seed=seed, steps=o["train_steps"],
            epsilon_warmup=o["warmup_epochs"] * steps, log=data.log)
        row = {"status": "trained", "family": "classifier", "train_seconds": seconds,
               "steps": int(model.optimizer.iterations), "training_attack": attack,
               "parameters": model.count_params()}
        return row, model.network, model

    def answer(self, config, data, name, model, seed):
        return model.network

    def scoring(self, config, data):
        o = data.options
        return {key: o[key] for key in ("eval_epsilons", "eval_steps", "eval_step_size",
                                        "restarts")} | {"test_images": len(data.y_test)}

    def score(self, config, data, answer, seed):
        from keras_aegan.evaluation import attacks, metrics

        o = data.options
        rows = attacks.robustness_rows(answer, data.x_test, data.y_test, o["eval_epsilons"],
                                       pgd_steps=o["eval_steps"],
                                       pgd_step_size=o["eval_step_size"],
                                       restarts=o["restarts"], seed=seed, log=data.log)
        out = {"clean": rows[0]["clean"]} if rows else {}
        for r in rows:
            out[f"fgsm_{r['epsilon']:g}"], out[f"pgd_{r['epsilon']:g}"] = r["fgsm"], r["pgd"]
        for key in list(out):
            out[f"{key}_se"] = metrics.accuracy_standard_error(out[key], len(data.y_test))
        return out

    def progress(self, row):
        return ", ".join(f"{key} {row[key]:.2%}" for key in row
                         if key.split("_")[0] in ("clean", "fgsm", "pgd")
                         and not key.endswith("_se"))

    def export_inputs(self, data, model):
        return {"images": data.x_test[:8]}

    def results(self, config, data):
        o = data.options
        # At least as many steps, and able to cross the whole budget, from a random start.
        stronger = (o["eval_steps"] >= o["train_steps"]
                    and o["eval_steps"] * o["eval_step_size"] >= o["epsilon"])
        return {"dataset": data.info.name, "test_images": len(data.y_test),
                "epsilon": o["epsilon"], "training_attack": o["attack"],
                "training_steps": o["train_steps"], "epochs": o["epochs"],
                "evaluation_attack": f"PGD-{o['eval_steps']}, step {o['eval_step_size']:g}, "
                                     f"{o['restarts']} random start(s)",
                "evaluation_at_least_as_strong": stronger}

    def pictures(self, config, data, answers, results):
        """`adversarial.png`: test images over their PGD versions (at the training
        epsilon) against each model."""
        import os

        from keras_aegan.evaluation import attacks
        from keras_aegan.evaluation.pictures import save_grid

        o, show, labels = data.options, data.x_test[:10], data.y_test[:10]
        names = [name for name in answers if name != "evaluator"]
        rows = [show] + [attacks.pgd(answers[name], show, labels, o["epsilon"],
                                     steps=o["eval_steps"], step_size=o["eval_step_size"],
                                     seed=0) for name in names]
        save_grid(os.path.join(config.path, "adversarial.png"), rows,
                  labels=["test images", *names])
        return {"adversarial": "adversarial.png", "rows": ["test images", *names]}

    def report(self, config, results, tables):
        r = results
        strength = ("at least as strong as the training attack: as many steps or more, and "
                    "able to cross the whole budget" if r["evaluation_at_least_as_strong"]
                    else "WEAKER than the training attack: fewer steps, or too small to cross "
                    "the budget")
        pgd = [k for k in tables.columns if k.startswith("pgd_")]
        lines = [f"Test images: {r['test_images']} of {r['dataset']}. Training attack of the "
                 f"robust model: {r['training_attack']} ({r['training_steps']} step(s)) at "
                 f"epsilon {r['epsilon']:g}, {r['epochs']} epochs. Evaluation: FGSM, and "
                 f"{r['evaluation_attack']} ({strength}).", "", "## Results", "",
                 *tables.table(), "", *tables.legend(), "", report.ARROWS, ""]
        if pgd:
            key = pgd[-1]
            lines.append("Most robust at the largest ε: "
                         + report.verdict(r["summary"], key, tables.columns[key],
                                          families=("classifier", "evaluator")))
        return [*lines, "", "Test images (top) and their PGD versions against each model: "
                f"![adversarial images]({r['pictures']['adversarial']})"]


def build_adversarial_classifier(*args, **kwargs):
    """The study's network (`training.adversarial_training.build_adversarial_classifier`),
    imported when called: this module is read without TensorFlow."""
    from keras_aegan.training import adversarial_training

    return adversarial_training.build_adversarial_classifier(*args, **kwargs)
