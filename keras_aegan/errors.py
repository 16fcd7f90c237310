"""Errors a user can cause and fix, and the one set of checks that raise them.

The CLI prints a `UserError` as one line (`one_line`) and exits with 2; a run that diverged
(`keras_aegan.training.callbacks.TrainingDiverged`) is not bad input and exits with its own code.
Every number and shape a user gives passes through `check_int`, `check_number` or
`check_image_shape`, so the same mistake reads the same everywhere.
"""

import difflib
import math
import numbers
import re


class UserError(ValueError):
    """Bad input from the user: a wrong name, a missing file, a nonsensical number."""


class DataError(UserError):
    """A data source that cannot be read as asked."""


class TrainingDiverged(RuntimeError):
    """A loss or a weight became NaN or infinite; the message names the network, the step
    and the last good checkpoint.

    Not a `UserError`: the input was fine, training was not. The CLI prints it as one line
    and exits with `EXIT_DIVERGED`.
    """


EXIT_DIVERGED = 3


def check_int(name, value, minimum=1, error=UserError, maximum=None):
    """`int(value)` when `value` is an integer (not a bool) in `[minimum, maximum]`; else
    `error` naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum \
            or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise error(f"{name} must be an integer {bound}, got {value!r}")
    return int(value)


def check_number(name, value, low=None, high=None, *, low_open=False, high_open=False,
                 error=UserError):
    """`float(value)` when `value` is a finite real number (not a bool) within the bounds.

    Args:
        name: the parameter, as the user knows it.
        value: what the user gave.
        low, high: bounds (`None`: unbounded on that side).
        low_open, high_open: exclude the bound itself.
        error: the exception class raised.

    Example:
        >>> check_number("learning_rate", 1e-3, 0, 10, low_open=True, high_open=True)
        0.001
    """
    ok = (not isinstance(value, bool) and isinstance(value, numbers.Real)
          and math.isfinite(value))
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        raise error(f"{name} must be {_range_text(low, high, low_open, high_open)}, "
                    f"got {value!r}")
    return float(value)


def _range_text(low, high, low_open, high_open):
    if low is None and high is None:
        return "a finite number"
    if low == 0 and low_open:
        return "positive" + ("" if high is None else
                             f" and {'below' if high_open else 'at most'} {high:g}")
    if high is None:
        return f"a number {'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"a number {'<' if high_open else '<='} {high:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


# The sides an image may have: large enough for a stride-2 network, small enough that a typo
# (an extra digit) fails here rather than in the memory allocator.
MIN_SIDE, MAX_SIDE = 4, 4096


def check_image_shape(shape, *, name="image_shape", sequences=False, channels=(1, 3),
                      error=UserError):
    """`shape` as a tuple of ints: `(height, width, channels)` with sides in
    `MIN_SIDE..MAX_SIDE` and a channel count in `channels` (`None`: any); with
    `sequences=True` a
    `(time, features)` shape (each >= 1) is accepted too.

    Example:
        >>> check_image_shape([28, 28, 1])
        (28, 28, 1)
    """
    try:
        dims = tuple(shape)
    except TypeError:
        dims = ()
    if dims and all(not isinstance(d, bool) and isinstance(d, numbers.Integral) for d in dims):
        dims = tuple(int(d) for d in dims)
        if sequences and len(dims) == 2 and min(dims) >= 1:
            return dims
        if len(dims) == 3 and (dims[2] in channels if channels else dims[2] >= 1) \
                and MIN_SIDE <= min(dims[:2]) and max(dims[:2]) <= MAX_SIDE:
            return dims
    what = "(height, width, channels)" + (" or (time, features)" if sequences else "")
    count = " or ".join(map(str, channels)) if channels else "at least 1"
    raise error(f"{name} must be {what} with sides in {MIN_SIDE}..{MAX_SIDE} and "
                f"{count} channels, got {shape!r}")


def one_line(error, limit=300):
    """An exception's message as one line: the first non-empty line, without the context
    Keras wraps around it or terminal colour codes, cut at `limit` characters."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(error).splitlines()]
    lines = [line for line in lines if line and not line.startswith("Exception encountered")]
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def parse_image_shape(text, error=DataError):
    """`"28x28x1"` or `"32,32,3"` -> `(28, 28, 1)`; `"28x28"` means one channel."""
    parts = text.replace(",", "x").lower().split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise error(f"image shape must look like 28x28x1, got {text!r}") from None
    if len(dims) == 2:
        dims = (*dims, 1)
    return check_image_shape(dims, name="image shape", error=error)


def did_you_mean(word, names):
    """` (did you mean a or b?)` for the names close to a mistyped `word`, else ``."""
    close = difflib.get_close_matches(str(word), list(names), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def lookup(table, name, what):
    """`table[name]`, or a one-line `UserError` naming the known keys of `table` (sorted),
    with the close ones first: `unknown model 'gann' (did you mean gan?); known: ...`.

    Args:
        table: a registry, name -> entry.
        name: the name the user gave.
        what: what the entries are, for the message (`"model"`, `"study kind"`).
    """
    if name not in table:
        raise UserError(f"unknown {what} {name!r}{did_you_mean(name, table)}; known: "
                        f"{', '.join(sorted(table))}")
    return table[name]
