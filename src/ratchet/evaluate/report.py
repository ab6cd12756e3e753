"""What a test run and a comparison produce. Plain data; see runner.py and verdict.py."""

from __future__ import annotations

from dataclasses import dataclass, field

#: per-test status values
PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"

#: suite-level status values
RAN = "ran"  # the command ran and we know what happened
TIMEOUT = "timeout"  # wall-clock limit hit; the whole process tree was killed
NOT_FOUND = "not_found"  # the command does not exist (exit 127 / ENOENT)
CRASHED = "crashed"  # collection/usage/internal error, killed by a signal, no results


@dataclass(frozen=True)
class SuiteRun:
    status: str
    exit_code: int | None
    duration: float
    #: test id -> PASSED/FAILED/ERROR/SKIPPED ("file::name[param]"); empty if unknown
    tests: dict[str, str] = field(default_factory=dict)
    #: where the per-test data came from: "junit", "summary" (counts only), "exit" (code only)
    source: str = "exit"
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    #: capped, redacted combined stdout+stderr (head and tail kept)
    output: str = ""

    @property
    def failing(self) -> list[str]:
        return sorted(t for t, s in self.tests.items() if s in (FAILED, ERROR))

    @property
    def ok(self) -> bool:
        return self.status == RAN


@dataclass(frozen=True)
class Verdict:
    outcome: str  # "improved" | "unchanged" | "regressed" | "broken"
    score_before: int
    score_after: int
    fixed: tuple[str, ...] = ()
    regressed: tuple[str, ...] = ()
    flaky: tuple[str, ...] = ()
    new_tests: tuple[str, ...] = ()
    reason: str = ""  # one line a person can read

    @property
    def keeps(self) -> bool:
        """A non-regressing change: it may be committed."""
        return self.outcome in ("improved", "unchanged")
