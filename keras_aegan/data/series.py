"""Time series cut into windows: `csv:FILE` and the real series statsmodels ships.

- `csv:FILE`: a user's series, one row per time step and one column per channel (numbers
  only; a first row of column names is recognised and skipped).
- `statsmodels:NAME`: a real series from the statsmodels wheel (offline): `elnino` (monthly
  sea surface temperature 1950-2010, 732 steps), `co2` (weekly Mauna Loa CO2 1958-2001,
  2,284 steps, its 59 gaps filled by linear interpolation), `sunspots` (yearly sunspot
  activity 1700-2008, 309 steps).

A series is split by time, never by window: the first 70 % of the steps are `train`, the
next 10 % `validation`, the last 20 % `test`, and each part is cut into overlapping
windows of `WINDOW` steps (stride 1, as TimeGAN cuts its stock and energy data), so no
window straddles two splits. Each channel is min-max scaled to [0, 1] with the training
part's minimum and maximum (TimeGAN's scaling, without looking at the future); later
parts may leave [0, 1] where the series does. Every example is a float32 `(WINDOW,
channels)` window; series have no labels.
"""

import csv
import os

import numpy as np
import tensorflow as tf

from keras_aegan.data.core import DataInfo, Source, register_source
from keras_aegan.errors import DataError, check_int

# TimeGAN's sequence length.
WINDOW = 24
# Shares of the steps, in time order.
SPLIT_FRACTIONS = (("train", 0.7), ("validation", 0.1), ("test", 0.2))
STATSMODELS_SERIES = ("elnino", "co2", "sunspots")


def windows(series, length=WINDOW, stride=1):
    """Overlapping windows `(n, length, channels)` of a `(steps, channels)` series."""
    series = np.asarray(series, "float32")
    count = (len(series) - length) // stride + 1
    if count < 1:
        return np.zeros((0, length, series.shape[1]), "float32")
    index = np.arange(length)[None, :] + stride * np.arange(count)[:, None]
    return series[index]


def check_series(series, where):
    """A `(steps, channels)` float array of finite numbers, or a `DataError`."""
    series = np.asarray(series)
    if series.ndim == 1:
        series = series[:, None]
    if series.ndim != 2 or not series.size:
        raise DataError(f"{where}: an empty series (shape {series.shape}); give one row per "
                        "time step and one column per channel")
    if not np.issubdtype(series.dtype, np.number) or not np.all(np.isfinite(series)):
        raise DataError(f"{where}: the series must hold finite numbers only")
    return series.astype("float32")


def split_by_time(series, length=WINDOW, where="series"):
    """Split a series by time and cut each part into windows (see the module).

    Args:
        series: `(steps, channels)` numbers.
        length: steps per window.
        where: how errors name the series.

    Returns:
        `(splits, scale)`: `{split: (n, length, channels) windows}` in the training part's
        [0, 1] scale, and `(minimum, range)` per channel to undo it
        (`x * range + minimum`).

    Raises:
        DataError: a series too short to give each split at least one window.
    """
    series = check_series(series, where)
    length = check_int("window length", length, minimum=2, error=DataError)
    steps = len(series)
    bounds, start = {}, 0
    for split, fraction in SPLIT_FRACTIONS:
        end = steps if split == "test" else start + int(round(fraction * steps))
        bounds[split] = (start, end)
        start = end
    short = [s for s, (a, b) in bounds.items() if b - a < length]
    if short:
        need = int(np.ceil(length / min(f for s, f in SPLIT_FRACTIONS if s in short)))
        raise DataError(f"{where}: {steps} time steps are too few to cut windows of {length} "
                        f"steps from each split by time ({', '.join(short)} would be empty); "
                        f"give at least about {need} steps")
    low, high = bounds["train"]
    minimum = series[low:high].min(0)
    spread = series[low:high].max(0) - minimum
    spread = np.where(spread > 0, spread, 1.0).astype("float32")
    scaled = (series - minimum) / spread
    splits = {split: windows(scaled[a:b], length) for split, (a, b) in bounds.items()}
    return splits, (minimum, spread)


def series_source(series, name, length=WINDOW):
    """A `Source` of windows of one series, split by time (see `split_by_time`).

    Example:
        >>> source = series_source(np.sin(np.arange(1000) / 10.0), "sine")
        >>> source.info.image_shape
        (24, 1)
    """
    splits, _ = split_by_time(series, length, where=name)
    return windows_source(splits, name)


def windows_source(splits, name):
    """A `Source` over ready windows `{split: (n, length, channels)}` (no labels)."""
    shape = tuple(int(d) for d in splits["train"].shape[1:])
    info = DataInfo(name=name, image_shape=shape, num_classes=None,
                    splits={split: len(x) for split, x in splits.items()})
    return Source(info, {split: tf.data.Dataset.from_tensor_slices(np.asarray(x, "float32"))
                         for split, x in splits.items()})


# ------------------------------------------------------------------------------- csv


def read_csv(path):
    """A CSV file as a `(steps, channels)` float array (one column per channel).

    A first row that is not all numbers is taken as column names.

    Raises:
        DataError: a missing file, an empty series, a non-numeric (or empty) cell, rows of
            different lengths; the message names the row and column.
    """
    if not os.path.isfile(path):
        raise DataError(f"csv:{path}: no such file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [row for row in csv.reader(f) if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"csv:{path}: cannot read ({e})") from None
    if rows and not all(_is_number(c) for c in rows[0]):
        rows = rows[1:]  # column names
        first = 2
    else:
        first = 1
    if not rows:
        raise DataError(f"csv:{path}: an empty series (no rows of numbers)")
    width = len(rows[0])
    values = np.empty((len(rows), width), "float32")
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataError(f"csv:{path}: ragged rows: row {i + first} has {len(row)} "
                            f"cells, the first row of numbers has {width}")
        for j, cell in enumerate(row):
            if not _is_number(cell):
                raise DataError(f"csv:{path}: row {i + first}, column {j + 1}: "
                                f"{cell.strip()!r} is not a number")
            values[i, j] = float(cell)
    if not np.all(np.isfinite(values)):
        raise DataError(f"csv:{path}: the series holds NaN or Inf")
    return values


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return bool(cell.strip())


@register_source("csv", "csv:FILE")
def open_csv(spec, path, options):
    """A CSV series: one row per time step, one column per channel (see the module)."""
    del options
    return series_source(read_csv(path), spec)


# ----------------------------------------------------------------------- statsmodels


def statsmodels_series(name):
    """A real series shipped in the statsmodels wheel, `(steps, 1)` float32."""
    if name not in STATSMODELS_SERIES:
        raise DataError(f"statsmodels:{name}: unknown series; choose from "
                        f"{', '.join(STATSMODELS_SERIES)}")
    try:
        import statsmodels.api as sm
    except ImportError:
        raise DataError("statsmodels series need the statsmodels package "
                        "(pip install statsmodels)") from None
    if name == "elnino":
        table = sm.datasets.elnino.load_pandas().data
        values = table.drop(columns="YEAR").to_numpy().reshape(-1)  # year by year, Jan-Dec
    elif name == "co2":
        values = sm.datasets.co2.load_pandas().data["co2"].interpolate().bfill().to_numpy()
    else:
        values = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    return np.asarray(values, "float32")[:, None]


@register_source("statsmodels", "statsmodels:NAME")
def open_statsmodels(spec, name, options):
    """A real series from the statsmodels wheel: elnino, co2 or sunspots."""
    del options
    return series_source(statsmodels_series(name), spec)
