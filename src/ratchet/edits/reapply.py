"""Already-applied detection: SEARCH is gone (or still there) but REPLACE already stands in
the file, as when the model re-sends an edit."""

from __future__ import annotations

from ratchet.edits.context import _Ctx
from ratchet.edits.match import _find_blank_tolerant, _find_rstrip, _find_shifted, _Match
from ratchet.edits.messages import _already_applied
from ratchet.edits.text import _canon, _code_lines, _exact_hits, _slip, _split


def _guard_reapply_span(ctx: _Ctx, text: str, pos: int, end: int, replace: str) -> None:
    """SEARCH was found, but REPLACE is already there around it, or is what SEARCH matched
    (SEARCH differed from it only in what the match ignores: a re-sent edit)."""
    if len(replace) < end - pos or not replace.strip():
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

    Whitespace, blank lines and typographic look-alikes are only ignored when SEARCH and
    REPLACE differ in more than those (and a typo in SEARCH).
    """
    if not replace.strip():
        return None
    hits = _exact_hits(text, replace, limit=2)
    if len(hits) == 1:
        return text.count("\n", 0, hits[0])
    if hits or _same_code(search, replace):
        # an edit of blank lines, whitespace or look-alike characters: only REPLACE as it is
        # says it is applied
        return None
    r_lines = _split(replace)
    finders = [_find_rstrip, _find_shifted, _find_blank_tolerant]
    for finder in finders:
        matches = finder(lines, r_lines)
        if len(matches) == 1:
            return matches[0].start
        if matches:
            return None
    return None


def _same_code(search: str, replace: str) -> bool:
    """True if SEARCH and REPLACE have the same lines of code, up to one slipped character
    (a typo in SEARCH), once whitespace and typographic look-alikes are set aside: the edit
    changes only what the tolerant finders ignore, so REPLACE found by them says nothing
    about it being applied."""
    s_code, r_code = _code_lines(search), _code_lines(replace)
    if len(s_code) != len(r_code):
        return False
    return sum(_slip(a, b) for a, b in zip(s_code, r_code, strict=True)) <= 1


def _stripped(lines: list[str]) -> list[str]:
    return [_canon(line).strip() for line in lines if line.strip()]


def adds_content(s_lines: list[str], r_lines: list[str]) -> bool:
    """True if REPLACE has a line SEARCH does not (a pure deletion's REPLACE is made of lines
    the file already has, so finding it there says nothing about the edit being applied)."""
    have = set(_stripped(s_lines))
    return any(line not in have for line in _stripped(r_lines))
