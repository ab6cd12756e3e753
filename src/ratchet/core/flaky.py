"""Flaky tests the repository's memory knows about. Pure: no I/O.

A test is flaky when one run of the same code disagrees with another: it failed and then passed
on the rerun (or passed, then failed). Each attempt record lists, in ``flaky``, the tests seen
flaky in that iteration, and the known flaky tests that failed in it. A test stays known from
the newest record naming it until it has passed in ``forget_after`` evaluated runs in a row
(attempt records with a candidate run that completed, of any task of the repository); then it
drops off.

Known flaky tests are left out of the verdict both ways (:func:`without`): their failing is no
regression, their passing no fix, and no rerun is spent on them alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ratchet.core.outcome import Outcome
from ratchet.evaluate.report import ERROR, FAILED, PASSED, SKIPPED, SuiteRun
from ratchet.records import MemoryRecord

#: at most this many tests are remembered as flaky per attempt record
MAX_PER_RECORD = 50


@dataclass(frozen=True)
class Known:
    test: str
    last_seen: str  # created_at of the newest record that saw it flaky
    green_runs: int  # evaluated runs since, in which it did not flake or fail


def known_flaky(records: Sequence[MemoryRecord], forget_after: int) -> list[Known]:
    """The tests still known as flaky, from the repository's attempt records, sorted by id."""
    last: dict[str, str] = {}
    green: dict[str, int] = {}
    attempts = sorted((r for r in records if r.kind == "attempt"), key=lambda r: r.created_at)
    for r in attempts:
        for test in r.flaky:
            last[test], green[test] = r.created_at, 0
        if r.score_after is None or r.outcome == Outcome.BROKEN:
            continue  # no candidate run, or one that did not complete: nothing was observed
        for test in last:
            if test not in r.flaky:
                green[test] += 1
    return [
        Known(t, last[t], green[t]) for t in sorted(last) if green[t] < max(forget_after, 1)
    ]


def without(run: SuiteRun | None, tests: Collection[str]) -> SuiteRun | None:
    """``run`` with the results of ``tests`` left out (counts recomputed); unchanged when it
    has no per-test results or none of them."""
    if run is None or not run.per_test or not tests or not (set(tests) & set(run.tests)):
        return run
    kept = {t: s for t, s in run.tests.items() if t not in tests}
    values = list(kept.values())
    return dataclasses.replace(
        run,
        tests=kept,
        passed=values.count(PASSED),
        failed=values.count(FAILED),
        errors=values.count(ERROR),
        skipped=values.count(SKIPPED),
    )


def observed(
    runs: Sequence[SuiteRun | None], judged_flaky: Sequence[str], known: Collection[str]
) -> tuple[str, ...]:
    """What this iteration records as flaky: what the verdict found flaky, and the known flaky
    tests that failed in any of ``runs`` (a known flaky test that failed is not green)."""
    seen = set(judged_flaky)
    for run in runs:
        if run is None:
            continue
        seen.update(t for t, s in run.tests.items() if t in known and s in (FAILED, ERROR))
    return tuple(sorted(seen))[:MAX_PER_RECORD]
