"""Whether one run makes another attempt: the decision between the iterations of one CI job
(or of ``ratchet run --iterations N``).

A run goes on, one attempt after another, until one of these, checked in this order:

* it has made ``iterations`` attempts;
* the last attempt ended the task's progress for now: the model proposed nothing
  (``no_change``), a budget is used up, the task is paused, or the attempt failed before it
  could be judged (``error``: the next one would most likely fail the same way);
* a kept change left no failing test: the suite is green;
* the suite does not run on the task branch (an environment problem, most often), and two
  attempts in a row did not make it run;
* the time left would not fit another iteration: the slowest one so far, plus a margin, must
  end before ``max_minutes`` (keep the job's ``timeout-minutes`` above it, so the job is
  never killed mid-iteration; a killed job still loses nothing that was pushed).

Pure: the caller measures the seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ratchet.core.outcome import KEPT, NoAttempt, Outcome

#: seconds kept free after the estimated next iteration, before ``max_minutes`` is reached
MARGIN_SECONDS = 30.0
#: the estimate is the slowest iteration so far times this
SLACK = 1.25
#: outcomes after which another attempt in the same run would not help, and why
_FINAL: dict[str, str] = {
    Outcome.NO_CHANGE: "the model proposed no further change",
    Outcome.ERROR: "the last attempt failed before it could be judged",
    NoAttempt.BUDGET: "a budget of the task is used up",
    NoAttempt.PAUSED: "the task is paused",
}


@dataclass(frozen=True)
class RunLimits:
    """How long one run may go on: at most ``iterations`` attempts, within ``max_seconds`` of
    wall time (None: no time limit)."""

    iterations: int = 1
    max_seconds: float | None = None


@dataclass(frozen=True)
class Done:
    """One finished iteration: its outcome, how long it took, and how many tests still fail
    on the task branch after it (None: unknown)."""

    outcome: str
    seconds: float
    failing_left: int | None = None


def stop_reason(done: Sequence[Done], elapsed: float, limits: RunLimits) -> str | None:
    """Why the run stops after ``done`` (one line for a person), or None to make another
    attempt. ``elapsed``: seconds since the run started."""
    if not done:
        return None
    last = done[-1]
    n = len(done)
    if n >= limits.iterations:
        return f"{n} of {limits.iterations} iteration(s) made (raise `iterations` for more per run)"
    if last.outcome in _FINAL:
        return _FINAL[last.outcome]
    if last.outcome in KEPT and last.failing_left == 0:
        return "the test suite is green"
    if len(done) >= 2 and all(d.failing_left is None and d.outcome not in KEPT
                              for d in done[-2:]):  # fmt: skip
        return ("the test suite does not run on the task branch, and two attempts did not "
                "make it run (see the warning above)")
    if limits.max_seconds is not None:
        estimate = max(d.seconds for d in done) * SLACK + MARGIN_SECONDS
        left = limits.max_seconds - elapsed
        if estimate > left:
            return (
                f"another iteration (about {_minutes(estimate)}) would not fit in the "
                f"{_minutes(max(left, 0))} left of `max_minutes`"
            )
    return None


def best_outcome(outcomes: Sequence[str]) -> str:
    """The run's outcome for the ``outcome`` output: ``improved`` if any attempt improved,
    else ``unchanged`` if any change was kept, else the last attempt's ("" for none)."""
    for wanted in (Outcome.IMPROVED, Outcome.UNCHANGED):
        if wanted in outcomes:
            return str(wanted)
    return outcomes[-1] if outcomes else ""


def _minutes(seconds: float) -> str:
    if seconds < 90:
        return f"{round(seconds)} s"
    return f"{seconds / 60:.1f} min"
