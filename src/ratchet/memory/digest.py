"""Records → the memory digest the model reads: a bounded summary of what was tried.

Pure and deterministic. The digest always fits ``budget`` characters, whatever the history
size. Priorities, highest first: the summary line, reviewer feedback, the newest attempt in
detail, the NAME of every failed idea (compactly, up to a hard cap, then "and N more"), more
newest attempts in detail, older attempts one line each, related memories from other tasks.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ratchet.core.outcome import KEPT, SKIP
from ratchet.records import MemoryRecord, sort_key
from ratchet.sanitize import cap, one_line

#: outcomes that name an idea the model must not propose again
FAILED_IDEA_OUTCOMES = SKIP

MAX_DETAIL = 5  # newest attempts shown in detail
MIN_DETAIL_FIRST = 3  # detail this many before spending room on one-liners
MAX_SHOWN = 40  # attempts shown in detail or one line each
MAX_FAILED_NAMED = 30  # hard cap of failed ideas named in the compact list
MAX_FEEDBACK = 5
MAX_RELATED = 5
FIRST_ATTEMPT = "No earlier attempts are remembered for this task: this is the first attempt."


@dataclass(frozen=True)
class _Group:
    """One failed idea: every failed record sharing a patch hash (or, without one, a title)."""

    title: str
    patch: str
    attempts: tuple[int, ...]  # newest first
    outcomes: tuple[str, ...]


def build_digest(
    attempts: Sequence[MemoryRecord],
    related: Sequence[MemoryRecord] = (),
    budget: int = 6000,
) -> str:
    """Return the memory digest (plain text, at most ``budget`` characters).

    ``attempts`` are every earlier record of this task (kinds attempt/feedback/outcome);
    ``related`` are a few relevant records of other tasks. Raises nothing."""
    budget = max(budget, 0)
    records = _dedupe(attempts)
    feedback = sorted((r for r in records if r.kind == "feedback"), key=sort_key, reverse=True)
    timeline = sorted((r for r in records if r.kind != "feedback"), key=sort_key)
    newest = timeline[::-1]

    parts: list[str] = []
    parts.append(_summary(timeline) if timeline else FIRST_ATTEMPT)
    if feedback:
        parts.append(_feedback_section(feedback, max(budget // 4, 200)))
    related_text = _related_section(related, budget // 8) if related else ""
    fixed = "\n\n".join(parts)
    used = len(fixed) + (len(related_text) + 2 if related_text else 0)

    body = _attempts_section(newest, budget - used - 2) if newest else ""
    out = "\n\n".join(p for p in (fixed, body, related_text) if p)
    return cap(out, budget)


# -- sections ------------------------------------------------------------------------------


def _dedupe(records: Sequence[MemoryRecord]) -> list[MemoryRecord]:
    seen: set[str] = set()
    out: list[MemoryRecord] = []
    for r in records:
        k = r.id or r.key
        if k in seen:
            continue
        seen.add(k)
        out.append(r)
    return out


def _summary(timeline: list[MemoryRecord]) -> str:
    tries = [r for r in timeline if r.kind == "attempt"]
    counts = Counter(r.outcome or "unknown" for r in tries)
    n_kept = sum(n for o, n in counts.items() if o in KEPT)
    failed = sum(n for o, n in counts.items() if o in FAILED_IDEA_OUTCOMES)
    other = len(tries) - n_kept - failed
    breakdown = ", ".join(f"{o} {counts[o]}" for o in sorted(counts))
    lines = [
        f"Earlier attempts at this task: {len(tries)} "
        f"(kept {n_kept}, failed {failed}, other {other}; {breakdown or 'none'})."
    ]
    kept = [r for r in tries if r.outcome in KEPT and r.score_after is not None]
    if kept:
        last = kept[-1]
        history = " → ".join(str(r.score_after) for r in kept[-10:])
        more = "… → " if len(kept) > 10 else ""
        lines.append(
            f"Score on the task branch: {last.score_after} (after attempt {last.attempt}); "
            f"kept scores: {more}{history}."
        )
    else:
        base = next((r.score_before for r in tries if r.score_before is not None), None)
        if base is not None:
            lines.append(f"No attempt has been kept yet; the starting score was {base}.")
    pr = [r for r in timeline if r.kind == "outcome"]
    if pr:
        last = pr[-1]
        note = f": {one_line(last.detail, 200)}" if last.detail else ""
        lines.append(f"Pull request outcome: {last.outcome or 'unknown'}{note}")
    return "\n".join(lines)


def _feedback_section(feedback: list[MemoryRecord], limit: int) -> str:
    """Newest feedback first, each note cut to fit; an "and N older" line when some are left
    out. Never longer than ``limit``."""
    head = "Reviewer feedback (newest first; follow it):"
    reserve = len("\n- and 00000000 older feedback notes")
    lines = [head]
    size = len(head)
    for r in feedback[:MAX_FEEDBACK]:
        when = f"after attempt {r.attempt}" if r.attempt else (r.created_at[:10] or "-")
        prefix = f"- ({when}) "
        room = limit - reserve - size - 1 - len(prefix) - 2
        if room < 60:
            break
        line = f'{prefix}"{one_line(r.detail, min(500, room))}"'
        lines.append(line)
        size += 1 + len(line)
    rest = len(feedback) - (len(lines) - 1)
    if rest > 0:
        lines.append(f"- and {rest} older feedback notes")
    return cap("\n".join(lines), limit)


def _related_section(related: Sequence[MemoryRecord], limit: int) -> str:
    head = "Related memories from other tasks (for reference only):"
    lines = [head]
    size = len(head)
    for r in _dedupe(related)[:MAX_RELATED]:
        if r.kind == "feedback":
            line = f'- task {one_line(r.task, 40)}, feedback: "{one_line(r.detail, 200)}"'
        else:
            line = f"- task {one_line(r.task, 40)}: " + _line(r)[2:]
        if size + 1 + len(line) > limit:
            break
        lines.append(line)
        size += 1 + len(line)
    return "\n".join(lines) if len(lines) > 1 else ""


def _attempts_section(newest: list[MemoryRecord], room: int) -> str:
    """Choose how many newest records to show in detail (d) and in total (s); the rest are
    named compactly when they failed. Prefers, in order: the newest one in detail, more failed
    ideas named, up to MIN_DETAIL_FIRST in detail, more records shown, more in detail."""
    n = len(newest)
    max_shown = min(n, MAX_SHOWN)
    details = [_detail(r) for r in newest[: min(n, MAX_DETAIL)]]
    lines = [_line(r) for r in newest[:max_shown]]
    p_detail = _prefix([len(x) + 1 for x in details])
    p_line = _prefix([len(x) + 1 for x in lines])
    heads = {
        "detail": "Most recent attempts (newest first):",
        "line": "Earlier attempts, one line each (newest first):",
        "failed": "Other failed ideas — do NOT propose these again:",
    }
    failed = _Failed.of(newest)

    best: tuple[tuple[int, ...], str] | None = None
    for d in range(min(n, MAX_DETAIL), -1, -1):
        for s in range(max_shown, d - 1, -1):
            size = p_detail[d] + (p_line[s] - p_line[d])
            size += (len(heads["detail"]) + 2) if d else 0
            size += (len(heads["line"]) + 2) if s > d else 0
            left = room - size
            if left < 0:
                continue
            compact, named = failed.compact(s, left - len(heads["failed"]) - 3)
            score = (1 if d else 0, min(named, MAX_FAILED_NAMED), min(d, MIN_DETAIL_FIRST), s, d)
            if best is None or score > best[0]:
                text = _join(heads, details[:d], lines[d:s], compact)
                if len(text) <= room:
                    best = (score, text)
    if best is None:
        return cap(f"{n} earlier attempts (no room to list them).", max(room, 0))
    return best[1]


def _join(heads: dict[str, str], details: list[str], lines: list[str], compact: str) -> str:
    blocks: list[str] = []
    if details:
        blocks.append(heads["detail"] + "\n" + "\n".join(details))
    if lines:
        blocks.append(heads["line"] + "\n" + "\n".join(lines))
    if compact:
        blocks.append(heads["failed"] + "\n" + compact)
    return "\n\n".join(blocks)


def _prefix(sizes: list[int]) -> list[int]:
    out = [0]
    for x in sizes:
        out.append(out[-1] + x)
    return out


def _groups(newest: list[MemoryRecord], wanted: int) -> tuple[list[_Group], list[int]]:
    """Failed ideas among ``newest`` (newest first), grouped by patch hash or title, newest
    group first: the first ``wanted`` groups, and the index of every group's newest record
    (ascending)."""
    order: list[tuple[str, str]] = []
    members: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(newest):
        if r.outcome not in FAILED_IDEA_OUTCOMES:
            continue
        k = _idea_key(r)
        if k not in members:
            members[k] = [i]
            order.append(k)
        else:
            members[k].append(i)
    groups: list[_Group] = []
    for k in order[:wanted]:
        rs = [newest[i] for i in members[k]]
        title = next((r.title for r in rs if r.title), "") or next(
            (r.detail for r in rs if r.detail), ""
        )
        outcomes = tuple(dict.fromkeys(r.outcome for r in rs))
        groups.append(_Group(title, rs[0].patch_sha256, tuple(r.attempt for r in rs), outcomes))
    return groups, [members[k][0] for k in order]


def _idea_key(r: MemoryRecord) -> tuple[str, str]:
    if r.patch_sha256:
        return ("patch", r.patch_sha256)
    return ("title", " ".join(r.title.lower().split()) or f"{r.kind}:{r.attempt}")


@dataclass(frozen=True)
class _Failed:
    """Every failed idea of the history, rendered lazily for the compact list."""

    lines: list[str]  # compact lines of the first groups (enough for any split)
    first: list[int]  # index (newest first) of each group's newest record, ascending
    total: int

    @classmethod
    def of(cls, newest: list[MemoryRecord]) -> _Failed:
        groups, first = _groups(newest, MAX_SHOWN + MAX_FAILED_NAMED + 1)
        return cls([_compact_line(g) for g in groups], first, len(first))

    def compact(self, s: int, room: int) -> tuple[str, int]:
        """The list of failed ideas not shown among the ``s`` newest records, within
        ``room`` characters; returns (text, number of failed ideas named in all, shown ones
        included). An idea with any record among the shown ones is named there."""
        k = bisect_left(self.first, s)
        remaining = self.total - k
        if remaining <= 0 or room <= 0:
            return "", k
        lines: list[str] = []
        size = 0
        for i in range(min(remaining, MAX_FAILED_NAMED)):
            line = self.lines[k + i]
            rest = remaining - i - 1
            tail = len(f"- and {rest} more failed ideas") + 1 if rest else 0
            if size + len(line) + 1 + tail > room:
                break
            lines.append(line)
            size += len(line) + 1
        rest = remaining - len(lines)
        if rest:
            more = f"- and {rest} more failed ideas"
            if size + len(more) > room:
                return "", k
            lines.append(more)
        return "\n".join(lines), k + len(lines) - (1 if rest else 0)


# -- record renderings ---------------------------------------------------------------------


def _score(r: MemoryRecord) -> str:
    if r.score_before is None and r.score_after is None:
        return ""
    before = "?" if r.score_before is None else str(r.score_before)
    after = "?" if r.score_after is None else str(r.score_after)
    return f"score {before} → {after}"


def _files(files: tuple[str, ...], n: int) -> str:
    shown = [one_line(f, 100) for f in files[:n]]
    more = f" (+{len(files) - n} more)" if len(files) > n else ""
    return ", ".join(shown) + more


def _title(r: MemoryRecord, limit: int) -> str:
    return f'"{one_line(r.title, limit)}"' if r.title else "(no title)"


def _detail(r: MemoryRecord) -> str:
    if r.kind == "branch":
        return f"- Task branch {(r.outcome or 'unknown').upper()}: {one_line(r.detail, 400)}"
    if r.kind == "outcome":
        text = f"- Pull request outcome: {(r.outcome or 'unknown').upper()}"
        if r.pr is not None:
            text += f" (PR #{r.pr})"
        if r.detail:
            text += f"\n  note: {one_line(r.detail, 400)}"
        return text
    head = f"- Attempt {r.attempt}: {(r.outcome or 'unknown').upper()}"
    score = _score(r)
    head += f", {score}" if score else ""
    head += f" — {_title(r, 120)}"
    out = [head]
    if r.files:
        out.append(f"  files: {_files(r.files, 8)}")
    if r.failing:
        out.append(f"  tests still failing after it: {_files(r.failing, 8)}")
    if r.detail:
        out.append(f"  note: {one_line(r.detail, 300)}")
    if r.rationale:
        out.append(f"  rationale: {one_line(r.rationale, 200)}")
    if r.patch_sha256:
        out.append(f"  patch: {r.patch_sha256[:12]}")
    return "\n".join(out)


def _line(r: MemoryRecord) -> str:
    if r.kind == "branch":
        return f"- task branch {r.outcome or 'unknown'}: {one_line(r.detail, 100)}"
    if r.kind == "outcome":
        note = f": {one_line(r.detail, 120)}" if r.detail else ""
        return f"- pull request {r.outcome or 'unknown'}{note}"
    parts = [f"- #{r.attempt} {r.outcome or 'unknown'}"]
    score = _score(r)
    if score:
        parts.append(score)
    parts.append(_title(r, 80))
    if r.files:
        parts.append(f"[{_files(r.files, 2)}]")
    if r.patch_sha256:
        parts.append(f"patch {r.patch_sha256[:8]}")
    if r.detail and r.outcome not in KEPT:
        parts.append(f"— {one_line(r.detail, 60)}")
    return " ".join(parts)


def _compact_line(g: _Group) -> str:
    nums = ", ".join(f"#{a}" for a in g.attempts[:4])
    if len(g.attempts) > 4:
        nums += f" +{len(g.attempts) - 4}"
    title = f'"{one_line(g.title, 50)}"' if g.title else "(no title)"
    patch = f" ({g.patch[:8]})" if g.patch else ""
    return f"- {nums} {'/'.join(g.outcomes)} {title}{patch}"
