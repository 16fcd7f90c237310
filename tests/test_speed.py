"""The machine's facts recorded beside every figure (`keras_aegan.training.speed`)."""

import json
import os
import subprocess
import sys

from keras_aegan.training import speed


def test_machine_facts_are_plain_data():
    facts = speed.machine()
    assert json.loads(json.dumps(facts)) == facts
    assert facts["cores"] >= 1
    assert set(facts["flags"]) <= set(speed.TF_FLAGS)
    assert facts["speed_index_gflops"] > 0
    assert facts["cpu"]


def test_speed_index_measures_a_product_rate():
    # A quarter of the default size does 1/64 of the work per product: the rate stays
    # positive and finite, and the measurement ends near the time asked for.
    import time

    start = time.perf_counter()
    rate = speed.speed_index(seconds=0.2, size=256)
    assert 0 < rate < 1e5
    assert time.perf_counter() - start < 10


def test_describe_machine_one_line():
    facts = {"cpu": "Test CPU", "cores": 1, "flags": ["avx2", "fma"],
             "speed_index_gflops": 36.84}
    assert speed.describe_machine(facts) == \
        "Test CPU, 1 core (avx2, fma), speed index 36.8 GFLOP/s"
    facts.update(cores=2, flags=[])
    assert speed.describe_machine(facts) == "Test CPU, 2 cores (no AVX), speed index 36.8 GFLOP/s"


def test_usable_cores_follow_the_affinity():
    if not hasattr(os, "sched_setaffinity"):
        import pytest
        pytest.skip("no CPU affinity on this platform")
    code = ("import os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]}); "
            "from keras_aegan.training import speed; print(speed.usable_cores())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.stdout.strip() == "1"
