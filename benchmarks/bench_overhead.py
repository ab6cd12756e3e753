"""Iteration overhead: `ratchet run` (one iteration, a new process each) against the floor.

A temporary git repository holds a pytest suite that sleeps ``--suite-seconds`` in total
(spread over its tests) with every test but one failing; the fake MiniMax server on 127.0.0.1
answers at once with a valid proposal that fixes the next failing test, so every iteration is
"improved" and committed. The floor is ONE run of the same test command (``python -m pytest
-q``) started directly in a copy of the same tree, with the same PATH.

Measured (medians):

* floor — the suite run directly in an export of the branch tip, ``--runs`` times (after one
  unmeasured warm-up run), each right after a steady iteration so both see the same load;
* steady — iterations 2 .. runs+1 on one repository: the baseline is in the cache (the
  candidate run of the previous kept change), so each runs the suite once. Its ratio is
  median(iteration) / median(floor); the median of the per-pair ratios is printed too;
* cold — the first iteration on a fresh repository (``--cold-runs`` repositories): no cached
  baseline, so the suite runs twice (baseline + candidate); its ratio is against 2 × floor;
* batch — the same steady iterations done by ONE process (``ratchet run --iterations N``),
  wall / N: the per-process start-up cost is paid once.

Each iteration's wall time is split using the phase times that ``ratchet run`` prints
(``✓ <phase> (1.2s)``, 0.1 s resolution); "outside phases" is the rest: interpreter start and
imports, git plumbing (branch, worktree, tree export), context building and printing.

Run on demand: ``python benchmarks/bench_overhead.py [--suite-seconds S] [--runs N]
[--cold-runs C] [--sandbox auto|bwrap|unshare|none]``. Prints Markdown tables (target: steady
iteration ≤ 1.10 × floor for a 5 s suite). Loopback only; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from ratchet.evaluate.sandbox import choose_sandbox  # noqa: E402
from tests.fakes.minimax_server import FakeMiniMax, Reply  # noqa: E402

VENV_BIN = Path(sys.executable).parent
TEST_COMMAND = "python -m pytest -q"
TARGET_RATIO = 1.10
BRANCH = "ratchet/make-every-value-test-pass"
GIT_ID = {
    "GIT_AUTHOR_NAME": "Bench User",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench User",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}
PHASE_LINE = re.compile(r"^✓ (?P<name>.+) \((?P<secs>\d+(?:\.\d+)?)s\)\s*$")

TESTS = '''import time

import pytest

from app import values

PER_TEST = {per_test!r}


@pytest.mark.parametrize("i", range({n_tests}))
def test_value(i):
    time.sleep(PER_TEST)
    assert getattr(values, f"V{{i}}") == i
'''


@dataclass
class Iteration:
    """One `ratchet run`: wall seconds, the printed phase times, and the verdict line."""

    wall: float
    phases: dict[str, float] = field(default_factory=dict)
    verdict: str = ""

    @property
    def outside(self) -> float:
        return self.wall - sum(self.phases.values())


def base_env(home: Path, sandbox: str, fake_url: str) -> dict[str, str]:
    """A user's minimal environment: venv first on PATH, a private HOME, the fake model."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "COLUMNS": "120",
        "MEM0_TELEMETRY": "false",
        "MEM0_DIR": str(home / ".mem0"),
        "MINIMAX_API_KEY": "bench-key",
        "MINIMAX_BASE_URL": fake_url,
    }
    if sandbox != "auto":
        env["RATCHET_SANDBOX"] = sandbox
    if not (VENV_BIN / "ratchet").exists():  # not installed: `python -m ratchet` from src/
        env["PYTHONPATH"] = str(ROOT / "src")
    return env


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ID}, check=True,
        capture_output=True, text=True,
    )
    return out.stdout.strip()


def make_repo(path: Path, n_tests: int, suite_seconds: float) -> Path:
    """A git repository whose suite sleeps ``suite_seconds`` over ``n_tests`` tests; only
    test 0 passes (``V0 = 0``), test ``i`` passes once ``V{i} = i``."""
    files = {
        "app/__init__.py": "",
        "app/values.py": "".join(f"V{i} = 0\n" for i in range(n_tests)),
        "tests/test_values.py": TESTS.format(per_test=suite_seconds / n_tests, n_tests=n_tests),
        "pytest.ini": "[pytest]\npythonpath = .\n",
        ".github/ratchet.yml": f"task: Make every value test pass\ntest_command: {TEST_COMMAND}\n",
    }
    path.mkdir(parents=True)
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


def fix(i: int) -> Reply:
    """A valid proposal that makes test ``i`` pass."""
    return Reply(content=json.dumps({
        "title": f"Set V{i} to {i}",
        "rationale": f"test_value[{i}] expects V{i} == {i}.",
        "edits": [{"path": "app/values.py", "search": f"V{i} = 0\n", "replace": f"V{i} = {i}\n"}],
    }))


def ratchet_cmd() -> list[str]:
    exe = VENV_BIN / "ratchet"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ratchet"]


def run_ratchet(
    repo: Path, env: dict[str, str], fake: FakeMiniMax, fixes: list[int]
) -> Iteration:
    """One `ratchet run` process doing ``len(fixes)`` iterations (``--iterations``), each of
    which must end "improved" and commit; raises RuntimeError otherwise."""
    fake.script(*(fix(i) for i in fixes))
    start = time.perf_counter()
    out = subprocess.run(
        [*ratchet_cmd(), "run", "--repo", str(repo), "--iterations", str(len(fixes))],
        env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=3600,
    )
    wall = time.perf_counter() - start
    it = Iteration(wall=wall)
    verdicts: set[str] = set()
    commits = 0
    # progress (phases, verdicts) goes to stderr, the summary ("committed ...") to stdout
    for line in (out.stderr + "\n" + out.stdout).splitlines():
        m = PHASE_LINE.match(line.strip())
        if m:
            name = re.sub(r"[0-9a-f]{10}", "<sha>", m["name"])
            it.phases[name] = it.phases.get(name, 0.0) + float(m["secs"])
        elif line.startswith("verdict: "):
            verdicts.add(line.split(" ", 1)[1].split(" — ", 1)[0].strip())
        elif line.startswith("committed "):
            commits += 1
    it.verdict = ", ".join(sorted(verdicts))
    if out.returncode != 0 or it.verdict != "improved" or commits != len(fixes):
        raise RuntimeError(
            f"fixes {fixes} did not all improve (exit {out.returncode}, verdicts {it.verdict!r}, "
            f"{commits} commits):\n{out.stderr[-3000:]}"
        )
    return it


def run_iteration(repo: Path, env: dict[str, str], fake: FakeMiniMax, i: int) -> Iteration:
    """One `ratchet run` process doing one iteration that fixes test ``i``."""
    return run_ratchet(repo, env, fake, [i])


def export_tip(repo: Path, tree: Path) -> None:
    """Write the task branch tip's files into ``tree`` (over what is there, like an edit)."""
    tip = git(repo, "rev-parse", f"refs/heads/{BRANCH}")
    archive = subprocess.run(["git", "archive", tip], cwd=repo, capture_output=True,
                             check=True).stdout
    tree.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)


def floor_run(tree: Path, env: dict[str, str]) -> float:
    """Wall seconds of the test command run directly in ``tree``."""
    start = time.perf_counter()
    proc = subprocess.run(["/bin/sh", "-c", TEST_COMMAND], cwd=tree, env=env,
                          capture_output=True, stdin=subprocess.DEVNULL)
    took = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"the floor run failed: {proc.stdout.decode()[-2000:]}")
    return took


def phase_table(iterations: list[Iteration]) -> list[tuple[str, float]]:
    names: list[str] = []
    for it in iterations:
        names += [n for n in it.phases if n not in names]
    rows = [(n, statistics.median(it.phases.get(n, 0.0) for it in iterations)) for n in names]
    rows.append(("outside phases (start-up, imports, git, context, output)",
                 statistics.median(it.outside for it in iterations)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite-seconds", type=float, default=5.0,
                        help="total sleep of the test suite (default 5)")
    parser.add_argument("--runs", type=int, default=5,
                        help="steady iterations and floor runs (default 5)")
    parser.add_argument("--cold-runs", type=int, default=3,
                        help="fresh repositories for the cold iteration (default 3)")
    parser.add_argument("--sandbox", default="auto", choices=("auto", "bwrap", "unshare", "none"),
                        help="RATCHET_SANDBOX for the runs (default: auto, ratchet's own choice)")
    args = parser.parse_args()
    if args.runs < 1 or args.cold_runs < 1 or args.suite_seconds < 0:
        parser.error("--runs and --cold-runs must be ≥ 1, --suite-seconds ≥ 0")
    n_tests = max(args.runs + 2, 10)
    box = choose_sandbox(args.sandbox, environ={}).name
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    try:
        with FakeMiniMax() as fake:
            cold: list[Iteration] = []
            steady: list[Iteration] = []
            main_repo: Path | None = None
            main_env: dict[str, str] = {}
            for c in range(args.cold_runs):
                repo = make_repo(work / f"repo{c}", n_tests, args.suite_seconds)
                env = base_env(work / f"home{c}", args.sandbox, fake.url)
                cold.append(run_iteration(repo, env, fake, 1))
                if main_repo is None:
                    main_repo, main_env = repo, env
            assert main_repo is not None
            # steady iterations and floor runs alternate, so both see the same machine load
            tree = work / "floor-tree"
            export_tip(main_repo, tree)
            floor_run(tree, main_env)  # warms the tree's __pycache__; not counted
            floor: list[float] = []
            for i in range(2, args.runs + 2):
                steady.append(run_iteration(main_repo, main_env, fake, i))
                export_tip(main_repo, tree)
                floor.append(floor_run(tree, main_env))
            # the same steady iterations in ONE process: what start-up costs per iteration
            if args.cold_runs > 1:
                batch_repo, batch_env = work / "repo1", base_env(work / "home1", args.sandbox,
                                                                  fake.url)
            else:
                batch_repo = make_repo(work / "repo-batch", n_tests, args.suite_seconds)
                batch_env = base_env(work / "home-batch", args.sandbox, fake.url)
                run_iteration(batch_repo, batch_env, fake, 1)
            batch = run_ratchet(batch_repo, batch_env, fake, list(range(2, args.runs + 2)))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    load_after = os.getloadavg()[0]
    f = statistics.median(floor)
    s = statistics.median(it.wall for it in steady)
    c = statistics.median(it.wall for it in cold)
    print(f"suite {args.suite_seconds:g} s over {n_tests} tests; sandbox {box}; "
          f"python {sys.version.split()[0]}; {os.cpu_count()} CPUs; "
          f"1-min load {load_before:.2f} before, {load_after:.2f} after\n")
    print("| measurement | runs | median s | min s | max s | ratio | target |")
    print("|---|---|---|---|---|---|---|")
    print(f"| floor: one suite run, directly | {len(floor)} | {f:.2f} | {min(floor):.2f} "
          f"| {max(floor):.2f} | 1.00 | |")
    walls = [it.wall for it in steady]
    print(f"| steady iteration (baseline cached, 1 suite run) | {len(steady)} | {s:.2f} "
          f"| {min(walls):.2f} | {max(walls):.2f} | {s / f:.2f} | ≤ {TARGET_RATIO:.2f} |")
    walls = [it.wall for it in cold]
    print(f"| cold iteration (baseline + candidate, 2 suite runs) | {len(cold)} | {c:.2f} "
          f"| {min(walls):.2f} | {max(walls):.2f} | {c / (2 * f):.2f} (vs 2 × floor) | |")
    pairs = statistics.median(it.wall / fl for it, fl in zip(steady, floor, strict=True))
    b = batch.wall / args.runs
    print(f"| steady, {args.runs} iterations in one process (`--iterations {args.runs}`), "
          f"per iteration | 1 | {b:.2f} | | | {b / f:.2f} | |")
    print(f"\nsteady overhead over the floor: {s - f:+.2f} s per iteration "
          f"(median per-pair ratio {pairs:.2f}); "
          f"cold: {c - 2 * f:+.2f} s over two suite runs\n")
    for label, its in (("steady", steady), ("cold", cold)):
        print(f"| {label} iteration phase | median s |")
        print("|---|---|")
        for name, secs in phase_table(its):
            print(f"| {name} | {secs:.2f} |")
        print()
    verdict = "met" if s / f <= TARGET_RATIO else "NOT met"
    print(f"target ≤ {TARGET_RATIO:.2f} × floor: {verdict} ({s / f:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
