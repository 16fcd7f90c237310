"""TensorFlow's start-up noise, silenced: a healthy run prints no error-looking lines.

Importing TensorFlow 2.21 prints C++ log lines before its logging is initialised (so
`TF_CPP_MIN_LOG_LEVEL` cannot hide them): `absl::InitializeLog`, oneDNN, `cudart_stub ...
Could not find cuda drivers`, and on the first device query `E0000 ... failed call to
cuInit` on a machine without a GPU. `quiet_tensorflow()` imports TensorFlow and queries the
devices with the process's standard error (file descriptor 2, where C++ writes) pointed at
/dev/null, and keeps C++ logging at errors only afterwards. `KERAS_AEGAN_VERBOSE=1` (or
`--verbose` on the command line) shows everything.

This module imports nothing heavy: call it before anything imports TensorFlow.
"""

import contextlib
import os
import sys

VERBOSE_ENV = "KERAS_AEGAN_VERBOSE"


def verbose():
    """Whether the user asked for TensorFlow's own log lines."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no")


@contextlib.contextmanager
def quiet_stderr():
    """Point file descriptor 2 (where C++ libraries write) at /dev/null for a while,
    unless verbose: e.g. LiteRT's `INFO: Created TensorFlow Lite XNNPACK delegate`."""
    if verbose():
        yield
        return
    with _stderr_to_devnull():
        yield


@contextlib.contextmanager
def _stderr_to_devnull():
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def quiet_tensorflow():
    """Import TensorFlow (and Keras) without the start-up noise, unless verbose.

    Returns:
        `True` when the noise was silenced.
    """
    if verbose() or "tensorflow" in sys.modules:
        return False
    # From here on only fatal C++ messages. The rest is noise on a healthy run, including
    # error-level lines ("oneDNN supports DT_INT32 only on platforms with AVX-512",
    # "NodeDef mentions attribute Truncate" when exporting): a real failure reaches Python
    # as an exception, which the command line reports.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _stderr_to_devnull():
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe (cuInit) happens here
        import keras  # noqa: F401
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)  # tensorflow-datasets' WARNING:absl lines
    return True
