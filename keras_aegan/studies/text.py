"""The `text` study: new text items (names, words, a user's lines) made the autoencoder way,
the GAN way and the classical way, measured against the items each model never saw.

Data: any text source (`surnames`, `first_names`, `words`, `text:FILE`); its split keeps
every item on one side, so a sample equal to a test item is a real item the model never
saw. Models: `char_vae` (autoencoder), `char_gan` (GAN) and character n-gram models
(`trigram`, `fourgram`: this kind's baselines, `BASELINES`, fitted on the training items
in a second; `models.ngram.CharNGram`).

Each model draws `samples` items at each temperature of `temperatures` (the models that
declare one; 1.0, as trained, gives the table's row) and is measured on them
(`evaluation.text_metrics`): novelty, held-out hits, diversity, character n-gram and
length distances to the test items, and at 1.0 the two-sample test
(`evaluation.text_classifier`). Because a colder temperature trades novelty and diversity
for plausibility, the headline is the held-out hit rate along each model's temperature
curve where its novelty is at least `novelty` (0.5): `curve.png` draws the curves.

Options: `samples` (2,000 a temperature), `temperatures` (0.3 to 1.2), `novelty` (0.5),
`two_sample_steps` (400), `shown` (30 samples of each model in the report). Any other
option goes to the models' builders (`units`, `word_dropout`, ...).
"""

import dataclasses
import time

import numpy as np

from keras_aegan.errors import UserError
from keras_aegan.studies import kinds

# This kind's classical baselines: name -> `CharNGram` arguments (a table, not a branch:
# another order or smoothing is one more line).
BASELINES = {
    "trigram": {"order": 3},
    "fourgram": {"order": 4},
}
# The temperature whose samples make a model's row (as it was trained).
AS_TRAINED = 1.0
SHOWN_MARKS = ("**held-out hit** (a real item of the test split)",
               "*copy* (an item of the training split)", "plain: new")


@dataclasses.dataclass
class TextData:
    info: object
    train: list
    test: list
    validation: list
    options: dict
    scoring: dict


def _se(p, n):
    return float(np.sqrt(max(p * (1 - p), 0.0) / n))


def _curve(novelties, hits):
    """A temperature curve's points `(novelty, hits)` in temperature order."""
    return list(zip(novelties, hits))


def hits_at_novelty(novelties, hits, bar):
    """The best held-out hit rate along a temperature curve (its points, in temperature
    order, joined by straight lines) where the novelty is at least `bar`; `(hits, the
    novelty there)`, or `(None, None)` when no point of the curve is that novel.

    Example:
        >>> hits_at_novelty([0.3, 0.7], [0.10, 0.06], 0.5)   # halfway along
        (0.08, 0.5)
    """
    points = _curve(novelties, hits)
    best = max(((h, n) for n, h in points if n >= bar), default=None)
    for (n0, h0), (n1, h1) in zip(points, points[1:]):
        if min(n0, n1) < bar <= max(n0, n1):
            at = h0 + (bar - n0) / (n1 - n0) * (h1 - h0)
            if best is None or at > best[0]:
                best = (at, bar)
    return best or (None, None)


def hits_at(novelties, hits, novelty):
    """The held-out hit rate of a temperature curve at a given novelty (its points joined
    by straight lines); outside the novelties the curve spans, its nearest end. Returns
    `(hits, the novelty read)`.

    Example:
        >>> hits_at([0.3, 0.7, 0.9], [0.10, 0.06, 0.02], 0.8)
        (0.04, 0.8)
    """
    points = sorted(_curve(novelties, hits))
    if novelty <= points[0][0]:
        return points[0][1], points[0][0]
    if novelty >= points[-1][0]:
        return points[-1][1], points[-1][0]
    for (n0, h0), (n1, h1) in zip(points, points[1:]):
        if n0 <= novelty <= n1:
            share = 0.0 if n1 == n0 else (novelty - n0) / (n1 - n0)
            return h0 + share * (h1 - h0), novelty
    raise AssertionError("unreachable: the novelty lies between two points")


class TextStudy(kinds.StudyKind):
    name = "text"
    description = ("new text items (--dataset surnames, first_names, words or text:FILE): "
                   "char_vae and char_gan vs character n-gram models on held-out hits "
                   "against novelty, over a temperature sweep")
    models = ("char_vae", "char_gan", "trigram", "fourgram")
    baselines = tuple(BASELINES)
    # A text source says which study it is for: `train.py study --dataset surnames`.
    datasets = ("surnames", "first_names", "words", "text")
    # The default work: optimizer steps a model (about 10 minutes a model on 2 busy cores).
    steps = 3000
    options = {"samples": 2000, "temperatures": [0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 1.0, 1.2],
               "novelty": 0.5, "two_sample_steps": 400, "shown": 30}
    columns = {
        "hits_at_novelty": kinds.accuracy_column(
            "hits @ novelty ≥ 0.5", "held-out hits at the best point of the model's "
            "temperature curve whose novelty is at least 0.5 (the curve's points joined "
            "by straight lines; the bar is the `novelty` option): how much real language "
            "the model says while still making mostly new items."),
        "novelty_there": kinds.Column(
            "at novelty", None, "{:.1%}", "the novelty of that point: compare a model's "
            "hits with another's at the same novelty on the curves (Findings)."),
        "held_out_hits": kinds.accuracy_column(
            "held-out hits", "share of the samples (at temperature 1, as trained) that "
            "are real items of the test split, which the model never saw: the best single "
            "sign that it learned the language of the items rather than the list (a "
            "copier scores 0, and so does plausible-looking noise)."),
        "novelty": kinds.Column(
            "novelty", None, "{:.1%}", "share of the samples that are not training items "
            "(1: never copies; 0: only copies). Random strings are novel too: read it "
            "beside the hits."),
        "diversity": kinds.accuracy_column(
            "diversity", "share of distinct samples (1: no sample repeats; low: the model "
            "says the same few items, a collapse)."),
        "bigram_distance": kinds.Column(
            "2-gram JS", "low", "{:.3f}", "Jensen-Shannon divergence (bits) between the "
            "character-pair frequencies of the samples and of the test items, the "
            "beginnings and ends of items included (0: the same; 1: nothing shared)."),
        "trigram_distance": kinds.Column(
            "3-gram JS", "low", "{:.3f}", "the same for character triples."),
        "length_distance": kinds.Column(
            "length EMD", "low", "{:.2f}", "earth mover's distance between the length "
            "distributions of the samples and of the test items, in characters."),
        "two_sample": kinds.Column(
            "two-sample acc.", "low", "{:.1%}", "held-out accuracy of a small character "
            "classifier trained to tell the samples from test items (half of each trains "
            "it, the other half tests it): 50 % when it cannot tell them apart."),
        "train_seconds": kinds.TRAIN_SECONDS,
        "steps": kinds.STEPS,
        "parameters": kinds.PARAMETERS,
    }
    throughput = None
    series = ("curve_temperatures", "curve_novelty", "curve_hits")
    title = "Task study {study}: new text items, the autoencoder way, the GAN way and n-grams"

    # ------------------------------------------------------------------------ data

    def prepare(self, config, options, log):
        source = config.open_data()
        info = source.info
        if info.vocabulary is None:
            raise UserError(f"the text study needs a text source (--dataset surnames, "
                            f"first_names, words or text:FILE); {info.name} holds examples "
                            f"of shape {info.image_shape}")
        temperatures = sorted({float(t) for t in options["temperatures"]} | {AS_TRAINED})
        if min(temperatures) <= 0:
            raise UserError(f"temperatures must be positive, got {options['temperatures']}")
        scoring = {"samples": int(options["samples"]), "temperatures": temperatures,
                   "novelty": float(options["novelty"]),
                   "two_sample_steps": int(options["two_sample_steps"])}
        if scoring["samples"] < 10:
            raise UserError("samples: at least 10 a temperature")
        data = TextData(info, source.items("train"), source.items("test"),
                        source.items("validation"), options, scoring)
        log(f"study {config.study_name}: text on {info.name} ({len(data.train):,} training, "
            f"{len(data.test):,} test items, {len(info.vocabulary)} characters), models "
            f"{', '.join(config.models)}, budget {config.budget_text} per model, "
            f"{scoring['samples']:,} samples at temperatures "
            f"{', '.join(f'{t:g}' for t in temperatures)} -> {config.path}")
        return data

    def check_model(self, config, name):
        from keras_aegan.registry import get_model_entry

        if get_model_entry(name).data != "text":
            raise UserError(f"{name} does not generate text; the text study compares "
                            f"models of text and its baselines ({', '.join(self.models)})")

    # ------------------------------------------------------------------ answers

    def _draw(self, data, sample, temperatures):
        return {t: sample(data.scoring["samples"], t) for t in temperatures}

    def baseline(self, config, data, name, seed):
        from keras_aegan.models.ngram import CharNGram

        tick = time.perf_counter()
        model = CharNGram(**BASELINES[name]).fit(data.train)
        seconds = time.perf_counter() - tick
        answer = self._draw(data, lambda n, t: model.sample(n, seed=seed, temperature=t),
                            data.scoring["temperatures"])
        row = {"status": "fitted", "train_seconds": seconds,
               "parameters": model.num_parameters}
        return row, answer, None

    def answer(self, config, data, name, model, seed):
        from keras_aegan import protocol
        from keras_aegan.models.text import decode

        spec = protocol.describe(model)
        temperatures = data.scoring["temperatures"] if spec.sample_temperature \
            else [AS_TRAINED]
        return self._draw(data, lambda n, t: decode(
            model.sample(n, seed=seed, temperature=t), spec.vocabulary), temperatures)

    def score(self, config, data, answer, seed):
        from keras_aegan.evaluation import text_metrics

        n = data.scoring["samples"]
        sweep = []
        for temperature, samples in sorted(answer.items()):
            measures = text_metrics.text_measures(samples, data.train, data.test)
            sweep.append({"temperature": temperature, **measures})
        row = {key: value for key, value in next(
            p for p in sweep if p["temperature"] == AS_TRAINED).items()
            if key != "temperature"}
        row["held_out_hits_se"] = _se(row["held_out_hits"], n)
        # The curve as lists (averaged over seeds by the runner, `series`).
        row.update(curve_temperatures=[p["temperature"] for p in sweep],
                   curve_novelty=[p["novelty"] for p in sweep],
                   curve_hits=[p["held_out_hits"] for p in sweep])
        hits, novelty = hits_at_novelty(row["curve_novelty"], row["curve_hits"],
                                        data.scoring["novelty"])
        if hits is not None:
            row.update(hits_at_novelty=hits, hits_at_novelty_se=_se(hits, n),
                       novelty_there=novelty)
        row.update(_two_sample(answer[AS_TRAINED], data, seed))
        row["sweep"] = sweep
        return row

    def scoring(self, config, data):
        return data.scoring

    def study_columns(self, options):
        bar = f"{float(options['novelty']):g}"
        column = self.columns["hits_at_novelty"]
        return {**self.columns, "hits_at_novelty": dataclasses.replace(
            column, header=column.header.replace("0.5", bar))}

    def progress(self, row):
        at = row.get("hits_at_novelty")
        return (f"held-out hits {row['held_out_hits']:.1%} at novelty {row['novelty']:.1%}"
                + (f" ({at:.1%} at the novelty bar)" if at is not None else "")
                + f", two-sample accuracy {row['two_sample']:.1%}")

    def references(self, config, data):
        from keras_aegan.evaluation import text_metrics

        # A seeded draw, not the first items: in a sorted list (the word list, many a
        # user's file) those share their first letters, and the floor would not be one.
        order = np.random.default_rng(0).permutation(len(data.validation))
        real = [data.validation[i] for i in order[:data.scoring["samples"]]]
        measures = text_metrics.text_measures(real, data.train, data.test)
        return [{"model": "real (validation items)", "family": "reference", "seeds": 1,
                 **{k: measures[k] for k in ("diversity", "bigram_distance",
                                              "trigram_distance", "length_distance")},
                 **_two_sample(real, data, 0)}]

    def export_inputs(self, data, model):
        from keras_aegan import protocol

        spec = protocol.describe(model)
        return {"examples": {"tokens": _encode(data.validation[:32], spec,
                                               data.info.image_shape[0])}}

    # ------------------------------------------------------------------ report

    def results(self, config, data):
        return {"task": "text", "dataset": data.info.name, "train_items": len(data.train),
                "test_items": len(data.test), "characters": data.info.vocabulary,
                "max_length": data.info.image_shape[0] - 1, **data.scoring}

    def pictures(self, config, data, answers, results):
        from keras_aegan.studies.text_report import curve_picture, shown_samples

        curve_picture(f"{config.path}/curve.png", results["summary"],
                      data.scoring["novelty"])
        return {"samples": shown_samples(answers, data, int(data.options["shown"]))}

    def report(self, config, results, tables):
        from keras_aegan.studies.text_report import report_lines

        return report_lines(config, results, tables)


def _two_sample(samples, data, seed):
    """The two-sample test's figures, or none when a set is too small to split (a list of
    a few dozen items has a handful of test items)."""
    from keras_aegan.evaluation.text_classifier import MIN_ITEMS, two_sample_accuracy

    if min(len(samples), len(data.test)) < MIN_ITEMS:
        return {}
    accuracy, se = two_sample_accuracy(samples, data.test,
                                       steps=data.scoring["two_sample_steps"], seed=seed)
    return {"two_sample": accuracy, "two_sample_se": se}


def _encode(items, spec, length):
    from keras_aegan.data.text import Vocabulary

    return Vocabulary(spec.vocabulary).encode(items, length)
