"""Context scaling: build_context on a generated 10,000-file repository.

Run on demand: ``python benchmarks/bench_context.py [--files N] [--runs R]``. Prints one
Markdown table row per measurement (target: median ≤ 1 s for 10,000 files).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ratchet.workspace.context import build_context  # noqa: E402


def make_repo(root: Path, n_files: int) -> list[str]:
    """Write ``n_files`` small Python modules in nested packages; return their paths."""
    files: list[str] = []
    per_dir = 20
    for i in range(n_files):
        d = i // per_dir
        pkg = f"pkg{d // 50}/sub{d % 50}"
        rel = f"src/{pkg}/mod_{i}.py"
        if i % 10 == 9:
            rel = f"tests/{pkg}/test_mod_{i}.py"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        dep = max(i - 1, 0)
        dep_pkg = f"pkg{(dep // per_dir) // 50}.sub{(dep // per_dir) % 50}"
        path.write_text(
            f'"""Module {i}."""\n\nfrom src.{dep_pkg} import mod_{dep}\n\n\n'
            f"def function_{i}(value: int) -> int:\n"
            f"    return mod_{dep}.function_{dep}(value) + {i}\n" * 3,
            encoding="utf-8",
        )
        files.append(rel)
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--budget", type=int, default=40_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = make_repo(root, args.files)
        target = files[len(files) // 2]
        output = (
            "Traceback (most recent call last):\n"
            f'  File "{root / target}", line 7, in function\n'
            "AssertionError: expected 3\n"
        )
        times: list[float] = []
        size = included = 0
        for _ in range(args.runs):
            start = time.perf_counter()
            ctx = build_context(
                root,
                files,
                task_text=f"Make the function in {target} handle negative values",
                failing_tests=[f"{files[9]}::test_negative"],
                failure_output=output,
                budget=args.budget,
            )
            times.append(time.perf_counter() - start)
            size, included = len(ctx.text), len(ctx.included)
            assert target in ctx.included, "the named file must be included"
    median = statistics.median(times)
    print("| benchmark | files | runs | median s | max s | context chars | files shown |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| build_context | {args.files} | {args.runs} | {median:.3f} | {max(times):.3f} "
        f"| {size} | {included} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
