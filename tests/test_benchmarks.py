"""Benchmarks are code too: each runs its `--smoke` mode (a tiny budget, seconds) as a user
would run it from a checkout, `python benchmarks/NAME.py --smoke`, from another folder.

The scripts run one after another in one Python process (each as `__main__`, with its own
`sys.argv`), so that TensorFlow starts once rather than once per script."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

DRIVER = r'''
import json, runpy, sys, time, traceback
results = {}
for path in sys.argv[1:]:
    print(f"@@START {path}", flush=True)
    sys.argv = [path, "--smoke"]
    start = time.perf_counter()
    try:
        runpy.run_path(path, run_name="__main__")
        outcome = "ok"
    except SystemExit as e:
        outcome = "ok" if e.code in (0, None) else f"exit {e.code}"
    except BaseException:
        outcome = traceback.format_exc()[-2000:]
    results[path] = {"outcome": outcome, "seconds": round(time.perf_counter() - start, 1)}
    print(f"\n@@END {path}: {outcome[:60]} ({results[path]['seconds']} s)", flush=True)
print("@@RESULTS@@" + json.dumps(results))
'''


@pytest.mark.ci
def test_every_benchmark_smoke_mode_runs(tmp_path):
    scripts = sorted(str(p) for p in (ROOT / "benchmarks").glob("*.py"))
    assert len(scripts) >= 7
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    done = subprocess.run([sys.executable, "-c", DRIVER, *scripts], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert "@@RESULTS@@" in done.stdout, (done.stdout[-2000:], done.stderr[-3000:])
    results = json.loads(done.stdout.rsplit("@@RESULTS@@", 1)[1])
    failed = {os.path.basename(p): r["outcome"] for p, r in results.items()
              if r["outcome"] != "ok"}
    assert not failed, failed
    # Every benchmark printed figures (a table row or numbers) between its markers.
    for script in scripts:
        section = done.stdout.split(f"@@START {script}\n", 1)[1].split("\n@@END ", 1)[0]
        assert any(c.isdigit() for c in section), (script, section[-500:])
        # ... beside the machine they came from (issue 33: figures travel badly).
        assert "machine: " in section and "GFLOP/s" in section, (script, section[:500])
