"""Docs that run: every code block of README.md and export/README.md, in order, in a copy
of the checkout, with small budgets.

Budgets are shrunk the same way for every block (`--epochs N` -> 1 epoch of 2 steps,
`--budget-seconds S` -> 2, a study's `--steps N` (or none) -> 2, `--minutes M` -> `--smoke`, `epochs=N` -> `epochs=1,
steps_per_epoch=2`, ...); nothing else in a command changes. An HTML comment right before a
block can say how to treat it:

- `<!-- docs: skip (why) -->`: not run here (a server, Docker, a second machine);
- `<!-- docs: slow -->`: run only with `-m slow` (trains on the full MNIST files);
- `<!-- docs: needs-shared -->`: needs `../shared/data/mnist`, skipped where it is absent.

`pip install` is already done and `python -m pytest` is this very suite: both are skipped.
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, SHARED_MNIST

DOCS = ("README.md", "export/README.md")
_FENCE = re.compile(r"(?:<!-- docs: (?P<directive>[^>]*?) -->\s*\n)?```(?P<lang>bash|python)\n"
                    r"(?P<body>.*?)\n```", re.S)


def blocks(path):
    """`(language, body, directive)` of each bash/python block of a Markdown file."""
    text = (ROOT / path).read_text()
    return [(m["lang"], m["body"], (m["directive"] or "").strip())
            for m in _FENCE.finditer(text)]


def shrink_shell(line):
    """A shell command with small budgets (None: not run here)."""
    line = re.sub(r"^pip install -r requirements\.txt && ", "", line.strip())
    if not line or line.startswith(("pip ", "python -m pytest", "tensorboard ")):
        return None
    if re.match(r"python (train\.py|benchmarks/)", line) is None:
        return line
    if line.startswith("python benchmarks/"):
        line = re.sub(r"--minutes [\d.]+", "--smoke", line)
        return line if "--smoke" in line else line + " --smoke"
    study = re.match(r"python train\.py( study|\s*$)", line) is not None
    if study:
        # Bare `python train.py` is the study; with options it needs the command's name.
        line = re.sub(r"^python train\.py\s*$", "python train.py study", line)
        line = re.sub(r"--epochs \d+", "--epochs 1", line)
        line = re.sub(r"--seeds [\d,]+", "--seeds 0", line)
        line = re.sub(r"--budget-seconds [\d.]+", "--budget-seconds 2", line)
        line = re.sub(r"--steps \d+", "--steps 2", line)
        if not re.search(r"--(epochs|budget-seconds|steps) ", line):
            line += " --steps 2"
        line += " --eval-samples 50"
        kind = study_kind(line)
        if kind == "timeseries":  # TimeGAN's scores: 1 repeat of a few steps
            line += (" --task-option repeats=1 --task-option disc_iterations=20"
                     " --task-option pred_iterations=20")
        if kind == "text":  # a few samples a temperature, a short two-sample test
            line += " --task-option samples=50 --task-option two_sample_steps=5"
    elif line.startswith("python train.py augment"):
        line += " --classifier-steps 5 --generator-steps 5 --test-images 200"
    elif line.startswith("python train.py robust"):
        line = re.sub(r"--epochs \d+", "--epochs 1", line)
        line += " --warmup-epochs 0 --budget-seconds 2 --test-images 100 --eval-steps 2"
    elif re.match(r"python train\.py (--|train )", line):
        line = re.sub(r"--epochs \d+", "--epochs 1", line)
        line = re.sub(r"--budget-seconds [\d.]+", "--budget-seconds 2", line)
        if "--steps-per-epoch" not in line:
            line += " --steps-per-epoch 2"
    return line


def study_kind(line):
    """The study kind a `train.py study` line runs: its `--task`, else the kind its
    `--dataset` picks (`--dataset surnames` is the text study)."""
    from keras_aegan.studies import DEFAULT_KIND, kind_for_dataset

    task, dataset = (re.search(rf"--{flag} (\S+)", line) for flag in ("task", "dataset"))
    return task.group(1) if task else \
        kind_for_dataset(dataset.group(1)) if dataset else DEFAULT_KIND


def shrink_python(code):
    code = re.sub(r"\bepochs=\d+", "epochs=1, steps_per_epoch=2", code)
    return re.sub(r"\bbudget_seconds=[\d.]+", "budget_seconds=2", code)


def _logical_lines(body):
    """Shell lines with backslash continuations joined, comments dropped."""
    lines, current = [], ""
    for raw in body.splitlines():
        stripped = raw.rstrip()
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        command = re.sub(r"\s+#.*$", "", current).strip()
        if command and not command.startswith("#"):
            lines.append(command)
        current = ""
    return lines


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A copy of the checkout's tracked files, with `../shared` beside it when it exists."""
    base = tmp_path_factory.mktemp("docs")
    copy = base / "checkout"
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    if SHARED_MNIST.exists():
        (base / "shared").symlink_to(SHARED_MNIST.parents[1])
    return copy


def _run_docs(checkout, path, include_slow):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(checkout)  # the README's Python snippets import keras_aegan
    ran = 0
    for lang, body, directive in blocks(path):
        if directive.startswith("skip") or (directive == "slow" and not include_slow):
            continue
        if directive == "needs-shared" and not SHARED_MNIST.exists():
            continue
        if lang == "python":
            commands = [[sys.executable, "-c", shrink_python(body)]]
        else:
            commands = [["bash", "-c", c] for c in map(shrink_shell, _logical_lines(body))
                        if c is not None]
        for command in commands:
            done = subprocess.run(command, cwd=checkout, env=env, capture_output=True,
                                  text=True, timeout=900)
            assert done.returncode == 0, (f"{path}: {command[-1][:300]}",
                                          done.stdout[-1500:], done.stderr[-3000:])
            assert "Traceback" not in done.stderr, (command[-1][:300], done.stderr[-3000:])
            ran += 1
    return ran


@pytest.mark.ci
@pytest.mark.parametrize("path", DOCS)
def test_every_code_block_runs_as_written(checkout, path):
    assert _run_docs(checkout, path, include_slow=False) > 0


@pytest.mark.slow
@pytest.mark.parametrize("path", DOCS)
def test_every_code_block_runs_with_the_slow_ones(tmp_path, checkout, path):
    assert _run_docs(checkout, path, include_slow=True) > 0


def test_the_budget_shrinking_rules():
    assert shrink_shell("pip install -r requirements.txt && python -m pytest") is None
    assert shrink_shell("python train.py") == \
        "python train.py study --steps 2 --eval-samples 50"
    assert shrink_shell("python train.py --model dcgan --epochs 5") == \
        "python train.py --model dcgan --epochs 1 --steps-per-epoch 2"
    assert shrink_shell("python benchmarks/gan_quality.py --minutes 10") == \
        "python benchmarks/gan_quality.py --smoke"
    assert shrink_shell("python train.py robust --epochs 2") == (
        "python train.py robust --epochs 1 --warmup-epochs 0 --budget-seconds 2 "
        "--test-images 100 --eval-steps 2")
    assert shrink_shell("python train.py study --dataset surnames") == (
        "python train.py study --dataset surnames --steps 2 --eval-samples 50 "
        "--task-option samples=50 --task-option two_sample_steps=5")
    assert shrink_shell("python train.py study --task text --dataset text:a.txt") == (
        "python train.py study --task text --dataset text:a.txt --steps 2 --eval-samples 50 "
        "--task-option samples=50 --task-option two_sample_steps=5")
    assert shrink_python("RunConfig(epochs=5)") == "RunConfig(epochs=1, steps_per_epoch=2)"
    assert pathlib.Path(ROOT / "README.md").exists()
