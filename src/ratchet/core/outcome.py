"""The vocabulary every part of Ratchet shares: outcomes of an attempt and phases of a run.

Both are ``StrEnum``s, so they are stored and compared as the plain words users see in memory
records, comments and the CLI (``"improved"``, ``"test"``), and a misspelt one is an error at
the place it is written, not a silent mismatch later.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class Outcome(StrEnum):
    """What one attempt (or one pull request) came to."""

    IMPROVED = "improved"  # the tests improved: kept
    UNCHANGED = "unchanged"  # no test got worse: kept
    REGRESSED = "regressed"  # a passing test fails: discarded
    BROKEN = "broken"  # the suite could not run with the change: discarded
    REPEAT = "repeat"  # the same patch failed before: not tried
    INVALID = "invalid"  # the edits could not be applied safely
    NO_CHANGE = "no_change"  # the model proposed nothing
    ERROR = "error"  # the attempt failed before it could be judged
    # kind=outcome records: what happened to the task's pull request
    ACCEPTED = "accepted"
    REJECTED = "rejected"


#: the outcomes a comparison of test runs gives (``ratchet.evaluate.verdict.judge``), spelt as a
#: ``Literal`` for pydantic and mypy (the evaluation artifact holds one of them)
Judged = Literal["improved", "unchanged", "regressed", "broken"]

#: outcomes that left a commit on the task branch
KEPT = frozenset({Outcome.IMPROVED, Outcome.UNCHANGED})
#: outcomes whose patch must never be proposed again
FAILED = frozenset({Outcome.REGRESSED, Outcome.BROKEN, Outcome.REJECTED})
#: outcomes that say "do not propose this step again" to a planner (failed, or unusable)
SKIP = FAILED | {Outcome.REPEAT, Outcome.INVALID}


class NoAttempt(StrEnum):
    """What an iteration that tried nothing came to: the run's outcome (its result, the status
    comment, the summary), never an attempt's, so no memory record carries one and they are not
    :class:`Outcome` members (``ratchet.records.OUTCOMES`` is ``tuple(Outcome)``)."""

    BUDGET = "budget"  # a budget of the task is used up (or ran out before a model call)
    PAUSED = "paused"  # the task is paused (``/agent stop``)


class Phase(StrEnum):
    """The phases of a run, as the status comment's checklist shows them."""

    RECALL = "recall"
    PROPOSE = "propose"
    TEST = "test"
    PUBLISH = "publish"


def is_kept(outcome: str) -> bool:
    return outcome in KEPT
