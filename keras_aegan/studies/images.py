"""The image study (the default `python train.py`): autoencoders, GANs and PCA on images.

Every model is judged through what it declares about itself (`study.subjects.Subject`):

- sample quality: FID, KID, precision/recall, density/coverage, class coverage, CAS and
  memorisation on the study's evaluator features, samples vs real test images. Models
  without a sampler of their own (plain autoencoders, PCA) decode draws from a Gaussian
  fitted to their training codes. When the study asks (the option `two_sample`, or a kind
  built on this one whose default it is), realism by a classifier two-sample test too
  (`evaluation.two_sample`): seconds a model, which the default MNIST study does not
  spend.
- reconstruction: MSE/PSNR/SSIM of test images; GANs reconstruct by searching their noise.
- representation: linear-probe and k-NN accuracy on each model's declared features.
- cost: training seconds, parameters, training images per second.

Pictures: sample, reconstruction and interpolation grids, code embeddings, training
curves and quality against training time (`images_pictures`).
"""

import dataclasses
import math
import os

from keras_aegan import registry
from keras_aegan.config import DEFAULT_STUDY_MODELS
from keras_aegan.errors import UserError
from keras_aegan.studies import report
from keras_aegan.studies.image_columns import COLUMNS, QUESTIONS
from keras_aegan.studies.kinds import StudyKind

# The CAS classifier trains for 10 passes over the samples, at most this many steps.
CAS_STEPS = 1500
# The memorisation check: this many samples' nearest training images among this many,
# against held-out test images (the last of the test split).
MEMORISATION_SAMPLES = 500
MEMORISATION_TRAIN = 5000


@dataclasses.dataclass
class ImageData:
    """What every model of an image study is evaluated on."""

    source: object
    info: object
    evaluator: object
    train_x: object
    train_y: object
    test_x: object
    test_y: object
    notes: list
    # The evaluator's features of the real images every model is compared with, computed
    # once: the test images samples are scored against, the training images and held-out
    # test images of the memorisation check.
    real_features: object = None
    train_features: object = None
    heldout_features: object = None
    # Whether each model's samples face the two-sample test (the option `two_sample`).
    two_sample: bool = False
    # The representation probes' `((train images, labels), (test images, labels))`, or
    # `None` for unlabeled data: the splits' own, or for a source split by identity the
    # training people's pictures (the test people are strangers to a probe).
    probes: object = None


class ImageStudy(StudyKind):
    name = "images"
    description = ("samples, reconstructions, codes and cost of autoencoders, GANs and "
                   "PCA on images")
    models = DEFAULT_STUDY_MODELS
    baselines = tuple(registry.BASELINES)
    # `two_sample`: score realism by a classifier two-sample test (`--task-option
    # two_sample=true`). Off by default: it costs seconds a model the default study does
    # not budget; a kind built on this one turns it on by its own default.
    options = {"two_sample": False}
    columns = COLUMNS
    title = "Study {study}"
    # The default work: 1,200 optimizer steps a model, the same on every machine. Enough
    # for the DCGAN's samples to be sharp digits that beat the autoencoders' on FID while
    # the autoencoders reconstruct better, and PCA stays the floor (the README's default
    # study, measured at seeds 0 and 1 on 2 cores and on one).
    steps = 1200
    # What a user takes away from the study: the codes, the decoders and generators
    # (`autoencoder`, the two composed, is left to `train.py export`: the export costs
    # less than a quarter of the training so).
    export_parts = ("encoder", "decoder", "generator")

    def check_source(self, info):
        """Refuse (a `UserError`) data this kind cannot study, given its `DataInfo`:
        `prepare` asks first, before an evaluator is trained for it. Any images do here."""

    def prepare(self, config, options, log):
        from keras_aegan.evaluation import metrics

        if not isinstance(options["two_sample"], bool):
            raise UserError(f"two_sample must be true or false, got "
                            f"{options['two_sample']!r}")
        source = config.open_data()
        info = source.info
        self.check_source(info)
        for name in config.models:
            if name not in self.baselines and registry.get_model_entry(name).needs_labels \
                    and not info.labeled:
                raise UserError(f"{name} needs class labels, and {info.name} has none")
        test_x, test_y = source.arrays("test", limit=max(config.eval_samples, config.probe_test))
        train_x, train_y = source.arrays("train", limit=config.train_images)
        log(f"study {config.study_name}: {len(config.models)} models x {len(config.seeds)} "
            f"seed(s) on {info.name} ({'x'.join(map(str, info.image_shape))}), budget "
            f"{config.budget_text} per model -> {config.path}"
            + (" (with the two-sample test)" if options["two_sample"] else ""))
        evaluator = metrics.get_evaluator(source, verbose=0, log=log)
        notes = []
        if evaluator.has_classes:
            log(f"evaluator: {evaluator.path} ({evaluator.describe()})")
        else:
            notes.append("The dataset has no labels: class coverage and the representation "
                         "probes are skipped; sample metrics use PCA features of the images.")
            log("evaluator: PCA features (unlabeled dataset; label-based metrics skipped)")
        probes = None
        if train_y is not None and test_y is not None:
            probes = ((train_x[:config.probe_train], train_y[:config.probe_train]),
                      (test_x[:config.probe_test], test_y[:config.probe_test]))
        if info.split_by_identity:
            held = source.arrays("validation", limit=config.probe_test)
            probes = (probes[0], held) if probes and len(held[0]) else None
            notes.append("The data is split by identity: the person probes are trained on "
                         "the training people's training pictures and tested on their "
                         "validation pictures, which no model trained on (the test people "
                         "are strangers to a probe), and CAS, which needs the test "
                         "people's classes, is skipped.")
        if scores_cas(info, evaluator, test_y):
            from keras_aegan.evaluation import cas

            cas.warm_up(info.image_shape, int(test_y.max()) + 1, seed=config.seeds[0])
        features = evaluator.features
        return ImageData(source, info, evaluator, train_x, train_y, test_x, test_y, notes,
                         real_features=features(test_x[:config.eval_samples]),
                         train_features=features(train_x[:MEMORISATION_TRAIN]),
                         heldout_features=features(test_x[-MEMORISATION_SAMPLES:]),
                         two_sample=options["two_sample"], probes=probes)

    def watch(self, config, data, name, budget):
        from keras_aegan.studies.timeline import QualityTimeline

        return QualityTimeline(name, data, points=config.timeline_points, budget=budget,
                               real_features=data.real_features)

    def baseline(self, config, data, name, seed):
        import time

        from keras_aegan.studies import timeline

        start = time.perf_counter()
        model = registry.fit_baseline(name, data.train_x, config.latent_dim, seed=seed)
        seconds = time.perf_counter() - start
        return ({"status": "trained", "train_seconds": seconds, "steps": 1,
                 "parameters": model.count_params(),
                 "images_per_second": len(data.train_x) / seconds,
                 "timeline": [timeline.measure(name, model, data, seconds)]}, None, model)

    def answer(self, config, data, name, model, seed):
        from keras_aegan.studies.subjects import Subject

        return Subject(name, model, data.train_x)

    def score(self, config, data, subject, seed):
        from keras_aegan.evaluation import metrics

        scores = {}
        samples = subject.sample(config.eval_samples, seed=seed)
        if samples is not None:
            scores = sample_scores(config, data, samples, seed)
            if scores_cas(data.info, data.evaluator, data.test_y):
                scores.update(classification_accuracy_score(subject, data, samples, seed))
        images = data.test_x[:config.reconstruct_images]
        recon = subject.reconstruct(images)
        if recon is not None:
            scores.update({k: v for k, v in metrics.reconstruction_scores(
                               images, recon, standard_errors=True).items()
                           if k.partition("_se")[0] in ("mse", "psnr", "ssim")})
        if data.probes is not None:
            (train_x, train_y), (test_x, test_y) = data.probes
            train_codes = subject.codes(train_x)
            if train_codes is not None:
                test_codes = subject.codes(test_x)
                probes = metrics.probe_scores(train_codes, train_y, test_codes, test_y)
                scores.update(probes)
                scores.update({f"{k}_se": metrics.accuracy_standard_error(v, len(test_codes))
                               for k, v in probes.items()})
        return {"sampler": subject.sampler_note, **{k: float(v) for k, v in scores.items()}}

    def scoring(self, config, data):
        # A study asking for the two-sample test rescores rows made without it (and how it
        # was made travels with them); without it, rows are scored as they always were.
        if not data.two_sample:
            return None
        from keras_aegan.evaluation import two_sample

        return {"two_sample": {"classifier": two_sample.CLASSIFIER,
                               "steps": two_sample.STEPS,
                               "batch_size": two_sample.BATCH_SIZE,
                               "held_out": two_sample.HELD_OUT}}

    def progress(self, row):
        return ", ".join(f"{COLUMNS[k].header} {COLUMNS[k].fmt.format(row[k])}"
                         for k in ("fid", "two_sample", "psnr") if k in row)

    def export_inputs(self, data, model):
        from keras_aegan import export

        images, labels = data.source.arrays("test", limit=export.PARITY_BATCH)
        return {"images": images, "labels": labels}

    def results(self, config, data):
        facts = {"dataset": data.info.name, "notes": data.notes,
                 "evaluator": {"path": os.fspath(data.evaluator.path),
                               "test_accuracy": data.evaluator.test_accuracy,
                               "description": data.evaluator.describe()}}
        if data.two_sample:
            facts["two_sample_floor"] = two_sample_floor(config, data)
        return facts

    def pictures(self, config, data, answers, results):
        from keras_aegan.studies.images_pictures import write_figures

        timelines = {r["model"]: r["timeline"] for r in results["rows"]
                     if r["seed"] == config.seeds[0] and r.get("timeline")}
        return write_figures(config, answers, data.test_x, data.test_y, timelines)

    def report(self, config, results, tables):
        from keras_aegan.studies.images_pictures import picture_lines

        summary, seeds, evaluator = results["summary"], len(results["seeds"]), \
            results["evaluator"]
        lines = [
            f"Dataset `{results['dataset']}`, budget {results['budget']} per model, seeds "
            f"{', '.join(map(str, results['seeds']))}"
            + (" (mean ± std over seeds)" if seeds > 1 else "") + ". " + report.ARROWS,
            "",
            f"Evaluator: `{os.path.basename(evaluator['path'])}`"
            + (f": {evaluator['description']}" if evaluator.get("description") else
               f", test accuracy {evaluator['test_accuracy']:.4f}"
               if evaluator["test_accuracy"] is not None else "") + ".",
            "", *[f"> {note}" for note in results["notes"]], "",
            "## The verdicts", ""]
        for key, question, deciding, _, _ in QUESTIONS:
            answer = report.verdict(summary, deciding, COLUMNS[deciding]) if deciding \
                else _cost_verdict(summary)
            lines.append(f"- **{question}** {answer}")
        pictures = picture_lines(config, results)
        floor = results.get("two_sample_floor")
        for key, question, _, keys, about in QUESTIONS:
            # The floor is shown beside the models, not ranked among them.
            table = tables.table(keys, extra=[floor] if floor and key == "samples" else ())
            if table:
                if floor and key == "samples":
                    about += (f" The row *{floor['model']}* is the two-sample test of "
                              f"{floor['n']:,} random training images against the same "
                              "test images: what a model drawing exactly its training "
                              "data would score, above 0.5 when the test images differ "
                              "from the training ones (other writers, other people).")
                lines += ["", f"## {question}", "", about, "", *table, "",
                          *tables.legend(keys), "", *pictures[key]]
        samplers = sorted({f"{r['model']}: {r['sampler']}" for r in results["rows"]})
        return lines + ["", "## Who won what", "", *report.winners(summary, COLUMNS), "",
                        "## Details", "",
                        "How each model samples: " + "; ".join(samplers) + ".", "",
                        report.exports_line(results["rows"], config.path), "",
                        "Full figures per seed: `results.json`; the tables as CSV: "
                        "`results.csv`."]


def sample_scores(config, data, samples, seed, two_sample=None):
    """The sample measures of one set of images against the real test images: FID and
    KID with their noise, precision/recall, density/coverage, class coverage,
    memorisation and, when `two_sample` (default: the study's option), the two-sample
    test."""
    from keras_aegan.evaluation import metrics

    n, real = len(samples), data.test_x[:config.eval_samples]
    fake = data.evaluator.features(samples)
    scores = metrics.sample_quality(data.evaluator, samples, real,
                                    kid_subset_size=min(1000, n // 2, len(real) // 2),
                                    generated_features=fake, real_features=data.real_features)
    scores.pop("class_metrics", None)
    scores["kid_se"] = scores.pop("kid_std_error")
    scores["fid_se"] = metrics.fid_standard_error(data.real_features, fake, seed=seed)
    memo = metrics.memorisation(fake[:MEMORISATION_SAMPLES], data.train_features,
                                data.heldout_features)
    scores["memorisation_ratio"] = memo["ratio"]
    if data.two_sample if two_sample is None else two_sample:
        test = metrics.two_sample_test(samples, real, seed=seed)
        scores["two_sample"] = test.accuracy
        scores["two_sample_se"] = test.standard_error
    return scores


def two_sample_floor(config, data):
    """The two-sample accuracy of random training images against the real test images
    the models' samples face: the figure of a model that drew exactly its training data
    (a table row of family `reference`). It is 0.5 only when the training and test images
    come from one distribution: 0.54 on `mnist10k`, where 997 of the first 1,000 test
    images come from the first half of MNIST's test release, other writers' cleaner digits
    than the second half's (LeCun et al.)."""
    import numpy as np

    from keras_aegan.evaluation import metrics

    real = data.test_x[:config.eval_samples]
    pick = np.random.default_rng(config.seeds[0]).permutation(len(data.train_x))[:len(real)]
    test = metrics.two_sample_test(data.train_x[np.sort(pick)], real, seed=config.seeds[0])
    return {"model": "real (training images)", "family": "reference", "n": test.n,
            "two_sample": test.accuracy, "two_sample_se": test.standard_error}


def scores_cas(info, evaluator, test_y):
    """Whether the study scores CAS: it needs the test images' classes and an evaluator
    to label unconditional samples, and a split by identity has no test classes a
    classifier of the training people could name."""
    return test_y is not None and evaluator.has_classes and not info.split_by_identity


def classification_accuracy_score(subject, data, samples, seed):
    """The CAS column (Ravuri & Vinyals 2019): the real test accuracy of a classifier
    trained only on the model's samples. A conditional model draws its own class-balanced
    samples (`cas`); an unconditional one's samples are labelled by the evaluator
    (`cas_evaluator_labels`, a separate column: the labels are not the model's)."""
    from keras_aegan.evaluation import metrics
    from keras_aegan.evaluation import cas

    n = len(samples)
    steps = min(CAS_STEPS, math.ceil(10 * n / 64))
    score = cas.cas_for_model(subject.model, data.test_x, data.test_y, samples=samples,
                                  label_by=data.evaluator, n=n, steps=steps, seed=seed)
    (key, value), = score.items()
    return {key: value, f"{key}_se": metrics.accuracy_standard_error(value, len(data.test_x))}


def _cost_verdict(summary):
    trained = [e for e in summary if e["family"] != "baseline" and "images_per_second" in e]
    if not trained:
        return "no trained model."
    fastest = max(trained, key=lambda e: e["images_per_second"])
    smallest = min(trained, key=lambda e: e.get("parameters", math.inf))
    return (f"the fastest to train per image is **{fastest['model']}** "
            f"({fastest['images_per_second']:,.0f} images/s); the smallest is "
            f"{smallest['model']} ({smallest.get('parameters', 0):,.0f} parameters).")
