"""Image-to-image translation: one U-Net trained the autoencoder way and the GAN way.

A translator maps an image task's inputs (a small image, a grey image, an image with holes
and its mask, an edge map: the task classes of `keras_aegan.data.tasks`) to the clean
image. Two models hold the
same generator (`translation_networks.unet_generator`):

- `UNetTranslator` (registered as `unet_ae`, family `autoencoder`): plain `compile()` +
  `fit()` on the pixel loss alone (mean absolute error by default).
- `Pix2Pix` (registered as `pix2pix`, family `gan`): a conditional GAN in the style of
  Isola et al. 2017 overriding `train_step`: a patch discriminator judges `(inputs, image)`
  pairs; the generator minimises `adversarial + l1_weight * L1` (non-saturating
  adversarial loss, mean over the patches). We use `l1_weight = 100` on pixels in [0, 1]:
  the paper's number, but its L1 was on [-1, 1] pixels, so relative to the adversarial
  term ours weighs the pixels half as much as the paper's did (a stronger GAN term, still
  an addition to the pixel fit rather than a replacement). The discriminator's loss is
  halved, as in the paper, to slow it down relative to the generator. Both optimizers are
  Adam(5e-4, 0.5, 0.999): the paper's 2e-4 learns too slowly for minutes of CPU training.

Both are fitted on `(inputs, images)` pairs that the registry's `task_pairs` input makes
from clean image batches with the model's own task (`model.task`, a task object, described
as plain data in `ModelSpec.task` and the config), so every data source works unchanged.
Both declare one part, the `translator` (`translate(*inputs) -> images`), whose ports are
the task's inputs; `apply` and export read only that.

Example:
    >>> model = build_pix2pix((28, 28, 1), task="super_resolution", factor=4)
    >>> model.compile()
    >>> model.fit(dataset.map(model.task.pairs()), epochs=1)
    >>> big = model.translate(small_images)
"""

import keras
import numpy as np
import tensorflow as tf

from keras_aegan import compat, protocol
from keras_aegan.models import losses as losses_lib
from keras_aegan.models import networks
from keras_aegan.models import translation_networks as nets
from keras_aegan.models.adversarial import (AdversarialModel, check_learning_rate,
                                            discriminator_accuracy)
from keras_aegan.data import tasks
from keras_aegan.errors import UserError, check_number

DEFAULT_L1_WEIGHT = 100.0
PIXEL_LOSSES = ("mae", "mse")


class _Translator(keras.Model):
    """What both ways share: the translator network, the task, the declaration, previews."""

    family = None

    def __init__(self, translator, task, **kwargs):
        super().__init__(**kwargs)
        self.translator = translator
        self.image_shape = tuple(int(d) for d in translator.output_shape[1:])
        # Configs hold the task as plain data (`Task.describe()`); the model holds the object.
        self.task = tasks.task_from_description(task, self.image_shape, kind=tasks.ImageTask)
        self.ports = self.task.input_ports()
        expected = [tuple(p.shape) for p in self.ports]
        got = [tuple(t.shape[1:]) for t in translator.inputs]
        if expected != got:
            raise UserError(f"the translator takes inputs of shapes {got}, but the "
                            f"{self.task.name} task makes {expected}")
        self.built = True

    def call(self, inputs, training=False):
        inputs = self._input_list(inputs)
        return self.translator(self._network_inputs(inputs), training=training)

    def translate(self, *inputs):
        """The task's inputs (one array per port, see `ports`) -> images in [0, 1];
        deterministic."""
        return self.translator(self._network_inputs(self._input_list(inputs)),
                               training=False)

    def _input_list(self, inputs):
        if not isinstance(inputs, (tuple, list)):
            inputs = [inputs]
        inputs = list(inputs)
        if len(inputs) != len(self.ports):
            raise UserError(f"the {self.task.name} translator takes "
                            f"{len(self.ports)} input(s) "
                            f"({', '.join(p.name for p in self.ports)}), got {len(inputs)}")
        for port, value in zip(self.ports, inputs):
            if tuple(value.shape[1:]) != port.shape:
                raise UserError(f"{port.name}: this translator takes batches of shape "
                                f"(batch, {', '.join(map(str, port.shape))}), got "
                                f"{tuple(value.shape)}")
        return inputs

    @staticmethod
    def _network_inputs(inputs):
        return inputs[0] if len(inputs) == 1 else inputs

    def describe(self):
        """The model's `protocol.ModelSpec`: one `translator` part, and its task."""
        part = protocol.Part("translator", "translate", self.translate, tuple(self.ports),
                             self.task.output_port(), self.task.convention())
        return protocol.ModelSpec(family=self.family, image_shape=self.image_shape,
                                  parts=(part,), task=self.task.describe(), **self._declared())

    def preview(self, images):
        """Rows for the progress grid: the task's inputs (drawn at full size), the
        translations, the clean images."""
        images = np.asarray(images, "float32")
        inputs = self.task.make_input_arrays(images)
        out = keras.ops.convert_to_numpy(self.translate(*inputs))
        return self.task.display_rows(inputs, out, images)

    def get_config(self):
        config = super().get_config()
        config.update(translator=keras.layers.serialize(self.translator),
                      task=self.task.describe())
        return config


@keras.saving.register_keras_serializable(package="keras_aegan")
class UNetTranslator(_Translator):
    """The autoencoder way: a U-Net translator fitted by plain `compile()` + `fit()` on the
    pixel loss between its output and the clean image.

    Args:
        translator: a network mapping the task's inputs to images in [0, 1]
            (`translation_networks.unet_generator`).
        task: an image task (`keras_aegan.data.tasks`) or its description.

    Example:
        >>> model = build_unet_ae((32, 32, 3), task="colorize")
        >>> model.compile()
        >>> model.fit(grey_images, images, epochs=1)
    """

    family = "autoencoder"

    def _declared(self):
        return {"networks": {"translator": self.translator},
                "losses": {"loss": "translator"},
                "optimizers": {"optimizer": self.optimizer} if self.compiled else {}}

    def compile(self, optimizer=None, loss="mae", learning_rate=1e-3, **kwargs):
        """Adam at `learning_rate` and mean absolute error (pix2pix's L1) by default."""
        if loss not in PIXEL_LOSSES and not callable(loss):
            raise UserError(f"loss must be one of {', '.join(PIXEL_LOSSES)}, got {loss!r}")
        rate = check_learning_rate(learning_rate)
        super().compile(optimizer=optimizer or keras.optimizers.Adam(rate), loss=loss,
                        **kwargs)

    def compile_from_config(self, config):
        compat.compile_on_load(self, config)

    @classmethod
    def from_config(cls, config):
        return networks.from_config(cls, config, ("translator",))


@keras.saving.register_keras_serializable(package="keras_aegan")
class Pix2Pix(AdversarialModel, _Translator):
    """The GAN way: a U-Net translator against a patch discriminator (Isola et al. 2017).

    Each step makes one generator pass and two discriminator passes (real and generated
    pairs) and updates both networks from them, like `keras_aegan.models.gans.GAN`. Logs
    `d_loss`, `g_loss` (the generator's whole objective), `l1`, `adversarial` and
    `d_accuracy`.

    Args:
        translator: the generator, task inputs -> images in [0, 1].
        discriminator: `[task inputs..., image]` -> patch logits
            (`translation_networks.patch_discriminator`).
        task: the task.
        l1_weight: weight of the L1 term (on pixels in [0, 1]); 0 trains on the
            adversarial loss alone.
        adversarial_loss: a name from `keras_aegan.models.losses.GAN_LOSSES`.

    Example:
        >>> model = build_pix2pix((28, 28, 1), task="inpaint", mask="box")
        >>> model.compile()
        >>> model.fit(dataset_of_pairs, epochs=1)
    """

    family = "gan"
    loss_networks = {"d_loss": "discriminator", "g_loss": "generator"}
    # The paper's Adam(2e-4, 0.5, 0.999) learns the pixels slowly within the minutes of CPU
    # training a study gives; 5e-4 (both networks) is our default for those budgets.
    default_learning_rate = 5e-4
    default_betas = (0.5, 0.999)
    optimizer_networks = {"d_optimizer": ("discriminator",), "g_optimizer": ("translator",)}
    network_names = ("translator", "discriminator")
    scales_losses = True

    def __init__(self, translator, discriminator, task, l1_weight=DEFAULT_L1_WEIGHT,
                 adversarial_loss="non_saturating", **kwargs):
        super().__init__(translator, task, **kwargs)
        self.discriminator = discriminator
        self.l1_weight = check_number("l1_weight", l1_weight, 0, 10_000)
        self.adversarial_loss = adversarial_loss
        self.d_loss_fn, self.g_loss_fn = losses_lib.get_gan_loss(adversarial_loss)
        if len(discriminator.inputs) != len(self.ports) + 1:
            raise UserError("the discriminator must take the task's inputs and the image")
        self._trackers = {name: keras.metrics.Mean(name=name) for name in
                          ("d_loss", "g_loss", "l1", "adversarial", "d_accuracy")}
        self.d_optimizer = self.g_optimizer = None

    def _declared(self):
        return {"networks": {"generator": self.translator, "discriminator": self.discriminator},
                "losses": self.loss_networks,
                "optimizers": self.optimizers()}

    # ------------------------------------------------------------------ compile / save

    def compile(self, d_optimizer=None, g_optimizer=None, learning_rate=None, **kwargs):
        """Set the two optimizers (default Adam(5e-4, 0.5, 0.999); pix2pix used 2e-4).

        Under a `mixed_float16` policy both are wrapped in a `LossScaleOptimizer`. Both are
        built here, so call `compile` inside the strategy scope when distributing.
        """
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer,
                        learning_rate=learning_rate, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(l1_weight=self.l1_weight, adversarial_loss=self.adversarial_loss)
        return config

    # ------------------------------------------------------------------------ training

    def _unpack(self, data):
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise UserError("pix2pix trains on (inputs, images) pairs; map clean images "
                            "with model.task.pairs()")
        inputs, target = self._input_list(data[0]), data[1]
        if tuple(target.shape[1:]) != self.image_shape:
            raise UserError(f"images: this translator makes images of shape "
                            f"{self.image_shape}, got targets of shape {tuple(target.shape)}")
        return inputs, keras.ops.cast(target, "float32")

    def _objectives(self, inputs, target, training):
        fake = self.translator(self._network_inputs(inputs), training=training)
        real_logits = self.discriminator([*inputs, target], training=training)
        fake_logits = self.discriminator([*inputs, fake], training=training)
        d_loss = 0.5 * self.d_loss_fn(real_logits, fake_logits)
        adversarial = self.g_loss_fn(fake_logits)
        l1 = keras.ops.mean(keras.ops.abs(target - keras.ops.cast(fake, "float32")))
        g_loss = adversarial + self.l1_weight * l1
        return d_loss, g_loss, l1, adversarial, real_logits, fake_logits

    def train_step(self, data):
        inputs, target = self._unpack(data)
        replicas, _ = compat.replica_info()
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            d_loss, g_loss, l1, adversarial, real_logits, fake_logits = self._objectives(
                inputs, target, training=True)
            # Optimizers sum the replicas' gradients: each replica's share of the mean.
            d_scaled = self.d_optimizer.scale_loss(d_loss / replicas)
            g_scaled = self.g_optimizer.scale_loss(g_loss / replicas)
        d_vars = self.discriminator.trainable_variables
        g_vars = self.translator.trainable_variables
        self.d_optimizer.apply(d_tape.gradient(d_scaled, d_vars), d_vars)
        self.g_optimizer.apply(g_tape.gradient(g_scaled, g_vars), g_vars)
        return self._log(d_loss, g_loss, l1, adversarial, real_logits, fake_logits)

    def test_step(self, data):
        inputs, target = self._unpack(data)
        return self._log(*self._objectives(inputs, target, training=False))

    def _log(self, d_loss, g_loss, l1, adversarial, real_logits, fake_logits):
        return self._record({"d_loss": d_loss, "g_loss": g_loss, "l1": l1,
                             "adversarial": adversarial,
                             "d_accuracy": discriminator_accuracy(real_logits, fake_logits)})


# ---------------------------------------------------------------------------- builders


def _task(image_shape, task, factor, mask, box, band, eye_row, threshold, task_seed):
    if not isinstance(task, str):
        raise UserError(f"task must be a name ({', '.join(tasks.IMAGE_TASK_NAMES)}), got "
                        f"{task!r}")
    return tasks.task_from_description(
        {"name": task, "factor": factor, "mask": mask, "box": box, "band": band,
         "eye_row": eye_row, "threshold": threshold,
         "seed": task_seed}, image_shape, kind=tasks.ImageTask)


def build_unet_ae(image_shape, latent_dim=None, num_classes=None, task="super_resolution",
                  factor=None, mask=None, box=None, band=None, eye_row=None, threshold=None,
                  task_seed=None, width=32, depth=None, blocks=2):
    """U-Net translator trained on the pixel loss (the autoencoder way).

    Args:
        image_shape: `(H, W, C)` of the clean images.
        latent_dim, num_classes: unused (a translator has no code and ignores labels).
        task: `super_resolution`, `colorize`, `inpaint` or `sketch`.
        factor, mask, box, band, eye_row, threshold, task_seed: the task's options
            (`keras_aegan.data.tasks`); `None` keeps the default.
        width, depth, blocks: the U-Net's channels at full size, stride-2 levels and
            residual blocks at the bottom.
    """
    del latent_dim, num_classes
    task = _task(image_shape, task, factor, mask, box, band, eye_row, threshold, task_seed)
    return UNetTranslator(nets.unet_generator(task, image_shape, width, depth, blocks), task,
                          name="unet_ae")


def build_pix2pix(image_shape, latent_dim=None, num_classes=None, task="super_resolution",
                  factor=None, mask=None, box=None, band=None, eye_row=None, threshold=None,
                  task_seed=None, width=32, depth=None, blocks=2, d_width=None,
                  l1_weight=DEFAULT_L1_WEIGHT,
                  adversarial_loss="non_saturating"):
    """pix2pix (Isola et al. 2017): U-Net generator, patch discriminator, adversarial + L1.

    Args:
        image_shape: `(H, W, C)` of the clean images.
        latent_dim, num_classes: unused.
        task, factor, mask, box, band, eye_row, threshold, task_seed: the task and its
            options.
        width, depth, blocks: the U-Net generator's channels at full size, stride-2
            levels and residual blocks at the bottom.
        d_width: channels of the discriminator's first convolution (default: `width`,
            so that the discriminator does not outgrow the generator).
        l1_weight: weight of the L1 term (default 100).
        adversarial_loss: a name from `keras_aegan.models.losses.GAN_LOSSES`.
    """
    del latent_dim, num_classes
    task = _task(image_shape, task, factor, mask, box, band, eye_row, threshold, task_seed)
    return Pix2Pix(nets.unet_generator(task, image_shape, width, depth, blocks),
                   nets.patch_discriminator(task, image_shape, width if d_width is None
                                            else d_width), task,
                   l1_weight=l1_weight, adversarial_loss=adversarial_loss, name="pix2pix")
