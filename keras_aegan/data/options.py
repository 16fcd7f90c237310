"""`DataOptions`: where a run's or a study's data comes from and how it is shaped.

Plain data (no TensorFlow): `RunConfig` and `StudyConfig` extend it, and `open_data()` opens
the source through the spec registry (`keras_aegan.data.specs`).
"""

import dataclasses
import os
import re

from keras_aegan.data.specs import open_data
from keras_aegan.errors import DataError, check_image_shape, check_number


def slug(spec):
    """A short, file-name-safe name for a source spec: `idx:/data/mnist` -> `mnist`,
    `faces:32` -> `faces-32` (a size keeps the source's name)."""
    kind, _, arg = spec.partition(":")
    name = os.path.basename(arg.rstrip("/\\")) if arg else spec
    if name.isdigit():
        name = f"{kind}-{name}"
    return re.sub(r"[^\w.\-]+", "_", name).strip("_") or "data"


@dataclasses.dataclass(frozen=True)
class DataOptions:
    """Where the data comes from and how it is shaped: shared by runs and studies.

    Attributes:
        dataset: a source spec (see `keras_aegan.data`).
        image_shape: resize images to `(H, W, C)`; `None` keeps the source's shape.
        crop: center-crop to the aspect ratio of `image_shape` before resizing.
        data_dir: tensorflow-datasets data folder.
        download: let tensorflow-datasets download a missing dataset.
        manual_dir: files fetched by hand, for tensorflow-datasets builders that use them.
        validation_fraction: share of train carved out as validation when needed.
    """

    dataset: str = "digits"
    image_shape: tuple | None = None
    crop: bool = False
    data_dir: str | None = None
    download: bool = True
    manual_dir: str | None = None
    validation_fraction: float = 0.1

    def __post_init__(self):
        if not isinstance(self.dataset, str) or not self.dataset.strip():
            raise DataError(f"dataset spec must be a non-empty string, got {self.dataset!r}")
        check_number("validation_fraction", self.validation_fraction, 0, 1, high_open=True,
                     error=DataError)
        if self.image_shape is not None:
            object.__setattr__(self, "image_shape", check_image_shape(
                self.image_shape, name="image shape", error=DataError))

    def data_options(self):
        """Just the data fields, as a `DataOptions` (for configs that extend it)."""
        return DataOptions(**{f.name: getattr(self, f.name)
                              for f in dataclasses.fields(DataOptions)})

    def open_data(self):
        """Open the source these options describe (a `keras_aegan.data.Source`)."""
        return open_data(self.data_options())
