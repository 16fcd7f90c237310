"""The adversarially trained classifier: a `keras.Model` that crafts its attack in `train_step`.

`AdversarialClassifier` wraps a classifier network (images in [0, 1] -> logits). Each
training step first crafts adversarial versions of the batch against the current weights
(`keras_aegan.evaluation.attacks`), then takes one optimizer step on them (Madry et al. 2018). The
experiment around it (the classifier network, the schedule, training with a budget and the
robustness tables) lives in `keras_aegan.training.adversarial_training` and
`keras_aegan.studies.robust`.

Family: `"classifier"`; one part, the `classifier` (images -> logits), and features =
the network's `features` layer.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_aegan import protocol
from keras_aegan.evaluation import attacks
from keras_aegan.models import networks
from keras_aegan.models import labels as labels_lib
from keras_aegan.models.adversarial import AdversarialModel
from keras_aegan.errors import UserError, check_int, check_number

TRAINING_ATTACKS = ("fgsm", "pgd", "none")


@keras.saving.register_keras_serializable(package="keras_aegan")
class AdversarialClassifier(AdversarialModel):
    """A classifier trained on adversarial examples it crafts in its own `train_step`.

    Args:
        network: a classifier, images in [0, 1] -> logits.
        epsilon: the L-infinity budget of the training attack, in [0, 1].
        attack: `"fgsm"` (with `random_start`, Wong et al. 2020), `"pgd"` (Madry et al.
            2018) or `"none"` (plain training, the baseline).
        steps: PGD steps (`attack="pgd"` only).
        step_size: the attack's step; default `1.25 * epsilon` for FGSM (Wong et al.),
            `2.5 * epsilon / steps` for PGD.
        random_start: start the attack from a uniform draw in the epsilon-ball.
        clean_weight: weight of the clean loss beside the adversarial one (0: adversarial
            only, as in Madry et al. and Wong et al.).
        epsilon_warmup: training steps over which the budget grows linearly from 0 to
            `epsilon` (0: the full budget from the first step).
        seed: seed of the random starts.

    Example:
        >>> network = classifiers.build_classifier((28, 28, 1), 10)
        >>> model = AdversarialClassifier(network, epsilon=0.3)
        >>> model.compile()
        >>> model.fit(x_train, y_train, epochs=5)
        >>> attacks.robust_accuracy(model.network, x_test, y_test, epsilon=0.3)
    """

    # One optimizer, against an adversary that is an attack, not a network: the base
    # gives it the compile config, `from_config` and the saved attack seed.
    optimizer_networks = {"optimizer": ("network",)}
    network_names = ("network",)
    default_learning_rate = 1e-3
    default_betas = (0.9, 0.999)
    seed_attribute, seed_state_key = "attack_seed", "attack_seed_state"

    def __init__(self, network, epsilon=0.3, attack="fgsm", steps=1, step_size=None,
                 random_start=True, clean_weight=0.0, epsilon_warmup=0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if attack not in TRAINING_ATTACKS:
            raise UserError(f"attack must be one of {', '.join(TRAINING_ATTACKS)}, got "
                            f"{attack!r}")
        self.network = network
        self.epsilon = attacks.check_epsilon(epsilon)
        self.attack = attack
        self.steps = check_int("steps", steps)
        self.step_size = None if step_size is None else check_number(
            "step_size", step_size, 0, 1, low_open=True)
        self.random_start = bool(random_start)
        self.clean_weight = check_number("clean_weight", clean_weight, 0)
        self.epsilon_warmup = check_int("epsilon_warmup", epsilon_warmup, 0)
        self.seed = seed
        self.attack_seed = keras.random.SeedGenerator(seed, name="attack_seed")
        self.image_shape = tuple(int(d) for d in network.input_shape[1:])
        self.num_classes = int(network.output_shape[-1])
        self._trackers = {name: keras.metrics.Mean(name=name)
                          for name in ("loss", "accuracy", "adversarial_accuracy")}
        self.built = True

    # --------------------------------------------------------------------- protocol

    def describe(self):
        """The classifier's `protocol.ModelSpec`: one part, images -> logits."""
        image = protocol.image_port(self.image_shape)
        logits = protocol.Port("logits", (self.num_classes,), "logits")
        part = protocol.Part("classifier", "classify", self.classify, (image,), logits,
                             f"images in [0, 1] -> {self.num_classes} class logits")
        return protocol.ModelSpec(
            family="classifier", image_shape=self.image_shape, parts=(part,),
            features=("classifier", networks.FEATURES_LAYER),
            networks={"classifier": self.network}, losses={"loss": "classifier"},
            optimizers=self.optimizers())

    def classify(self, images):
        """Images in [0, 1] -> logits (deterministic)."""
        return self.network(images, training=False)

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    # ---------------------------------------------------------------------- training

    def compile(self, optimizer=None, learning_rate=1e-3, **kwargs):
        """Adam at `learning_rate` (a float or a `LearningRateSchedule`) unless told
        otherwise; the loss is sparse categorical cross-entropy on logits."""
        super().compile(optimizer=optimizer, learning_rate=learning_rate, **kwargs)

    def current_epsilon(self):
        """The training budget at the current step (after the warm-up: `epsilon`)."""
        if not self.epsilon_warmup:
            return self.epsilon
        step = keras.ops.cast(self.optimizer.iterations, "float32") + 1.0
        return self.epsilon * keras.ops.minimum(step / self.epsilon_warmup, 1.0)

    def craft(self, images, labels):
        """The training attack's adversarial versions of a batch (tensors)."""
        if self.attack == "none" or self.epsilon == 0:
            return images
        epsilon = self.current_epsilon()
        if self.attack == "fgsm":
            step_size = 1.25 * epsilon if self.step_size is None else self.step_size
            steps = 1
        else:
            steps = self.steps
            step_size = 2.5 * epsilon / steps if self.step_size is None else self.step_size
        adversarial = attacks.pgd_tensor(self.network, images, labels, epsilon, steps=steps,
                                         step_size=step_size, random_start=self.random_start,
                                         seed=self.attack_seed)
        return tf.stop_gradient(adversarial)

    def _unpack(self, data):
        images, labels = labels_lib.labeled_batch(data, "a classifier")
        if tuple(images.shape[1:]) != self.image_shape:
            raise UserError(f"image_shape: this classifier takes images of shape "
                            f"{self.image_shape}, got {tuple(images.shape[1:])}")
        return keras.ops.cast(images, "float32"), labels

    def _loss(self, labels, logits):
        return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(
            labels, keras.ops.cast(logits, "float32"), from_logits=True))

    def train_step(self, data):
        images, labels = self._unpack(data)
        adversarial = self.craft(images, labels)
        variables = self.network.trainable_variables
        with tf.GradientTape() as tape:
            logits = self.network(adversarial, training=True)
            loss = self._loss(labels, logits)
            if self.clean_weight:
                clean_logits = self.network(images, training=True)
                loss = loss + self.clean_weight * self._loss(labels, clean_logits)
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        self._trackers["loss"].update_state(loss)
        self._trackers["adversarial_accuracy"].update_state(self._accuracy(labels, logits))
        return {name: m.result() for name, m in self._trackers.items()
                if name != "accuracy"}

    def test_step(self, data):
        # Clean loss and accuracy: attacking during validation would cost a lot per epoch;
        # the robustness tables attack the trained network separately.
        images, labels = self._unpack(data)
        logits = self.network(images, training=False)
        self._trackers["loss"].update_state(self._loss(labels, logits))
        self._trackers["accuracy"].update_state(self._accuracy(labels, logits))
        return {name: self._trackers[name].result() for name in ("loss", "accuracy")}

    @staticmethod
    def _accuracy(labels, logits):
        predicted = keras.ops.cast(keras.ops.argmax(logits, axis=-1), "int32")
        return keras.ops.mean(keras.ops.cast(predicted == labels, "float32"))

    def preview(self, images):
        """Images over their FGSM versions at the training budget, against the network's
        own predictions."""
        images = np.asarray(images, "float32")
        labels = attacks.predict_classes(self.network, images)
        epsilon = self.epsilon or 0.1
        return [images, attacks.fgsm(self.network, images, labels, epsilon)]

    # ------------------------------------------------------------------------ config

    def get_config(self):
        config = super().get_config()
        config.update(epsilon=self.epsilon, attack=self.attack, steps=self.steps,
                      step_size=self.step_size, random_start=self.random_start,
                      clean_weight=self.clean_weight, epsilon_warmup=self.epsilon_warmup,
                      seed=self.seed)
        return config
