"""The base of every model trained by several optimizers in its own `train_step`.

A GAN, the adversarial autoencoder, TimeGAN, pix2pix, the adversarial frame predictor and
the adversarially trained classifier each hold named sub-networks and one optimizer per
group of them. What they share is written here once (the idea of pythae's
`CoupledOptimizerAdversarialTrainer`, in the shape of the Keras guide's GAN: `compile`
takes the optimizers, `train_step` applies them):

- `compile(<name>=..., learning_rate=..., **keras_kwargs)` sets each declared optimizer
  (given, or the model's default Adam), wraps it in a `LossScaleOptimizer` under
  `mixed_float16` when the model scales its losses, and builds it on its networks'
  variables at once, so that a strategy scope owns its slots and a loaded model has
  variables to restore the saved state into;
- `get_compile_config` / `compile_from_config` save and restore every optimizer (Keras
  3.15 skips `compile_from_config` for models with their own `compile`, so without them a
  loaded model silently loses its optimizer state);
- `get_config` / `from_config` serialize the declared sub-networks;
- the state of the model's `keras.random.SeedGenerator` is saved with its weights
  (`compat.SavesSeedState`);
- `metrics` lists the model's trackers and `_record` updates them and returns a step's
  logs; `discriminator_accuracy` is the `d_accuracy` they log;
- `optimizers()` is what the model declares to `protocol.describe` (checkpoints and the
  learning-rate anneal find every optimizer there).

A subclass declares, as class attributes:

    optimizer_networks = {"d_optimizer": ("discriminator",),
                          "g_optimizer": ("generator",)}   # in update order
    network_names = ("generator", "discriminator")         # the serialized sub-networks

and may override `default_optimizer(name, learning_rate)`. The divergence guard is not
the model's business: it is a training callback (`callbacks.DivergenceGuard`) that the
runner adds; pass one to `fit` yourself when training by hand.
"""

import keras

from keras_aegan import compat
from keras_aegan.errors import UserError, check_number
from keras_aegan.models import networks
from keras_aegan.models import labels as labels_lib


def check_learning_rate(rate):
    """A learning rate in (0, 10): anything else is a typo, not a choice."""
    return check_number("learning_rate", rate, 0, 10, low_open=True, high_open=True)


def discriminator_accuracy(real_logits, fake_logits):
    """A discriminator's accuracy on one batch: half the share of real logits above 0 plus
    half the share of generated ones below 0 (both sides weigh the same, whatever their
    sizes)."""
    return 0.5 * (keras.ops.mean(keras.ops.cast(real_logits > 0, "float32"))
                  + keras.ops.mean(keras.ops.cast(fake_logits < 0, "float32")))


class AdversarialModel(compat.SavesSeedState, keras.Model):
    """A `keras.Model` with named sub-networks and one optimizer per group of them.

    Subclasses declare `optimizer_networks` (optimizer attribute name -> the attribute
    names of the networks it trains) and `network_names` (the sub-networks saved in the
    config), keep their trackers in `self._trackers` (name -> `keras.metrics.Mean`, listed
    by `metrics`), and write `train_step` with `self.<optimizer>.apply(grads, variables)`,
    returning `self._record({name: value, ...})`.

    Class attributes:
        default_learning_rate: the default optimizers' rate when `compile` gets none.
        default_betas: Adam's `(beta_1, beta_2)` of the default optimizers.
        scales_losses: the train step scales its losses with `optimizer.scale_loss`, so
            the optimizers are wrapped in a `LossScaleOptimizer` under `mixed_float16`
            (a model that does not scale its losses must not be wrapped: its gradients
            would be divided by a scale they never had).
        seed_attribute, seed_state_key: the attribute holding the model's
            `keras.random.SeedGenerator`, whose state is saved with the weights under
            that key (see `compat.SavesSeedState`); `None`: the model draws no noise.

    Example:
        >>> class Pair(AdversarialModel):
        ...     optimizer_networks = {"d_optimizer": ("discriminator",),
        ...                           "g_optimizer": ("generator",)}
        ...     network_names = ("generator", "discriminator")
        ...     def __init__(self, generator, discriminator, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.generator, self.discriminator = generator, discriminator
        >>> pair = Pair(generator, discriminator)
        >>> pair.compile(d_optimizer="sgd", learning_rate=1e-3)  # g_optimizer: Adam(1e-3)
    """

    optimizer_networks = {}
    network_names = ()
    default_learning_rate = 2e-4
    default_betas = (0.5, 0.999)
    scales_losses = False
    seed_attribute = None

    # ------------------------------------------------------------------------- logs

    @property
    def metrics(self):
        # The model's own trackers (`self._trackers`, name -> `keras.metrics.Mean`), so
        # that Keras resets them each epoch; Keras' compiled metrics are not used.
        return list(self._trackers.values())

    def _record(self, values):
        """Update the tracker of each name in `values` and return every tracker's result:
        the logs of a `train_step` or `test_step`."""
        for name, value in values.items():
            self._trackers[name].update_state(value)
        return {name: m.result() for name, m in self._trackers.items()}

    def _image_batch(self, data, labels_for=None):
        """`(images, labels)` of a batch of images, the images checked by the model's
        `check_images`.

        Args:
            data: images, or a tuple whose first item is the images.
            labels_for: who needs the labels (e.g. "a conditional GAN"), named in the
                error when the batch has none; `None`: labels are not used (`None`).
        """
        if labels_for is None:
            images, labels = (data[0] if isinstance(data, (tuple, list)) else data), None
        else:
            images, labels = labels_lib.labeled_batch(data, labels_for)
        self.check_images(images)
        return images, labels

    # ------------------------------------------------------------------ compile / save

    def compile(self, learning_rate=None, **kwargs):
        """Set every declared optimizer, then compile.

        Args:
            learning_rate: the default optimizers' learning rate (default:
                `default_learning_rate`).
            **kwargs: one optimizer per declared name (an instance, name or config;
                `None` or absent: the model's default, see `default_optimizer`), the rest
                passed to `keras.Model.compile` (`run_eagerly`, `jit_compile`, ...).
        """
        given = {name: kwargs.pop(name, None) for name in self.optimizer_networks}
        rate = self.default_learning_rate if learning_rate is None else learning_rate
        if not isinstance(rate, keras.optimizers.schedules.LearningRateSchedule):
            rate = check_learning_rate(rate)
        optimizers = {}
        for name, optimizer in given.items():
            if optimizer is None:
                optimizer = self.default_optimizer(name, rate)
            else:
                optimizer = keras.optimizers.get(optimizer)
            optimizers[name] = self._loss_scaled(optimizer, name)
        # The optimizers are ours, not Keras': it gets none (nor a loss: `train_step` is
        # ours). Set after it, as it resets `self.optimizer`, which a model may declare.
        keras.Model.compile(self, optimizer=None, loss=None, **kwargs)
        for name, optimizer in optimizers.items():
            setattr(self, name, optimizer)
            optimizer.build(self.trainable_variables_of(name))

    def default_optimizer(self, name, learning_rate):
        """The optimizer `name` gets when `compile` is not given one: Adam at
        `learning_rate` with the model's `default_betas`."""
        beta_1, beta_2 = self.default_betas
        return keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, name=name)

    def _loss_scaled(self, optimizer, name):
        mixed = any(getattr(self, net).dtype_policy.name == "mixed_float16"
                    for net in self.network_names)
        if (self.scales_losses and mixed
                and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer, name=f"{name}_scaled")
        return optimizer

    def trainable_variables_of(self, name):
        """The variables optimizer `name` updates: its networks' trainable ones, in order."""
        return [v for net in self.optimizer_networks[name]
                for v in getattr(self, net).trainable_variables]

    def optimizers(self):
        """`{name: optimizer}` for every declared optimizer (`None` before `compile`), for
        `protocol.ModelSpec.optimizers`."""
        return {name: getattr(self, name, None) for name in self.optimizer_networks}

    def compile_options(self):
        """What else `compile` took that a loaded model must get again (e.g. a loss
        name), saved in the compile config beside the optimizers."""
        return {}

    def get_compile_config(self):
        optimizers = self.optimizers()
        if not self.compiled or any(o is None for o in optimizers.values()):
            return None
        config = {name: keras.optimizers.serialize(o) for name, o in optimizers.items()}
        config.update(self.compile_options())
        return config

    def compile_from_config(self, config):
        # Keras 3.15 skips models with their own `compile()` on load (it warns "compile()
        # was not called as part of model loading"); compiling here builds every optimizer
        # so that the saved state is restored into it.
        missing = [name for name in self.optimizer_networks if name not in config]
        if missing:
            raise UserError(f"the saved compile configuration of {self.name} has no "
                            f"{', '.join(missing)}; it holds {', '.join(config) or 'nothing'}")
        options = {k: v for k, v in config.items() if k not in self.optimizer_networks}
        self.compile(**options, **{name: keras.optimizers.deserialize(config[name])
                                   for name in self.optimizer_networks})

    def get_config(self):
        config = super().get_config()
        config.update({name: keras.layers.serialize(getattr(self, name))
                       for name in self.network_names})
        return config

    @classmethod
    def from_config(cls, config):
        return networks.from_config(cls, config, cls.network_names)
