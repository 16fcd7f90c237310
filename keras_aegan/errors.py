"""Errors a user can cause and fix; the CLI prints them as one line and exits with 2."""

import numbers


class UserError(ValueError):
    """Bad input from the user: a wrong name, a missing file, a nonsensical number."""


class DataError(UserError):
    """A data source that cannot be read as asked."""


def check_int(name, value, minimum=1, error=UserError):
    """`int(value)` when `value` is an integer (not a bool) >= `minimum`; else `error`
    naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise error(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
