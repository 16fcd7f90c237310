"""The augmentation study: does training on generated images help a classifier with few
labels? (`study --task augment`, and `train.py augment`.)

For each labelled fraction (a seeded, class-stratified subset of the training pool) the
comparisons' small CNN (`evaluation.cas.train_classifier`) is trained for a fixed number
of steps. A row is one way of feeding it:

- `real`: the labelled subset only (`N%`), and with random shifts (up to 10% of the side)
  and rotations (up to 10 degrees) drawn afresh for every batch (`N% + shifts`);
- `<generator>` (`cgan`, `caae`): trained on **the labelled subset only** (what a user in
  that situation has), then every batch holds `share` of its images of the classes asked
  for, labelled with those classes, the rest real; with shifts too; and its
  Classification Accuracy Score (`CAS N%`: the classifier trained on its samples alone).

Every row is computed by the kind (a classifier trained for the table is not a model a
user keeps), so `computes` is true for all and `keeps_rows` stores them for a rerun.
"""

import dataclasses
import time
from types import SimpleNamespace

from keras_aegan.errors import UserError, check_int, check_number
from keras_aegan.studies import kinds, report

# The generators' noise / code size: the conditional AAE's code must leave the class to
# its label, and a small code does (see `hybrids.ConditionalAdversarialAutoencoder`).
GENERATOR_LATENT = {"cgan": 16, "caae": 8}


def numbers(value, name):
    """A task option holding one number or several (`0.1`, `[0.01, 0.1]`, `"0.01,0.1"`)."""
    parts = value.split(",") if isinstance(value, str) else \
        value if isinstance(value, (list, tuple)) else [value]
    try:
        return tuple(float(p) for p in parts if str(p).strip())
    except ValueError:
        raise UserError(f"{name} must be numbers, got {value!r}") from None


def _pct(fraction):
    return f"{100 * fraction:g}%"


class AugmentStudy(kinds.StudyKind):
    name = "augment"
    description = ("a small classifier on few labels, with and without images of "
                   "conditional generators and shifts; each generator's CAS")
    models = ("real", "cgan", "caae")
    baselines = ("real",)
    options = {"fractions": (0.01, 0.1), "share": 0.5, "classifier_steps": 1500,
               "generator_steps": 2000, "pool": None, "cas": True, "test_images": None}
    columns = {
        "accuracy": kinds.accuracy_column("N%", "test accuracy of the classifier trained "
                                          "on the labelled fraction (and generated images)."),
        "shifts": kinds.accuracy_column("N% + shifts", "the same behind random shifts and "
                                        "rotations."),
        "cas": kinds.accuracy_column("CAS N%", "test accuracy of the classifier trained on "
                                     "the generator's samples only."),
        "train_seconds": kinds.TRAIN_SECONDS}
    throughput = None
    title = "Augmentation with generated images: {study}"
    keeps_rows = True

    def computes(self, name):
        return True

    def study_columns(self, options):
        columns = {}
        for f in numbers(options["fractions"], "fractions"):
            for key, column in list(self.columns.items())[:3]:
                columns[f"{key}_{f:g}"] = dataclasses.replace(
                    column, header=column.header.replace("N%", _pct(f)))
        return {**columns, "train_seconds": kinds.TRAIN_SECONDS}

    def check_model(self, config, name):
        from keras_aegan.registry import get_model_entry

        entry = get_model_entry(name)
        if not entry.needs_labels or entry.consumes != "labeled_images":
            raise UserError(f"{name} is an unconditional {entry.family}: augmentation needs a "
                            "conditional generator that draws a chosen class (cgan, caae); "
                            "an unconditional model's samples can only be labelled by the "
                            "evaluator, which has seen every label")

    def prepare(self, config, options, log):
        from keras_aegan.data import subsets

        fractions = [subsets.check_fraction(f) for f in numbers(options["fractions"],
                                                                  "fractions")]
        check_number("share", options["share"], 0, 1, low_open=True, high_open=True)
        for key in ("classifier_steps", "generator_steps"):
            check_int(key, options[key])
        source = config.open_data()
        arrays = subsets.labelled_arrays(source, "augmentation needs them",
                                         options["test_images"])
        log(f"{source.info.name}: {len(arrays[0])} training images, {len(arrays[2])} test "
            f"images; fractions {', '.join(f'{f:g}' for f in fractions)}, seeds "
            f"{', '.join(map(str, config.seeds))} -> {config.path}")
        return SimpleNamespace(info=source.info, x=arrays[0], y=arrays[1], x_test=arrays[2],
                               y_test=arrays[3], fractions=fractions,
                               options={**options, "fractions": fractions},
                               batch_size=config.batch_size or 64, log=log,
                               model_options=self.split_options(config)[1])

    def baseline(self, config, data, name, seed):
        """Every fraction's classifiers for one row: `real`, or a generator's."""
        import numpy as np

        from keras_aegan.data import subsets
        from keras_aegan.evaluation import cas, classifiers, metrics
        from keras_aegan.training import fixed_steps

        o, row, samples, start = data.options, {"status": "computed"}, {}, time.perf_counter()
        num_classes = int(max(data.y.max(), data.y_test.max())) + 1
        if name != "real":
            row["family"] = "generator"
        for f in data.fractions:
            index = subsets.labeled_subset(data.y, f, seed)
            x, y = data.x[index], data.y[index]
            extra = None
            if name != "real":
                model, _ = fixed_steps.train_registered(
                    name, x, y, latent_dim=GENERATOR_LATENT.get(name, 16),
                    steps=o["generator_steps"], batch_size=data.batch_size, seed=seed,
                    options=data.model_options.get(name), log=data.log)
                pool = check_int("pool", o["pool"]) if o["pool"] else max(5000, 10 * len(x))
                extra = cas.conditional_samples(model, pool, seed=seed + 1)
                picks = np.concatenate([np.flatnonzero(extra[1] == c)[:8]
                                        for c in range(num_classes)])
                samples[f] = (extra[0][picks], extra[1][picks])
            scores = {}
            for key, shifts in (("accuracy", False), ("shifts", True)):
                stream = fixed_steps.mixed_dataset(x, y, *(extra or (None, None)),
                                                   share=o["share"] if extra else 0.0,
                                                   batch_size=data.batch_size, seed=seed)
                clf = cas.train_classifier(stream, x.shape[1:], num_classes,
                                           steps=o["classifier_steps"], shifts=shifts,
                                           seed=seed, log=data.log)
                scores[key] = classifiers.accuracy(clf, data.x_test, data.y_test)
            if extra is not None and o["cas"]:
                scores["cas"] = cas.classification_accuracy_score(
                    *extra, data.x_test, data.y_test, steps=o["classifier_steps"],
                    batch_size=data.batch_size, num_classes=num_classes, seed=seed,
                    log=data.log)
            for key, value in scores.items():
                row[f"{key}_{f:g}"] = value
                row[f"{key}_{f:g}_se"] = metrics.accuracy_standard_error(value,
                                                                         len(data.y_test))
            data.log(f"  {f:g} seed {seed} {name}: " + ", ".join(
                f"{key} {value:.4f}" for key, value in scores.items()))
        row["train_seconds"] = time.perf_counter() - start
        row["labels"] = {f"{f:g}": len(subsets.labeled_subset(data.y, f, seed))
                         for f in data.fractions}
        return row, samples, None

    def scoring(self, config, data):
        # A kept row is reused only when made with the same data and settings.
        return {"dataset": data.info.name, "test_images": len(data.y_test),
                "batch_size": data.batch_size, **data.options}

    def score(self, config, data, answer, seed):
        return {}  # the classifiers scored the row as they were trained

    def progress(self, row):
        return ", ".join(f"{key} {value:.2%}" for key, value in row.items()
                         if key.split("_")[0] in ("accuracy", "shifts", "cas")
                         and not key.endswith("_se") and isinstance(value, float))

    def results(self, config, data):
        return {"dataset": data.info.name, "fractions": data.fractions,
                "test_images": len(data.y_test),
                "settings": {k: v for k, v in data.options.items() if k != "fractions"}}

    def pictures(self, config, data, answers, results):
        import os

        import numpy as np

        from keras_aegan.evaluation.pictures import save_grid

        drawn = []
        for name, samples in answers.items():
            for f, (images, labels) in (samples or {}).items():
                path = f"samples_{name}_{f:g}.png"
                save_grid(os.path.join(config.path, path),
                          [images[labels == c] for c in np.unique(labels)])
                drawn.append((name, f, path))
        return drawn

    def report(self, config, results, tables):
        o = results["settings"]
        lines = [f"Test accuracy of the same small CNN ({o['classifier_steps']} Adam steps) "
                 f"on {results['test_images']} real test images of {results['dataset']}, "
                 f"mean ± std over seeds {', '.join(map(str, results['seeds']))}. A "
                 "generator's row: each batch "
                 f"{100 * o['share']:g}% its images, labelled with the class they were "
                 f"drawn for; the generators ({o['generator_steps']} steps) see the "
                 "labelled subset only.", "", "## Results", "", *tables.table(), "",
                 *tables.legend(), "", report.ARROWS, "",
                 *report.winners(results["summary"], tables.columns,
                                 families=("baseline", "generator"))]
        for name, f, path in results["pictures"]:
            lines += ["", f"Samples of {name} trained on {_pct(f)} of the labels (a row per "
                      f"class): ![{name} {f:g}]({path})"]
        return lines
