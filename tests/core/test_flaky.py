"""Known flaky tests: remembered, left out of the verdict both ways, and forgotten when green."""

from __future__ import annotations

from ratchet.core import flaky
from ratchet.evaluate.report import FAILED, PASSED, SuiteRun
from ratchet.evaluate.verdict import changed_tests, judge
from ratchet.records import MemoryRecord


def run(**tests: str) -> SuiteRun:
    return SuiteRun("ran", 0 if FAILED not in tests.values() else 1, 1.0, tests=tests,
                    source="junit")


def att(at: str, flaky_tests: tuple[str, ...] = (), evaluated: bool = True,
        outcome: str = "improved") -> MemoryRecord:  # fmt: skip
    return MemoryRecord(kind="attempt", task="t", created_at=at, flaky=flaky_tests,
                        score_before=50, score_after=60 if evaluated else None, outcome=outcome)


def test_a_flaky_test_is_known_until_it_passes_enough_runs() -> None:
    records = [att("01", ("a",)), att("02"), att("03", evaluated=False), att("04")]
    [known] = flaky.known_flaky(records, forget_after=3)
    assert (known.test, known.last_seen, known.green_runs) == ("a", "01", 2)
    assert flaky.known_flaky([*records, att("05")], forget_after=3) == []
    # seen flaky again: the count starts over
    [again] = flaky.known_flaky([*records, att("05", ("a",))], forget_after=3)
    assert again.green_runs == 0


def test_a_candidate_run_that_did_not_complete_is_no_green_run() -> None:
    # a broken candidate (a build error, a crashed runner) has score 0 and ran no test
    records = [att("01", ("a",)), att("02", outcome="broken"), att("03", outcome="broken")]
    [known] = flaky.known_flaky(records, forget_after=2)
    assert known.green_runs == 0


def test_a_known_flaky_test_is_neither_a_regression_nor_a_fix() -> None:
    known = {"t::flaky"}
    base = run(**{"t::ok": PASSED, "t::flaky": PASSED, "t::bug": FAILED})
    breaks = run(**{"t::ok": PASSED, "t::flaky": FAILED, "t::bug": FAILED})
    assert judge(base, breaks).outcome == "regressed"  # what it would be without the memory
    b, c = flaky.without(base, known), flaky.without(breaks, known)
    assert b is not None and c is not None
    assert judge(b, c).outcome == "unchanged" and changed_tests(b, c) == ()
    # the other way: its passing is no fix
    b2 = flaky.without(breaks, known)
    c2 = flaky.without(base, known)
    assert b2 is not None and c2 is not None and judge(b2, c2).outcome == "unchanged"
    assert c.passed == 1 and c.failed == 1  # counts follow the remaining tests


def test_observed_adds_known_tests_that_failed() -> None:
    cand = run(**{"t::flaky": FAILED, "t::x": FAILED})
    assert flaky.observed([cand, None], ("t::new",), {"t::flaky"}) == ("t::flaky", "t::new")
    assert flaky.observed([run(**{"t::flaky": PASSED})], (), {"t::flaky"}) == ()
