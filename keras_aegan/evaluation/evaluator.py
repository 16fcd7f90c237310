"""The evaluator network behind the sample-quality metrics, trained offline per dataset.

Internet-free FID/KID need a feature network. `get_evaluator(source)` trains a small
classifier on the dataset's training split once, caches it on disk (per dataset, image shape
and `EVALUATOR_VERSION`, under `$KERAS_AEGAN_CACHE` or `~/.cache/keras_aegan`) with its test
accuracy, and reloads it afterwards. A source split by identity (`DataInfo.split_by_identity`:
its test people are in no training picture, so a person classifier cannot be scored on
them) gets a classifier of its training identities instead, trained on most of each one's
pictures and scored on the rest. An unlabeled dataset gets PCA features, and its
`predict_classes` raises `MetricUnavailableError`. `InceptionFeatures` offers the standard
InceptionV3 features where their ImageNet weights already lie on disk (never downloaded).
"""

import functools
import hashlib
import json
import math
import os
import pathlib
import re
import time

import keras
import numpy as np
import tensorflow as tf

from keras_aegan.errors import UserError, check_int, one_line
from keras_aegan.files import (CACHE_ENV, atomic_path, default_cache_dir,  # noqa: F401
                               locked, write_json)

# Bump when the evaluator's architecture or training changes: old caches are then ignored.
EVALUATOR_VERSION = "2"
_FEATURES_LAYER = "features"
# Training of a classifier evaluator: about this many steps (in 3 to 30 epochs), Adam with
# a short warm-up to this rate and cosine decay: about a minute on a CPU.
_TARGET_STEPS = 500
_PEAK_LEARNING_RATE = 2e-3
_PCA_COMPONENTS = 64
# An identity evaluator holds out this share of each training identity's pictures (at
# least one) to be scored on, drawn with a fixed seed: 2 of each ORL person's 10.
_HELDOUT_SHARE = 0.2
_HELDOUT_SEED = 20240301
# ... and trains in batches of at most an eighth of its pictures (at least 16): with 256
# ORL pictures, batches of 128 gave 60 steps in 30 epochs and 73% held-out accuracy,
# batches of 32 gave 240 steps and 97%.
_MIN_STEPS_PER_EPOCH, _MIN_BATCH = 8, 16
_INCEPTION_FILES = ("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "inception_v3_weights_tf_dim_ordering_tf_kernels.h5")


class MetricUnavailableError(UserError):
    """A metric cannot be computed for this data: no labels, or no local Inception weights.

    Catch it to record the metric as skipped (the study notes it in its report).
    """


# ----------------------------------------------------------------------------- evaluator


def evaluator_dir(spec, image_shape, cache_dir=None):
    """The folder caching the evaluator of a source spec and image shape.

    Args:
        spec: source spec, e.g. `"digits"` or `"idx:/data/mnist"` (paths are made absolute,
            so `idx:../x` and `idx:/abs/x` share a cache).
        image_shape: `(H, W, C)` the evaluator sees.
        cache_dir: cache root; defaults to `default_cache_dir()`.

    Returns:
        `<cache_dir>/evaluators/<slug>` as a `pathlib.Path` (not created).
    """
    key = _spec_key(spec)
    shape = "x".join(str(int(d)) for d in image_shape)
    digest = hashlib.sha256(f"{key}|{shape}|{EVALUATOR_VERSION}".encode()).hexdigest()[:10]
    readable = re.sub(r"[^A-Za-z0-9]+", "-", key).strip("-")[-40:] or "source"
    root = pathlib.Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return root / "evaluators" / f"{readable}-{shape}-v{EVALUATOR_VERSION}-{digest}"


class Evaluator:
    """A feature network for one dataset: a small trained classifier, or PCA when unlabeled.

    Make one with `get_evaluator`. Attributes: `info` (the JSON record: spec, image shape,
    kind (`classifier`, `identity_classifier` or `pca`), accuracy and what it was measured
    on, ...), `path` (its cache folder), `trained` (True when this call trained it, False
    when it was loaded from the cache).
    """

    def __init__(self, info, path, *, model=None, pca=None, trained=False):
        self.info = info
        self.path = pathlib.Path(path)
        self.trained = trained
        self.image_shape = tuple(info["image_shape"])
        self._model = model
        self._pca = pca
        self._features = None
        if model is not None:
            self._features = keras.Model(model.inputs, model.get_layer(_FEATURES_LAYER).output)

    @property
    def has_classes(self):
        """Whether `predict_classes` works (the source had labels)."""
        return self._model is not None

    @property
    def num_classes(self):
        """Classes `predict_classes` returns (for an identity classifier: the training
        identities, whose source labels `class_labels` gives)."""
        return self.info.get("num_classes")

    @property
    def class_labels(self):
        """The source label of each class `predict_classes` returns, or `None` (PCA)."""
        if not self.has_classes:
            return None
        return tuple(self.info.get("classes") or range(self.num_classes))

    @property
    def test_accuracy(self):
        """Accuracy on the source's test split; `None` for a PCA evaluator and for an
        identity classifier (its test identities are unknown to it: see `accuracy`)."""
        return self.info.get("test_accuracy")

    @property
    def accuracy(self):
        """The classifier's accuracy on what `info["accuracy_on"]` names (the test split,
        or held-out pictures of the training identities), or `None` for PCA."""
        return self.info.get("accuracy", self.info.get("test_accuracy"))

    def describe(self):
        """One line: what the evaluator is and its accuracy."""
        if not self.has_classes:
            return (f"PCA features ({self.info.get('components')} components; the source "
                    "has no labels)")
        if self.info.get("kind") == "identity_classifier":
            what = f"a classifier of {self.num_classes} training identities"
        else:
            what = f"a classifier of {self.num_classes} classes"
        on = self.info.get("accuracy_on", "the test split")
        accuracy = self.accuracy
        return what + (f", accuracy {accuracy:.4f} on {on}" if accuracy is not None else "")

    def features(self, images, batch_size=256):
        """Penultimate-layer embeddings (or PCA projections) of images in [0, 1].

        Args:
            images: `(N, H, W, C)` array of the evaluator's image shape.
            batch_size: images per forward pass.

        Returns:
            `(N, D)` float64 array.
        """
        x = self._check_images(images)
        if self._pca is not None:
            flat = x.reshape(len(x), -1).astype("float64")
            return (flat - self._pca["mean"]) @ self._pca["components"].T
        if not len(x):
            return np.zeros((0, self._features.output.shape[-1]))
        return np.asarray(self._features.predict(x, batch_size=batch_size, verbose=0),
                          dtype="float64")

    def predict_classes(self, images, batch_size=256):
        """Predicted class index per image: the source's label for a classifier, the index
        into `class_labels` for an identity classifier (its classes are the training
        identities only, so that class coverage counts the people it can tell apart).

        Raises:
            MetricUnavailableError: the source has no labels.
        """
        return np.argmax(self.predict_probabilities(images, batch_size), axis=-1)

    def predict_probabilities(self, images, batch_size=256):
        """The classifier's probability of each class (softmax of its logits) per image:
        `(N, num_classes)` float64, in the order of `predict_classes`.

        Raises:
            MetricUnavailableError: the source has no labels.
        """
        if not self.has_classes:
            raise MetricUnavailableError(
                f"{self.info['spec']}: unlabeled source, class-based metrics are unavailable")
        x = self._check_images(images)
        if not len(x):
            return np.zeros((0, self.num_classes))
        logits = np.asarray(self._model.predict(x, batch_size=batch_size, verbose=0),
                            "float64")
        logits -= logits.max(axis=-1, keepdims=True)
        odds = np.exp(logits)
        return odds / odds.sum(axis=-1, keepdims=True)

    def _check_images(self, images):
        x = np.asarray(images, dtype="float32")
        if x.ndim == 3 and self.image_shape[-1] == 1:
            x = x[..., None]
        if x.ndim != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise UserError(f"evaluator for {self.image_shape} images got an array of shape "
                            f"{np.shape(images)}")
        if not np.all(np.isfinite(x)):
            raise UserError("images contain NaN or Inf")
        return x


def _one_at_a_time(get):
    # Processes sharing a cache (parallel test workers, two studies started together) take
    # turns at each evaluator: the second finds the first's cached instead of training its
    # own. Another data set's evaluator does not wait (one trains for minutes).
    @functools.wraps(get)
    def taking_turns(source, *, cache_dir=None, **kwargs):
        folder = evaluator_dir(source.info.name, source.info.image_shape, cache_dir)
        with locked(folder.parent / f"{folder.name}.lock"):
            return get(source, cache_dir=cache_dir, **kwargs)
    return taking_turns


@_one_at_a_time
def get_evaluator(source, *, cache_dir=None, epochs=None, batch_size=128, seed=0,
                  retrain=False, verbose=0, log=print):
    """Load a source's evaluator from the cache, or train and cache it.

    A labeled source gets a small conv classifier trained on its `train` split; its accuracy
    on `test` is recorded in `evaluator.json` beside `model.keras`. A source split by
    identity (`DataInfo.split_by_identity`) gets a classifier of the identities of its
    `train` and `validation` splits, trained on all but `_HELDOUT_SHARE` of each one's
    pictures, its accuracy measured on those held out (`accuracy`, `accuracy_on`; its
    `test_accuracy` is `None`). An unlabeled source gets PCA features (`pca.npz`). The
    cache is keyed by spec, image shape and `EVALUATOR_VERSION`; writes are atomic, and
    processes sharing a cache take turns, so an evaluator is trained once.
    Training calls `keras.utils.set_random_seed(seed)`.

    Args:
        source: a `keras_aegan.data.Source` (from `open_source`) or a spec string.
        cache_dir: cache root; defaults to `$KERAS_AEGAN_CACHE` or `~/.cache/keras_aegan`.
        epochs: training epochs; `None` picks enough for about `_TARGET_STEPS` steps (3 to
            30 epochs: 3 on MNIST).
        batch_size: training batch size.
        seed: training seed.
        retrain: ignore a cached evaluator.
        verbose: Keras `fit` verbosity.
        log: where notes go (training starts, a damaged cache is retrained).

    Returns:
        An `Evaluator`; `evaluator.trained` says whether this call trained it.

    Example:
        >>> ev = get_evaluator(open_source("digits"), cache_dir="/tmp/cache")
        >>> score = fid(ev.features(real_images), ev.features(generated_images))
    """
    if isinstance(source, str):
        from keras_aegan.data import open_source

        source = open_source(source, download=False)
    if epochs is not None:
        check_int("epochs", epochs)
    info = source.info
    path = evaluator_dir(info.name, info.image_shape, cache_dir)
    if not retrain:
        cached, damage = _load_evaluator(path, info)
        if cached is not None:
            return cached
        if damage:
            log(f"warning: the cached evaluator in {path} is damaged ({damage}); "
                "training it again")
    path.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    x_train, y_train = source.arrays("train")
    record = {"spec": info.name, "spec_key": _spec_key(info.name),
              "image_shape": list(info.image_shape), "version": EVALUATOR_VERSION,
              "num_classes": info.num_classes, "train_examples": int(len(x_train)),
              "seed": seed}
    if not info.labeled:
        pca = _fit_pca(x_train)
        with atomic_path(path / "pca.npz") as tmp:
            np.savez(tmp, **pca)
        record.update(kind="pca", components=int(len(pca["components"])), test_accuracy=None,
                      train_seconds=round(time.perf_counter() - start, 2))
        write_json(path / "evaluator.json", record)
        return Evaluator(record, path, pca=pca, trained=True)
    if info.split_by_identity:
        x_train, y_train, x_test, y_test, classes, accuracy_on = _identity_split(source)
        batch_size = min(batch_size, max(_MIN_BATCH, len(x_train) // _MIN_STEPS_PER_EPOCH))
        record.update(kind="identity_classifier", num_classes=len(classes),
                      classes=[int(c) for c in classes], source_num_classes=info.num_classes,
                      train_examples=int(len(x_train)))
    else:
        x_test, y_test = source.arrays("test")
        accuracy_on = f"the test split ({len(y_test)} images)"
        record.update(kind="classifier")
    keras.utils.set_random_seed(seed)
    model = _build_classifier(info.image_shape, record["num_classes"])
    steps = math.ceil(len(x_train) / batch_size)
    if epochs is None:
        epochs = int(min(30, max(3, math.ceil(_TARGET_STEPS / steps))))
    # A short warm-up, then cosine decay to zero: the most accuracy from few epochs.
    total = steps * epochs
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, total, warmup_target=_PEAK_LEARNING_RATE, warmup_steps=max(1, total // 20))
    log(f"training the evaluator of {info.name} ({epochs} epochs on {len(x_train)} images; "
        f"once, then cached in {path})")
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, shuffle=True,
              verbose=verbose)
    train_seconds = time.perf_counter() - start
    logits = model.predict(x_test, batch_size=512, verbose=0)
    accuracy = float(np.mean(np.argmax(logits, -1) == y_test)) if len(y_test) else None
    with atomic_path(path / "model.keras") as tmp:
        model.save(tmp)
    record.update(epochs=epochs, batch_size=batch_size, accuracy=accuracy,
                  accuracy_on=accuracy_on, train_seconds=round(train_seconds, 2))
    if info.split_by_identity:
        record.update(test_accuracy=None, heldout_examples=int(len(y_test)))
    else:
        record.update(test_accuracy=accuracy, test_examples=int(len(y_test)))
    evaluator = Evaluator(record, path, model=model, trained=True)
    record["description"] = evaluator.describe()
    write_json(path / "evaluator.json", record)
    return evaluator


def _identity_split(source):
    """An identity classifier's data: the pictures of `train` and `validation` (the
    training identities), all but `_HELDOUT_SHARE` of each identity's to train on and the
    rest to score on, labels renumbered 0..K-1 over the K identities.

    Returns:
        `(x_fit, y_fit, x_heldout, y_heldout, classes, accuracy_on)`: `classes[i]` is the
        source label of class `i`; `accuracy_on` says what the held-out pictures are.
    """
    from keras_aegan.data.subsets import labeled_subset

    parts = [source.arrays(split) for split in ("train", "validation")
             if source.info.splits.get(split)]
    x = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    classes, y = np.unique(labels, return_inverse=True)
    if len(classes) < 2 or len(labels) < 2 * len(classes):
        raise UserError(f"{source.info.name}: an identity evaluator needs at least 2 "
                        f"identities with 2 pictures each ({len(classes)} identities, "
                        f"{len(labels)} pictures)")
    held = np.zeros(len(y), bool)
    held[labeled_subset(y, _HELDOUT_SHARE, seed=_HELDOUT_SEED)] = True
    # An identity with a single picture would be held out whole: train on it instead.
    counts = np.bincount(y)
    held &= counts[y] > 1
    accuracy_on = (f"{int(held.sum())} held-out pictures of the training identities (none "
                   "seen in training; the test identities are unknown to it)")
    return x[~held], y[~held], x[held], y[held], classes, accuracy_on


def _build_classifier(image_shape, num_classes):
    """The evaluator: `classifiers.build_classifier`'s batch-normalised conv net with a
    128-d embedding (the `features` layer) and dropout 0.3 before the logits. Its layers
    decide every cached evaluator: change them only with `EVALUATOR_VERSION`."""
    from keras_aegan.evaluation.classifiers import build_classifier

    return build_classifier(image_shape, num_classes, trunk="bn_cnn", hidden=128,
                            dropout=0.3, name="evaluator")


def _load_evaluator(path, info):
    """`(evaluator, None)` from the cache; `(None, None)` when there is none for this
    source; `(None, what is wrong)` when the cache is damaged (it is then retrained)."""
    if not (path / "evaluator.json").exists():
        return None, None
    try:
        record = json.loads((path / "evaluator.json").read_text())
    except (OSError, ValueError) as e:
        return None, f"evaluator.json: {type(e).__name__}"
    if (record.get("version") != EVALUATOR_VERSION
            or record.get("spec_key") != _spec_key(info.name)
            or tuple(record.get("image_shape", ())) != tuple(info.image_shape)):
        return None, None  # made for another source or version
    try:
        if record.get("kind") == "pca":
            with np.load(path / "pca.npz", allow_pickle=False) as data:
                pca = {k: data[k] for k in data.files}
            return Evaluator(record, path, pca=pca), None
        model = keras.saving.load_model(path / "model.keras", safe_mode=True)
    except Exception as e:  # zipfile, OSError, ValueError, KeyError: all mean damaged
        return None, f"{type(e).__name__}: {one_line(e, 120)}"
    return Evaluator(record, path, model=model), None


def _fit_pca(x_train):
    from sklearn.decomposition import PCA

    flat = x_train.reshape(len(x_train), -1).astype("float64")
    n = min(_PCA_COMPONENTS, flat.shape[0], flat.shape[1])
    pca = PCA(n_components=n, random_state=0).fit(flat)
    return {"mean": pca.mean_, "components": pca.components_}


def _spec_key(spec):
    kind, sep, arg = spec.partition(":")
    if sep and kind in ("idx", "folder", "npz", "audio") and arg:
        return f"{kind}:{os.path.abspath(os.path.expanduser(arg))}"
    return spec


# ------------------------------------------------------------------------------ inception


def find_inception_weights(weights_path=None):
    """The path of local InceptionV3 ImageNet weights, or `None`; never downloads.

    Looks at `weights_path` if given, else in Keras's cache (`$KERAS_HOME/models` or
    `~/.keras/models`) for the files `keras.applications.InceptionV3` downloads.
    """
    if weights_path is not None:
        return pathlib.Path(weights_path) if os.path.isfile(weights_path) else None
    home = pathlib.Path(os.environ.get("KERAS_HOME") or pathlib.Path.home() / ".keras")
    for name in _INCEPTION_FILES:
        if (home / "models" / name).is_file():
            return home / "models" / name
    return None


class InceptionFeatures:
    """The standard FID features: InceptionV3's 2048-d average pool, from local weights only.

    Args:
        weights_path: an ImageNet InceptionV3 `.h5` / `.weights.h5` file (with or without
            the top); defaults to Keras's download cache.
        input_size: side images are resized to (299 is the standard; 75 is the minimum).

    Raises:
        MetricUnavailableError: no weights file is on disk.
    """

    def __init__(self, weights_path=None, input_size=299):
        found = find_inception_weights(weights_path)
        if found is None:
            where = weights_path or "the Keras cache (~/.keras/models)"
            raise MetricUnavailableError(
                f"InceptionV3 ImageNet weights not found at {where}; they are never "
                "downloaded here: copy them there, or use the dataset's own evaluator")
        if input_size < 75:
            raise UserError(f"input_size must be at least 75, got {input_size}")
        self.weights_path = found
        self.input_size = int(input_size)
        shape = (self.input_size, self.input_size, 3)
        try:
            self._model = keras.applications.InceptionV3(
                include_top=False, weights=str(found), input_shape=shape, pooling="avg")
        except ValueError:
            # A with-top weights file: load it whole and read the pooled features.
            full = keras.applications.InceptionV3(include_top=True, weights=str(found))
            self._model = keras.Model(full.inputs, full.get_layer("avg_pool").output)
            self.input_size = 299

    def features(self, images, batch_size=64):
        """`(N, 2048)` features of `(N, H, W, 1 or 3)` images in [0, 1]."""
        x = np.asarray(images, dtype="float32")
        if x.ndim != 4 or x.shape[-1] not in (1, 3):
            raise UserError(f"images must be (N, H, W, 1 or 3), got shape {x.shape}")
        out = []
        for i in range(0, len(x), batch_size):
            batch = tf.image.resize(x[i:i + batch_size], (self.input_size,) * 2)
            if batch.shape[-1] == 1:
                batch = tf.image.grayscale_to_rgb(batch)
            out.append(self._model(batch * 2.0 - 1.0, training=False).numpy())
        return np.concatenate(out).astype("float64") if out else np.zeros((0, 2048))
