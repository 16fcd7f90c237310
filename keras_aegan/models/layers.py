"""Small reusable layers (and a regularizer) for the model families.

- `Sampling`: the VAE reparameterization `z = mean + exp(log_var / 2) * eps`.
- `KLDivergence`: adds `beta * KL(N(mean, var) || N(0, I))` with `add_loss`, passes `mean` on.
- `DenseTranspose`: a dense layer using the transposed kernel of another `Dense` (tied weights).
- `Corruption`: Gaussian noise or dropout on the input, during training only.
- `SparsityRegularizer`: L1 and KL-divergence sparsity penalties on code activations.
- `ArgumentsConfig`: the `get_config` of a layer (or loss, or model) whose config is its
  constructor arguments, stored as attributes of the same names.
"""

import keras
from keras import ops

from keras_aegan.errors import UserError, check_number


class ArgumentsConfig:
    """Mixin: `get_config` adds the attributes named in `config_arguments` to `super()`'s.

    For a class whose constructor stores each argument as an attribute of the same name,
    so that its config is those arguments. List it before the Keras base class. A subclass
    extending a class that uses it lists the parent's names too.

    Example:
        >>> class Scale(ArgumentsConfig, keras.layers.Layer):
        ...     config_arguments = ("factor",)
        ...     def __init__(self, factor=2.0, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.factor = factor
    """

    config_arguments = ()

    def get_config(self):
        config = super().get_config()
        config.update({name: getattr(self, name) for name in self.config_arguments})
        return config


@keras.saving.register_keras_serializable(package="keras_aegan")
class Sampling(ArgumentsConfig, keras.layers.Layer):
    """Draws `z ~ N(mean, exp(log_var))` by the reparameterization trick.

    Args:
        seed: seed of the layer's `keras.random.SeedGenerator`.

    Example:
        >>> z = Sampling(seed=1)([z_mean, z_log_var])
    """

    config_arguments = ("seed",)

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator,
                                  dtype=z_mean.dtype)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@keras.saving.register_keras_serializable(package="keras_aegan")
class KLDivergence(ArgumentsConfig, keras.layers.Layer):
    """Adds `beta` times the KL divergence of `N(mean, exp(log_var))` from `N(0, I)`.

    The divergence is summed over code units and averaged over the batch, so it is on the
    same per-example scale as a reconstruction loss summed over pixels. The layer returns
    `mean` unchanged.

    Args:
        beta: weight of the term (1 is the VAE's evidence lower bound; > 1 a beta-VAE).
    """

    config_arguments = ("beta",)

    def __init__(self, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.beta = check_number("beta", beta, 0)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        kl = -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)
        self.add_loss(self.beta * ops.mean(kl))
        return z_mean

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@keras.saving.register_keras_serializable(package="keras_aegan")
class DenseTranspose(keras.layers.Layer):
    """A dense layer whose kernel is the transpose of another `Dense` layer's kernel.

    Only the bias is its own weight, so a decoder made of these has about half the
    parameters of an untied one. The layer cannot be rebuilt from its config alone (it
    refers to another layer); models using it rebuild it from their own config, see
    `keras_aegan.models.autoencoders.TiedAutoencoder`.

    Args:
        dense: the built `keras.layers.Dense` whose kernel is shared.
        activation: activation applied after the bias.
    """

    def __init__(self, dense, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        self.bias = self.add_weight(name="bias", shape=(self.dense.kernel.shape[0],),
                                    initializer="zeros")

    def call(self, inputs):
        return self.activation(ops.matmul(inputs, ops.transpose(self.dense.kernel)) + self.bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.dense.kernel.shape[0])

    def get_config(self):
        config = super().get_config()
        config.update(activation=keras.activations.serialize(self.activation))
        return config


@keras.saving.register_keras_serializable(package="keras_aegan")
class Corruption(ArgumentsConfig, keras.layers.Layer):
    """Corrupts its input during training only: additive Gaussian noise or dropout.

    At inference (`training=False`) it is the identity, so a denoising autoencoder's
    `encode` and exported graphs stay deterministic.

    Args:
        kind: `"gaussian"` (noise of standard deviation `level`, result clipped to
            [0, 1]) or `"dropout"` (each input zeroed with probability `level`, the rest
            kept as they are, as in Vincent et al.'s masking noise).
        level: the noise standard deviation, or the dropout rate in [0, 1).
        seed: seed of the layer's random generator.
    """

    KINDS = ("gaussian", "dropout")
    config_arguments = ("kind", "level", "seed")

    def __init__(self, kind="gaussian", level=0.3, seed=None, **kwargs):
        super().__init__(**kwargs)
        if kind not in self.KINDS:
            raise UserError(f"noise must be one of {self.KINDS}, got {kind!r}")
        self.kind = kind
        self.level = check_number("noise_level", level, 0, 1 if kind == "dropout" else None,
                                  high_open=True)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training or self.level == 0:
            return inputs
        if self.kind == "gaussian":
            noise = keras.random.normal(ops.shape(inputs), stddev=self.level,
                                        seed=self.seed_generator, dtype=inputs.dtype)
            return ops.clip(inputs + noise, 0.0, 1.0)
        keep = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator,
                                    dtype=inputs.dtype) >= self.level
        return ops.where(keep, inputs, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="keras_aegan")
class SparsityRegularizer(keras.regularizers.Regularizer):
    """Activity penalty pushing code units toward rarely being active.

    `l1 * mean_batch(sum_units |h|) + kl_weight * sum_units KL(target || mean_batch(h))`,
    where the KL term treats each unit's mean activation over the batch as the rate of a
    Bernoulli variable. The KL term needs activations in (0, 1), i.e. a sigmoid code.

    Args:
        l1: weight of the L1 activity penalty.
        kl_weight: weight of the KL-divergence sparsity penalty.
        target: target mean activation rate of each unit, in (0, 1).
    """

    def __init__(self, l1=0.0, kl_weight=0.0, target=0.05):
        self.l1 = check_number("l1", l1, 0)
        self.kl_weight = check_number("kl_weight", kl_weight, 0)
        self.target = check_number("sparsity_target", target, 0, 1, low_open=True,
                                   high_open=True)

    def __call__(self, x):
        penalty = ops.convert_to_tensor(0.0, dtype=x.dtype)
        if self.l1:
            penalty += self.l1 * ops.mean(ops.sum(ops.abs(x), axis=-1))
        if self.kl_weight:
            rate = ops.clip(ops.mean(x, axis=0), 1e-6, 1.0 - 1e-6)
            t = self.target
            kl = t * ops.log(t / rate) + (1.0 - t) * ops.log((1.0 - t) / (1.0 - rate))
            penalty += self.kl_weight * ops.sum(kl)
        return penalty

    def get_config(self):
        return {"l1": self.l1, "kl_weight": self.kl_weight, "target": self.target}
