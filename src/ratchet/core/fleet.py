"""Which of a repository's tasks are due now (``ratchet plan``): a fleet of tasks on one
schedule, each run as its own job of a GitHub Actions matrix.

Tasks come from the config (``task``, ``tasks:``), the open issues carrying the task label
(``issue-<N>``) and the open Ratchet pull requests (found by their hidden task marker). A task
is **not** planned when it is paused (``/agent stop``), finished (its pull request was merged,
or the model's last answer was that nothing is left to change, and nobody has spoken since), or
over a budget. A task known only from its pull request is planned when a review asked for
changes that no attempt has answered yet. Pure: the caller lists the candidates (one API
listing) and reads the memory (one read).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ratchet.core import iteration, money, steering
from ratchet.core.outcome import Outcome
from ratchet.records import STEERING_KINDS, MemoryRecord

#: GitHub runs at most 256 jobs from one matrix
MAX_MATRIX = 256
#: where a candidate task comes from, in the order they are listed
SOURCES = ("config", "tasks", "issue", "pull request")


@dataclass(frozen=True)
class Candidate:
    key: str
    source: str  # one of SOURCES
    title: str = ""


@dataclass(frozen=True)
class Planned:
    key: str
    source: str
    due: bool
    why: str  # one line for a person: why it runs, or why not
    title: str = ""


def plan(
    candidates: Sequence[Candidate],
    records: Mapping[str, Sequence[MemoryRecord]],
    limits: money.Limits,
    rate: money.Rate | None,
) -> list[Planned]:
    """Each candidate (the first of a key wins) with whether it is due, and why."""
    out: list[Planned] = []
    seen: set[str] = set()
    for c in candidates:
        if c.key in seen:
            continue
        seen.add(c.key)
        due, why = _decide(c, list(records.get(c.key, ())), limits, rate)
        out.append(Planned(c.key, c.source, due, why, c.title))
    return out


def _decide(
    c: Candidate, history: list[MemoryRecord], limits: money.Limits, rate: money.Rate | None
) -> tuple[bool, str]:
    state = steering.state_of(history)
    if state.paused:
        who = f" by {steering.who(state.paused_by)}" if state.paused_by else ""
        return False, f"paused{who}"
    live = sorted((r for r in history if r.kind not in STEERING_KINDS
                   and not steering.is_forgotten(r, state)), key=lambda r: r.created_at)
    last = live[-1] if live else None
    if last is not None and last.kind == "outcome" and last.outcome == Outcome.ACCEPTED:
        return False, "finished: its pull request was merged"
    if last is not None and last.kind == "attempt" and last.outcome == Outcome.NO_CHANGE:
        return False, "finished: the model found nothing left to change (`/agent next` asks again)"
    step = iteration.plan(history, task_key=c.key, limits=limits, rate=rate)
    if isinstance(step, iteration.Stop):
        return False, step.detail
    if c.source == "pull request":
        asked = [r for r in live if r.kind == "feedback" and r.outcome == "changes_requested"]
        if not asked:
            return False, "waiting for a review"
        answered = any(r.kind == "attempt" and r.created_at > asked[-1].created_at for r in live)
        if answered:
            return False, "the requested changes were attempted; waiting for a review"
        return True, "a review asked for changes"
    return True, {"config": "the configured task", "tasks": "listed in `tasks:`",
                  "issue": "an open issue with the task label"}.get(c.source, c.source)


def matrix(planned: Sequence[Planned]) -> dict[str, list[dict[str, str]]]:
    """The due tasks as a GitHub Actions matrix (``strategy.matrix: ${{ fromJSON(...) }}``),
    at most :data:`MAX_MATRIX`."""
    return {"include": [{"task": p.key} for p in planned if p.due][:MAX_MATRIX]}
