"""The model protocol: every registered model declares itself consistently, the consumers
learn about models only through it, the catalogue's mechanism and the configuration are
plain data, and the command line lists every model quietly."""

import ast
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from keras_aegan import protocol, registry


def build(name):
    entry = registry.get_model_entry(name)
    model = entry.builder(registry.DATA_KINDS[entry.data], latent_dim=4, num_classes=10)
    model.compile()
    return model


def example(port, images, rng):
    """Three examples of what a port takes: real digits where the shape is theirs."""
    if port.kind == "labels":
        return np.arange(3, dtype="int32")
    if port.kind in ("code", "noise"):
        return np.zeros((3, *port.shape), "float32")
    if tuple(port.shape) == images.shape[1:]:
        return images
    return rng.uniform(size=(3, *port.shape)).astype(port.dtype)


@pytest.mark.parametrize("name", registry.model_names())
def test_every_model_declares_itself(name, digits_images):
    entry = registry.get_model_entry(name)
    model = build(name)
    spec = protocol.describe(model)
    assert isinstance(model, entry.model_class)
    assert spec.family == entry.family == type(model).family  # declared once, by the class
    assert spec.image_shape == registry.DATA_KINDS[entry.data]
    # A model without a code (a translator, a frame predictor) declares none.
    assert spec.latent_dim in (4, None) or entry.data == "series"
    assert spec.conditional == entry.needs_labels
    assert set(spec.part_names) <= set(protocol.PART_NAMES) and spec.parts
    assert set(spec.losses.values()) <= {*spec.networks, "autoencoder"}
    assert all(opt is not None for opt in spec.optimizers.values())  # compiled
    images = digits_images[0][:3]
    rng = np.random.default_rng(0)
    for part in spec.parts:
        out = np.asarray(part.fn(*[example(p, images, rng) for p in part.inputs]))
        assert out.shape == (3, *part.output.shape), part.name
        if part.output.range is not None:
            assert out.min() >= part.output.range[0] and out.max() <= part.output.range[1]
    # How it samples and reconstructs is backed by the parts it declares.
    if spec.sampler == protocol.SAMPLES_CODE_GAUSSIAN:
        assert spec.has("encoder") and spec.has("decoder")
    if spec.reconstruction == protocol.RECONSTRUCTS_DIRECT:
        assert spec.has("autoencoder")
    if spec.reconstruction == protocol.RECONSTRUCTS_BY_SEARCH:
        assert spec.has("generator") and not spec.conditional
    features = protocol.feature_extractor(model, spec)
    if spec.features is not None:
        inputs = example(protocol.Port("x", spec.image_shape, "images"), images, rng)
        assert np.asarray(features(inputs)).reshape(3, -1).shape[1] >= 2
    else:
        # Only conditional models, task models and non-image models offer no features.
        assert features is None
        assert spec.conditional or spec.task is not None or entry.data != "images"


def test_a_model_that_does_not_declare_itself_is_refused():
    with pytest.raises(protocol.UserError, match="not a keras_aegan model"):
        protocol.describe(object())


def test_consumers_do_not_guess_what_a_model_is():
    """No `hasattr`/`getattr` on models outside the protocol: study, export, callbacks,
    runner and CLI ask `describe()`."""
    offending = []
    for path in (ROOT / "keras_aegan").rglob("*.py"):
        if path.name == "protocol.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"(hasattr|getattr)\((self\.)?model\b|\"num_classes\", None|"
                         r"layers\[-2\]", line):
                offending.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offending == []


def _module_imports(path):
    """The modules a file imports at its top level (not inside functions)."""
    tree = ast.parse(path.read_text())
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _own_closure(module):
    """`module` and the keras_aegan modules it imports at top level, transitively, by their
    own import lines (a package's `__init__` is not followed: the layering, not Python's
    side effects), with the outside packages each of them imports."""
    seen, outside, todo = set(), {}, [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = ROOT / (name.replace(".", "/") + ".py")
        for imported in _module_imports(path):
            if imported.split(".")[0] != "keras_aegan":
                outside.setdefault(imported.split(".")[0], set()).add(name)
            elif (ROOT / (imported.replace(".", "/") + ".py")).is_file():
                todo.append(imported)
    return seen, outside


@pytest.mark.parametrize("module", ["keras_aegan.config", "keras_aegan.registry",
                                    "keras_aegan.data.options", "keras_aegan.data.specs",
                                    "keras_aegan.protocol"])
def test_configuration_and_catalogue_mechanism_are_plain_data(module):
    seen, outside = _own_closure(module)
    assert "keras_aegan.errors" in seen  # the walk follows keras_aegan imports
    assert not {"tensorflow", "keras"} & set(outside), outside


@pytest.mark.ci
def test_help_lists_every_model_and_prints_nothing_else():
    # `import keras_aegan` imports TensorFlow (it registers every model class with Keras, so
    # that `keras.saving.load_model` works after it), so `--help` does too; it must still
    # list every model and keep TensorFlow's start-up lines off standard error.
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_AEGAN_VERBOSE")}
    done = subprocess.run([sys.executable, "train.py", "--help"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == ""
    for name in registry.model_names():
        assert re.search(rf"^  {name} +{registry.get_model_entry(name).family} ",
                         done.stdout, re.M), name


def test_part_names_and_fit_inputs_are_small_registries():
    assert len(set(protocol.PART_NAMES)) == len(protocol.PART_NAMES)
    for name in registry.model_names():
        entry = registry.get_model_entry(name)
        assert entry.consumes in registry.FIT_INPUTS and entry.description
    assert pathlib.Path(registry.__file__).read_text().count("import tensorflow") == 0
