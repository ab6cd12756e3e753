"""What running the tests as another account costs (Ratchet as root): one suite run through
``run_suite`` with the tests as root (``test_user: root``) and as nobody (the default), in one
sandbox, on a tree of N files (the tree is handed over, file by file, before each run).

Floor: the same suite run directly (no Ratchet, no sandbox). Prints medians and ratios.

    .venv/bin/python benchmarks/bench_switch.py [--files 200 5000] [--runs 7] [--sandbox bwrap]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ratchet.evaluate.runner import run_suite
from ratchet.evaluate.sandbox import choose_sandbox

SUITE = "import time\n\ndef test_{i}():\n    time.sleep(0.01)\n"


def _tree(base: Path, files: int) -> Path:
    tree = base / "tree"
    (tree / "tests").mkdir(parents=True)
    for i in range(20):
        (tree / "tests" / f"test_{i}.py").write_text(SUITE.format(i=i))
    data = tree / "data"
    for i in range(files):
        sub = data / f"d{i // 100}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.txt").write_text("x\n")
    return tree


def _median(fn, runs: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, nargs="+", default=[200, 5000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sandbox", default="auto")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run as root: only then do the tests run as another account")
        return 1
    command = f"{sys.executable} -m pytest -q -p no:cacheprovider tests"
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    as_root = choose_sandbox(args.sandbox, environ={"RATCHET_TEST_USER": "root"})
    as_nobody = choose_sandbox(args.sandbox, environ={})
    print(f"sandbox {as_nobody.name}; {args.runs} runs each; medians in seconds")
    print("| files in the tree | direct (floor) | as root | as nobody | nobody / root | "
          "nobody / floor |")
    print("|---|---|---|---|---|---|")
    for files in args.files:
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o711)
            tree = _tree(Path(d), files)
            floor = _median(lambda t=tree: subprocess.run(
                command.split(), cwd=t, env=env, capture_output=True, check=True), args.runs)
            timed = {}
            for name, box in (("root", as_root), ("nobody", as_nobody)):
                def once(box=box, t=tree) -> None:  # noqa: ANN001
                    run = run_suite(t, command, sandbox=box, environ=env, timeout=120)
                    assert run.passed == 20, run.output[-500:]
                try:
                    timed[name] = _median(once, args.runs)
                except AssertionError as exc:  # nobody cannot reach the interpreter (none rung)
                    why = [x for x in str(exc).splitlines() if "cannot enter" in x] or ["?"]
                    print(f"| {files} | {floor:.3f} | the suite does not run as {name} here: "
                          f"{why[0][:160]} |")
                    break
            else:
                print(f"| {files} | {floor:.3f} | {timed['root']:.3f} | {timed['nobody']:.3f} | "
                      f"{timed['nobody'] / timed['root']:.2f} | {timed['nobody'] / floor:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
