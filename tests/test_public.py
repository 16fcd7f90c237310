"""The public face: `keras_aegan.__all__`, the one version number, and saved models that load
with plain `keras.saving.load_model` after `import keras_aegan`."""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from conftest import ROOT

import keras_aegan
from keras_aegan import registry


def test_every_public_name_exists_and_every_model_class_is_public():
    assert len(set(keras_aegan.__all__)) == len(keras_aegan.__all__)
    for name in keras_aegan.__all__:
        assert getattr(keras_aegan, name) is not None, name
    registered = {cls.__name__ for key, cls in keras.saving.get_custom_objects().items()
                  if key.startswith("keras_aegan>") and isinstance(cls, type)
                  and issubclass(cls, keras.Model) and not cls.__name__.startswith("_")}
    assert {"GAN", "Pix2Pix", "FramePredictor", "TimeGAN", "AdversarialAutoencoder",
            "RecurrentVAE", "AdversarialClassifier"} <= registered
    assert registered <= set(keras_aegan.__all__)
    for name in registry.model_names():
        model_class = registry.get_model_entry(name).model_class
        assert getattr(keras_aegan, model_class.__name__) is model_class, name
    for name in ("train", "study", "run_study", "export_model", "export_run", "apply_run",
                 "load_model", "open_source", "load", "DataOptions", "RunConfig",
                 "StudyConfig"):
        assert name in keras_aegan.__all__, name


def test_study_is_the_function_and_studies_the_subpackage():
    import keras_aegan.studies.run as runner_module
    from keras_aegan.studies import StudyConfig, run_study

    assert keras_aegan.study is keras_aegan.run_study is run_study
    assert runner_module.run_study is run_study
    assert StudyConfig is keras_aegan.StudyConfig


def test_data_options_live_in_the_data_package_and_are_re_exported():
    from keras_aegan import config, data
    from keras_aegan.data.options import DataOptions

    assert keras_aegan.DataOptions is data.DataOptions is config.DataOptions is DataOptions
    assert issubclass(config.RunConfig, DataOptions)


@pytest.mark.filterwarnings("ignore:Support for `\\[tool.setuptools\\]`")
def test_one_version_number():
    from setuptools.config.pyprojecttoml import read_configuration

    assert keras_aegan.__version__ == "0.3.0"
    project = read_configuration(ROOT / "pyproject.toml")["project"]
    assert "version" in project.get("dynamic", ()) or project["version"]
    assert project["version"] == keras_aegan.__version__
    text = (ROOT / "pyproject.toml").read_text()
    assert 'version = {attr = "keras_aegan.__version__"}' in text
    assert "0.1.0" not in text and "0.2.0" not in text


def _build(name):
    entry = registry.get_model_entry(name)
    model = entry.builder(registry.DATA_KINDS[entry.data], latent_dim=4, num_classes=10)
    model.compile()
    return model


CHILD = textwrap.dedent('''
    import json, sys
    import keras, keras_aegan
    import numpy as np

    results = {}
    for name, path in json.load(open(sys.argv[1])).items():
        model = keras.saving.load_model(path + ".keras")
        want = np.load(path + ".npz")
        got = [np.asarray(w) for w in model.weights]
        same = len(got) == len(want.files) and all(
            np.array_equal(g, want[f"w{i}"]) for i, g in enumerate(got))
        results[name] = [type(model).__name__, same]
    print(json.dumps(results))
''')


@pytest.mark.ci
def test_every_registered_model_loads_with_plain_keras_after_import(tmp_path):
    """What the README promises for `runs/<name>/model.keras`, for every model kind: a fresh
    process that imports only `keras` and `keras_aegan` loads it with Keras' own loader."""
    paths, classes = {}, {}
    for name in registry.model_names():
        model = _build(name)
        path = str(tmp_path / name)
        model.save(path + ".keras")
        np.savez(path + ".npz", **{f"w{i}": np.asarray(w) for i, w in enumerate(model.weights)})
        paths[name], classes[name] = path, type(model).__name__
    job = tmp_path / "job.json"
    job.write_text(json.dumps(paths))
    done = subprocess.run([sys.executable, "-c", CHILD, str(job)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == {name: [classes[name], True] for name in paths}


def test_models_and_baselines_are_registered_by_function_not_by_path():
    for name in registry.model_names():
        entry = registry.get_model_entry(name)
        assert callable(entry.builder) and isinstance(entry.model_class, type), name
        assert entry.family == entry.model_class.family
    assert registry.BASELINES and all(callable(fit) for fit, _ in registry.BASELINES.values())
    with pytest.raises(TypeError, match="must be a function"):
        registry.register_model("by_path", "keras_aegan.models.gans:build_gan",
                                model_class=keras_aegan.GAN, description="no")
    with pytest.raises(TypeError, match="declares no `family`"):
        registry.register_model("no_family", lambda *a, **k: None, model_class=keras.Model,
                                description="no")
    with pytest.raises(TypeError, match="must be a function"):
        registry.register_baseline("by_path", "keras_aegan.models.pca:fit_pca",
                                   description="no")
    assert "by_path" not in registry.MODELS and "no_family" not in registry.MODELS
