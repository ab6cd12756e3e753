"""Mem0 recall scaling: 10,000 records of one repository through the real MemoryClient.

Starts the fake Mem0 platform on 127.0.0.1, loads N records for one repository (one task),
then times (median of R runs) a full ``Mem0Store.records(task)`` recall (paged get_all, 200
per page, parse, sort) with the default ``max_records`` bound and without it, the digest built
from the recall (when ``ratchet.memory.digest.build_digest`` exists), single adds, and the
import cost: ``import ratchet.memory.mem0_store`` must not import mem0; the SDK import done by
the store (client only) is compared with a plain ``import mem0``.

Run on demand: ``python benchmarks/bench_mem0_recall.py [--records N] [--runs R]``.
Prints one Markdown table row per measurement. Loopback only: it measures our code and the
SDK, not the platform's latency.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from ratchet.memory.mem0_store import Mem0Store, record_metadata  # noqa: E402
from ratchet.records import MemoryRecord  # noqa: E402
from tests.fakes.mem0_server import DEFAULT_KEY, FakeMem0Server  # noqa: E402

UID = "ratchet:bench/repo"
TASK = "issue-42"
OUTCOMES = ("improved", "unchanged", "regressed", "broken", "repeat", "invalid")


def make_record(n: int) -> MemoryRecord:
    return MemoryRecord(
        kind="attempt",
        task=TASK,
        attempt=n,
        outcome=OUTCOMES[n % len(OUTCOMES)],
        title=f"Attempt {n}: tweak the recipe search ranking (variant {n % 97})",
        rationale="Earlier attempts regressed the ranking tests; this one keeps the order. " * 3,
        score_before=50 + n % 10,
        score_after=50 + (n * 7) % 13,
        patch_sha256=f"{n:064x}",
        files=("app/search.py", f"app/rank_{n % 13}.py"),
        failing=(f"tests/test_search.py::test_case_{n % 31}",),
        detail="AssertionError: expected 3 results, got 2" if n % 3 else "",
        branch=f"ratchet/{TASK}",
        run_id=f"run-{n // 3}",
        created_at=f"2025-{1 + n // 100000:02d}-01T00:00:00.{n:06d}Z",
    )


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def python_time(code: str, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - start, proc.stderr


def imported_modules(importtime_trace: str) -> list[str]:
    """Module names from ``python -X importtime`` output."""
    return [
        line.split("|")[-1].strip()
        for line in importtime_trace.splitlines()
        if line.startswith("import time:") and "|" in line
    ]


def row(what: str, value: str, note: str = "") -> None:
    print(f"| {what} | {value} | {note} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="bench-mem0-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "MEM0_TELEMETRY": "false",
        "MEM0_DIR": str(state / "mem0-sub"),
    }
    print("| measurement | value | note |")
    print("|---|---|---|")

    # -- imports (fresh processes) ---------------------------------------------------------
    wall, trace = python_time("import ratchet.memory.mem0_store", env)
    mem0_mods = [m for m in imported_modules(trace) if m == "mem0" or m.startswith("mem0.")]
    row(
        "import ratchet.memory.mem0_store",
        f"{wall:.2f} s wall",
        f"mem0 modules imported: {len(mem0_mods)}",
    )
    assert not mem0_mods, mem0_mods
    code = (
        "from pathlib import Path; import ratchet.memory.mem0_store as m; "
        f"m.import_sdk(Path({str(state)!r}))"
    )
    wall, _ = python_time(code, env)
    row("store's SDK import (client only)", f"{wall:.2f} s wall", "mem0.client.main, no qdrant")
    wall, _ = python_time("import mem0", env)
    row("plain `import mem0`", f"{wall:.2f} s wall", "what a naive import costs")

    with FakeMem0Server() as server:
        for n in range(1, args.records + 1):
            rec = make_record(n)
            server.seed(rec.sentence(), user_id=UID, metadata=record_metadata(rec))

        start = time.perf_counter()
        first = Mem0Store(DEFAULT_KEY, host=server.url, user_id=UID, state_dir=state)
        row("first Mem0Store()", f"{time.perf_counter() - start:.3f} s", "SDK import + ping")
        first.close()
        start = time.perf_counter()
        store = Mem0Store(DEFAULT_KEY, host=server.url, user_id=UID, state_dir=state)
        row("next Mem0Store()", f"{time.perf_counter() - start:.3f} s", "ping")

        seconds, got = median_time(lambda: store.records(TASK), args.runs)
        assert isinstance(got, list)
        pages = -(-min(args.records, store.max_records) // 200)
        row(
            f"records(task), {args.records} stored, max_records={store.max_records}",
            f"{seconds:.3f} s",
            f"median of {args.runs}; {len(got)} records, {pages} pages, "
            f"truncated={store.truncated}",
        )

        unbounded = Mem0Store(
            DEFAULT_KEY,
            host=server.url,
            user_id=UID,
            state_dir=state,
            max_records=args.records,
        )
        seconds, got_all = median_time(lambda: unbounded.records(TASK), args.runs)
        assert isinstance(got_all, list)
        row(
            f"records(task), {args.records} stored, max_records={args.records}",
            f"{seconds:.3f} s",
            f"median of {args.runs}; {len(got_all)} records",
        )

        try:
            from ratchet.memory.digest import build_digest
        except ImportError:
            row("build_digest", "n/a", "ratchet.memory.digest.build_digest not available")
        else:
            seconds, digest = median_time(lambda: build_digest(got), args.runs)
            assert isinstance(digest, str)
            row(
                f"build_digest({len(got)} records)",
                f"{seconds:.3f} s",
                f"{len(digest)} chars (default budget)",
            )

        seconds, _ = median_time(lambda: store.search("recipe search ranking regressed", 5), 3)
        row("search(query, 5)", f"{seconds:.3f} s", f"median of 3 over {args.records} memories")

        fresh = [make_record(args.records + i) for i in range(1, 51)]
        times = []
        for rec in fresh:
            start = time.perf_counter()
            store.add(rec)
            times.append(time.perf_counter() - start)
        row(
            "add(record)",
            f"{statistics.median(times) * 1000:.1f} ms",
            "median of 50; 2 calls, each a linear scan in the fake",
        )
        store.close()
        unbounded.close()


if __name__ == "__main__":
    main()
