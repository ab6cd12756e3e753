"""When a run makes another attempt (core/rounds.py): a table of finished iterations."""

from __future__ import annotations

import pytest

from ratchet.core.rounds import MARGIN_SECONDS, Done, RunLimits, best_outcome, stop_reason

FOUR = RunLimits(iterations=4, max_seconds=600)


@pytest.mark.parametrize(
    ("done", "elapsed", "limits", "expected"),
    [
        ([], 0, FOUR, None),
        ([Done("improved", 30, 2)], 30, FOUR, None),
        ([Done("regressed", 30, 2)], 30, FOUR, None),  # a failed idea: memory steers the next
        ([Done("repeat", 5, 2)], 5, FOUR, None),
        ([Done("improved", 30, 0)], 30, FOUR, "the test suite is green"),
        ([Done("unchanged", 30, 0)], 30, FOUR, "the test suite is green"),
        ([Done("regressed", 30, 0)], 30, FOUR, None),  # green before, and still: not kept
        ([Done("improved", 30, None)], 30, FOUR, None),  # unknown: go on
        ([Done("no_change", 30, 2)], 30, FOUR, "the model proposed no further change"),
        ([Done("budget", 0, 2)], 0, FOUR, "a budget of the task is used up"),
        ([Done("paused", 0, 2)], 0, FOUR, "the task is paused"),
        ([Done("error", 9, 2)], 9, FOUR,
         "the last attempt failed before it could be judged"),
        ([Done("improved", 30, 1)] * 4, 120, FOUR,
         "4 of 4 iteration(s) made (raise `iterations` for more per run)"),
        ([Done("improved", 30, 1)], 30, RunLimits(1, None),
         "1 of 1 iteration(s) made (raise `iterations` for more per run)"),
        # time: the slowest iteration × 1.25 plus the margin must fit in what is left
        ([Done("improved", 100, 1), Done("improved", 200, 1)], 300, FOUR, None),
        ([Done("improved", 100, 1), Done("improved", 200, 1)], 330, FOUR,
         "another iteration (about 4.7 min) would not fit in the 4.5 min left of `max_minutes`"),
        ([Done("improved", 10, 1)], 590, FOUR,
         "another iteration (about 42 s) would not fit in the 10 s left of `max_minutes`"),
        ([Done("improved", 10, 1)], 9999, RunLimits(4, None), None),  # no time limit
        # the suite does not run: one more try (a change may fix it), not a third
        ([Done("broken", 1, None)], 1, FOUR, None),
        ([Done("broken", 1, None), Done("invalid", 1, None)], 2, FOUR,
         "the test suite does not run on the task branch, and two attempts did not make it "
         "run (see the warning above)"),
        ([Done("broken", 1, None), Done("improved", 1, None)], 2, FOUR, None),
    ],
)
def test_stop_reason(done: list[Done], elapsed: float, limits: RunLimits,
                     expected: str | None) -> None:
    assert stop_reason(done, elapsed, limits) == expected


def test_the_margin_is_kept_free() -> None:
    limits = RunLimits(iterations=9, max_seconds=100 * 1.25 + MARGIN_SECONDS + 50)
    assert stop_reason([Done("improved", 100, 1)], 50, limits) is None
    assert stop_reason([Done("improved", 100, 1)], 51, limits) is not None


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([], ""),
        (["regressed"], "regressed"),
        (["improved", "no_change"], "improved"),
        (["unchanged", "regressed"], "unchanged"),
        (["unchanged", "improved", "regressed"], "improved"),
        (["repeat", "budget"], "budget"),
    ],
)
def test_best_outcome(outcomes: list[str], expected: str) -> None:
    assert best_outcome(outcomes) == expected
