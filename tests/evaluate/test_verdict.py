"""Scores and baseline-vs-candidate verdicts."""

from __future__ import annotations

import dataclasses

import pytest

from ratchet.evaluate.report import (
    CRASHED,
    ERROR,
    FAILED,
    NOT_FOUND,
    PASSED,
    RAN,
    SKIPPED,
    TIMEOUT,
    SuiteRun,
)
from ratchet.evaluate.verdict import changed_tests, judge, needs_rerun, suite_score

P, F, E, S = PASSED, FAILED, ERROR, SKIPPED


def junit(exit_code: int | None = None, status: str = RAN, **tests: str) -> SuiteRun:
    if exit_code is None:
        exit_code = 1 if any(s in (F, E) for s in tests.values()) else 0
    return SuiteRun(status, exit_code, 1.0, tests=dict(tests), source="junit")


def counts(p: int, f: int = 0, e: int = 0, s: int = 0, exit_code: int | None = None) -> SuiteRun:
    code = exit_code if exit_code is not None else (1 if f or e else 0)
    return SuiteRun(RAN, code, 1.0, source="summary", passed=p, failed=f, errors=e, skipped=s)


def exits(code: int | None, status: str = RAN) -> SuiteRun:
    return SuiteRun(status, code, 1.0, source="exit")


# --------------------------------------------------------------------------- score


@pytest.mark.parametrize(
    ("run", "score"),
    [
        (junit(a=P, b=P, c=P), 100),
        (junit(a=P, b=P, c=F), 66),  # rounded down
        (junit(a=P, b=E, c=S, d=S), 50),  # skipped left out
        (junit(a=F), 0),
        (junit(exit_code=0), 100),  # nothing counted, exit 0
        (junit(exit_code=5), 0),  # pytest: no tests collected
        (junit(exit_code=0, a=S), 100),  # everything skipped
        (counts(9, 1), 90),
        (counts(0, 0, 0, 3, exit_code=0), 100),
        (exits(0), 100),
        (exits(1), 0),
        (junit(status=CRASHED, exit_code=2, a=P), 0),
        (exits(None, TIMEOUT), 0),
        (exits(127, NOT_FOUND), 0),
    ],
)
def test_suite_score(run: SuiteRun, score: int) -> None:
    assert suite_score(run) == score


# --------------------------------------------------------------------------- per-test verdicts


def test_fixes_without_regressions_improve() -> None:
    base = junit(a=P, b=F, c=E, d=F)
    cand = junit(a=P, b=P, c=P, d=F, new=P)
    v = judge(base, cand)
    assert v.outcome == "improved" and v.keeps
    assert v.fixed == ("b", "c") and v.regressed == ()
    assert v.new_tests == ("new",)
    assert (v.score_before, v.score_after) == (25, 80)
    assert v.reason == "fixed 2 tests, no regressions"


@pytest.mark.parametrize("after", [F, E, S, None])
def test_a_passing_test_that_fails_skips_or_vanishes_regresses(after: str | None) -> None:
    base = junit(a=P, b=P, c=F)
    tests = {"a": P, "c": P}
    if after is not None:
        tests["b"] = after
    v = judge(base, junit(**tests))
    assert v.outcome == "regressed" and not v.keeps
    assert v.regressed == ("b",) and v.fixed == ("c",)
    assert v.reason.startswith("1 regression: b")
    assert needs_rerun(base, junit(**tests))


def test_unchanged_results() -> None:
    base = junit(a=P, b=F, c=S)
    v = judge(base, junit(a=P, b=F, c=P))  # skipped → passed is neutral
    assert v.outcome == "unchanged" and v.keeps
    assert v.fixed == () and v.regressed == ()
    assert "no change" in v.reason
    assert not needs_rerun(base, junit(a=P, b=F, c=P))


def test_flaky_regression_is_counted_as_neither() -> None:
    base = junit(a=P, b=P, c=F)
    cand = junit(a=F, b=F, c=P)
    rerun = junit(a=P, b=F, c=P)
    v = judge(base, cand, rerun)
    assert v.flaky == ("a",) and v.regressed == ("b",)
    assert v.outcome == "regressed"
    v2 = judge(base, cand, junit(a=P, b=P, c=P))
    assert v2.outcome == "improved" and v2.flaky == ("a", "b") and v2.fixed == ("c",)
    assert "2 flaky tests ignored" in v2.reason
    assert v2.score_after == 100  # the better of the two measurements


def partial(**tests: str) -> SuiteRun:
    """A rerun of selected tests only."""
    return SuiteRun(RAN, 0, 1.0, tests=dict(tests), source="junit", partial=True)


def test_a_partial_rerun_of_the_changed_tests_decides_flakiness() -> None:
    base = junit(a=P, b=P, c=F, d=P)
    cand = junit(a=F, b=F, c=P, d=P)
    assert changed_tests(base, cand) == ("a", "b", "c")
    v = judge(base, cand, partial(a=P, b=F, c=P))
    assert (v.regressed, v.flaky, v.fixed) == (("b",), ("a",), ("c",))
    assert v.score_after == 75  # a passed on the rerun, b did not: 3 of 4
    # a fix that does not pass again is not a fix
    v = judge(junit(a=P, c=F), junit(a=P, c=P), partial(c=F))
    assert v.outcome == "unchanged" and v.flaky == ("c",) and v.fixed == ()
    # a changed test the rerun did not run keeps the first result (a regression stands)
    v = judge(base, cand, partial(c=P))
    assert v.regressed == ("a", "b") and v.fixed == ("c",)


def test_a_partial_rerun_never_stands_in_for_the_whole_suite() -> None:
    # counts only: a partial rerun says nothing about the suite's counts
    v = judge(counts(5, 0), counts(4, 1), partial(x=P))
    assert v.outcome == "regressed" and v.evidence == "counts only"
    assert "judged by counts only" in v.reason


def test_improving_candidates_are_rerun_too() -> None:
    assert needs_rerun(junit(a=F), junit(a=P))
    assert not needs_rerun(junit(a=F), junit(a=F))
    assert not needs_rerun(counts(3, 1), counts(4, 0))  # by counts: only a regression


def test_a_crashed_rerun_confirms_the_regression() -> None:
    base, cand = junit(a=P), junit(a=F)
    assert judge(base, cand, junit(status=CRASHED, exit_code=2, a=P)).outcome == "regressed"


def test_zero_tests_in_candidate_regresses_every_passing_test() -> None:
    v = judge(junit(a=P, b=P), junit(exit_code=5))
    assert v.outcome == "regressed" and v.regressed == ("a", "b")


# --------------------------------------------------------------------------- broken runs


@pytest.mark.parametrize(
    ("status", "word"), [(TIMEOUT, "timed out"), (CRASHED, "crashed"), (NOT_FOUND, "not found")]
)
def test_candidate_that_does_not_complete_is_broken(status: str, word: str) -> None:
    v = judge(junit(a=P), exits(None if status == TIMEOUT else 2, status))
    assert v.outcome == "broken" and not v.keeps
    assert v.score_after == 0 and word in v.reason
    assert "ran before" in v.reason


def test_both_runs_broken_is_broken() -> None:
    v = judge(exits(None, TIMEOUT), exits(2, CRASHED))
    assert v.outcome == "broken" and "did not run before either" in v.reason


def test_candidate_repairs_a_crashed_baseline() -> None:
    base = junit(status=CRASHED, exit_code=2, **{"tests/test_x.py": E})
    v = judge(base, junit(**{"tests/test_x.py::test_a": P, "tests/test_x.py::test_b": F}))
    assert v.outcome == "improved"
    assert (v.score_before, v.score_after) == (0, 50)
    assert "ran again" in v.reason and "crashed before" in v.reason
    all_failing = judge(base, junit(**{"tests/test_x.py::test_a": F}))
    assert all_failing.outcome == "unchanged"


def test_crashed_baseline_with_counts_only() -> None:
    v = judge(exits(2, CRASHED), counts(3, 1))
    assert v.outcome == "improved" and v.score_after == 75


# --------------------------------------------------------------------------- counts and exit codes


@pytest.mark.parametrize(
    ("base", "cand", "outcome"),
    [
        (counts(5, 2), counts(7, 0), "improved"),
        (counts(5, 2), counts(5, 2), "unchanged"),
        (counts(5, 2), counts(4, 2), "regressed"),  # fewer passed
        (counts(5, 2), counts(6, 3), "regressed"),  # more failing
        (counts(5, 2), counts(4, 0), "regressed"),  # fewer failing but also fewer passing
        (counts(5, 2), counts(9, 2), "unchanged"),  # new passing tests earn nothing
        (junit(a=P, b=F), counts(2, 0), "broken"),  # the candidate stopped naming tests
        (counts(2, 0), junit(a=P, b=F), "regressed"),
    ],
)
def test_count_comparison(base: SuiteRun, cand: SuiteRun, outcome: str) -> None:
    assert judge(base, cand).outcome == outcome


def test_count_regression_that_does_not_reproduce_is_flaky() -> None:
    base, cand = counts(5, 2), counts(4, 3)
    assert needs_rerun(base, cand)
    v = judge(base, cand, counts(6, 1))
    assert v.outcome == "improved" and "flaky" in v.reason
    assert judge(base, cand, counts(4, 3)).outcome == "regressed"


@pytest.mark.parametrize(
    ("base", "cand", "rerun", "outcome"),
    [
        (exits(0), exits(0), None, "unchanged"),
        (exits(1), exits(0), None, "improved"),
        (exits(0), exits(1), None, "regressed"),
        (exits(0), exits(1), exits(0), "unchanged"),  # flaky
        (exits(0), exits(1), exits(1), "regressed"),
        (exits(1), exits(2), None, "unchanged"),
        (junit(a=P), exits(1), None, "broken"),  # the candidate stopped naming tests
    ],
)
def test_exit_code_comparison(
    base: SuiteRun, cand: SuiteRun, rerun: SuiteRun | None, outcome: str
) -> None:
    v = judge(base, cand, rerun)
    assert v.outcome == outcome
    assert v.reason and "\n" not in v.reason


# --------------------------------------------------------------------------- unseen failing


def ids(**tests: str) -> SuiteRun:
    """A per-test run whose ids are given as {id: status} (ids with '::' and dots)."""
    return junit(**tests)


@pytest.mark.parametrize(
    ("base", "cand", "rerun", "probe", "outcome", "regressed"),
    [
        # the baseline stopped at its first failure: b never ran. It fails with the change,
        # again on the rerun, and passed on the baseline when run alone: a regression
        (dict(a=F), dict(a=P, b=F), dict(a=P, b=F), dict(b=P), "regressed", ("b",)),
        # ... failing on the baseline too: it was broken before, the fix of a counts
        (dict(a=F), dict(a=P, b=F), dict(a=P, b=F), dict(b=F), "improved", ()),
        # ... not in the baseline at all (the probe cannot find it): failing is a regression
        (dict(a=F), dict(a=P, b=F), dict(a=P, b=F), dict(), "regressed", ("b",)),
        (dict(a=F), dict(a=P, b=F), dict(a=P, b=F), None, "regressed", ("b",)),
        # ... passing on the rerun: flaky, not counted
        (dict(a=F), dict(a=P, b=F), dict(a=P, b=P), dict(b=P), "improved", ()),
        # new tests that pass earn nothing and cost nothing
        (dict(a=F), dict(a=P, b=P), dict(a=P), None, "improved", ()),
    ],
)
def test_a_failing_test_the_baseline_did_not_run(
    base: dict[str, str], cand: dict[str, str], rerun: dict[str, str],
    probe: dict[str, str] | None, outcome: str, regressed: tuple[str, ...],
) -> None:
    b, c = junit(**base), junit(**cand)
    r = SuiteRun(RAN, 1, 1.0, tests=rerun, source="junit", partial=True)
    p = None if probe is None else SuiteRun(RAN, 0, 1.0, tests=probe, source="junit",
                                            partial=True)
    v = judge(b, c, r, p)
    assert (v.outcome, v.regressed) == (outcome, regressed)
    assert "b" in changed_tests(b, c) or cand.get("b") != F  # the rerun confirms it


@pytest.mark.parametrize(
    ("base", "cand"),
    [
        # pytest: the module failed to import; the change makes its tests run, one fails
        ({"tests/test_a.py": E, "tests/test_b.py::t": P},
         {"tests/test_a.py::t1": P, "tests/test_a.py::t2": F, "tests/test_b.py::t": P}),
        # unittest: a module that failed to import (dotted ids)
        ({"tests.test_a": E, "tests.test_b.T.t": P},
         {"tests.test_a.T.t1": P, "tests.test_a.T.t2": F, "tests.test_b.T.t": P}),
        # go: a package that did not build
        ({"example.com/m/a": E, "example.com/m/b::TestB": P},
         {"example.com/m/a::TestA": F, "example.com/m/a::TestA2": P,
          "example.com/m/b::TestB": P}),
        # mocha: a failing "before all" hook kept the suite's tests from running
        ({'test/a.js::db "before all" hook for "saves"': E, "test/b.js::x": P},
         {"test/a.js::db saves": F, "test/a.js::db loads": P, "test/b.js::x": P}),
    ],
)
def test_tests_of_a_file_the_baseline_could_not_run_are_not_unseen(
    base: dict[str, str], cand: dict[str, str]
) -> None:
    from ratchet.evaluate.verdict import unseen_failing

    b, c = SuiteRun(RAN, 1, 1.0, tests=base, source="junit"), SuiteRun(
        RAN, 1, 1.0, tests=cand, source="junit")
    assert unseen_failing(b, c) == ()
    assert judge(b, c).outcome != "regressed"


def test_nothing_is_unseen_when_the_baseline_did_not_complete() -> None:
    from ratchet.evaluate.verdict import unseen_failing

    b = SuiteRun(CRASHED, 2, 1.0, tests={"a": E}, source="junit")
    assert unseen_failing(b, junit(a=P, b=F)) == ()


def outside(exit_code: int, **tests: str) -> SuiteRun:
    """A run whose named tests all pass while its command exits non-zero (the runner says so)."""
    return dataclasses.replace(junit(exit_code=exit_code, **tests), failed_outside_tests=True)


@pytest.mark.parametrize(
    ("base", "cand", "outcome"),
    [
        # every test passes but the command exits 1 after them (an unhandled error, a coverage
        # threshold), as it did before: the tests are compared one by one
        (junit(exit_code=1, a=F, b=P), outside(1, a=P, b=P), "improved"),
        (outside(1, a=P, b=P), outside(1, a=P, b=P), "unchanged"),
        # ... but it exited 0 before: the change made the command fail
        (junit(exit_code=0, a=P, b=P), outside(1, a=P, b=P), "broken"),
        # ... or a failing test of the baseline no longer runs (its file does not build)
        (junit(exit_code=101, a=F, b=P), outside(101, b=P), "broken"),
        # a failing test keeps the ordinary comparison
        (junit(exit_code=0, a=P, b=P), junit(exit_code=1, a=P, b=F), "regressed"),
        # a known flaky test that failed was left out of the results: the command's exit 1 is
        # its, not a failure outside the tests
        (junit(exit_code=0, a=P, b=P), junit(exit_code=1, a=P), "regressed"),
        (junit(exit_code=0, a=F, b=P), junit(exit_code=1, a=P, b=P), "improved"),
    ],
)
def test_a_command_that_fails_after_its_tests_pass(
    base: SuiteRun, cand: SuiteRun, outcome: str
) -> None:
    assert judge(base, cand).outcome == outcome
