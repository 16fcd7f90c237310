"""The model protocol: what a keras_aegan model declares about itself.

The study, export, the training callbacks, the CLI and `apply` learn about a model only by
asking it: every model class implements

    describe() -> ModelSpec

and nothing else reads a model's attributes to guess what it is. A `ModelSpec` says:

- `family`: `"autoencoder"`, `"gan"` or `"baseline"` (a classical method such as PCA);
  new kinds add theirs. The family names the group a model is compared within.
- `image_shape` / `latent_dim`: the shape of the images (or series) it models, and the
  size of its code or noise (`None` for a model without one).
- `conditional` / `num_classes`: whether the model takes class labels beside its input.
- `parts`: the sub-networks a user can take away, in export order. Each `Part` names its
  endpoint (`encode`, `decode`, `reconstruct`, `generate`, ...), a deterministic,
  graph-traceable function, the `Port`s it takes (name, shape, dtype and *kind*:
  `images`, `code`, `noise`, `labels`, ...) and the port it returns. Export turns each
  part into a SavedModel signature and a `.tflite` file; `apply` runs them on files.
- `sampler`: how the model draws new images, or `None`:
  `SAMPLES_OWN` (its own `sample(n, seed=...)`, e.g. a GAN's noise or a VAE's prior), or
  `SAMPLES_CODE_GAUSSIAN` (decode draws from a Gaussian fitted to the codes of training
  images: plain autoencoders and PCA, which have no prior of their own).
- `reconstruction`: how it reconstructs an image, or `None`: `RECONSTRUCTS_DIRECT`
  (its `reconstruct` part, `decode(encode(x))`), or `RECONSTRUCTS_BY_SEARCH` (search the
  noise of its `generator` part for the closest image: GANs, which have no encoder).
- `features`: `(network, layer)`: the named layer whose output is the model's
  representation of an image, for the linear and k-NN probes (`None`: it has none).
- `networks`: the trained networks by name (what a divergence guard watches), `losses`:
  which network each logged loss trains, in update order, and `optimizers`: every
  optimizer by name (what a checkpoint saves).
- `task`: for a model trained on a task rather than on plain images (an image-to-image
  translator, a frame predictor), the task's description as plain data (`{"name": ...,
  options}`): what its inputs are made from, so that training data, `apply` and the export
  manifest agree.
- `vocabulary`: for a model of text, the characters its ids stand for, in id order from 2
  (id 0 pads a row, id 1 ends an item; see `keras_aegan.data.text`), so that its tokens
  read back as text without its data source (`None` for other models).
- `sample_temperature`: its `sample(n, seed=..., temperature=...)` takes a softmax
  temperature (below 1: surer, more repetitive samples; above 1: more varied, less
  plausible ones), which a study may sweep.

Models also implement `preview(images) -> rows of images` for the progress grids. What
`fit` consumes and whether a run is validated are facts of the registry entry
(`keras_aegan.registry`), not of the model, because they describe how data reaches it.

A new kind of model plugs in by declaring itself: the consumers need no new branch.

Example:
    >>> spec = describe(model)
    >>> [part.name for part in spec.parts]
    ['encoder', 'decoder', 'autoencoder']
    >>> spec.part("encoder").fn(images)
"""

import dataclasses
from collections.abc import Callable, Mapping

from keras_aegan.errors import UserError

# The names parts may have: what `export --parts` and `apply` accept. A new kind of model
# that offers a new kind of part adds its name here.
PART_NAMES = ("encoder", "decoder", "autoencoder", "generator", "translator", "predictor",
              "classifier")

SAMPLES_OWN = "own"
SAMPLES_CODE_GAUSSIAN = "code_gaussian"
RECONSTRUCTS_DIRECT = "direct"
RECONSTRUCTS_BY_SEARCH = "latent_search"

UNIT_RANGE = (0.0, 1.0)


@dataclasses.dataclass(frozen=True)
class Port:
    """One input or output of a part.

    Attributes:
        name: the signature's name for it (`images`, `code`, `z`, `label`, ...).
        shape: its shape without the batch dimension.
        kind: what it holds, which says how to make an example of it: `images` (float
            NHWC in [0, 1]), `code` (an encoder's output), `noise` (standard normal),
            `uniform` (noise uniform in [0, 1): a text generator draws each token from
            it), `temperature` (a positive scale per example; 1 samples as trained),
            `labels` (int class indices), `tokens` (int character ids, see
            `ModelSpec.vocabulary`), or a kind a new model defines.
        dtype: `float32` or `int32`.
        range: the value range when it is bounded, e.g. `(0.0, 1.0)` for images.
    """

    name: str
    shape: tuple
    kind: str
    dtype: str = "float32"
    range: tuple | None = None

    def manifest(self):
        """The port as the export manifest records it."""
        out = {"shape": [None, *self.shape], "dtype": self.dtype, "kind": self.kind}
        if self.range is not None:
            out["range"] = list(self.range)
        return out


def image_port(shape, name="images"):
    """A port of float images in [0, 1]."""
    return Port(name, tuple(int(d) for d in shape), "images", range=UNIT_RANGE)


def code_port(latent_dim, name="code"):
    return Port(name, (int(latent_dim),), "code")


def noise_port(latent_dim, name="z"):
    return Port(name, (int(latent_dim),), "noise")


def label_port(name="label"):
    return Port(name, (), "labels", dtype="int32")


@dataclasses.dataclass(frozen=True)
class Part:
    """A sub-network a user can take away: one deterministic endpoint.

    Attributes:
        name: the part's name (`encoder`, `generator`, ...): its export folder.
        endpoint: the method name in the SavedModel (`encode`, `generate`, ...).
        fn: a graph-traceable function of the input tensors, in the order of `inputs`,
            returning one tensor; no random ops (TF Lite cannot run them).
        inputs: the `Port`s it takes.
        output: the `Port` it returns.
        about: one sentence on what to feed it, for the manifest and `apply`.
    """

    name: str
    endpoint: str
    fn: Callable
    inputs: tuple
    output: Port
    about: str = ""


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What a model is and offers; see the module docstring."""

    family: str
    image_shape: tuple
    latent_dim: int | None = None
    parts: tuple = ()
    conditional: bool = False
    num_classes: int | None = None
    sampler: str | None = None
    reconstruction: str | None = None
    features: tuple | None = None
    networks: Mapping = dataclasses.field(default_factory=dict)
    losses: Mapping = dataclasses.field(default_factory=dict)
    optimizers: Mapping = dataclasses.field(default_factory=dict)
    task: Mapping | None = None
    exportable: bool = True
    vocabulary: str | None = None
    sample_temperature: bool = False

    def __post_init__(self):
        if self.sampler not in (None, SAMPLES_OWN, SAMPLES_CODE_GAUSSIAN):
            raise ValueError(f"unknown sampler {self.sampler!r}")
        if self.reconstruction not in (None, RECONSTRUCTS_DIRECT, RECONSTRUCTS_BY_SEARCH):
            raise ValueError(f"unknown reconstruction {self.reconstruction!r}")
        if self.sample_temperature and self.sampler != SAMPLES_OWN:
            raise ValueError("only a model with its own sampler takes a temperature")
        if self.conditional != (self.num_classes is not None):
            raise ValueError("a conditional model declares num_classes, and only it")
        names = [p.name for p in self.parts]
        if len(set(names)) != len(names):
            raise ValueError(f"parts named twice: {names}")
        unknown = set(names) - set(PART_NAMES)
        if unknown:
            raise ValueError(f"part names {sorted(unknown)} are not in protocol.PART_NAMES")

    @property
    def part_names(self):
        return tuple(p.name for p in self.parts)

    def has(self, name):
        return name in self.part_names

    def part(self, name):
        """The part called `name`; a `UserError` naming the parts the model has."""
        for part in self.parts:
            if part.name == name:
                return part
        raise UserError(f"this {self.family} has no {name}; it has: "
                        f"{', '.join(self.part_names) or 'no parts'}")


def describe(model):
    """The `ModelSpec` of a keras_aegan model; a `UserError` for anything else."""
    declare = getattr(type(model), "describe", None)
    if declare is None:
        raise UserError(f"{type(model).__name__} is not a keras_aegan model (it does not "
                        "declare itself with describe())")
    return model.describe()


def feature_extractor(model, spec=None):
    """A Keras model mapping images to the declared feature layer's output, or `None`."""
    import keras

    spec = spec or describe(model)
    if spec.features is None:
        return None
    network_name, layer_name = spec.features
    network = spec.networks[network_name]
    try:
        layer = network.get_layer(layer_name)
    except ValueError:
        raise UserError(f"the {network_name} has no layer named {layer_name!r} (a model "
                        "saved by an older keras_aegan?)") from None
    inputs = network.inputs if len(network.inputs) > 1 else network.inputs[0]
    return keras.Model(inputs, layer.output, name=f"{network_name}_features")
