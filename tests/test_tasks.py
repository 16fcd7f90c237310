"""The task classes (`keras_aegan.data.tasks`): inputs made from real digits, descriptions
that round-trip as plain data, one-line errors, the checks `apply` runs."""

import json

import numpy as np
import pytest

from keras_aegan.data import tasks
from keras_aegan.data.tasks import (Colorize, Inpaint, NextFrames, Sketch, SuperResolution,
                                    task_from_description)
from keras_aegan.errors import DataError, UserError

SHAPE = (8, 8, 1)
RGB = (8, 8, 3)
SEQUENCE = (20, 8, 8, 1)
# One instance of every task, with non-default options where it has some.
EXAMPLES = [
    (SuperResolution, SHAPE, {"factor": 2}),
    (Colorize, RGB, {"seed": 3}),
    (Inpaint, SHAPE, {"mask": "box", "box": 4, "seed": 1}),
    (Sketch, SHAPE, {"threshold": 0.25}),
    (NextFrames, SEQUENCE, {"observed": 5, "predicted": 7}),
]


def rgb(images):
    return np.repeat(images, 3, axis=-1)


def sequences(images, steps=SEQUENCE[0]):
    """Frame sequences of real digits: each digit sliding one pixel right per frame."""
    return np.stack([np.roll(images, t, axis=2) for t in range(steps)], axis=1)


def batch_for(cls, digits):
    return {Colorize: rgb(digits), NextFrames: sequences(digits)}.get(cls, digits)


@pytest.fixture
def digits(digits_images):
    return digits_images[0][:32]


# ------------------------------------------------------------------------ make_inputs


@pytest.mark.parametrize("cls,shape,options", EXAMPLES)
def test_inputs_and_targets_fill_the_declared_ports(cls, shape, options, digits):
    task = cls(shape, **options)
    batch = batch_for(cls, digits)
    inputs, target = task.make_pair(batch)
    ports = task.input_ports()
    assert len(inputs) == len(ports)
    for value, port in zip(inputs, ports):
        assert tuple(value.shape) == (len(batch), *port.shape)
        values = np.asarray(value)
        assert values.min() >= 0.0 and values.max() <= 1.0
    assert tuple(np.shape(target)) == (len(batch), *task.output_port().shape)
    # The numpy path and the tf.data map agree with make_inputs.
    arrays = task.make_input_arrays(batch, batch_size=len(batch))
    for a, b in zip(arrays, inputs):
        np.testing.assert_array_equal(a, np.asarray(b))
    assert set(task.examples(batch)) == {p.kind for p in ports}
    pair_inputs, pair_target = task.pairs()(batch)
    pair_inputs = pair_inputs if isinstance(pair_inputs, tuple) else (pair_inputs,)
    for a, b in zip(pair_inputs, inputs):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(pair_target), np.asarray(target))
    assert isinstance(task.convention(), str) and task.convention()


def test_super_resolution_of_a_constant_image_is_constant_and_keeps_block_means(digits):
    task = SuperResolution(SHAPE, factor=2)
    small, = task.make_inputs(np.full((3, *SHAPE), 0.3, "float32"))
    np.testing.assert_allclose(np.asarray(small), 0.3, atol=1e-6)
    np.testing.assert_allclose(task.baseline("bicubic", (small,)), 0.3, atol=1e-5)
    small, = task.make_inputs(digits)
    blocks = digits.reshape(len(digits), 4, 2, 4, 2, 1).mean(axis=(2, 4))
    np.testing.assert_allclose(np.asarray(small), blocks, atol=1e-6)
    assert task.display((small,)).shape == digits.shape


def test_colorize_of_grey_digits_gives_back_the_digits(digits):
    grey, = Colorize(RGB).make_inputs(rgb(digits))
    np.testing.assert_allclose(np.asarray(grey), digits, atol=1e-3)
    np.testing.assert_allclose(Colorize(RGB).baseline("grey", (grey,)), rgb(digits), atol=1e-3)


def test_inpaint_leaves_the_pixels_outside_the_mask_untouched(digits):
    task = Inpaint(SHAPE, mask="mixed", box=4)
    holed, mask = (np.asarray(t) for t in task.make_inputs(digits))
    assert set(np.unique(mask)) <= {0.0, 1.0} and mask.any()
    np.testing.assert_array_equal(holed[mask[..., 0] == 0], digits[mask[..., 0] == 0])
    np.testing.assert_array_equal(holed[mask[..., 0] == 1], 0.0)
    shown = task.display((holed, mask))
    np.testing.assert_array_equal(shown[mask[..., 0] == 1], tasks.HOLE_SHADE)
    for name in task.baselines:
        answers = task.baseline(name, (holed, mask))
        np.testing.assert_array_equal(answers[mask[..., 0] == 0], digits[mask[..., 0] == 0])


def test_sketch_of_a_constant_image_has_no_edges_and_digits_have_some(digits):
    task = Sketch(SHAPE)
    flat, = task.make_inputs(np.full((2, *SHAPE), 0.6, "float32"))
    assert not np.asarray(flat).any()
    edges, = task.make_inputs(digits)
    assert set(np.unique(np.asarray(edges))) == {0.0, 1.0}
    assert task.baselines == ()


def test_next_frames_cuts_observed_and_future_frames(digits):
    task = NextFrames(SEQUENCE, observed=5, predicted=7)
    videos = sequences(digits)
    (observed,), future = task.make_pair(videos)
    np.testing.assert_array_equal(observed, videos[:, :5])
    np.testing.assert_array_equal(future, videos[:, 5:12])
    copied = task.baseline("copy_last", (observed,))
    assert copied.shape == future.shape
    np.testing.assert_array_equal(copied, np.repeat(videos[:, 4:5], 7, axis=1))
    rows = task.display_rows((observed[:2],), future[:2], future[:2])
    assert len(rows) == 6 and rows[0].shape == (5, *SHAPE)
    with pytest.raises(UserError, match="do not fit in sequences of 20 frames"):
        NextFrames(SEQUENCE, observed=15, predicted=6)


# ------------------------------------------------------------------- descriptions


@pytest.mark.parametrize("cls,shape,options", EXAMPLES)
def test_describe_round_trips_as_plain_data(cls, shape, options):
    task = cls(shape, **options)
    description = task.describe()
    assert description["name"] == cls.name
    assert json.loads(json.dumps(description)) == description  # plain, JSON-able data
    for key, value in options.items():
        assert description[key] == value
    again = task_from_description(json.loads(json.dumps(description)), shape)
    assert type(again) is cls and again == task and again.describe() == description
    assert cls.from_description(description, shape) == task


def test_old_descriptions_load_and_fill_their_defaults():
    # What data/tasks.py's make_task wrote (every option filled), and a description that
    # predates an option: both load.
    old = {"name": "inpaint", "seed": 0, "mask": "box", "box": 4}
    # The eye band's options came later: filled with their defaults (a quarter of the
    # 8-pixel height; the eyes' row on the aligned faces).
    assert task_from_description(old, SHAPE).describe() == {**old, "band": 2, "eye_row": 0.45}
    assert task_from_description({"name": "super_resolution"}, SHAPE).describe() == {
        "name": "super_resolution", "seed": 0, "factor": 4}
    frames = {"name": "next_frames", "observed": 10, "predicted": 10}
    assert task_from_description(frames, SEQUENCE).describe() == frames


def test_an_unknown_task_is_a_one_line_user_error():
    with pytest.raises(UserError) as error:
        task_from_description({"name": "inpant"}, SHAPE)
    message = str(error.value)
    assert "\n" not in message
    assert "unknown task 'inpant' (did you mean inpaint?)" in message
    assert "super_resolution" in message and "next_frames" in message
    with pytest.raises(UserError, match="unknown task 'next_frames'; known: "):
        task_from_description({"name": "next_frames"}, SHAPE, kind=tasks.ImageTask)
    with pytest.raises(UserError, match="unknown task 'inpaint'"):
        NextFrames.from_description({"name": "inpaint"}, SHAPE)
    with pytest.raises(UserError, match="a task description is a mapping with a name"):
        task_from_description("inpaint", SHAPE)
    with pytest.raises(UserError, match="the colorize task has no option factor"):
        task_from_description({"name": "colorize", "factor": 2}, RGB)


def test_an_image_task_refuses_frame_sequences_and_the_frame_task_images():
    with pytest.raises(UserError, match="works on images"):
        Sketch(SEQUENCE)
    with pytest.raises(UserError, match="works on frame sequences"):
        NextFrames(SHAPE)


# -------------------------------------------------------------------- check_input


def test_check_input_refuses_what_apply_refuses():
    task = SuperResolution(SHAPE, factor=2)  # takes 4x4 low-resolution images
    task.check_input((4, 4), "ok.png")
    task.check_input((30, 17, 3), "large.png")  # larger images are tiled
    with pytest.raises(UserError, match=r"^small\.png is 3x3; this model takes images of at "
                                        r"least 4x4 \(super_resolution x2: "):
        task.check_input((3, 3), "small.png")
    with pytest.raises(UserError, match=r"^two\.png has 2 channels"):
        task.check_input((4, 4, 2), "two.png")
    frames = NextFrames(SEQUENCE)
    frames.check_input((12, 64, 64, 3), "clip")  # any frame size: frames are resized
    with pytest.raises(DataError, match="^clip has 9 frames; the model needs at least the "
                                        "10 it observes"):
        frames.check_input((9, 8, 8, 1), "clip")
    with pytest.raises(DataError, match=r"clip: frames must be an array .* with C 1 or 3"):
        frames.check_input((12, 8, 8, 2), "clip")


def test_translators_store_the_description_and_load_from_it():
    from keras_aegan.models import translation

    model = translation.build_unet_ae(SHAPE, task="inpaint", mask="box", box=4, width=4,
                                      blocks=0)
    assert isinstance(model.task, Inpaint)
    config = model.get_config()
    assert config["task"] == {"name": "inpaint", "seed": 0, "mask": "box", "box": 4,
                              "band": 2, "eye_row": 0.45}
    loaded = translation.UNetTranslator.from_config(json.loads(json.dumps(config)))
    assert loaded.task == model.task
