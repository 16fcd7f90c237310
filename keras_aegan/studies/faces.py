"""The faces study: do an autoencoder's faces look "alien" and a GAN's real?

The sentence keras_aegan grew from: an autoencoder trained on faces can generate new
ones, but they may look alien; a GAN's look real. This kind puts it to the test on real
faces (`--dataset faces`: the AT&T/ORL database, 40 people, split by person; `lfw_faces`
for a seconds-long run) with the image study's machinery and three additions:

- **realism by a two-sample test** (`evaluation.two_sample`): a fresh classifier trained to
  tell a model's faces from held-out real ones; its held-out accuracy is 0.5 when it cannot
  tell them apart and 1.0 when it spots every sample. It needs no evaluator: it looks at
  the pixels, as a person would.
- **memorisation** matters more with 320 training faces: each sample's distance to its
  nearest training face against that of a real face of an unseen person (about 1: it
  does not copy; well below 1: it does).
- **person probes** on the pictures the models never saw of the *training* people (the
  test people are strangers to a probe): the image study does this for every source split
  by identity.

Its pictures add `people.png`: the way between two people none of the models saw, an
autoencoder's codes of the two and a GAN's latents found by latent search (the search that
scores its reconstructions), beside the image study's sample grids.

The families: `conv_ae`, `vae` and `aae` (the autoencoder way), `dcgan` with differentiable
augmentation (Zhao et al. 2020, made for a few hundred training images: `--task-option
diffaugment=` changes its policy, `none` turns it off), PCA ("eigenfaces") as the floor.
The report opens with the mission's question answered from these measures, whichever way
it comes out.
"""

import dataclasses
import math

from keras_aegan.studies import report
from keras_aegan.studies.image_columns import COLUMNS
from keras_aegan.studies.images import ImageStudy

# The picture between two unseen people: images on each line (its ends included) and
# the latent search's descent steps that find a GAN's two ends.
PEOPLE_PICTURE = "people.png"
INTERPOLATION_STEPS = 8
SEARCH_STEPS = 200
# DiffAugment's policy for the low-data GAN (the paper's for 100-shot faces, less colour:
# the faces are grayscale, and brightness/contrast alone stay in its `color`).
DIFFAUGMENT = "translation,cutout"


class FaceStudy(ImageStudy):
    name = "faces"
    description = ("do autoencoders' faces look alien and GANs' real? (two-sample test, "
                   "FID, memorisation, person probes; --dataset faces)")
    models = ("conv_ae", "vae", "aae", "dcgan", "pca")
    datasets = ("faces", "lfw_faces")
    options = {**ImageStudy.options, "two_sample": True}
    title = "Faces study {study}"
    # 64x64 faces: about four times the pixels of a digit, and a GAN needs its steps.
    steps = 2000

    def run_config(self, config, name, seed, model_options):
        run = super().run_config(config, name, seed, model_options)
        if "diffaugment" in _builder_options(name) and "diffaugment" not in model_options:
            run = dataclasses.replace(run, model_options={**run.model_options,
                                                          "diffaugment": DIFFAUGMENT})
        if run.model_options.get("diffaugment") == "none":
            run = dataclasses.replace(run, model_options={**run.model_options,
                                                          "diffaugment": None})
        return run

    def pictures(self, config, data, answers, results):
        import os

        from keras_aegan.evaluation.pictures import save_grid

        rows = super().pictures(config, data, answers, results)
        people = between_people(answers, data.test_x, data.test_y)
        if people is not None:
            grid, labels = people
            save_grid(os.path.join(config.path, PEOPLE_PICTURE), grid, labels=labels)
            rows["people"] = labels
        return rows

    def report(self, config, results, tables):
        import os

        lines = super().report(config, results, tables)
        at = lines.index("## The verdicts")
        lines = lines[:at] + ["## Do the autoencoders' faces look alien, and the GAN's "
                              "real?", "", *mission_answer(results["summary"]), ""] + lines[at:]
        if os.path.exists(os.path.join(config.path, PEOPLE_PICTURE)) \
                and "![samples](samples.png)" in lines:
            at = lines.index("![samples](samples.png)") + 1
            labels = ", ".join(results["pictures"].get("people", ()))
            lines[at:at] = ["", "Between two people none of the models saw (first and last "
                            "columns: their real faces; between them, each model's way from "
                            "one to the other: an autoencoder's codes of the two, a GAN's "
                            f"latents found by latent search, {SEARCH_STEPS} steps; rows: "
                            f"{labels}):", "", f"![between two people]({PEOPLE_PICTURE})"]
        return lines


def between_people(subjects, images, labels=None, steps=INTERPOLATION_STEPS,
                   search_steps=SEARCH_STEPS):
    """The rows of the picture between two unseen people: per subject that can
    interpolate, `[face a, the line from a to b (steps), face b]`.

    The two faces are the first test image and the first of another person after it (the
    next image when there are no labels).

    Returns:
        `(rows, labels)`: rows of `steps + 2` images each and their models' names, or
        `None` when fewer than two images or no subject can interpolate.
    """
    import numpy as np

    if len(images) < 2:
        return None
    other = 1
    if labels is not None:
        others = np.nonzero(np.asarray(labels) != labels[0])[0]
        other = int(others[0]) if len(others) else 1
    a, b = images[0], images[other]
    rows, names = [], []
    for name, subject in subjects.items():
        line = subject.interpolate(a, b, steps=steps, search_steps=search_steps)
        if line is not None:
            rows.append(np.concatenate([a[None], line, b[None]]))
            names.append(name)
    return (rows, names) if rows else None


def _builder_options(name):
    import inspect

    from keras_aegan import registry

    if name not in registry.model_names():
        return ()
    return inspect.signature(registry.get_model_entry(name).builder).parameters


def _number(value):
    return isinstance(value, (int, float)) and math.isfinite(value)


def mission_answer(summary):
    """The mission's question answered in words from a faces study's summary rows: the
    best of each family on the two-sample test, then FID, sharpness and memorisation."""
    best = {}
    for family in ("autoencoder", "gan", "baseline"):
        members = report.ranked([e for e in summary if e["family"] == family],
                                "two_sample", COLUMNS["two_sample"])
        if members:
            best[family] = members[0]
    if "autoencoder" not in best or "gan" not in best:
        return ["Not answered: the study needs a sampling model of each family with a "
                "two-sample figure."]
    ae, gan = best["autoencoder"], best["gan"]
    column = COLUMNS["two_sample"]
    spotted = (f"a classifier told the best autoencoder's faces ({ae['model']}) from real "
               f"ones at {report.figure(ae, 'two_sample', column)} held-out accuracy, the "
               f"best GAN's ({gan['model']}) at {report.figure(gan, 'two_sample', column)} "
               "(0.5: it cannot tell them apart; 1.0: it spots every one)")
    if report.too_close(ae, gan, "two_sample"):
        verdict = f"**Not by the two-sample test**: {spotted}, within the noise of each other."
    elif gan["two_sample"] < ae["two_sample"]:
        verdict = f"**Yes, by the two-sample test**: {spotted}."
    else:
        verdict = (f"**No, here the autoencoder's faces pass for real more often**: "
                   f"{spotted}.")
    lines = [f"- {verdict}"]
    facts = []
    for key in ("fid", "sharpness", "memorisation_ratio"):
        if all(_number(e.get(key)) for e in (ae, gan)):
            facts.append(f"{COLUMNS[key].header} {ae['model']} "
                         f"{report.figure(ae, key, COLUMNS[key])}, {gan['model']} "
                         f"{report.figure(gan, key, COLUMNS[key])}")
    if facts:
        lines.append("- The same two models on the other measures: " + "; ".join(facts)
                     + ". Sharpness below 1 is blur, the autoencoder's usual \"alien\" look; "
                     "a memorisation ratio well below 1 means copying training faces.")
    copying = [e for e in summary if _number(e.get("memorisation_ratio"))
               and e["memorisation_ratio"] < 0.9]
    if copying:
        lines.append("- **Copying**: " + ", ".join(
            f"{e['model']} (memorisation {e['memorisation_ratio']:.2f})" for e in copying)
            + " sit closer to their training faces than real faces of unseen people do.")
    if "baseline" in best:
        floor = best["baseline"]
        lines.append(f"- The floor, {floor['model']} (eigenfaces): two-sample "
                     f"{report.figure(floor, 'two_sample', column)}.")
    lines.append("- Look at the sample grids below beside these figures.")
    return lines
