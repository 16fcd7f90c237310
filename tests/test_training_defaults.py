"""What a run does unless told: the cosine anneal (rates by step and by time, resumed runs,
which families anneal), each model's own batch size, and when a run compiles with XLA."""

import dataclasses
import math

import keras
import pytest

from keras_aegan import protocol
from keras_aegan.training.callbacks import TimeBudget
from keras_aegan.cli import build_parser, common
from keras_aegan.cli import train as train_cli
from keras_aegan.errors import UserError
from keras_aegan.registry import get_model_entry
from keras_aegan.training.runner import RunConfig, train
from keras_aegan.training.schedules import CosineAnneal, start_rates


def adams(*rates):
    return start_rates([keras.optimizers.Adam(rate) for rate in rates])


def test_rates_fall_on_a_half_cosine_over_the_steps():
    anneal = CosineAnneal(adams(1e-3, 4e-4), total_steps=10)
    assert anneal.rates() == pytest.approx([1e-3, 4e-4])
    anneal.step = 5
    assert anneal.rates() == pytest.approx([5e-4, 2e-4])
    anneal.step = 10
    assert anneal.rates() == pytest.approx([0.0, 0.0], abs=1e-12)
    # A resumed run starts where the interrupted one was.
    resumed = CosineAnneal(adams(1e-3, 4e-4), total_steps=10, initial_step=5)
    assert resumed.rates() == pytest.approx([5e-4, 2e-4])


def test_a_time_budget_that_ends_the_run_first_sets_the_pace():
    budget = TimeBudget(100.0, already=75.0)  # a resumed run, 3/4 of its budget spent
    anneal = CosineAnneal(adams(1e-3), total_steps=1000, budget=budget, initial_step=10)
    assert anneal.progress() == pytest.approx(0.75)
    assert anneal.rates() == pytest.approx([1e-3 * 0.5 * (1 + math.cos(0.75 * math.pi))])
    # Steps that would end the run sooner than its time take over.
    anneal.step = 900
    assert anneal.progress() == pytest.approx(0.9)


def test_an_optimizer_with_its_own_schedule_keeps_it():
    scheduled = keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(1e-3, 10, 0.5))
    plain = keras.optimizers.Adam(1e-3)
    assert start_rates([scheduled, plain]) == [(plain, pytest.approx(1e-3))]


def learning_rates(model):
    return [float(keras.ops.convert_to_numpy(o.learning_rate))
            for o in protocol.describe(model).optimizers.values()]


def default_rates(name):
    """The learning rates a freshly compiled model of the registry starts with."""
    model = get_model_entry(name).builder((8, 8, 1), latent_dim=16, num_classes=10)
    model.compile()
    return learning_rates(model)


@pytest.mark.parametrize("model, anneal, annealed", [
    ("conv_ae", None, True), ("conv_ae", False, False), ("dcgan", None, False),
    ("dcgan", True, True)])
def test_the_runner_anneals_autoencoders_by_default(tmp_path, model, anneal, annealed):
    config = RunConfig(model=model, dataset="digits", epochs=2, steps_per_epoch=2,
                       batch_size=16, run_dir=str(tmp_path), anneal=anneal, grid_seconds=None)
    result = train(config, verbose=0)
    starts = default_rates(model)
    # The last of the 4 steps ran at 3/4 of the way through the run.
    scale = 0.5 * (1 + math.cos(0.75 * math.pi)) if annealed else 1.0
    assert learning_rates(result.model) == pytest.approx([r * scale for r in starts])


def test_the_cli_turns_the_anneal_on_and_off():
    def parse(*argv):
        return train_cli.config(build_parser().parse_args(["train", *argv])).anneal

    assert (parse(), parse("--anneal"), parse("--no-anneal")) == (None, True, False)


def test_a_resumed_run_must_anneal_as_it_began(tmp_path):
    config = RunConfig(model="conv_ae", dataset="digits", epochs=1, steps_per_epoch=1,
                       batch_size=16, run_dir=str(tmp_path), grid_seconds=None)
    train(config, verbose=0)
    with pytest.raises(UserError, match="anneal: None -> False"):
        train(dataclasses.replace(config, anneal=False), verbose=0)


def test_a_run_takes_the_models_own_batch_size():
    assert get_model_entry("conv_ae").batch_size == 32
    assert RunConfig(model="conv_ae").batch_size == 32
    assert RunConfig(model="dcgan").batch_size == 64
    assert RunConfig(model="conv_ae", batch_size=8).batch_size == 8
    with pytest.raises(UserError, match="unknown model"):
        RunConfig(model="no_such_model")
    assert "32 for conv_ae" in common.batch_sizes()


# ----------------------------------------------------------------------------------- XLA


@pytest.mark.parametrize("model,dataset,steps,expected", [
    ("dcgan", "mnist10k", 1200, True),     # the default study's models, measured faster
    ("conv_ae", "mnist10k", 1200, True),
    ("dcgan", "mnist10k", 100, False),     # too short to earn back the compiling
    ("aae", "mnist10k", 1200, False),      # measured slower with XLA
    ("dcgan", "photos:64", 1200, False),   # bigger images: TensorFlow's kernels win
])
def test_long_runs_of_measured_models_on_small_images_compile_with_xla(
        model, dataset, steps, expected):
    from keras_aegan.training import runner

    config = runner.for_steps(RunConfig(model=model, dataset=dataset), steps)
    info = config.open_data().info
    assert runner.uses_xla(config, info, get_model_entry(model)) is expected
    if model == "dcgan" and dataset == "mnist10k":
        built, _ = runner.build_model(config, info)
        assert built.jit_compile is expected


def test_xla_stays_off_under_op_determinism_and_a_strategy():
    import tensorflow as tf

    from keras_aegan import compat

    assert compat.xla_by_default({})["jit_compile"] is True
    assert compat.xla_by_default({"jit_compile": False})["jit_compile"] is False
    assert "jit_compile" not in compat.xla_by_default({"run_eagerly": True})
    with compat.mirrored_strategy(["/cpu:0"]).scope():
        assert compat.xla_by_default({})["jit_compile"] is False
    tf.config.experimental.enable_op_determinism()
    try:
        assert compat.xla_by_default({})["jit_compile"] is False
    finally:
        from tensorflow.python.framework.config import disable_op_determinism
        disable_op_determinism()


def test_a_latent_search_on_small_images_compiles_with_xla_to_the_same_answer():
    import numpy as np
    import tensorflow as tf

    from keras_aegan.evaluation import metrics
    from keras_aegan.studies.subjects import _xla_pays

    assert _xla_pays(np.zeros((4, 28, 28, 1))) and not _xla_pays(np.zeros((4, 64, 64, 1)))
    tf.config.experimental.enable_op_determinism()
    try:
        assert not _xla_pays(np.zeros((4, 28, 28, 1)))
    finally:
        from tensorflow.python.framework.config import disable_op_determinism
        disable_op_determinism()
    keras.utils.set_random_seed(0)
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8 * 8),
                                  keras.layers.Activation("sigmoid"),
                                  keras.layers.Reshape((8, 8, 1))])
    images = np.random.default_rng(1).random((6, 8, 8, 1)).astype("float32")
    plain, z = metrics.latent_optimisation_reconstruction(generator, images, 4, steps=30)
    fused, _ = metrics.latent_optimisation_reconstruction(generator, images, 4, steps=30,
                                                           jit_compile=True)
    np.testing.assert_allclose(fused, plain, atol=1e-4)
    assert metrics.mse(images, fused) < metrics.mse(images, generator(z * 0).numpy())
