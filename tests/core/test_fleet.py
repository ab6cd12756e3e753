"""Which tasks are due (core/fleet.py): candidates and their memory, in a table."""

from __future__ import annotations

from ratchet.core import fleet, money
from ratchet.core.fleet import Candidate
from ratchet.records import MemoryRecord

LIMITS = money.Limits(attempts=3, tokens=1_000_000)


def _rec(kind: str, task: str, outcome: str = "", attempt: int = 0, at: str = "2026-12-01T00:00:0",
         n: int = 0, **kw: object) -> MemoryRecord:
    return MemoryRecord(kind=kind, task=task, outcome=outcome, attempt=attempt,
                        created_at=f"{at}{n}Z", **kw)  # type: ignore[arg-type]


def test_due_and_not_due_with_reasons() -> None:
    candidates = [
        Candidate("calc", "config"), Candidate("typing", "tasks"), Candidate("issue-4", "issue"),
        Candidate("issue-5", "issue"), Candidate("issue-6", "issue"), Candidate("issue-7", "issue"),
        Candidate("issue-8", "pull request"), Candidate("issue-9", "pull request"),
        Candidate("issue-10", "pull request"), Candidate("calc", "pull request"),
    ]
    records = {
        "typing": [_rec("control", "typing", "paused", actor="alice", n=1)],
        "issue-4": [_rec("attempt", "issue-4", "improved", 1, n=1)],
        "issue-5": [_rec("attempt", "issue-5", "regressed", a, n=a) for a in (1, 2, 3)],
        "issue-6": [_rec("attempt", "issue-6", "improved", 1, n=1),
                    _rec("outcome", "issue-6", "accepted", n=2)],
        "issue-7": [_rec("attempt", "issue-7", "no_change", 1, n=1)],
        "issue-8": [_rec("attempt", "issue-8", "improved", 1, n=1),
                    _rec("feedback", "issue-8", "changes_requested", n=2)],
        "issue-9": [_rec("feedback", "issue-9", "changes_requested", n=1),
                    _rec("attempt", "issue-9", "improved", 1, n=2)],
        "issue-10": [_rec("feedback", "issue-10", "approved", n=1)],
    }
    got = {p.key: (p.due, p.why) for p in fleet.plan(candidates, records, LIMITS, None)}
    assert got == {
        "calc": (True, "the configured task"),  # the first source of a key wins
        "typing": (False, "paused by @alice"),
        "issue-4": (True, "an open issue with the task label"),
        "issue-5": (False, got["issue-5"][1]),
        "issue-6": (False, "finished: its pull request was merged"),
        "issue-7": (False, "finished: the model found nothing left to change "
                           "(`/agent next` asks again)"),
        "issue-8": (True, "a review asked for changes"),
        "issue-9": (False, "the requested changes were attempted; waiting for a review"),
        "issue-10": (False, "waiting for a review"),
    }
    assert "attempts" in got["issue-5"][1]  # the budget says which one is used up
    planned = fleet.plan(candidates, records, LIMITS, None)
    assert fleet.matrix(planned) == {
        "include": [{"task": "calc"}, {"task": "issue-4"}, {"task": "issue-8"}]}


def test_a_forgotten_no_change_does_not_finish_a_task() -> None:
    done = [_rec("attempt", "t", "no_change", 1, n=1)]
    [p] = fleet.plan([Candidate("t", "tasks")], {"t": done}, LIMITS, None)
    assert not p.due
    forgot = [*done, _rec("forget", "t", attempt=1, actor="alice", n=2)]
    [p] = fleet.plan([Candidate("t", "tasks")], {"t": forgot}, LIMITS, None)
    assert p.due
    resumed = [*done, _rec("control", "t", "resumed", actor="alice", n=2)]  # not speaking
    [p] = fleet.plan([Candidate("t", "tasks")], {"t": resumed}, LIMITS, None)
    assert not p.due
    reviewed = [*done, _rec("feedback", "t", "commented", n=2)]  # a review reopens it
    [p] = fleet.plan([Candidate("t", "tasks")], {"t": reviewed}, LIMITS, None)
    assert p.due


def test_the_matrix_holds_at_most_256_jobs() -> None:
    planned = fleet.plan([Candidate(f"issue-{i}", "issue") for i in range(300)], {}, LIMITS, None)
    assert len(fleet.matrix(planned)["include"]) == fleet.MAX_MATRIX == 256
