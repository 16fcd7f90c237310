"""Tests of keras_aegan.export: every family round-trips to SavedModel and TF Lite.

Tiny models are trained for a few steps on the bundled digits, exported, and then a
separate Python process that cannot import keras or keras_aegan (both are blocked before
TensorFlow loads) reloads each artifact the way a user elsewhere would and compares its
outputs, at batch 1 and batch 7, with the Keras model's outputs saved by this process.
Those round trips take a minute, so they are CI checks (`python -m pytest -m ci`); the
default suite keeps the refusals and the single-part exports.
"""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Model name -> quantizations exported (quantizing every family would only repeat the
# converter's work). One GAN takes every quantization; one autoencoder (three parts, image
# and code inputs) takes int8, the one whose calibration reads the part's inputs (float16
# and dynamic-range quantize the weights alone, whatever the inputs).
FAMILIES = {
    "conv_ae": ("int8",),
    "vae": (),
    "recurrent_ae": (),  # LSTM: exported unrolled, the plain LiteRT runtime has no Flex ops
    "dcgan": ("float16", "dynamic", "int8"),
    "cgan": (),
}
LATENT_DIM = 8

CHILD = textwrap.dedent(r'''
    import json, sys
    # A user elsewhere has neither keras_aegan nor keras: make both unimportable. TensorFlow
    # tolerates a missing Keras; the artifacts must not need it.
    for name in ("keras", "keras_aegan", "tf_keras"):
        sys.modules[name] = None
    import numpy as np
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    job = json.load(open(sys.argv[1]))
    results = {}
    for case in job["cases"]:
        feeds = np.load(case["inputs"])
        expected = np.load(case["expected"])
        res = results[case["key"]] = {}
        loaded = tf.saved_model.load(case["saved_model"])
        serve = loaded.signatures["serving_default"]
        method = getattr(loaded, case["endpoint"])
        for batch in ("b1", "b7"):
            inputs = {n: feeds[f"{batch}/{n}"] for n in case["input_names"]}
            want = expected[batch]
            scale = max(1.0, float(np.abs(want).max()))

            def diff(got):
                got = np.asarray(got)
                assert got.shape == want.shape, (got.shape, want.shape)
                d = np.abs(got - want) / scale
                return {"max": float(d.max()), "p99": float(np.quantile(d, 0.99))}

            res[f"saved_model/{batch}"] = diff(serve(**{n: tf.constant(v) for n, v in
                                                        inputs.items()})[case["output"]])
            res[f"method/{batch}"] = diff(method(*[tf.constant(inputs[n]) for n in
                                                   case["input_names"]]))
            for precision, path in case["tflite"].items():
                runner = Interpreter(model_path=path).get_signature_runner("serving_default")
                res[f"{precision}/{batch}"] = diff(runner(**inputs)[case["output"]])
            # The low-level interpreter API: resize the batch dimension by hand.
            interpreter = Interpreter(model_path=case["tflite"]["float32"])
            details = {d["name"]: d for d in interpreter.get_input_details()}
            for n in case["input_names"]:
                (index,) = [d["index"] for k, d in details.items() if k.endswith(f"_{n}:0")]
                interpreter.resize_tensor_input(index, inputs[n].shape)
            interpreter.allocate_tensors()
            for n in case["input_names"]:
                (index,) = [d["index"] for k, d in details.items() if k.endswith(f"_{n}:0")]
                interpreter.set_tensor(index, inputs[n])
            interpreter.invoke()
            res[f"low_level/{batch}"] = diff(interpreter.get_tensor(
                interpreter.get_output_details()[0]["index"]))
    results["_modules"] = sorted(m for m in sys.modules if sys.modules[m] is not None and
                                 (m.split(".")[0] in ("keras", "keras_aegan", "tf_keras")))
    json.dump(results, open(sys.argv[2], "w"))
''')


def _train(name, run_dir):
    from keras_aegan.training.runner import RunConfig, train

    config = RunConfig(model=name, dataset="digits", epochs=1, batch_size=32,
                       latent_dim=LATENT_DIM, steps_per_epoch=2, run_dir=str(run_dir),
                       name=name)
    return train(config, verbose=0).path


def _case_inputs(model, part, images, rng):
    """Inputs at batch 1 and 7 for a part, named as its signature names them."""
    from keras_aegan import protocol

    spec = protocol.describe(model)
    endpoint = spec.part(part)
    full = {}
    for port in endpoint.inputs:
        if port.kind == "images":
            full[port.name] = images
        elif port.kind == "code":
            full[port.name] = np.asarray(spec.part("encoder").fn(images), "float32")
        elif port.kind == "noise":
            full[port.name] = rng.standard_normal((8, *port.shape)).astype(port.dtype)
        else:
            full[port.name] = rng.integers(0, spec.num_classes, 8).astype(port.dtype)
    return endpoint, {"b1": {k: v[7:8] for k, v in full.items()},
                      "b7": {k: v[:7] for k, v in full.items()}}


def _keras_outputs(endpoint, inputs):
    return np.asarray(endpoint.fn(*[inputs[p.name] for p in endpoint.inputs]), "float32")


@pytest.fixture(scope="module")
def round_trips(tmp_path_factory, digits_source):
    """Train and export every available family, then verify all in one child process."""
    from keras_aegan.training.runner import export_run, load_model

    base = tmp_path_factory.mktemp("export")
    images, _ = digits_source.arrays("test", limit=8)
    rng = np.random.default_rng(0)
    outcomes, cases = {}, []
    for name, quantize in FAMILIES.items():
        run = _train(name, base / "runs")
        out = base / "export" / name
        result = export_run(run, out, quantize=quantize, parity_batch=16)
        model = load_model(os.path.join(run, "model.keras"))
        for part, info in result.manifest["parts"].items():
            endpoint, feeds = _case_inputs(model, part, images, rng)
            inputs = base / f"{name}-{part}-inputs.npz"
            expected = base / f"{name}-{part}-expected.npz"
            np.savez(inputs, **{f"{b}/{k}": v for b, d in feeds.items() for k, v in d.items()})
            np.savez(expected, **{b: _keras_outputs(endpoint, d) for b, d in feeds.items()})
            cases.append({
                "key": f"{name}/{part}", "saved_model": str(out / info["saved_model"]),
                "endpoint": info["endpoint"], "output": endpoint.output.name,
                "input_names": [p.name for p in endpoint.inputs],
                "inputs": str(inputs), "expected": str(expected),
                "tflite": {a["precision"]: str(out / a["path"]) for a in info["artifacts"]
                           if a["kind"] == "tflite"}})
        outcomes[name] = result
    child = base / "child.py"
    child.write_text(CHILD)
    job = base / "job.json"
    job.write_text(json.dumps({"cases": cases}))
    report = base / "results.json"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, str(child), str(job), str(report)], cwd=base,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return outcomes, json.loads(report.read_text())


@pytest.mark.ci
@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_round_trips_without_keras(round_trips, name):
    from keras_aegan.export import CHECKS
    from keras_aegan.registry import get_model_entry

    outcomes, results = round_trips
    assert results["_modules"] == [], "the child process imported keras or keras_aegan"
    manifest = outcomes[name].manifest
    family = get_model_entry(name).family
    assert set(manifest["parts"]) == ({"encoder", "decoder", "autoencoder"}
                                      if family == "autoencoder" else {"generator"})
    for part, info in manifest["parts"].items():
        figures = results[f"{name}/{part}"]
        for key, stats in figures.items():
            statistic, bound = CHECKS.get(key.split("/")[0], CHECKS["float32"])
            assert stats[statistic] <= bound, (
                f"{name}/{part} {key}: {statistic} {stats[statistic]:.3g} > {bound:g}")
        # The parent's own parity check on a real batch, recorded in the manifest.
        for artifact in info["artifacts"]:
            assert artifact["ok"]
            assert artifact["scaled"][artifact["check"]] <= artifact["bound"]
        sizes = {a["precision"]: a["bytes"] for a in info["artifacts"] if a["kind"] == "tflite"}
        for precision in FAMILIES[name]:
            assert sizes[precision] < sizes["float32"], (part, sizes)


@pytest.mark.ci
def test_manifest_describes_signatures(round_trips):
    outcomes, _ = round_trips
    result = outcomes["conv_ae"]
    manifest = json.loads(open(os.path.join(result.path, "manifest.json")).read())
    assert manifest == json.loads(json.dumps(result.manifest))
    assert manifest["model"]["latent_dim"] == LATENT_DIM
    assert manifest["model"]["image_shape"] == [8, 8, 1]
    assert manifest["model"]["value_range"] == [0.0, 1.0]
    assert manifest["source"]["model"] == "conv_ae"
    assert {"tensorflow", "keras", "keras_aegan"} <= set(manifest["versions"])
    encoder = manifest["parts"]["encoder"]
    assert encoder["signature"] == "serving_default" and encoder["endpoint"] == "encode"
    assert encoder["inputs"] == {"images": {"shape": [None, 8, 8, 1], "dtype": "float32",
                                            "kind": "images", "range": [0.0, 1.0]}}
    assert encoder["outputs"] == {"code": {"shape": [None, LATENT_DIM], "dtype": "float32",
                                           "kind": "code"}}
    decoder = manifest["parts"]["decoder"]
    assert decoder["outputs"]["images"]["shape"] == [None, 8, 8, 1]
    names = sorted(os.listdir(result.path))
    assert names == sorted(["manifest.json", "encoder", "decoder", "autoencoder",
                            *[f"{p}{q}.tflite" for p in ("encoder", "decoder", "autoencoder")
                              for q in ("", ".int8")]])
    gan = outcomes["dcgan"]
    assert sorted(os.listdir(gan.path)) == sorted(
        ["manifest.json", "generator", *[f"generator{q}.tflite"
                                         for q in ("", ".float16", ".dynamic", ".int8")]])


@pytest.mark.ci
def test_conditional_generator_takes_labels(round_trips):
    outcomes, _ = round_trips
    inputs = outcomes["cgan"].manifest["parts"]["generator"]["inputs"]
    assert inputs == {"z": {"shape": [None, LATENT_DIM], "dtype": "float32", "kind": "noise"},
                      "label": {"shape": [None], "dtype": "int32", "kind": "labels"}}


# ---------------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def ae_run(tmp_path_factory):
    """A conv_ae run folder trained two steps (the round trips above are a CI check)."""
    return _train("conv_ae", tmp_path_factory.mktemp("ae_run"))


def test_run_without_model_is_refused(tmp_path):
    from keras_aegan.errors import UserError
    from keras_aegan.training.runner import export_run
    from keras_aegan.training.runner import RunConfig

    run = tmp_path / "untrained"
    run.mkdir()
    (run / "config.json").write_text(RunConfig().to_json())
    with pytest.raises(UserError, match="no trained model"):
        export_run(run, tmp_path / "out")
    with pytest.raises(UserError, match="no such run folder"):
        export_run(tmp_path / "absent", tmp_path / "out")
    (run / "model.keras").write_bytes(b"not a zip file")
    with pytest.raises(UserError, match="cannot load the model"):
        export_run(run, tmp_path / "out")
    (run / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="config.json: cannot read it"):
        export_run(run, tmp_path / "out")
    with pytest.raises(UserError, match="non-empty path"):
        export_run(run, "")
    assert not (tmp_path / "out").exists()


def test_missing_part_is_refused(ae_run, tmp_path):
    from keras_aegan.errors import UserError
    from keras_aegan.training.runner import export_run

    with pytest.raises(UserError, match="has no generator; it has: encoder, decoder"):
        export_run(ae_run, tmp_path / "out", parts=["generator"])
    with pytest.raises(UserError, match="unknown part"):
        export_run(ae_run, tmp_path / "out", parts=["discriminator"])
    with pytest.raises(UserError, match="unknown quantization"):
        export_run(ae_run, tmp_path / "out", quantize=["int4"])
    assert os.listdir(tmp_path) == []


@pytest.mark.ci
def test_gan_has_no_encoder(round_trips, tmp_path):
    from keras_aegan.errors import UserError
    from keras_aegan.training.runner import export_run

    outcomes, _ = round_trips
    with pytest.raises(UserError, match="has no encoder; it has: generator"):
        export_run(outcomes["dcgan"].manifest["source"]["run"], tmp_path / "out",
                   parts=["encoder"])


def test_existing_output_is_refused_unless_overwrite(ae_run, tmp_path):
    from keras_aegan.errors import UserError
    from keras_aegan.training.runner import export_run

    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("not an export")
    with pytest.raises(UserError, match="already exists"):
        export_run(ae_run, out, parts=["encoder"])
    # Even with overwrite, a folder that is not an export is never deleted.
    with pytest.raises(UserError, match="not an export"):
        export_run(ae_run, out, parts=["encoder"], overwrite=True)
    assert (out / "keep.txt").exists()
    (out / "keep.txt").unlink()
    (out / "manifest.json").write_text("{}")
    result = export_run(ae_run, out, parts=["encoder"], overwrite=True)
    assert sorted(os.listdir(out)) == ["encoder", "encoder.tflite", "manifest.json"]
    assert json.loads((out / "manifest.json").read_text())["parts"].keys() == {"encoder"}
    assert result.path == str(out)
    assert sorted(os.listdir(tmp_path)) == ["out"]  # no temporary folders left


def test_failed_parity_leaves_nothing_behind(ae_run, tmp_path, monkeypatch, capsys):
    from keras_aegan import export
    from keras_aegan.cli import main
    from keras_aegan.training.runner import export_run

    monkeypatch.setitem(export.CHECKS, "float32", ("max", -1.0))  # nothing can pass
    with pytest.raises(export.ExportError, match="parity check failed for encoder/"):
        export_run(ae_run, tmp_path / "out", parts=["encoder"])
    assert os.listdir(tmp_path) == []
    # The CLI reports it as a failure (exit 1), not as bad input (exit 2).
    assert main(["export", ae_run, "--out", str(tmp_path / "out"), "--parts", "encoder"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: export failed: parity check failed")
    assert os.listdir(tmp_path) == []


def test_recurrent_layers_are_traced_unrolled_and_restored():
    import keras

    from keras_aegan.compat import unrolled_rnns

    inner = keras.Sequential([keras.Input((4, 4)), keras.layers.GRU(2)])
    model = keras.Sequential([keras.Input((4, 3)), keras.layers.Bidirectional(
        keras.layers.LSTM(2, return_sequences=True)), inner])
    rnns = [model.layers[0].forward_layer, model.layers[0].backward_layer, inner.layers[0]]
    with unrolled_rnns(model):
        assert all(layer.unroll for layer in rnns)
    assert not any(layer.unroll for layer in rnns)


def test_export_model_object_needs_images(ae_run, tmp_path, digits_images):
    from keras_aegan.errors import UserError
    from keras_aegan.export import export_model
    from keras_aegan.training.runner import load_model

    model = load_model(os.path.join(ae_run, "model.keras"))
    with pytest.raises(UserError, match="needs a real batch of images"):
        export_model(model, tmp_path / "out")
    result = export_model(model, tmp_path / "out", parts=["decoder"],
                          images=digits_images[0][:4])
    artifacts = result.manifest["parts"]["decoder"]["artifacts"]
    assert [a["path"] for a in artifacts] == ["decoder", "decoder.tflite"]
    assert artifacts[1]["max_abs_diff"] <= 1e-5


def test_cli_export(ae_run, tmp_path, capsys):
    from keras_aegan.cli import main

    out = tmp_path / "cli"
    assert main(["export", ae_run, "--out", str(out), "--parts", "encoder"]) == 0
    printed = capsys.readouterr().out
    assert "encoder.tflite" in printed and printed.strip().endswith(str(out))
    assert main(["export", ae_run, "--out", str(out), "--parts", "encoder"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "already exists" in err[0]
    assert main(["export", ae_run, "--out", str(tmp_path / "x"), "--parts", "generator"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: model 'conv_ae' has no generator; it has: encoder, decoder, "
                   "autoencoder"]


def test_cli_bad_run_folder_exits_2(tmp_path, capsys):
    # In-process: a real process's exit code and traceback-free error are test_cli.py's.
    from keras_aegan.cli import main

    assert main(["export", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {tmp_path / 'nope'}: no such run folder"]
    assert "Traceback" not in err
