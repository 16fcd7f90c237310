"""The `next_frame` study: Moving MNIST next-frame prediction, both families.

Data: `moving_mnist:SPEC` (any other image source `SPEC` is taken as the digits, e.g.
`--dataset idx:../shared/data/mnist`). Models: `copy_last` (the baseline),
`frame_predictor` (pixel loss, plain fit) and `adversarial_predictor` (with a
discriminator). Scores on the fixed test set: MSE per frame and SSIM per future step.
Pictures: `strip.png` (observed | true | each model's prediction), `per_step.png` (the
scores by future step), `<model>.gif` (one sequence, true beside predicted).

Options: `test_sequences` (default 1000); the models' `observed`, `predicted`, `width`, ...
"""

import dataclasses

import numpy as np

from keras_aegan.errors import UserError
from keras_aegan.studies import kinds, report


def video_dataset(spec):
    """`spec` as a Moving MNIST spec: an image source becomes the digits of one."""
    return spec if spec.partition(":")[0] == "moving_mnist" else f"moving_mnist:{spec}"


@dataclasses.dataclass
class VideoData:
    info: object
    task: object
    test: object
    observed: object
    future: object


class NextFrameStudy(kinds.StudyKind):
    name = "next_frame"
    # The default work, optimizer steps a model (about a minute each on 2 cores).
    steps = 600
    description = ("Moving MNIST next-frame prediction, copy-last-frame vs frame_predictor "
                   "vs adversarial_predictor")
    models = ("copy_last", "frame_predictor", "adversarial_predictor")
    baselines = ("copy_last",)
    options = {"test_sequences": 1000}
    columns = {
        "mse_per_frame": kinds.Column(
            "MSE / frame", "low", "{:.1f}", "squared error summed over a frame's pixels (in "
            "[0, 1]), averaged over the predicted frames and the test sequences (Srivastava "
            "et al. 2015's protocol)."),
        "ssim": kinds.Column("SSIM", "high", "{:.3f}", "structural similarity of predicted "
                             "and true frames, averaged over the future steps."),
        "train_seconds": kinds.TRAIN_SECONDS_CPU,
        "steps": kinds.STEPS,
        "sequences_per_second": kinds.Column("sequences/s", None, "{:.1f}", "training "
                                             "sequences processed per second.",
                                             contest=False),
        "parameters": kinds.PARAMETERS,
    }
    throughput = "sequences_per_second"
    series = ("mse_per_step", "ssim_per_step")
    title = "Task study {study}: next-frame prediction"

    def check_model(self, config, name):
        from keras_aegan.registry import get_model_entry

        if get_model_entry(name).consumes != "frame_sequences":
            raise UserError(f"{name} does not predict frames; the next_frame study compares "
                            "copy_last, frame_predictor and adversarial_predictor")

    def run_config(self, config, name, seed, model_options):
        return dataclasses.replace(config.run_config(name, seed),
                                   dataset=video_dataset(config.dataset),
                                   model_options=model_options)

    def prepare(self, config, options, log):
        from keras_aegan.data.tasks import NextFrames

        dataset = video_dataset(config.dataset)
        if dataset != config.dataset:
            log(f"next_frame: Moving MNIST over the digits of {config.dataset} ({dataset})")
        source = dataclasses.replace(config.data_options(), dataset=dataset).open_data()
        test, _ = source.arrays("test", limit=int(options["test_sequences"]))
        # The models' own options say how many frames they observe and predict.
        task = NextFrames(test.shape[1:], observed=config.task_options.get("observed"),
                          predicted=config.task_options.get("predicted"))
        (observed,), future = task.make_pair(test)
        log(f"study {config.study_name}: next_frame on {source.info.name}, {len(test)} test "
            f"sequences ({task.observed} observed -> {task.predicted} predicted), models "
            f"{', '.join(config.models)}, budget {config.budget_text} per model -> "
            f"{config.path}")
        return VideoData(source.info, task, test, np.asarray(observed), np.asarray(future))

    def baseline(self, config, data, name, seed):
        answer = data.task.baseline(name, (data.observed,))
        return {"status": "computed", "train_seconds": 0.0}, answer, None

    def answer(self, config, data, name, model, seed):
        from keras_aegan.evaluation import sequence_metrics

        return sequence_metrics.predict_batched(model.predict_next, data.observed)

    def score(self, config, data, predicted, seed):
        from keras_aegan.evaluation import sequence_metrics

        return sequence_metrics.frame_scores(data.future, predicted)

    def scoring(self, config, data):
        return {"test_sequences": len(data.test), "observed": data.observed.shape[1],
                "predicted": data.future.shape[1]}

    def export_inputs(self, data, model):
        return {"examples": data.task.examples(data.test[:32])}

    def results(self, config, data):
        from keras_aegan.evaluation import sequence_metrics

        return {"task": "next_frame", "dataset": data.info.name,
                "test_sequences": len(data.test), "frame_shape": list(data.info.image_shape[1:]),
                "observed": data.observed.shape[1], "predicted": data.future.shape[1],
                "published": [list(p) for p in sequence_metrics.PUBLISHED_MOVING_MNIST]}

    def pictures(self, config, data, answers, results):
        from keras_aegan.studies.sequence_pictures import video_pictures

        video_pictures(config.path, data.observed[:8], data.future[:8],
                       {name: answer[:8] for name, answer in answers.items()},
                       results["summary"])
        return {"gifs": [f"{name}.gif" for name in answers]}

    def report(self, config, results, tables):
        summary, seeds = results["summary"], len(results["seeds"])
        published = [{"model": name, "family": "published (GPU, hours)",
                      "mse_per_frame": value} for name, value in results["published"]]
        scored = [e for e in summary if "mse_per_frame" in e]
        best = min(scored, key=lambda e: e["mse_per_frame"]) if scored else None
        bar = results["published"][0][1]
        beat = [e["model"] for e in scored if e["mse_per_frame"] < bar]
        comparable = results["frame_shape"][:2] == [64, 64] and results["predicted"] == 10
        return [
            f"Dataset `{results['dataset']}`: {results['test_sequences']} fixed test "
            f"sequences (test digits only), {results['observed']} frames observed, "
            f"{results['predicted']} predicted; budget {results['budget']} of CPU training "
            f"per model, seeds {', '.join(map(str, results['seeds']))}"
            + (" (mean ± std over seeds)" if seeds > 1 else "") + ".",
            "", "## Results", "", *tables.table(extra=published), "", *tables.legend(), "",
            "The published rows were trained for hours on GPUs; ours for the budget above "
            "on a CPU.", "",
            "## Findings", "",
            (f"- Lowest MSE per frame: {best['model']} ({best['family']}) "
             f"{best['mse_per_frame']:.1f}." if best else "- No scores."),
            (f"- Below ConvLSTM's {bar}: " + (", ".join(beat) if beat else "none of the models")
             + "." if comparable else "- Not comparable with the published figures: they "
             f"are for 64x64 frames, these are "
             f"{'x'.join(map(str, results['frame_shape'][:2]))}."),
            "", "## Pictures", "",
            "Three test sequences; for each, rows: observed frames, true future, then each "
            f"model's prediction ({', '.join(e['model'] for e in summary)}):", "",
            "![strip](strip.png)", "", "Scores by future step:", "",
            "![per step](per_step.png)", "",
            "One test sequence as a GIF per model (true left, predicted right): "
            + ", ".join(f"`{e['model']}.gif`" for e in summary) + ".", "",
            report.exports_line(results["rows"], config.path), "",
            "Per seed (with per-step scores): `results.json`; the table as CSV: "
            "`results.csv`."]

