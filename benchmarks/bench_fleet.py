"""Long-running and at scale (#11): `ratchet plan` on 200 tasks, and iterations per hour.

* **plan** — a repository on the fake GitHub (127.0.0.1, driven by PyGithub) with ``--tasks``
  open issues labelled ``ratchet`` and a few other issues, a fake Mem0 holding ``--records``
  records of those tasks (some paused, some over budget), and one ``ratchet plan`` process per
  run: wall time (process start to exit), the API requests it made and how many tasks it
  planned. Target: one listing (paginated), not one call per task.
* **iterations per hour** — the bundled demo (the recipe app and its offline playbook: a model
  that answers at once) driven by ONE ``ratchet run --iterations N`` process, against the floor:
  one run of the app's own test suite started directly. Reported: wall time per iteration,
  iterations per hour, and the ratio to the floor.

Run on demand: ``python benchmarks/bench_fleet.py [--tasks 200] [--runs 7] [--iterations 6]``.
Prints Markdown tables. Loopback only; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from ratchet.memory.mem0_store import Mem0Store  # noqa: E402
from ratchet.records import MemoryRecord  # noqa: E402
from tests.conftest import git, make_repo, ratchet_env, ratchet_exe  # noqa: E402
from tests.fakes.github_server import FakeGitHub  # noqa: E402
from tests.fakes.mem0_server import DEFAULT_KEY, FakeMem0Server  # noqa: E402

REPO, TOKEN = "octo/fleet", "ghs_benchTOKEN0123456789abcdef0123"


def bench_plan(tasks: int, records: int, runs: int) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="ratchet-bench-plan-"))
    try:
        with FakeGitHub() as gh, FakeMem0Server() as mem0:
            seed = make_repo(tmp / "seed", {".github/ratchet.yml": "task: Keep the lights on\n"
                                            "test_command: python -m pytest -q\n",
                                            "README.md": "fleet\n"})  # fmt: skip
            origin = tmp / "origin.git"
            git(tmp, "clone", "-q", "--bare", str(seed), str(origin))
            gh.add_repo(REPO, git_dir=origin)
            gh.add_actions_token(TOKEN)
            numbers = [gh.create_issue(REPO, f"Task {i}", "do it", as_user="alice",
                                       labels=["ratchet"]) for i in range(tasks)]  # fmt: skip
            for i in range(20):
                gh.create_issue(REPO, f"Question {i}", as_user="bob")
            store = Mem0Store(DEFAULT_KEY, host=mem0.url, user_id=f"ratchet:{REPO}",
                              state_dir=tmp / "seed-state")  # fmt: skip
            for i in range(records):
                n = numbers[i % len(numbers)]
                kind = "control" if i % 10 == 0 else "attempt"
                store.add(MemoryRecord(kind=kind, task=f"issue-{n}", attempt=i + 1,
                                       outcome="paused" if kind == "control" else "regressed",
                                       actor="alice"))  # fmt: skip
            ws = tmp / "ws"
            git(tmp, "clone", "-q", str(origin), str(ws))
            env = ratchet_env(tmp / "home", GITHUB_REPOSITORY=REPO, GITHUB_API_URL=gh.api_url,
                              GITHUB_SERVER_URL=gh.url, GITHUB_TOKEN=TOKEN,
                              MEM0_API_KEY=DEFAULT_KEY, MEM0_HOST=mem0.url)  # fmt: skip
            walls, planned = [], 0
            before = len(gh.requests)
            for _ in range(runs):
                t0 = time.perf_counter()
                proc = subprocess.run([*ratchet_exe(), "plan"], cwd=ws, env=env,
                                      capture_output=True, text=True, check=True)  # fmt: skip
                walls.append(time.perf_counter() - t0)
                planned = len(json.loads(proc.stdout)["include"])
            per_run = (len(gh.requests) - before) / runs
            listing = len(gh.requests_to("GET", rf"^/repos/{REPO}/issues$")) / runs
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"tasks": tasks + 1, "median_s": statistics.median(walls), "max_s": max(walls),
            "planned": planned, "requests": per_run, "listing_pages": listing}


def bench_iterations(iterations: int) -> dict[str, object]:
    from ratchet.commands.demo import bundled, prepare

    tmp = Path(tempfile.mkdtemp(prefix="ratchet-bench-iter-"))
    try:
        repo = prepare(tmp / "demo")
        tests = f"{sys.executable} -m pytest -q"
        env = ratchet_env(tmp / "home")
        floor = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                           cwd=repo, capture_output=True)  # fmt: skip
            floor.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [*ratchet_exe(), "run", "--repo", str(repo), "--test-command", tests,
             "--iterations", str(iterations), "--max-minutes", "60",
             "--offline-playbook", str(bundled("recipe-app.playbook.json"))],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        wall = time.perf_counter() - t0
        made = proc.stderr.count("— iteration ")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    per = wall / max(made, 1)
    f = statistics.median(floor)
    return {"iterations": made, "wall_s": wall, "per_iteration_s": per,
            "per_hour": 3600 / per, "floor_s": f, "ratio": per / f}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--records", type=int, default=400)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--iterations", type=int, default=6)
    args = ap.parse_args()
    p = bench_plan(args.tasks, args.records, args.runs)
    print("| benchmark | tasks | runs | median s | max s | planned | API requests | "
          "issue listing pages |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| ratchet plan | {p['tasks']} | {args.runs} | {p['median_s']:.2f} | "
          f"{p['max_s']:.2f} | {p['planned']} | {p['requests']:.0f} | "
          f"{p['listing_pages']:.0f} |")
    it = bench_iterations(args.iterations)
    print()
    print("| benchmark | iterations | wall s | per iteration s | iterations/hour | floor "
          "(one suite run) s | ratio |")
    print("|---|---|---|---|---|---|---|")
    print(f"| demo, one process | {it['iterations']} | {it['wall_s']:.1f} | "
          f"{it['per_iteration_s']:.2f} | {it['per_hour']:.0f} | {it['floor_s']:.2f} | "
          f"{it['ratio']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
