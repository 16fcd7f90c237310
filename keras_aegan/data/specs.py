"""The spec registry: each kind of data source spec (`idx:DIR`, `csv:FILE`, a tfds name) and
the function that opens it.

Plain code (no TensorFlow): `DataOptions.open_data()` dispatches through it, and the source
modules (`keras_aegan.data.files`, `bundled`, `tfds`, ...) register their openers as they are
imported.
"""

import dataclasses

from keras_aegan.errors import DataError, did_you_mean

# kind -> `SourceKind`; filled by the source modules as they are imported. Names without a
# registered `kind:` prefix go to the tensorflow-datasets opener, registered as TFDS_KIND.
SOURCE_KINDS = {}
TFDS_KIND = "tfds"


@dataclasses.dataclass(frozen=True)
class SourceKind:
    """A kind of source spec: `usage` as the help shows it (`idx:DIR`), and `open`, a
    function `(spec, arg, options) -> Source` where `arg` is the text after `kind:`."""

    kind: str
    usage: str
    open: object
    needs_arg: bool = True


def register_source(kind, usage, needs_arg=True):
    """Decorator registering an opener `(spec, arg, options) -> Source` for `kind:ARG`."""

    def decorator(opener):
        if kind in SOURCE_KINDS:
            raise ValueError(f"source kind {kind!r} is registered twice")
        SOURCE_KINDS[kind] = SourceKind(kind, usage, opener, needs_arg)
        return opener

    return decorator


def int_option(kind, arg, default, low, high, what):
    """The integer after `kind:` in a spec (`default` when there is none), in `[low, high]`.

    Args:
        kind: the spec's kind, as the messages name it (`faces`).
        arg: the text after `kind:`, or `""`.
        default: the value when `arg` is empty.
        low, high: the range allowed.
        what: what the number is (`the side in pixels`).

    Raises:
        DataError: one line naming the kind, what the number is and its range.
    """
    if not arg:
        return default
    try:
        value = int(arg)
    except ValueError:
        raise DataError(f"{kind}: {what} must be a whole number ({low} to {high}), got "
                        f"{arg!r}") from None
    if not low <= value <= high:
        raise DataError(f"{kind}: {what} must be {low} to {high}, got {value}")
    return value


def open_data(options):
    """Open the source a `keras_aegan.config.DataOptions` describes."""
    kind, sep, arg = options.dataset.partition(":")
    entry = SOURCE_KINDS.get(kind)
    if entry is not None and entry.kind != TFDS_KIND:
        if entry.needs_arg and not arg:
            raise DataError(f"{kind}: needs a path, e.g. {entry.usage}")
        return entry.open(options.dataset, arg, options)
    if sep:
        raise DataError(f"unknown source kind {kind!r} in {options.dataset!r}; known: "
                        f"{', '.join(local_sources())} or a tensorflow-datasets name"
                        + did_you_mean(kind, [k for k in SOURCE_KINDS if k != TFDS_KIND]))
    # Any other name is a tensorflow-datasets dataset.
    return SOURCE_KINDS[TFDS_KIND].open(options.dataset, options.dataset, options)


def local_sources():
    """The usage of every registered spec kind but tensorflow-datasets names."""
    return tuple(k.usage for k in SOURCE_KINDS.values() if k.kind != "tfds")
