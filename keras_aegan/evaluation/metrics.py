"""Yardsticks shared by autoencoders and GANs: sample quality, reconstruction, representation.

Every metric, for use on its own; each family lives in its own module
(`sample_metrics`, `reconstruction_metrics`, `representation_metrics`, `two_sample`) and is
re-exported here.

Everything here takes numpy arrays. Sample-quality metrics (FID, KID, precision/recall,
density/coverage) work on *features*; get them from an `Evaluator`, a small classifier
trained once per dataset on its training split and cached on disk (no network, ever), or
from `InceptionFeatures` where InceptionV3 ImageNet weights already lie on disk.

Class-based metrics need labels: on an unlabeled source the evaluator falls back to PCA
features, and its `predict_classes` raises `MetricUnavailableError`, which a caller catches
to note the metric as skipped.
"""

# The evaluator lives in its own module; its names are part of this module's API too.
from keras_aegan.evaluation.evaluator import (  # noqa: F401
    CACHE_ENV, EVALUATOR_VERSION, Evaluator, InceptionFeatures, MetricUnavailableError,
    default_cache_dir, evaluator_dir, find_inception_weights, get_evaluator)
from keras_aegan.evaluation.sample_metrics import (  # noqa: F401
    frechet_distance, fid, kid, precision_recall, density_coverage, class_coverage,
    memorisation, sharpness, sample_quality, fid_standard_error)
from keras_aegan.evaluation.reconstruction_metrics import (  # noqa: F401
    mse, psnr, per_image_psnr, ssim, per_image_ssim, reconstruction_scores,
    latent_optimisation_reconstruction)
from keras_aegan.evaluation.representation_metrics import (  # noqa: F401
    linear_probe_accuracy, knn_accuracy, probe_scores, accuracy_standard_error)
from keras_aegan.evaluation.two_sample import TwoSampleResult, two_sample_test  # noqa: F401
