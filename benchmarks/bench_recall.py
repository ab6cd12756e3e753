"""Recall scaling: 10,000 memory records → build_digest + build_messages.

Run on demand: ``python benchmarks/bench_recall.py [--records N] [--runs R]``. Prints one
Markdown table row per measurement (target: median ≤ 0.5 s; the prompt stays bounded).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ratchet.memory.digest import build_digest  # noqa: E402
from ratchet.model.prompt import build_messages  # noqa: E402
from ratchet.records import MemoryRecord  # noqa: E402

OUTCOMES = ("improved", "unchanged", "regressed", "broken", "repeat", "invalid", "no_change")


def make_records(n: int) -> list[MemoryRecord]:
    """``n`` records of one task: attempts of every outcome, feedback every 50th."""
    records: list[MemoryRecord] = []
    for i in range(1, n + 1):
        if i % 50 == 0:
            records.append(
                MemoryRecord(
                    kind="feedback",
                    task="issue-7",
                    attempt=i,
                    detail=f"Reviewer note {i}: keep the public API stable. " * 5,
                    run_id=f"run-{i}",
                )
            )
            continue
        outcome = OUTCOMES[i % len(OUTCOMES)]
        records.append(
            MemoryRecord(
                kind="attempt",
                task="issue-7",
                attempt=i,
                outcome=outcome,
                title=f"Attempt {i}: tweak the recipe filter edge case",
                rationale="It handles the boundary the failing test checks. " * 8,
                score_before=i % 100,
                score_after=(i * 7) % 100,
                patch_sha256=hashlib.sha256(f"patch-{i}".encode()).hexdigest(),
                files=("app/recipes.py", "app/filters.py"),
                failing=tuple(f"tests/test_recipes.py::test_case_{j}" for j in range(12)),
                detail="AssertionError: expected 3 recipes, got 2 " * 6,
                run_id=f"run-{i}",
            )
        )
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--budget", type=int, default=60_000)
    args = parser.parse_args()
    records = make_records(args.records)
    context = "Repository layout:\n" + "\n".join(f"app/mod_{i}.py" for i in range(4000))
    output = "FAILED tests/test_recipes.py::test_case_1 - AssertionError\n" * 5000
    times: list[float] = []
    digest_size = prompt_size = 0
    for _ in range(args.runs):
        start = time.perf_counter()
        digest = build_digest(records, related=records[:5], budget=6000)
        messages = build_messages(
            task_key="issue-7",
            task_text="Filter recipes by cooking time. " * 200,
            digest=digest,
            context=context,
            failing_output=output,
            constraints=("protected paths: .github/**, tests/**",),
            note="Your previous proposal was identical to attempt 3, which regressed.",
            budget=args.budget,
        )
        times.append(time.perf_counter() - start)
        digest_size = len(digest)
        prompt_size = sum(len(m["content"]) for m in messages)
        assert prompt_size <= args.budget, "prompt exceeded its budget"
    median = statistics.median(times)
    print("| benchmark | records | runs | median s | max s | digest chars | prompt chars |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| build_digest + build_messages | {args.records} | {args.runs} | {median:.3f} "
        f"| {max(times):.3f} | {digest_size} | {prompt_size} (budget {args.budget}) |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
