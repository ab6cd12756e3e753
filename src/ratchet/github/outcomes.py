"""What reviews and closed pull requests leave in memory. Pure: records in, records out.

A review of a Ratchet pull request becomes one ``kind: feedback`` record (state, body, inline
comments), which every later prompt of the task carries. A closed pull request becomes one
``kind: outcome`` record (accepted when merged, rejected when closed unmerged); when rejected,
every change that was kept on the branch is also recorded as rejected by its patch hash, so the
same approach is refused before any test runs if it is proposed again.
"""

from __future__ import annotations

from collections.abc import Sequence

from ratchet.core import keys
from ratchet.core.outcome import KEPT, Outcome
from ratchet.intent import Intent
from ratchet.records import MemoryRecord
from ratchet.sanitize import clean_user_text


def feedback_record(
    intent: Intent,
    key: str,
    inline: Sequence[tuple[str, int | None, str]],
    run_id: str,
) -> MemoryRecord:
    """The feedback record of a submitted review (user text cleaned and capped)."""
    who = f" by @{intent.actor.login}" if intent.actor else ""
    parts = [f"Review ({intent.review_state or 'commented'}){who}"]
    if intent.review_body.strip():
        parts.append(clean_user_text(intent.review_body, 4000))
    for path, line, body in list(inline)[:30]:
        parts.append(f"{path}:{line}: {clean_user_text(body, 800)}")
    return MemoryRecord(
        kind="feedback",
        task=key,
        outcome=intent.review_state or "commented",
        detail="\n".join(parts)[:2000],
        branch=keys.branch_of(key),
        pr=intent.pr_number,
        run_id=run_id,
    )


def closed_records(
    intent: Intent, key: str, history: Sequence[MemoryRecord], run_id: str
) -> list[MemoryRecord]:
    """The outcome record of a closed pull request, plus one rejected record per kept change
    when it was closed without merging."""
    outcome = Outcome.ACCEPTED if intent.merged else Outcome.REJECTED
    # only the changes of this pull request: those kept since the previous one was closed
    # (its branch was deleted then, so later work started again from the base branch)
    closed_before = [
        r.created_at
        for r in history
        if r.kind == "outcome" and r.outcome in (Outcome.ACCEPTED, Outcome.REJECTED)
    ]
    since = max(closed_before, default="")
    kept = [
        r
        for r in history
        if r.kind == "attempt" and r.outcome in KEPT and r.commit and r.created_at > since
    ]
    titles = "; ".join(r.title for r in kept[-10:])
    how = "merged" if intent.merged else "closed without merging"
    out = [
        MemoryRecord(
            kind="outcome",
            task=key,
            outcome=outcome,
            pr=intent.pr_number,
            detail=f"pull request #{intent.pr_number} was {how}: {titles}",
            branch=keys.branch_of(key),
            run_id=run_id,
        )
    ]
    if not intent.merged:
        out += [
            MemoryRecord(
                kind="outcome",
                task=key,
                outcome=Outcome.REJECTED,
                attempt=r.attempt,
                title=r.title,
                patch_sha256=r.patch_sha256,
                files=r.files,
                pr=intent.pr_number,
                run_id=run_id,
                detail=f"rejected with pull request #{intent.pr_number}",
            )
            for r in kept
        ]
    return out
