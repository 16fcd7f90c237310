"""The comparative study: autoencoders and GANs on the same data, budget and yardsticks.

`run_study(StudyConfig(...))` trains every model of the study through the runner (same
dataset, splits, seed and budget), evaluates all of them with the same metrics, exports
their parts, and writes `runs/<study>/`:

- `report.md` and `report.html`: the table, picture grids, curves and a summary.
- `results.json` / `results.csv`: one row per model (mean and std over seeds).
- `models/<model>-seed<seed>/`: each model's run folder and its `results.json`.

Every model is judged by the same functions, through what it declares about itself
(`keras_aegan.protocol`):

- sample quality: FID, KID, precision/recall, density/coverage, class coverage and
  memorisation on the study's evaluator features, samples vs real test images. Models
  without a sampler of their own (plain autoencoders, PCA) decode draws from a Gaussian
  fitted to their training codes.
- reconstruction: MSE/PSNR/SSIM of test images; GANs reconstruct by searching their noise.
- representation: linear-probe and k-NN accuracy on each model's declared features (the
  code of an autoencoder or PCA, the discriminator's last hidden layer of a GAN).
- cost: training seconds, parameters, training images per second.

Modules: `run` (the config and the orchestration), `subjects` (a model as the metrics see
it, and the baselines), `report` (Markdown, HTML, pictures, curves).
"""

from keras_aegan.config import (DEFAULT_BUDGET_SECONDS, DEFAULT_STUDY_MODELS, MAX_EPOCHS,
                                StudyConfig)
from keras_aegan.study.report import COLUMNS, winners, write_report
from keras_aegan.study.run import run_study
from keras_aegan.study.subjects import Subject

__all__ = ["COLUMNS", "DEFAULT_BUDGET_SECONDS", "DEFAULT_STUDY_MODELS", "MAX_EPOCHS",
           "StudyConfig", "Subject", "run_study", "winners", "write_report"]
