"""Colour photographs shipped in scikit-image's wheel, cut into seeded patches (offline).

Spec: `photos` (32x32 RGB patches) or `photos:SIZE` (SIZExSIZE, 8 to 256).

The train/test split is made **by photograph**, not by patch: the test patches come from
photographs the training patches never saw (`TEST_PHOTOS`), so a test score measures
generalisation to new scenes rather than to new crops of known ones. The validation split
is carved from the training patches.

Photographs larger than `MAX_SIDE` on their short side are first shrunk (area averaging)
so that a patch holds a piece of a scene rather than a flat stretch of one texture;
patches that are nearly flat (standard deviation below `MIN_STD`, e.g. black sky) are
drawn again. Everything is seeded by a fixed seed per photograph: every run sees the same
patches.
"""

import numpy as np

from keras_aegan.data.core import array_source, register_source
from keras_aegan.data.specs import int_option
from keras_aegan.errors import DataError

# name -> (scikit-image loader, split). The synthetic images (colorwheel, logo) and the
# duplicate `cat` (= chelsea) are left out.
PHOTOS = {
    "astronaut": ("astronaut", "train"),
    "rocket": ("rocket", "train"),
    "motorcycle": ("stereo_motorcycle", "train"),
    "hubble_deep_field": ("hubble_deep_field", "train"),
    "immunohistochemistry": ("immunohistochemistry", "train"),
    "retina": ("retina", "train"),
    "chelsea": ("chelsea", "test"),
    "coffee": ("coffee", "test"),
}
TEST_PHOTOS = tuple(name for name, (_, split) in PHOTOS.items() if split == "test")
PATCHES_PER_PHOTO = {"train": 1000, "test": 500}
DEFAULT_SIZE = 32
MIN_SIZE, MAX_SIZE = 8, 256
MAX_SIDE = 512
MIN_STD = 0.03
_SEED = 20171112


def load_photo(name):
    """One photograph as uint8 RGB `(H, W, 3)`, its short side at most `MAX_SIDE`."""
    import skimage.data
    from skimage.transform import downscale_local_mean

    loader = getattr(skimage.data, PHOTOS[name][0])
    image = loader()
    if isinstance(image, tuple):  # stereo_motorcycle: (left, right, disparity)
        image = image[0]
    image = np.asarray(image)[..., :3]
    shrink = int(np.ceil(min(image.shape[:2]) / MAX_SIDE))
    if shrink > 1:
        image = downscale_local_mean(image, (shrink, shrink, 1)).round().astype("uint8")
    return image


def cut_patches(image, size, count, seed):
    """`count` seeded `size x size` patches of one photograph, nearly flat ones redrawn."""
    height, width = image.shape[:2]
    if min(height, width) < size:
        raise DataError(f"photos: patches of {size} px do not fit a {height}x{width} photo")
    rng = np.random.default_rng(seed)
    patches = []
    attempts = 0
    while len(patches) < count:
        attempts += 1
        top = int(rng.integers(0, height - size + 1))
        left = int(rng.integers(0, width - size + 1))
        patch = image[top:top + size, left:left + size]
        # After many flat draws (a mostly dark photo) accept what comes.
        if patch.std() / 255.0 >= MIN_STD or attempts > 20 * count:
            patches.append(patch)
    return np.stack(patches)


@register_source("photos", "photos[:SIZE]", needs_arg=False)
def open_photos(spec, arg, options):
    """Seeded RGB patches of scikit-image's colour photographs, split by photograph."""
    size = int_option("photos", arg, DEFAULT_SIZE, MIN_SIZE, MAX_SIZE, "the patch size")
    splits = {"train": [], "test": []}
    for index, (name, (_, split)) in enumerate(PHOTOS.items()):
        splits[split].append(cut_patches(load_photo(name), size, PATCHES_PER_PHOTO[split],
                                         _SEED + 1000 * index + size))
    arrays = {split: (np.concatenate(parts), None) for split, parts in splits.items()}
    return array_source(spec, (arrays, None), options)
