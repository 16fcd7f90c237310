"""A run folder's identity: it holds one run, so a resume never continues a different one.

`config.json` must record the same settings and `architecture.json` the same networks,
layer by layer (`architecture`): a builder whose defaults changed since (after an upgrade)
builds another network, and resuming into it is refused with the first layer that differs.
"""

import os

import keras

from keras_aegan import files
from keras_aegan.config import RunConfig
from keras_aegan.errors import UserError


# The settings that make a run folder's run: resuming with any of them changed is refused.
RUN_FIELDS = ("model", "dataset", "batch_size", "latent_dim", "seed", "image_shape", "crop",
              "strategy", "model_options", "steps_per_epoch", "validation_fraction",
              "learning_rate", "anneal")


def check_run_folder(config, restart=False, *, fields=RUN_FIELDS,
                     advice="use another --name, or --restart to discard it"):
    """Refuse a run folder that holds a different run: one whose `config.json` differs
    from `config` in any of `fields` (a study reusing a finished model checks only
    `model_options`), or whose `config.json` cannot be read. `advice` ends the error."""
    path = os.path.join(config.path, "config.json")
    if restart or not os.path.exists(path):
        return
    try:
        previous = RunConfig.load(path)
    except (ValueError, TypeError, OSError) as e:
        raise UserError(f"{path}: not a readable run config ({e}); {advice}") from None
    # Compared as config.json holds them: a tuple asked for is the list stored.
    was, now = ({f: files.json_ready(getattr(c, f)) for f in fields} for c in (previous, config))
    changed = [f"{f}: {was[f]!r} -> {now[f]!r}" for f in fields if was[f] != now[f]]
    if changed:
        raise UserError(f"run folder {config.path} holds a different run ({'; '.join(changed)}); "
                        f"{advice}")


def architecture(model):
    """The model's leaf layers in build order: `[{"layer", "name", "class", "config",
    "weights"}]`.

    `layer` is the layer's position (`dcgan/0/3`: the fourth layer of the model's first
    network), `config` its Keras config with no names or dtypes in it, `weights` the
    shapes of its variables. `name` is there for people only: auto-generated names count
    up within a process, so they cannot tell two networks apart. Two runs of one
    `RunConfig` agree; a builder whose defaults changed (an activation, a width, one
    layer more) does not.
    """
    rows = []

    def walk(layer, where):
        children = layer.layers if isinstance(layer, keras.Model) else ()
        for i, child in enumerate(children):
            walk(child, f"{where}/{i}")
        if not children:
            rows.append({"layer": where, "name": layer.name, "class": type(layer).__name__,
                         "config": _unnamed(layer.get_config()),
                         "weights": [list(w.shape) for w in layer.weights]})

    walk(model, model.name)
    return files.json_ready(rows)  # compared with what the run folder's file reads back


def _unnamed(config):
    """`config` without its `name` and `dtype` entries, at any depth (a wrapper layer's
    config holds the wrapped layer's)."""
    if isinstance(config, dict):
        return {k: _unnamed(v) for k, v in config.items() if k not in ("name", "dtype")}
    if isinstance(config, (list, tuple)):
        return [_unnamed(v) for v in config]
    return config


def check_architecture(config, layers, restart):
    """Refuse to resume a run folder whose networks differ from the ones just built."""
    path = os.path.join(config.path, "architecture.json")
    if restart or not os.path.exists(path):
        return  # a fresh run, or a folder written before keras_aegan recorded networks
    previous = files.read_json(path)
    if not isinstance(previous, list):
        raise UserError(f"{path}: not readable; use another --name, or --restart to "
                        "discard the run")
    pairs = [(old, new) for old, new in zip(previous, layers)
             if {**old, "name": None} != {**new, "name": None}]
    if not pairs and len(previous) == len(layers):
        return
    difference = (_layer_difference(*pairs[0]) if pairs
                  else f"{len(previous)} layers -> {len(layers)}")
    raise UserError(f"run folder {config.path} was trained with a different {config.model} "
                    f"network than these settings build ({difference}); keras_aegan's "
                    "defaults may have changed since: use another --name, or --restart to "
                    "discard it")


def _layer_difference(old, new):
    """What tells two rows of `architecture` apart, in a few words."""
    where = f"layer {new['layer']}"
    if old["class"] != new["class"] or old["layer"] != new["layer"]:
        return f"{where}: {old['class']} at {old['layer']} -> {new['class']}"
    keys = sorted(k for k in {*old["config"], *new["config"]}
                  if old["config"].get(k) != new["config"].get(k))
    if keys:
        return f"{where}, {new['class']}: " + "; ".join(
            f"{k} {old['config'].get(k)!r} -> {new['config'].get(k)!r}" for k in keys[:3])
    return f"{where}, {new['class']}: weights {old['weights']} -> {new['weights']}"
