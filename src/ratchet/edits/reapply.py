"""Already-applied detection: SEARCH is gone (or still there) but REPLACE already stands in
the file, as when the model re-sends an edit."""

from __future__ import annotations

from ratchet.edits.context import _Ctx
from ratchet.edits.match import _find_blank_tolerant, _find_rstrip, _find_shifted, _Match
from ratchet.edits.messages import _already_applied
from ratchet.edits.text import _code_lines, _exact_hits, _split


def _guard_reapply_span(ctx: _Ctx, text: str, pos: int, end: int, replace: str) -> None:
    """SEARCH was found, but REPLACE is already there around it (a re-sent edit)."""
    if len(replace) <= end - pos or not replace.strip():
        return
    for hit in _exact_hits(text, replace, limit=20):
        if hit <= pos and hit + len(replace) >= end:
            raise _already_applied(ctx, text.count("\n", 0, hit))


def _guard_reapply(ctx: _Ctx, text: str, lines: list[str], match: _Match, replace: str) -> None:
    start = sum(len(line) + 1 for line in lines[: match.start])
    end = sum(len(line) + 1 for line in lines[: match.end])
    _guard_reapply_span(ctx, text, start, end, replace)


def _replace_location(text: str, lines: list[str], search: str, replace: str) -> int | None:
    """The line where REPLACE already stands, if it is in the file at exactly one place.

    Blank lines are only ignored when SEARCH and REPLACE differ in more than blank lines.
    """
    if not replace.strip():
        return None
    hits = _exact_hits(text, replace, limit=2)
    if len(hits) == 1:
        return text.count("\n", 0, hits[0])
    if hits:
        return None
    r_lines = _split(replace)
    finders = [_find_rstrip, _find_shifted]
    if _code_lines(search) != _code_lines(replace):
        finders.append(_find_blank_tolerant)
    for finder in finders:
        matches = finder(lines, r_lines)
        if len(matches) == 1:
            return matches[0].start
        if matches:
            return None
    return None
