"""Ladder stages 1-4 for one SEARCH/REPLACE pair: the exact substring, then whole lines."""

from __future__ import annotations

from ratchet.edits.context import _Ctx
from ratchet.edits.indent import _restyle_new_lines
from ratchet.edits.match import _find_blank_tolerant, _find_rstrip, _find_shifted, _Match
from ratchet.edits.messages import _ambiguous
from ratchet.edits.reapply import _guard_reapply, _guard_reapply_span
from ratchet.edits.splice import _splice
from ratchet.edits.text import _exact_hits, _lead_blanks, _split, _trail_blanks


def _try_literal(
    ctx: _Ctx, text: str, lines: list[str], search: str, replace: str, min_line: int
) -> str | None:
    """Stages 1-4. Returns the new text, None if nothing matched; raises on ambiguity."""
    result = _exact(ctx, text, search, replace, min_line)
    if result is not None:
        ctx.stage = "exact"
        return result
    s_lines = _split(search)
    if not any(line.strip() for line in s_lines):
        return None
    for stage, finder in (
        ("trailing_whitespace", _find_rstrip),
        ("indentation", _find_shifted),
        ("blank_lines", _find_blank_tolerant),
    ):
        matches = _after(finder(lines, s_lines), min_line)
        if len(matches) > 1:
            raise _ambiguous(ctx, [m.start for m in matches])
        if matches:
            ctx.stage = stage
            _guard_reapply(ctx, text, lines, matches[0], replace)
            return _splice(ctx, lines, matches[0], s_lines, _split(replace))
    return None


def _after(matches: list[_Match], min_line: int) -> list[_Match]:
    if min_line and len(matches) > 1:
        later = [m for m in matches if m.start >= min_line]
        return later if later else matches
    return matches


def _whole_line_hit(text: str, pos: int, needle: str) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    if text[line_start:pos].strip(" \t"):
        return False
    end = pos + len(needle)
    return needle.endswith("\n") or end >= len(text) or text[end] == "\n"


def _splits_a_word(text: str, pos: int, needle: str) -> bool:
    """True if ``needle`` at ``pos`` starts or ends inside a word of ``text``."""
    end = pos + len(needle)
    return (pos > 0 and _is_word(text[pos - 1]) and _is_word(needle[0])) or (
        end < len(text) and _is_word(needle[-1]) and _is_word(text[end])
    )


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _exact(ctx: _Ctx, text: str, search: str, replace: str, min_line: int) -> str | None:
    hits = _exact_hits(text, search)
    if "\n" in search:
        # whole lines that start or end inside a word are a copy that lost a character there
        # ("mport sys" for "import sys"), not the place it was copied from
        hits = [h for h in hits if not _splits_a_word(text, h, search)]
    if not hits:
        return None
    if len(hits) > 1 and min_line:
        later = [h for h in hits if text.count("\n", 0, h) >= min_line]
        hits = later or hits
    if len(hits) > 1 and len(search.strip()) >= 8:
        # Models copy whole lines: if exactly one hit is a whole line, the others are
        # accidental sub-line matches (``return x`` inside ``return xy``).
        whole = [h for h in hits if _whole_line_hit(text, h, search)]
        if len(whole) == 1:
            hits = whole
    if len(hits) > 1:
        raise _ambiguous(ctx, [text.count("\n", 0, h) for h in hits])
    pos = hits[0]
    end = pos + len(search)
    _guard_reapply_span(ctx, text, pos, end, replace)
    replace = _restyle_new_lines(
        replace, search, _split(text), first_is_line=pos == text.rfind("\n", 0, pos) + 1
    )
    # When the match ends at a line end, SEARCH and REPLACE are line content: a missing or
    # extra trailing newline in either one must not join or split lines.
    if search.endswith("\n"):
        end -= 1
    elif end >= len(text) or text[end] != "\n":
        return text[:pos] + replace + text[end:]
    core = replace[:-1] if replace.endswith("\n") else replace
    line_start = text.rfind("\n", 0, pos) + 1
    if pos == line_start:
        pos, end = _absorb_blank_edges(text, pos, end, _split(search), _split(replace))
        line_start = pos
    if core == "" and not text[line_start:pos].strip(" \t"):
        return text[:line_start] + text[end + 1 :]  # delete the whole line(s)
    return text[:pos] + core + text[end:]


def _absorb_blank_edges(
    text: str, pos: int, end: int, s_lines: list[str], r_lines: list[str]
) -> tuple[int, int]:
    """Widen a line-aligned match [pos, end) over blank lines REPLACE repeats but SEARCH lacks.

    A model that leaves the blank lines around its SEARCH out but keeps them in REPLACE would
    otherwise double them. ``end`` indexes the newline that ends the last matched line.
    """
    extra = _lead_blanks(r_lines) - _lead_blanks(s_lines)
    while extra > 0 and pos > 0:
        prev = text.rfind("\n", 0, pos - 1) + 1
        if text[prev : pos - 1].strip():
            break
        pos, extra = prev, extra - 1
    extra = _trail_blanks(r_lines) - _trail_blanks(s_lines)
    while extra > 0 and end + 1 < len(text):
        nxt = text.find("\n", end + 1)
        if nxt == -1 or text[end + 1 : nxt].strip():
            break
        end, extra = nxt, extra - 1
    return pos, end
