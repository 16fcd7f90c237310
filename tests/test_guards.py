"""Guards: a NaN loss stops the run naming the network, the step and the last good
checkpoint; a GAN whose discriminator always wins, or whose samples drop classes, warns."""

import keras
import numpy as np
import pytest

from keras_aegan import cli, protocol
from keras_aegan.training.callbacks import CollapseWatch, TrainingDiverged
from keras_aegan.training.checkpoints import list_checkpoints
from keras_aegan.training.runner import RunConfig, train


class Poison(keras.callbacks.Callback):
    """Sets one network's first kernel to NaN after `step` steps: a diverging network."""

    def __init__(self, network, step):
        super().__init__()
        self.network, self.at, self.seen = network, step, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            target = getattr(self.model, self.network)
            kernel = next(w for w in target.weights if len(w.shape) > 1)
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))


# The runner adds the guard (the models' own `fit` does not): a GAN, the adversarial
# autoencoder (three optimizers) and a plain autoencoder are all watched.
@pytest.mark.parametrize("model,network", [("dcgan", "generator"), ("dcgan", "discriminator"),
                                           ("aae", "discriminator"), ("conv_ae", "decoder")])
def test_nan_names_network_step_and_last_good_checkpoint(model, network, tmp_path):
    config = RunConfig(model=model, epochs=1, steps_per_epoch=12, checkpoint_every=4,
                       run_dir=str(tmp_path), name="nan", batch_size=16)
    with pytest.raises(TrainingDiverged) as error:
        train(config, verbose=0, callbacks=[Poison(network, step=6)])
    message = str(error.value)
    assert f"the {network} diverged at step 6 (epoch 1): its weights became non-finite in " \
           "step 6" in message
    assert f"non-finite weights in the {network};" in message
    assert "last good checkpoint: " in message and "ckpt-000000004.npz" in message
    # No diverged state was checkpointed: every saved array is finite.
    for path in list_checkpoints(tmp_path / "nan" / "checkpoints"):
        with np.load(path) as f:
            assert all(np.all(np.isfinite(f[k])) for k in f.files if k != "step"), path


def test_nan_in_the_cli_is_one_line(tmp_path, capsys, monkeypatch):
    from keras_aegan.training import runner

    real_train = runner.train
    monkeypatch.setattr(runner, "train", lambda config, **kw: real_train(
        config, **{**kw, "callbacks": [Poison("generator", step=2)]}))
    code = cli.main(["--model", "dcgan", "--epochs", "1", "--steps-per-epoch", "4",
                     "--run-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 3 and "\n" not in err  # a diverged run is not bad input (exit 2)
    assert err.startswith("error: the generator diverged at step 2 (epoch 1)")


class FakeGAN:
    """Declares itself an unconditional GAN that samples `self.classes` classes."""

    latent_dim = 4

    def __init__(self):
        self.classes = 10

    def describe(self):
        return protocol.ModelSpec(family="gan", image_shape=(1,), latent_dim=4,
                                  sampler=protocol.SAMPLES_OWN)

    def sample(self, n, seed=None):
        # Samples of only `self.classes` classes: the class is read off the first feature.
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim))
        return np.floor(np.abs(z[:, :1]) * 10) % self.classes


class FakeTranslator:
    """Declares itself a GAN-trained translator: no sampler of its own."""

    def describe(self):
        return protocol.ModelSpec(family="gan", image_shape=(1,))


def test_collapse_watch_warns_once_per_streak_and_names_a_translator_lost_game():
    messages = []
    watch = CollapseWatch(patience=2, log=messages.append)
    watch.set_model(FakeTranslator())
    for epoch, accuracy in enumerate([1.0, 1.0, 1.0, 1.0, 0.7, 1.0, 1.0]):
        watch.on_epoch_end(epoch, {"d_accuracy": accuracy})
    assert [m.split(":")[1] for m in messages] == [" epoch 2", " epoch 7"], messages
    assert all("look at the outputs and the pixel loss" in m for m in messages)
    assert not any("collapsed" in m for m in messages)


def test_collapse_watch_warns_with_the_epoch():
    messages = []
    watch = CollapseWatch(classify=lambda images: images[:, 0].astype(int), num_classes=10,
                          samples=300, patience=2, log=messages.append)
    fake = FakeGAN()
    watch.set_model(fake)
    watch.on_epoch_end(0, {"d_accuracy": 0.8})
    watch.on_epoch_end(1, {"d_accuracy": 0.995})
    assert messages == []
    fake.classes = 3  # the generator drops modes
    watch.on_epoch_end(2, {"d_accuracy": 1.0})
    assert any(m.startswith("warning: epoch 3: the discriminator's accuracy has been 1.000 "
                            "for 2 epochs") for m in messages), messages
    assert any("epoch 3: samples from fixed noise cover 3 of 10 classes, down from 10" in m
               for m in messages), messages
