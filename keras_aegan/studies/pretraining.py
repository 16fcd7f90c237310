"""The pre-training study: unsupervised pre-training with few labels
(`study --task pretraining`).

Each model (by default `conv_ae`, `denoising_ae`, `vae`, `aae`, `dcgan`) is trained by the
runner on the training images without labels, on the study's budget; its declared features
(`protocol.feature_extractor`: an autoencoder's code, the VAE's mean, the AAE's code, a GAN
discriminator's `features` layer) become the trunk of a classifier: trunk ->
standardisation (fitted on the labelled images' features) -> logits
(`classifiers.build_classifier` with the trunk given; `evaluation.few_labels`). For each labelled set (`per_class`
images of each class, then each stratified fraction) three classifiers of the same
architecture are trained for a fixed number of Adam steps (`fixed_steps.fit_classifier`):

- `scratch`: the trunk's architecture with fresh weights, `head_steps + finetune_steps`
  steps at the full learning rate;
- `frozen`: the pre-trained trunk frozen, the head trained for `head_steps`;
- `finetuned`: then everything unfrozen, `finetune_steps` more at a tenth of the rate;

and `knn`, 1-nearest neighbour on the features, and `gain`, fine-tuned minus scratch. A
column per score and labelled set.
"""

import dataclasses
from types import SimpleNamespace

from keras_aegan.errors import UserError, check_int, check_number
from keras_aegan.studies import kinds, report
from keras_aegan.studies.augment import numbers

PRETRAINERS = ("conv_ae", "denoising_ae", "vae", "aae", "dcgan")
SCORES = {
    "scratch": kinds.accuracy_column("scratch", "test accuracy of the trunk's architecture "
                                     "trained from fresh weights on the labelled set."),
    "frozen": kinds.accuracy_column("frozen", "the pre-trained trunk frozen, its head "
                                    "trained."),
    "finetuned": kinds.accuracy_column("fine-tuned", "then everything trained at a tenth of "
                                       "the rate (the model a user keeps)."),
    "knn": kinds.accuracy_column("1-NN", "1-nearest neighbour on the pre-trained features: "
                                 "what they hold with no training at all."),
    "gain": kinds.accuracy_column("gain", "fine-tuned minus scratch.", fmt="{:+.2%}")}


def set_names(per_class, fractions):
    """The labelled sets' keys and headers: `[(key, header), ...]`."""
    return ([(f"c{per_class}", f"{per_class}/class")] if per_class else []) + \
        [(f"{f:g}", f"{100 * f:g}%") for f in fractions]


class PretrainingStudy(kinds.StudyKind):
    name = "pretraining"
    # The default work, optimizer steps a model (the image study's: a minute or so each
    # on 2 cores).
    steps = 1200
    description = ("unsupervised pre-training with few labels: scratch vs frozen vs "
                   "fine-tuned classifiers on each model's features")
    models = PRETRAINERS
    options = {"per_class": 10, "fractions": (0.01, 0.1), "head_steps": 600,
               "finetune_steps": 400, "learning_rate": 3e-3, "test_images": None}
    columns = {**SCORES, "train_seconds": kinds.TRAIN_SECONDS}
    title = "Unsupervised pre-training with few labels: {study}"

    def study_columns(self, options):
        columns = {}
        for key, header in set_names(options["per_class"],
                                     numbers(options["fractions"], "fractions")):
            for score, column in SCORES.items():
                columns[f"{score}_{key}"] = dataclasses.replace(
                    column, header=f"{column.header} {header}")
        return {**columns, "train_seconds": kinds.TRAIN_SECONDS}

    def check_model(self, config, name):
        from keras_aegan.registry import get_model_entry

        if get_model_entry(name).needs_labels:
            raise UserError(f"{name} needs labels; pre-training uses unlabelled images only")

    def prepare(self, config, options, log):
        from keras_aegan.data import subsets

        o = {**options, "fractions": [subsets.check_fraction(f) for f in
                                      numbers(options["fractions"], "fractions")]}
        check_int("head_steps", o["head_steps"])
        check_int("finetune_steps", o["finetune_steps"], 0)
        check_number("learning_rate", o["learning_rate"], 0, 10, low_open=True)
        source = config.open_data()
        x, y, x_test, y_test = subsets.labelled_arrays(source, "pre-training is scored with "
                                                       "them", o["test_images"])
        log(f"{source.info.name}: {len(x)} training images, {len(x_test)} test images; "
            f"labelled sets {', '.join(h for _, h in set_names(o['per_class'], o['fractions']))}"
            f" -> {config.path}")
        return SimpleNamespace(info=source.info, x=x, y=y, x_test=x_test, y_test=y_test,
                               options=o, log=log)

    def answer(self, config, data, name, model, seed):
        from keras_aegan import protocol

        if protocol.feature_extractor(model) is None:
            raise UserError(f"{name} declares no features to pre-train a classifier with")
        return model

    def scoring(self, config, data):
        return {**data.options, "test_images": len(data.y_test)}

    def score(self, config, data, answer, seed):
        from keras_aegan.evaluation import metrics
        from keras_aegan.evaluation.few_labels import few_label_rows, label_sets

        o = data.options
        sets = label_sets(data.y, per_class=o["per_class"], fractions=o["fractions"],
                          seed=seed)
        keys = [key for key, _ in set_names(o["per_class"], o["fractions"])]
        rows = few_label_rows({answer.name: answer}, data.x, data.y, data.x_test,
                              data.y_test, sets, head_steps=o["head_steps"],
                              finetune_steps=o["finetune_steps"],
                              learning_rate=o["learning_rate"], seed=seed)
        out = {}
        for key, row in zip(keys, rows):
            for score in SCORES:
                out[f"{score}_{key}"] = row[score]
                if score != "gain":
                    out[f"{score}_{key}_se"] = metrics.accuracy_standard_error(
                        row[score], len(data.y_test))
            data.log(f"  {row['labels']} ({row['size']} images): scratch "
                     f"{row['scratch']:.4f}, frozen {row['frozen']:.4f}, fine-tuned "
                     f"{row['finetuned']:.4f}, 1-NN {row['knn']:.4f}")
        return out

    def progress(self, row):
        return ", ".join(f"{key} {row[key]:.2%}" for key in row
                         if key.startswith("finetuned_") and not key.endswith("_se"))

    def results(self, config, data):
        return {"dataset": data.info.name, "test_images": len(data.y_test),
                "settings": {k: v for k, v in data.options.items()}}

    def report(self, config, results, tables):
        o = results["settings"]
        lines = [f"Pre-training on the training images of {results['dataset']} without "
                 f"labels ({config.budget_text} per model, code size {config.latent_dim}). "
                 f"Classifier: features -> standardise -> softmax; frozen: {o['head_steps']} "
                 f"Adam steps on the head; fine-tuned: then {o['finetune_steps']} steps of "
                 "everything at a tenth of the rate; scratch: the same architecture, fresh "
                 f"weights, {o['head_steps'] + o['finetune_steps']} steps. Test accuracy on "
                 f"{results['test_images']} test images.", ""]
        for key, header in set_names(o["per_class"], o["fractions"]):
            keys = [f"{score}_{key}" for score in SCORES]
            lines += [f"## {header} labels", "", *tables.table(keys), ""]
        first = set_names(o["per_class"], o["fractions"])[0][0]
        return [*lines, *tables.legend([f"{score}_{first}" for score in SCORES]), "",
                report.ARROWS, "", report.exports_line(results["rows"], config.path)]
