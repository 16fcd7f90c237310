"""Benchmarks are code too: each runs its `--smoke` mode (a tiny budget, seconds) as a user
would run it from a checkout, `python benchmarks/NAME.py --smoke`, from another folder."""

import os
import subprocess
import sys

import pytest
from conftest import ROOT

BENCHMARKS = sorted(p.name for p in (ROOT / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_smoke_mode_runs(name, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), "--smoke"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (done.stdout[-1500:], done.stderr[-3000:])
    assert "Traceback" not in done.stderr
    # Every benchmark prints its figures: at least one table row or figure line.
    assert "|" in done.stdout or any(c.isdigit() for c in done.stdout), done.stdout[-1500:]
