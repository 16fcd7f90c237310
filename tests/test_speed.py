"""The machine's facts recorded beside every figure (`keras_aegan.training.speed`)."""

import json
import os

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
    # Narrowed for this thread only (Linux affinity is per thread; `usable_cores` reads the
    # calling thread's), then restored: no fresh process needed.
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {sorted(before)[0]})
        assert speed.usable_cores() == 1
    finally:
        os.sched_setaffinity(0, before)
    assert speed.usable_cores() == len(before)
