"""Translation studies (`study --task super_resolution|colorize|inpaint|sketch`): one
translation done by a classical baseline, the autoencoder way (`unet_ae`) and the GAN way
(`pix2pix`) on the same data, split, seed and budget, judged by the same yardsticks.

The test images are degraded once with the task (`keras_aegan.data.tasks`); each model
is trained with the task as its model options (every `--task-option` goes to the models;
the task's own make the task), and every answer is scored against the clean test images:

- distortion: PSNR (per image, mean over images; each image's MSE floored at 1e-6, so an
  exact answer counts 60 dB rather than infinity) and SSIM (`metrics.ssim`);
- realism: FID between the answers and the clean test images on the study's evaluator
  features (a trained classifier's embedding, or PCA for unlabeled data), and, with
  labels, the evaluator's accuracy on the answers (does a restored digit read as the
  right digit?). A `truth` row gives the evaluator's accuracy on the clean images.

Pictures: `grid.png`, one test image per row: input | baselines | models | truth.
"""

import dataclasses

import numpy as np

from keras_aegan.errors import UserError
from keras_aegan.studies import kinds, report

PSNR_CAP_DB = 60.0
GRID_IMAGES = 8
# The tasks: the classical baselines each compares with, and the task's own options with
# their defaults: those of the task classes (`data.tasks`, which import TensorFlow; `--help`
# lists these without it; tests/test_study_kinds.py checks they agree). Every option also
# reaches the models, which make the task from them.
TASKS = {"super_resolution": (("bicubic",), {"seed": 0, "factor": 4}),
         "colorize": (("grey",), {"seed": 0}),
         "inpaint": (("biharmonic", "mean_fill"), {"seed": 0, "mask": "mixed", "box": None,
                                                    "band": None, "eye_row": 0.45}),
         "sketch": ((), {"seed": 0, "threshold": 0.5})}


def psnr(images, answers, cap_db=PSNR_CAP_DB):
    """Mean over images of `10 log10(1 / MSE_i)` in dB, each MSE floored at `10**(-cap/10)`."""
    a = np.asarray(images, "float64").reshape(len(images), -1)
    b = np.asarray(answers, "float64").reshape(len(answers), -1)
    mse = np.maximum(((a - b) ** 2).mean(1), 10.0 ** (-cap_db / 10.0))
    return float(np.mean(-10.0 * np.log10(mse)))


def score(evaluator, truth, labels, answers, truth_features=None):
    """The study's yardsticks for one set of answers (see the module docstring)."""
    from keras_aegan.evaluation import metrics

    answers = np.clip(np.asarray(answers, "float32"), 0.0, 1.0)
    if truth_features is None:
        truth_features = evaluator.features(truth)
    scores = {"psnr": psnr(truth, answers), "ssim": metrics.ssim(truth, answers),
              "fid": metrics.fid(truth_features, evaluator.features(answers))}
    if evaluator.has_classes and labels is not None:
        scores["accuracy"] = float(np.mean(evaluator.predict_classes(answers) == labels))
    return scores


def translate(model, inputs, batch_size=256):
    """A trained model's answers to a task's inputs (numpy), through its declared
    `translator` part."""
    from keras_aegan import protocol

    part = protocol.describe(model).part("translator")
    count = len(inputs[0])
    return np.concatenate([np.asarray(part.fn(*[x[i:i + batch_size] for x in inputs]),
                                      "float32") for i in range(0, count, batch_size)])


def model_options(config):
    """The builder options of a task study's models: the task and its options (`seed`
    becomes `task_seed`)."""
    options = {("task_seed" if k == "seed" else k): v for k, v in config.task_options.items()}
    return {"task": config.task, **options}


@dataclasses.dataclass
class TaskData:
    info: object
    task: object
    truth: object
    labels: object
    inputs: list
    evaluator: object
    truth_features: object


class TranslationStudy(kinds.StudyKind):
    """The study of one translation task (one instance per task in `TASKS`)."""

    description = "image-to-image translation, classical baseline vs unet_ae vs pix2pix"
    # The default work, optimizer steps a model (about a minute each on 2 cores).
    steps = 300
    columns = {
        "psnr": kinds.Column("PSNR dB", "high", "{:.2f}", "per image against the clean "
                             f"image (MSE floored at 1e-6: an exact image counts "
                             f"{PSNR_CAP_DB:g} dB), averaged."),
        "ssim": kinds.Column("SSIM", "high", "{:.3f}", "structural similarity with the "
                             "clean image (1: identical)."),
        "fid": kinds.Column("FID", "low", "{:.2f}", "Fréchet distance between the answers "
                            "and the clean test images on the evaluator's features."),
        "accuracy": kinds.Column("evaluator accuracy", "high", "{:.4f}", "whether an "
                                 "answer reads as its image's class, to the evaluator."),
        "train_seconds": kinds.TRAIN_SECONDS,
        "images_per_second": kinds.Column("train images/s", None, "{:,.0f}", "training "
                                          "images processed per second.", contest=False),
        "parameters": kinds.PARAMETERS,
    }

    def __init__(self, task):
        self.name = task
        self.baselines, self.options = TASKS[task]
        self.models = (*self.baselines, "unet_ae", "pix2pix")
        self.title = "Task study {study}: " + task

    def split_options(self, config):
        # Every option goes to the models (they make the task from it); the models'
        # builders refuse an option none of them takes.
        return {}, {name: model_options(config) for name in config.models
                    if name not in self.baselines}

    def check_model(self, config, name):
        from keras_aegan.registry import get_model_entry

        entry = get_model_entry(name)
        if entry.consumes != "task_pairs":
            raise UserError(f"{name} does not learn a task (it consumes {entry.consumes}); "
                            f"a {self.name} study compares task models and the task's "
                            f"baselines ({', '.join(self.baselines) or 'none'})")

    def prepare(self, config, options, log):
        from keras_aegan.evaluation import metrics
        from keras_aegan.data import tasks

        source = config.open_data()
        info = source.info
        task = tasks.task_class(self.name, tasks.ImageTask)(info.image_shape, **{
            k: v for k, v in config.task_options.items() if k in self.options})
        truth, labels = source.arrays("test", limit=config.eval_samples)
        if info.split_by_identity:
            # The test people are strangers to the evaluator (it knows the training
            # people): whether an answer "reads as its person" cannot be asked of it.
            labels = None
        inputs = task.make_input_arrays(truth)
        log(f"study {config.study_name}: task {self.name} {_options_text(task.describe())} on "
            f"{info.name} ({'x'.join(map(str, info.image_shape))}), {len(truth)} test images, "
            f"models {', '.join(config.models)}, budget {config.budget_text} per model -> "
            f"{config.path}")
        evaluator = metrics.get_evaluator(source, verbose=0, log=log)
        return TaskData(info, task, truth, labels, inputs, evaluator,
                        evaluator.features(truth))

    def baseline(self, config, data, name, seed):
        answers = data.task.baseline(name, data.inputs)
        return {"status": "computed", "train_seconds": 0.0}, answers, None

    def answer(self, config, data, name, model, seed):
        return translate(model, data.inputs)

    def score(self, config, data, answers, seed):
        return score(data.evaluator, data.truth, data.labels, answers, data.truth_features)

    def scoring(self, config, data):
        return {"task": _options_text(data.task.describe()), "test_images": len(data.truth)}

    def references(self, config, data):
        truth = {"model": "truth", "family": "reference", "fid": 0.0, "psnr": PSNR_CAP_DB,
                 "ssim": 1.0}
        if data.evaluator.has_classes and data.labels is not None:
            truth["accuracy"] = float(np.mean(
                data.evaluator.predict_classes(data.truth) == data.labels))
        return [truth]

    def export_inputs(self, data, model):
        from keras_aegan import export, protocol
        from keras_aegan.data import tasks

        images, spec = data.truth[:export.PARITY_BATCH], protocol.describe(model)
        task = tasks.task_from_description(spec.task, spec.image_shape)
        return {"images": images, "examples": task.examples(images)}

    def results(self, config, data):
        evaluator = data.evaluator
        return {"task": data.task.describe(), "dataset": data.info.name,
                "image_shape": list(data.info.image_shape), "test_images": len(data.truth),
                "convention": data.task.convention(),
                "evaluator": {"path": str(evaluator.path),
                              "test_accuracy": evaluator.test_accuracy,
                              "kind": "classifier" if evaluator.has_classes else "PCA"},
                "grid_columns": ["input", *config.models, "truth"],
                "split_by_identity": bool(data.info.split_by_identity)}

    def pictures(self, config, data, answers, results):
        import os

        from keras_aegan.evaluation.pictures import save_grid

        count = min(GRID_IMAGES, len(data.truth))
        shown = data.task.display([x[:count] for x in data.inputs])
        columns = [shown, *[answers[name][:count] for name in config.models],
                   data.truth[:count]]
        save_grid(os.path.join(config.path, "grid.png"),
                  [np.stack([column[i] for column in columns]) for i in range(count)])
        return {"grid": "grid.png"}

    def report(self, config, results, tables):
        evaluator, seeds = results["evaluator"], len(results["seeds"])
        accuracy = evaluator["test_accuracy"]
        return [
            f"Dataset `{results['dataset']}` ({'x'.join(map(str, results['image_shape']))}), "
            f"{results['test_images']} test images, budget {results['budget']} per model, "
            f"seeds {', '.join(map(str, results['seeds']))}"
            + (" (mean ± std over seeds)" if seeds > 1 else "") + ".",
            f"Task: {_options_text(results['task'])}. Input: {results['convention']}.",
            f"Evaluator ({evaluator['kind']} features): {evaluator['path']}"
            + (f" (test accuracy {accuracy:.4f})" if accuracy is not None else "")
            + (". The data is split by identity: the test images are of people the models "
               "and the evaluator never saw, so no evaluator accuracy is scored."
               if results.get("split_by_identity") else ""),
            "", "## Results", "", *tables.table(), "", *tables.legend(), "",
            "The `truth` row is the clean test images themselves.", "",
            "## Who won what", "", *findings(results["summary"], self.columns), "",
            "## Pictures", "",
            f"One test image per row; columns: {', '.join(results['grid_columns'])}.", "",
            "![grid](grid.png)", "",
            report.exports_line(results["rows"], config.path), "",
            "Per seed: `results.json`; the table as CSV: `results.csv`."]


def _options_text(task):
    return ", ".join(f"{k}={v}" for k, v in task.items() if k != "name") or "defaults"


def findings(summary, columns):
    """Lines saying who won each yardstick and whether the perception-distortion
    expectation held (the pixel loss wins PSNR, the GAN wins realism)."""
    scored = [e for e in summary if e["family"] != "reference"]
    lines = []
    for key in ("psnr", "ssim", "fid", "accuracy"):
        column = columns[key]
        order = report.ranked(scored, key, column)
        if len(order) < 2:
            continue
        winner, others = order[0], [e for e in scored if e in order[1:]]
        lines.append(f"- **{column.header}**: {winner['model']} ({winner['family']}) "
                     f"{column.fmt.format(winner[key])}; " + "; ".join(
                         f"{e['model']} {column.fmt.format(e[key])}" for e in others))
    ae = [e for e in scored if e["family"] == "autoencoder"]
    gan = [e for e in scored if e["family"] == "gan"]
    if ae and gan:
        a, g = ae[0], gan[0]
        verdicts = []
        if "psnr" in a and "psnr" in g:
            verdicts.append(f"the pixel loss {'wins' if a['psnr'] >= g['psnr'] else 'loses'} "
                            f"PSNR ({a['psnr']:.2f} vs {g['psnr']:.2f} dB)")
        if "fid" in a and "fid" in g:
            verdicts.append(f"the GAN {'wins' if g['fid'] <= a['fid'] else 'loses'} FID "
                            f"({g['fid']:.2f} vs {a['fid']:.2f})")
        if "accuracy" in a and "accuracy" in g:
            verdicts.append(f"the GAN's outputs read as the right class "
                            f"{g['accuracy']:.2%} of the time, the pixel loss's "
                            f"{a['accuracy']:.2%}")
        if verdicts:
            lines.append(f"- Perception-distortion (Blau & Michaeli 2018): "
                         f"{'; '.join(verdicts)}.")
    return lines
