"""Studies: models compared on the same data, budget, seeds and yardsticks.

One runner (`run.run_study(StudyConfig(...))`) trains or reuses every model of a study
once per seed, scores it, exports its parts, and writes `runs/<study>/`: `report.md` and
`report.html` (tables, verdicts, pictures), `results.json` / `results.csv` (one row per
model: mean, std and standard error over seeds), and `models/<model>-seed<seed>/` (each
model's run folder and `results.json`, reused on rerun).

What a study compares is a *study kind* (`kinds.StudyKind`), registered by name below:
the image study (`images`, the default), the faces study (`faces`: do autoencoders'
faces look alien and GANs' real?), the audio study (`audio`: spoken digits the GAN way
and the autoencoder way, measured and heard), the translation tasks (`translation`), next-frame
prediction (`next_frame`), time-series generation (`timeseries`), new text items
(`text`), and the experiments: augmentation with generated images (`augment`),
adversarial robustness (`robust`), dimensionality reduction (`reduction`) and
pre-training with few labels (`pretraining`). Modules: `kinds` (the kind base and its
registry), `run` (the runner), `report` (tables, verdicts, Markdown and HTML); the kinds'
own: `images` with `image_columns`, `images_pictures`, `subjects` (a model as the metrics
see it) and `timeline` (quality against training time); `faces`; `audio`; `translation`;
`next_frame` and `timeseries` with `sequence_pictures`; `text` with `text_report`;
`augment`, `robust`, `reduction`, `pretraining`.

This package imports no TensorFlow until a study runs (`--help` lists the kinds).
"""

from keras_aegan.studies.kinds import (DEFAULT_KIND, Column, StudyKind, get_study_kind,
                                     kind_for_dataset, register_study_kind,
                                     study_kind_names)
from keras_aegan.studies import (audio, augment, faces, images, next_frame, pretraining,
                                 reduction, robust, text, timeseries, translation)

# The built-in study kinds: a new kind is one module and one line here.
register_study_kind(images.ImageStudy())
register_study_kind(faces.FaceStudy())
register_study_kind(audio.AudioStudy())
for _task in translation.TASKS:
    register_study_kind(translation.TranslationStudy(_task))
register_study_kind(next_frame.NextFrameStudy())
register_study_kind(timeseries.TimeseriesStudy())
register_study_kind(text.TextStudy())
register_study_kind(augment.AugmentStudy())
register_study_kind(robust.RobustStudy())
register_study_kind(reduction.ReductionStudy())
register_study_kind(pretraining.PretrainingStudy())

_LAZY = {"run_study": "keras_aegan.studies.run", "winners": "keras_aegan.studies.report",
         "write_report": "keras_aegan.studies.report", "Subject": "keras_aegan.studies.subjects",
         "StudyConfig": "keras_aegan.config", "DEFAULT_BUDGET_SECONDS": "keras_aegan.config",
         "DEFAULT_STUDY_MODELS": "keras_aegan.config", "MAX_EPOCHS": "keras_aegan.config",
         "COLUMNS": "keras_aegan.studies.images"}

__all__ = ["Column", "DEFAULT_KIND", "StudyKind", "get_study_kind", "kind_for_dataset",
           "register_study_kind", "study_kind_names", *_LAZY]


def __getattr__(name):
    # The runner and the report import TensorFlow: loaded when first used.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
