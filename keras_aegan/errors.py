"""Errors a user can cause and fix; the CLI prints them as one line and exits with 2."""


class UserError(ValueError):
    """Bad input from the user: a wrong name, a missing file, a nonsensical number."""


class DataError(UserError):
    """A data source that cannot be read as asked."""
