"""What a test run and a comparison produce. Plain data; see runner.py and verdict.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from ratchet.core.outcome import Outcome, is_kept

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
    #: where the results came from: a per-test source ("junit", "jest json", "go test -json",
    #: "libtest output" ...), "summary" (counts only) or "exit" (the exit code only)
    source: str = "exit"
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    #: capped, redacted combined stdout+stderr (head and tail kept)
    output: str = ""
    #: the test runner recognised in the command ("pytest", "jest" ...; "" when unknown)
    runner: str = ""
    #: True for a rerun of selected tests only (its results cover just those tests)
    partial: bool = False
    #: the command exited non-zero though the tests it named all passed (a coverage threshold,
    #: a step after the tests, an error outside any test); set by the runner, so leaving known
    #: flaky tests out of the results later does not make a failing run look like this
    failed_outside_tests: bool = False

    @property
    def failing(self) -> list[str]:
        return sorted(t for t, s in self.tests.items() if s in (FAILED, ERROR))

    @property
    def ok(self) -> bool:
        return self.status == RAN

    @property
    def per_test(self) -> bool:
        """True when results name each test (not only counts or the exit code)."""
        return self.source not in ("summary", "exit")

    @property
    def evidence(self) -> str:
        """What the results can show, for a person: "per-test", "counts only", "exit code
        only"."""
        if self.per_test:
            return "per-test"
        return "counts only" if self.source == "summary" else "exit code only"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome  # IMPROVED, UNCHANGED, REGRESSED or BROKEN (``Judged``)
    score_before: int
    score_after: int
    fixed: tuple[str, ...] = ()
    regressed: tuple[str, ...] = ()
    flaky: tuple[str, ...] = ()
    new_tests: tuple[str, ...] = ()
    reason: str = ""  # one line a person can read
    #: what the comparison rested on: "per-test", "counts only" or "exit code only"
    evidence: str = "per-test"

    @property
    def keeps(self) -> bool:
        """A non-regressing change: it may be committed."""
        return is_kept(self.outcome)
