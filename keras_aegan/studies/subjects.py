"""A trained model as the study's metrics see it: codes, reconstructions, samples.

`Subject` reads what a model declares (`keras_aegan.protocol`) and nothing else: how it
samples, how it reconstructs, which layer gives its features, which parts it has. The
baselines (`registry.BASELINES`) are keras_aegan models too.
"""

import keras
import numpy as np

from keras_aegan import protocol
from keras_aegan.evaluation import metrics


def batched(fn, x, batch_size=512):
    """`fn` over `x` in batches, concatenated as numpy."""
    if not len(x):
        return x
    return np.concatenate([keras.ops.convert_to_numpy(fn(x[i:i + batch_size]))
                           for i in range(0, len(x), batch_size)])


class Subject:
    """A uniform view of a trained model for the metrics.

    Args:
        name: the model's name in the study.
        model: a keras_aegan model (it declares itself through `describe()`).
        train_images: training images, to fit the code Gaussian of models that sample
            that way (`protocol.SAMPLES_CODE_GAUSSIAN`).
        code_fit_images: how many training images that Gaussian is fitted on.
    """

    def __init__(self, name, model, train_images, code_fit_images=5000):
        self.name = name
        self.model = model
        self.spec = protocol.describe(model)
        self.family = self.spec.family
        self._features = protocol.feature_extractor(model, self.spec)
        self._code_gaussian = None
        if self.spec.sampler == protocol.SAMPLES_CODE_GAUSSIAN:
            codes = self._run("encoder", train_images[:code_fit_images])
            self._code_gaussian = (codes.mean(0), np.cov(codes, rowvar=False))
        self.sampler_note = {
            protocol.SAMPLES_CODE_GAUSSIAN: "decoded draws from a Gaussian fitted to its "
                                            "training codes",
            protocol.SAMPLES_OWN: "its own sampler",
        }.get(self.spec.sampler, "no sampler")

    def _run(self, part, x):
        fn = self.spec.part(part).fn
        return batched(fn, np.asarray(x, "float32"))

    def codes(self, images):
        """The declared features of `images` (`(N, D)`), or `None` for a model without."""
        if self._features is None:
            return None
        return batched(lambda b: self._features(b, training=False),
                       images).reshape(len(images), -1)

    def reconstruct(self, images, steps=100):
        """Reconstructions of `images`, or `None` for a model that cannot reconstruct."""
        if self.spec.reconstruction == protocol.RECONSTRUCTS_DIRECT:
            return self._run("autoencoder", images)
        if self.spec.reconstruction == protocol.RECONSTRUCTS_BY_SEARCH:
            recon, _ = metrics.latent_optimisation_reconstruction(
                self.spec.part("generator").fn, images, self.spec.latent_dim, steps=steps,
                jit_compile=_xla_pays(images))
            return recon
        return None

    def sample(self, n, seed=0):
        """`n` samples as numpy, or `None` for a model that cannot sample."""
        if self._code_gaussian is not None:
            mean, cov = self._code_gaussian
            codes = np.random.default_rng(seed).multivariate_normal(mean, cov, n,
                                                                    method="eigh")
            return self._run("decoder", codes.astype("float32"))
        if self.spec.sampler == protocol.SAMPLES_OWN:
            return np.asarray(keras.ops.convert_to_numpy(self.model.sample(n, seed=seed)),
                              "float32")
        return None

    def interpolate(self, a, b, steps=8, search_steps=None):
        """Images along a straight line between two images' codes (models with an encoder
        and a decoder) or two noise vectors (unconditional generators); else `None`.

        Args:
            a, b: two images `(H, W, C)`.
            steps: images on the line, its two ends included.
            search_steps: for a generator, find the ends as the latents that best draw
                `a` and `b` (latent search, `metrics.latent_optimisation_reconstruction`,
                this many descent steps) rather than two random noise vectors.
        """
        weights = np.linspace(0, 1, steps, dtype="float32")[:, None]
        if self.spec.has("encoder") and self.spec.has("decoder"):
            ca, cb = self._run("encoder", np.stack([a, b]))
            return self._run("decoder", (1 - weights) * ca + weights * cb)
        if self.spec.has("generator") and not self.spec.conditional:
            if search_steps:
                _, (za, zb) = metrics.latent_optimisation_reconstruction(
                    self.spec.part("generator").fn, np.stack([a, b]), self.spec.latent_dim,
                    steps=search_steps)
            else:
                rng = np.random.default_rng(7)
                za, zb = rng.standard_normal((2, self.spec.latent_dim)).astype("float32")
            return self._run("generator", (1 - weights) * za + weights * zb)
        return None


def _xla_pays(images):
    """Whether a latent search on `images` compiles its steps with XLA: on images as small
    as those the runner trains with XLA (`training.runner.XLA_MAX_PIXELS`), where XLA is
    allowed. Measured: 100 steps on 128 of the default study's digits took 4.9-5.3 s with
    XLA against 7.1-7.7 without (2 cores, speed index about 120)."""
    from keras_aegan import compat
    from keras_aegan.training.runner import XLA_MAX_PIXELS

    shape = np.shape(images)
    return len(shape) == 4 and shape[1] * shape[2] <= XLA_MAX_PIXELS and compat.xla_allowed()
