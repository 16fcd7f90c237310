"""The machine a figure came from: its CPU, the instruction sets TensorFlow uses, a speed index.

Machines of one kind differ several-fold in speed (instruction sets, neighbours), so a
figure "after 10 minutes" holds only on a machine as fast as the one it was measured on.
Every run folder, study and benchmark records `machine()` beside its figures: the CPU
model, the cores this process may use, the instruction-set flags that matter to
TensorFlow's CPU kernels, and a speed index measured in about a second — the float32
matrix-multiply rate of one `tf.function` (GFLOP/s), which tracks how fast the models'
dense and convolution layers run.

Example:
    >>> facts = machine()
    >>> print(describe_machine(facts))
    AMD EPYC, 2 cores (avx2, fma), speed index 95.1 GFLOP/s
"""

import functools
import os
import platform
import time

# Instruction sets TensorFlow's CPU kernels (oneDNN, Eigen) are built to use when present.
TF_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni",
            "amx_tile", "amx_bf16", "amx_int8")

# The speed index's matrix size: 2 * N^3 flops a product, large enough that the product
# (not the call overhead) is timed, small enough that a slow machine does one in ~0.5 s.
MATMUL_SIZE = 2048


def cpu_model():
    """The CPU's model name (from `/proc/cpuinfo` on Linux), or what `platform` says."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def cpu_flags():
    """The instruction-set flags of `TF_FLAGS` this CPU has, in that order."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return [flag for flag in TF_FLAGS if flag in have]
    except OSError:
        pass
    return []


def usable_cores():
    """The cores this process may run on (`taskset` narrows them), not all the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def speed_index(seconds=1.0, size=MATMUL_SIZE):
    """float32 matrix-multiply throughput in GFLOP/s, measured for about `seconds`.

    One warm-up product (tracing, thread-pool start), then products until `seconds` have
    passed; the fastest product counts, so a brief stall by a neighbour does not.
    """
    import tensorflow as tf

    a = tf.random.stateless_normal((size, size), seed=(0, 1))
    b = tf.random.stateless_normal((size, size), seed=(2, 3))
    product = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)))
    product(a, b).numpy()
    best, start = float("inf"), time.perf_counter()
    while True:
        began = time.perf_counter()
        product(a, b).numpy()
        best = min(best, time.perf_counter() - began)
        if time.perf_counter() - start >= seconds:
            break
    return 2.0 * size ** 3 / best / 1e9


@functools.lru_cache(maxsize=1)
def machine():
    """The facts of this machine as plain data (JSON-able), the speed index measured once
    per process: `{"cpu", "cores", "flags", "speed_index_gflops", "tensorflow"}`."""
    import tensorflow as tf

    return {"cpu": cpu_model(), "cores": usable_cores(), "flags": cpu_flags(),
            "speed_index_gflops": round(speed_index(), 1), "tensorflow": tf.__version__}


def describe_machine(facts=None):
    """One line for logs and report headers: `CPU, N cores (flags), speed index X GFLOP/s`."""
    facts = machine() if facts is None else facts
    flags = ", ".join(facts.get("flags") or []) or "no AVX"
    cores = facts.get("cores", "?")
    return (f"{facts.get('cpu', 'unknown CPU')}, {cores} core{'' if cores == 1 else 's'} "
            f"({flags}), "
            f"speed index {facts.get('speed_index_gflops', float('nan')):.1f} GFLOP/s")
