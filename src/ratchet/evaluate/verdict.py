"""Score a test run and compare a candidate run with the baseline.

Score of one run (``suite_score``), an integer 0–100:

* the run did not complete (``status`` is not ``ran``: timeout, crash, not found) → 0;
* per-test data or counts are known (``source`` "junit" or "summary"):
  ``floor(100 × passed / (passed + failed + errors))``; skipped tests are left out.
  A run with no counted test at all (nothing collected, or everything skipped) scores
  100 if the command exited 0 and 0 otherwise (pytest's "no tests collected" exits 5 → 0);
* only the exit code is known (``source`` "exit"): 100 for exit 0, else 0.

Comparison (``judge(base, cand, rerun)``), by what both runs can show:

1. The candidate did not complete → **broken** (also when the baseline did not complete).
   Also broken: the baseline named its tests and the candidate's run did not (a build error,
   a runner that crashed before reporting).
2. Both have per-test results: transitions over the tests present in the baseline.
   ``passed → failed/error/missing/skipped`` is a regression; ``failed/error → passed`` is a
   fix; everything else (``F→F``, ``skipped → *``) is neutral. Tests only in the candidate are
   listed as ``new_tests`` and earn nothing, unless they fail (*unseen failing*, see
   :func:`unseen_failing`): a baseline that stopped at its first failure (``--bail``, ``-x``,
   ``-failfast`` hidden in a script or a config file) never ran them, so they are run on the
   baseline too (``probe``, by id): passing there and failing with the change is a regression,
   failing on both sides is neutral, and a test the baseline does not have at all that fails
   with the change is a regression too. A test is not unseen when the baseline could not run
   its file (a file-level error, a failing hook: the change may have made it run).
   ``rerun`` is a second run of the candidate, of the
   tests whose outcome changed (or of the whole suite): a regressed test that PASSES there, or
   a fixed test that does NOT pass there, is **flaky** — listed, counted as neither.
3. Otherwise, if both have counts: a conservative count comparison.
   ``failing = failed + errors``. Regressed if ``cand.passed < base.passed`` or
   ``cand.failing > base.failing``; a fix count of ``base.failing − cand.failing`` when
   positive. A regression that the ``rerun``'s counts do not show is flaky; the rerun's
   counts are used instead. Equal counts are **unchanged**, never an improvement (a fix and a
   break of the same number look the same).
4. Otherwise exit codes: ``0 → non-0`` regressed (unless the rerun exits 0: flaky), ``non-0 → 0``
   improved, equal → unchanged.

Outcome: **regressed** if any confirmed regression; else **improved** if anything was fixed;
else **unchanged**. When the baseline itself did not complete (nothing trustworthy to compare
with) and the candidate did: regressions are still looked for in whatever per-test data the
baseline has; without any, the outcome is **improved** if the candidate scores above 0 (the
suite runs again), else **unchanged**. The verdict's ``evidence`` says which of 2–4 decided,
and its reason says so when it was not per-test results.

``score_before`` = score of the baseline; ``score_after`` = score of the candidate with the
rerun's results taken for the tests it ran again (for counts or exit codes: the better of
candidate and a complete rerun).
"""

from __future__ import annotations

import dataclasses

from ratchet.core.outcome import Outcome
from ratchet.evaluate.report import ERROR, FAILED, PASSED, SKIPPED, SuiteRun, Verdict

_STATUS_WORDS = {
    "timeout": "timed out",
    "not_found": "could not be run (command not found)",
    "crashed": "crashed",
}


def _counts(run: SuiteRun) -> tuple[int, int, int, int]:
    """(passed, failed, errors, skipped), from per-test data when present."""
    if run.tests:
        values = list(run.tests.values())
        return (
            values.count(PASSED),
            values.count(FAILED),
            values.count(ERROR),
            values.count(SKIPPED),
        )
    return run.passed, run.failed, run.errors, run.skipped


def _has_tests(run: SuiteRun) -> bool:
    return run.per_test


def _has_counts(run: SuiteRun) -> bool:
    return run.source != "exit"


def _score_of(tests: dict[str, str], exit_code: int | None) -> int:
    values = list(tests.values())
    passed = values.count(PASSED)
    total = passed + values.count(FAILED) + values.count(ERROR)
    if total == 0:
        return 100 if exit_code == 0 else 0
    return (100 * passed) // total


_BY_COUNTS = " (judged by counts only: a fix and a break of the same number look the same)"
_BY_EXIT = " (judged by the exit code only)"


def suite_score(run: SuiteRun) -> int:
    """The run's score 0–100 (see the module docstring for the formula). Raises nothing."""
    if not run.ok:
        return 0
    if _has_counts(run):
        passed, failed, errors, _skipped = _counts(run)
        total = passed + failed + errors
        if total == 0:
            return 100 if run.exit_code == 0 else 0
        return (100 * passed) // total
    return 100 if run.exit_code == 0 else 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _names(ids: tuple[str, ...], limit: int = 3) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f", +{len(ids) - limit} more" if len(ids) > limit else "")


def _file_of(test_id: str) -> str:
    return test_id.partition("::")[0]


def unseen_failing(base: SuiteRun, cand: SuiteRun) -> tuple[str, ...]:
    """Tests failing with the change that the baseline did not run, when both runs name their
    tests and the baseline completed. Left out: tests of a file (or module, package) that the
    baseline could not run at all, an ``error`` entry for the file itself, a test of it or a
    hook (an import error the change fixed lets tests run that never ran before)."""
    if not (base.ok and base.per_test and cand.per_test):
        return ()
    broken = {t for t, s in base.tests.items() if s == ERROR}
    files = {_file_of(t) for t in broken}
    modules = tuple(f"{t}." for t in broken if "::" not in t)
    return tuple(
        t for t, s in sorted(cand.tests.items())
        if s in (FAILED, ERROR) and t not in base.tests
        and _file_of(t) not in files and not t.startswith(modules)
    )


def changed_tests(base: SuiteRun, cand: SuiteRun) -> tuple[str, ...]:
    """Tests of the baseline whose outcome the candidate changed (fixed or regressed), and the
    :func:`unseen_failing` ones, when both runs name their tests; these are what a rerun
    confirms."""
    if not (base.per_test and cand.per_test):
        return ()
    changed = []
    for test_id, before in sorted(base.tests.items()):
        after = cand.tests.get(test_id)
        if (before == PASSED) != (after == PASSED) and before != SKIPPED:
            changed.append(test_id)
    return tuple(sorted([*changed, *unseen_failing(base, cand)]))


def with_probe(base: SuiteRun, probe: SuiteRun | None) -> SuiteRun:
    """``base`` with the results a probe of the baseline found for tests it had not run."""
    if probe is None or not probe.ok or not probe.per_test:
        return base
    extra = {t: s for t, s in probe.tests.items() if t not in base.tests}
    return dataclasses.replace(base, tests={**base.tests, **extra}) if extra else base


def _effective(cand: SuiteRun, rerun: SuiteRun | None, changed: tuple[str, ...]) -> dict[str, str]:
    """The candidate's results, with the rerun's status for the changed tests it ran."""
    tests = dict(cand.tests)
    if rerun is not None and rerun.ok and rerun.per_test:
        for test_id in changed:
            if test_id in rerun.tests:
                tests[test_id] = rerun.tests[test_id]
    return tests


def _per_test(
    base: SuiteRun, cand: SuiteRun, rerun: SuiteRun | None
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], dict[str, str]]:
    """(fixed, regressed, flaky, effective candidate results) over the tests in ``base``."""
    changed = changed_tests(base, cand)
    effective = _effective(cand, rerun, changed)
    fixed: list[str] = []
    regressed: list[str] = []
    flaky: list[str] = []
    for test_id in changed:
        before = base.tests.get(test_id)  # None: unseen failing (the baseline never ran it)
        once, twice = cand.tests.get(test_id), effective.get(test_id)
        if before in (PASSED, None):
            (regressed if twice != PASSED else flaky).append(test_id)
        elif once == PASSED:
            (fixed if twice == PASSED else flaky).append(test_id)
    return tuple(fixed), tuple(regressed), tuple(flaky), effective


def _count_delta(base: SuiteRun, cand: SuiteRun) -> tuple[int, int]:
    """(fixes, regressions) as numbers from counts only; regressions is 0 or more."""
    b_pass, b_fail, b_err, _ = _counts(base)
    c_pass, c_fail, c_err, _ = _counts(cand)
    b_failing, c_failing = b_fail + b_err, c_fail + c_err
    regressions = max(b_pass - c_pass, c_failing - b_failing, 0)
    fixes = max(b_failing - c_failing, 0) if regressions == 0 else 0
    return fixes, regressions


def _describe(run: SuiteRun) -> str:
    passed, failed, errors, skipped = _counts(run)
    if run.source == "exit":
        return f"exit {run.exit_code}"
    parts = [f"{passed} passed", f"{failed} failed"]
    if errors:
        parts.append(f"{errors} errors")
    if skipped:
        parts.append(f"{skipped} skipped")
    return ", ".join(parts)


def judge(
    base: SuiteRun, cand: SuiteRun, rerun: SuiteRun | None = None, probe: SuiteRun | None = None
) -> Verdict:
    """Compare the candidate run with the baseline run of the same command.

    ``rerun`` is an optional second run of the candidate (see :func:`needs_rerun`), of the
    changed tests only (``partial``) or of the whole suite; it only ever turns a change into
    "flaky". ``probe`` is a run of the baseline of the :func:`unseen_failing` tests. Returns a
    :class:`Verdict` whose ``reason`` is one line for a person. Raises nothing.
    """
    before = suite_score(base)
    after = suite_score(cand)
    full_rerun = rerun is not None and rerun.ok and not rerun.partial

    if not cand.ok:
        what = _STATUS_WORDS.get(cand.status, cand.status)
        if base.ok:
            reason = f"the test suite {what} with the change (it ran before)"
        else:
            reason = f"the test suite {what} with the change, and it did not run before either"
        return Verdict(Outcome.BROKEN, before, 0, reason=reason, evidence=cand.evidence)

    after_tests = _failed_after_the_tests(base, cand)
    if after_tests:
        return Verdict(Outcome.BROKEN, before, 0, reason=after_tests, evidence=cand.evidence)

    if _has_tests(base) and not _has_tests(cand):
        reason = (
            f"the test runner reported no test results with the change ({_describe(cand)}); "
            f"it reported {len(base.tests)} before"
        )
        return Verdict(Outcome.BROKEN, before, 0, reason=reason, evidence=base.evidence)

    new_tests = tuple(sorted(set(cand.tests) - set(base.tests))) if _has_tests(cand) else ()

    if _has_tests(base) and _has_tests(cand):
        fixed, regressed, flaky, effective = _per_test(with_probe(base, probe), cand, rerun)
        after = _score_of(effective, cand.exit_code)
        flaky_note = f"; {_plural(len(flaky), 'flaky test')} ignored" if flaky else ""
        if regressed:
            reason = f"{_plural(len(regressed), 'regression')}: {_names(regressed)}"
            if fixed:
                reason += f" (fixed {len(fixed)})"
            outcome = Outcome.REGRESSED
        elif fixed:
            reason = f"fixed {_plural(len(fixed), 'test')}, no regressions"
            outcome = Outcome.IMPROVED
        elif not base.ok:
            outcome = Outcome.IMPROVED if after > 0 else Outcome.UNCHANGED
            reason = f"the suite ran again ({_describe(cand)}); it {base.status} before"
        else:
            outcome = Outcome.UNCHANGED
            reason = f"no change in test results ({_describe(cand)})"
        return Verdict(
            outcome, before, after, fixed, regressed, flaky, new_tests, reason + flaky_note,
        )

    if full_rerun:
        assert rerun is not None
        after = max(after, suite_score(rerun))

    if not base.ok:
        outcome = Outcome.IMPROVED if after > 0 else Outcome.UNCHANGED
        reason = f"the suite ran again ({_describe(cand)}); it {base.status} before"
        return Verdict(outcome, before, after, new_tests=new_tests, reason=reason,
                       evidence=cand.evidence)

    if _has_counts(base) and _has_counts(cand):
        fixes, regressions = _count_delta(base, cand)
        note = ""
        if regressions and full_rerun and rerun is not None and _has_counts(rerun):
            r_fixes, r_regressions = _count_delta(base, rerun)
            if not r_regressions:
                fixes, regressions = r_fixes, 0
                note = "; a count drop did not reproduce on the rerun (flaky)"
        if regressions:
            outcome = Outcome.REGRESSED
            reason = f"fewer tests pass: {_describe(base)} before, {_describe(cand)} after"
        elif fixes:
            outcome = Outcome.IMPROVED
            reason = f"fixed {_plural(fixes, 'test')}, no regressions"
        else:
            outcome = Outcome.UNCHANGED
            reason = f"no change in test counts ({_describe(cand)})"
        return Verdict(outcome, before, after, new_tests=new_tests,
                       reason=reason + note + _BY_COUNTS, evidence="counts only")

    b_ok, c_ok = base.exit_code == 0, cand.exit_code == 0
    if b_ok and not c_ok:
        if full_rerun and rerun is not None and rerun.exit_code == 0:
            return Verdict(
                Outcome.UNCHANGED, before, after,
                reason="tests failed once but passed on the rerun (flaky); exit 0" + _BY_EXIT,
                evidence="exit code only",
            )
        return Verdict(
            Outcome.REGRESSED, before, after,
            reason=f"the test command now fails (exit {cand.exit_code}; it exited 0 before)"
            + _BY_EXIT,
            evidence="exit code only",
        )
    if c_ok and not b_ok:
        return Verdict(
            Outcome.IMPROVED, before, after,
            reason=f"the test command now passes (exit 0; it exited {base.exit_code} before)"
            + _BY_EXIT,
            evidence="exit code only",
        )
    return Verdict(Outcome.UNCHANGED, before, after,
                   reason=f"same exit code ({cand.exit_code})" + _BY_EXIT,
                   evidence="exit code only")


def _failed_after_the_tests(base: SuiteRun, cand: SuiteRun) -> str:
    """Why a candidate whose named tests all pass, but whose command still exits non-zero, is
    broken; "" when it is not. The baseline decides: if it exited 0, something the change did
    fails the command after its tests (a coverage threshold, a lint step, an error outside any
    test); if it failed too, only a candidate that lost tests the baseline ran is broken (a test
    file that no longer builds), else the tests are compared one by one."""
    if not (cand.ok and cand.failed_outside_tests and base.ok):
        return ""
    if base.exit_code == 0:
        return (f"the tests pass, but the test command now fails after them (exit "
                f"{cand.exit_code}; it exited 0 before): a coverage threshold, a step after "
                "the tests, or an error outside any test?")
    lost = tuple(t for t in sorted(base.tests) if t not in cand.tests)
    if lost:
        return (f"the test command failed (exit {cand.exit_code}) and {len(lost)} of the "
                f"baseline's tests did not run: {_names(lost)}")
    return ""


def needs_rerun(base: SuiteRun, cand: SuiteRun) -> bool:
    """True if the candidate should run again before the verdict: any test changed outcome
    (per-test results; :func:`changed_tests` says which), or a regression shows in counts or
    exit codes (then the whole suite runs again)."""
    if not cand.ok:
        return False
    if changed_tests(base, cand):
        return True
    return judge(base, cand).outcome == Outcome.REGRESSED
