"""Atomic file writes: a crash at any moment leaves either the old file or the new one.

Everything keras_aegan writes that another process (or a resumed run) may read goes
through `atomic_path`: run configs, checkpoints, models, grids, reports, caches. Work
that two processes should not both do (training one cached evaluator) takes turns under
`locked`.
"""

import contextlib
import json
import os
import pathlib

# The cache root of everything built once and kept (evaluators, synthesized audio).
CACHE_ENV = "KERAS_AEGAN_CACHE"


def default_cache_dir():
    """The cache root: `$KERAS_AEGAN_CACHE`, else `~/.cache/keras_aegan`."""
    return pathlib.Path(os.environ.get(CACHE_ENV) or
                        pathlib.Path.home() / ".cache" / "keras_aegan")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success it replaces `path` in one rename.

    The temporary name keeps the extension (Keras and NumPy choose the format by it) and
    holds `.tmp-`, so folder listings can skip half-written files. On an exception the
    temporary file is removed and `path` is left as it was.

    Example:
        >>> with atomic_path("runs/x/model.keras") as tmp:
        ...     model.save(tmp)
    """
    path = os.fspath(path)
    root, ext = os.path.splitext(path)
    tmp = f"{root}.tmp-{os.getpid()}{ext}"
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock on the file `path` (created if absent) while the block runs.

    Other processes entering `locked` on the same path wait their turn. A POSIX advisory
    lock (`fcntl.flock`): released by the system if the holder dies. Where `fcntl` does not
    exist or the lock file cannot be made (a read-only place) the block runs unlocked.

    Example:
        >>> with locked(cache / "evaluators.lock"):
        ...     evaluator = load_or_train()
    """
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        handle = open(path, "a")
    except OSError:  # a read-only place: nothing can be written there to race over
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_text(path, text):
    """Write `text` to `path` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def write_json(path, value):
    """Write `value` as indented JSON atomically; numpy numbers and paths become plain."""
    return write_text(path, json.dumps(value, indent=2, default=_plain) + "\n")


def json_ready(value):
    """`value` as `read_json` reads it back after `write_json`: tuples become lists, numpy
    values plain numbers."""
    return json.loads(json.dumps(value, default=_plain))


def read_json(path):
    """The JSON in `path`, or `None` when it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _plain(value):
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
