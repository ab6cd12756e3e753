"""What judging a candidate costs, as a ratio of one run of the suite (the floor).

A temporary git repository holds a pytest suite of ``--tests`` tests sleeping
``--suite-seconds`` in total; test ``i`` passes once ``V{i} = i`` in ``app/values.py``. Each
round, the fake MiniMax on 127.0.0.1 first proposes a *regressing* change (it fixes the next
failing test and breaks test 0), then an *improving* one (it fixes that test only). Ratchet
runs the candidate once and then re-runs only the tests whose outcome changed, by node id
(1 for the improving change, 2 for the regressing one); before that, a regressing candidate
cost a second full suite run and an improving one none.

Measured per round, from the phase times ``ratchet run`` prints (0.1 s resolution):
candidate run + rerun, for each kind of change; and the floor, one ``python -m pytest -q``
started directly in an export of the same tree. Printed: medians and ratios against the floor.

Run on demand: ``python benchmarks/bench_judge.py [--tests N] [--suite-seconds S]
[--rounds R] [--sandbox auto|bwrap|unshare|none]``. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from benchmarks.bench_overhead import (  # noqa: E402
    BRANCH,
    PHASE_LINE,
    TEST_COMMAND,
    TESTS,
    base_env,
    export_tip,
    git,
    ratchet_cmd,
)
from tests.fakes.minimax_server import FakeMiniMax, Reply  # noqa: E402


def make_repo(path: Path, n_tests: int, suite_seconds: float) -> Path:
    """Tests 0 and 1 pass; test i ≥ 2 passes once ``V{i} = i``."""
    values = "V0 = 0\nV1 = 1\n" + "".join(f"V{i} = 0\n" for i in range(2, n_tests))
    files = {
        "app/__init__.py": "",
        "app/values.py": values,
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


def change(i: int, break_first: bool) -> Reply:
    edits = [{"path": "app/values.py", "search": f"V{i} = 0\n", "replace": f"V{i} = {i}\n"}]
    if break_first:
        edits.append({"path": "app/values.py", "search": "V0 = 0\n", "replace": "V0 = 99\n"})
    title = f"Set V{i} to {i}" + (" and tidy V0" if break_first else "")
    return Reply(content=json.dumps({"title": title, "rationale": "the tests say so.",
                                     "edits": edits}))


def judge_seconds(repo: Path, env: dict[str, str], fake: FakeMiniMax, reply: Reply,
                  expect: str) -> float:
    """Seconds spent running the candidate and its rerun in one `ratchet run`."""
    fake.script(reply)
    out = subprocess.run([*ratchet_cmd(), "run", "--repo", str(repo)], env=env,
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=3600)
    spent, verdict = 0.0, ""
    for line in out.stderr.splitlines():
        m = PHASE_LINE.match(line.strip())
        if m and ("on the change" in m["name"] or m["name"].startswith("re-running")):
            spent += float(m["secs"])
        elif line.startswith("verdict: "):
            verdict = line.split(" ", 1)[1].split(" — ", 1)[0].strip()
    if out.returncode != 0 or verdict != expect:
        raise RuntimeError(f"expected {expect}, got {verdict!r}:\n{out.stderr[-3000:]}")
    return spent


def floor_seconds(repo: Path, env: dict[str, str], tree: Path) -> float:
    export_tip(repo, tree)
    start = time.perf_counter()
    subprocess.run(TEST_COMMAND.split(), cwd=tree, env=env, capture_output=True, timeout=3600)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tests", type=int, default=20)
    ap.add_argument("--suite-seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sandbox", default="auto")
    args = ap.parse_args()
    if args.rounds + 2 > args.tests:
        ap.error("--tests must exceed --rounds + 2")
    floors, regressing, improving = [], [], []
    with tempfile.TemporaryDirectory(prefix="ratchet-bench-judge-") as d, FakeMiniMax() as fake:
        work = Path(d)
        repo = make_repo(work / "repo", args.tests, args.suite_seconds)
        env = base_env(work / "home", args.sandbox, fake.url)
        # warm-up: the first run also measures the baseline; not counted
        judge_seconds(repo, env, fake, change(2, False), "improved")
        for r in range(args.rounds):
            i = r + 3
            regressing.append(judge_seconds(repo, env, fake, change(i, True), "regressed"))
            improving.append(judge_seconds(repo, env, fake, change(i, False), "improved"))
            floors.append(floor_seconds(repo, env, work / f"floor-{r}"))
        tip = git(repo, "rev-parse", BRANCH)
    floor = statistics.median(floors)
    print(f"pytest suite of {args.tests} tests, {args.suite_seconds:g} s; {args.rounds} rounds; "
          f"sandbox {args.sandbox}; tip {tip[:10]}\n")
    print("| measurement | median | ratio to one suite run |")
    print("|---|---|---|")
    print(f"| floor: one suite run, directly | {floor:.2f} s | 1.00 |")
    for name, values in (("improving candidate (run + rerun of 1 test)", improving),
                         ("regressing candidate (run + rerun of 2 tests)", regressing)):
        med = statistics.median(values)
        print(f"| {name} | {med:.2f} s | {med / floor:.2f} |")
    print(f"\nrounds (s): floor {[round(x, 2) for x in floors]}, improving "
          f"{improving}, regressing {regressing}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
