"""The 3-way splice of a tolerant match: base SEARCH, ours the matched file lines, theirs
REPLACE. Lines REPLACE keeps from SEARCH keep the file's bytes; new lines are re-indented
through the match's column map and written in the file's own indent character."""

from __future__ import annotations

import difflib

from ratchet.edits.context import _Ctx
from ratchet.edits.indent import _indent_char, _restyle_new_lines
from ratchet.edits.match import _Match
from ratchet.edits.messages import _conflict
from ratchet.edits.text import _canon, _join, _lead_blanks, _similarity, _trail_blanks

_CHANGED_LINE_MIN = 0.8  # a line REPLACE rewrites must be this close to the file's line


def _splice(
    ctx: _Ctx, lines: list[str], match: _Match, s_lines: list[str], r_lines: list[str]
) -> str:
    """3-way merge of the matched file lines: base SEARCH, ours the file, theirs REPLACE."""
    char = _indent_char(lines, match.start, match.end)
    strip_trailing = any(
        s is not None
        and f is not None
        and s_lines[s] != s_lines[s].rstrip()
        and lines[f] == lines[f].rstrip()
        for s, f in match.pairs
    )
    cr = "\r" if ctx.doc.new_line_cr else ""
    restyled: dict[str, str] = {}
    if match.stage == "lines":
        joined = _restyle_new_lines("\n".join(r_lines), "\n".join(s_lines), lines, True)
        restyled = dict(zip(r_lines, joined.split("\n"), strict=True))

    def render(line: str) -> str:
        if not line.strip():
            return cr
        if strip_trailing:
            line = line.rstrip()
        body = line.lstrip(" \t")
        col = len(line[: len(line) - len(body)].expandtabs(match.tab))
        new_col = match.column(col)
        if match.stage == "lines":
            return restyled.get(line, line) + cr
        if new_col == col and char is None:
            return line + cr
        if char == "\t":
            lead = "\t" * (new_col // match.tab) + " " * (new_col % match.tab)
        else:
            lead = " " * new_col
        return lead + body + cr

    pairs = list(match.pairs)
    start, end = match.start, match.end
    # Blank lines around the match that REPLACE repeats but SEARCH left out join the match.
    extra = _lead_blanks(r_lines) - _lead_blanks(s_lines)
    while extra > 0 and start > 0 and not lines[start - 1].strip():
        start, extra = start - 1, extra - 1
        pairs.insert(0, (None, start))
    extra = _trail_blanks(r_lines) - _trail_blanks(s_lines)
    while extra > 0 and end < len(lines) and not lines[end].strip():
        pairs.append((None, end))
        end, extra = end + 1, extra - 1
    # What is diffed against REPLACE: every SEARCH line, plus the blank file lines SEARCH left
    # out (so a blank line REPLACE has there is not written twice). Non-blank file lines that
    # SEARCH left out stay outside the diff and keep their place.
    base: list[str] = []
    at: dict[int, int] = {}  # index in pairs -> index in base
    for index, (s, f) in enumerate(pairs):
        if s is not None:
            base.append(_canon(s_lines[s]))
        elif f is not None and not lines[f].strip():
            base.append("")
        else:
            continue
        at[index] = len(base) - 1
    file_only = {at[i] for i, (s, _f) in enumerate(pairs) if s is None and i in at}
    ops = difflib.SequenceMatcher(
        None, base, [_canon(line) for line in r_lines], autojunk=False
    ).get_opcodes()
    op_of: dict[int, int] = {}
    inserts: dict[int, int] = {}
    for k, (tag, i1, i2, _j1, _j2) in enumerate(ops):
        for x in range(i1, i2):
            op_of[x] = k
        if tag == "insert":
            inserts[i1] = k

    replace_has_no_blanks = all(line.strip() for line in r_lines)
    out: list[str] = []
    done: set[int] = set()

    def emit(k: int) -> None:
        if k in done:
            return
        done.add(k)
        _tag, i1, i2, j1, j2 = ops[k]
        block = [render(line) for line in r_lines[j1:j2]]
        blanks = [x - i1 for x in range(i1, i2) if x in file_only]
        if blanks and len(blanks) == i2 - i1:
            block = [cr] * len(blanks) + block  # only lines the model never saw: keep them
        elif blanks and replace_has_no_blanks and len(block) >= (i2 - i1) - len(blanks):
            # REPLACE has no blank lines at all, so the model left them all out: where it
            # rewrites or grows this block, keep the file's blank lines at the same relative
            # place among its lines. Otherwise (REPLACE has its own layout, or the block
            # shrinks) REPLACE's layout stands.
            model = (i2 - i1) - len(blanks)
            length = len(block)
            for q in reversed(blanks):
                before = q - sum(1 for b in blanks if b < q)  # model lines above this blank
                block.insert(int(before * length / model + 0.5), cr)
        out.extend(block)

    for index, (s, f) in enumerate(pairs):
        if index not in at:
            assert f is not None
            if _gap_has_change(pairs, index, at, op_of, ops):
                raise _conflict(ctx, f, lines[f], None)
            out.append(lines[f])  # a line SEARCH left out, outside any change: keep it
            continue
        x = at[index]
        if x in inserts:
            emit(inserts[x])
        k = op_of[x]
        if ops[k][0] == "equal":
            if f is not None:
                out.append(lines[f])
            continue
        if s is not None and f is not None and match.stage == "fuzzy":
            if _similarity(base[x].strip(), lines[f].strip()) < _CHANGED_LINE_MIN:
                raise _conflict(ctx, f, lines[f], s_lines[s])
        emit(k)
    if len(base) in inserts:
        emit(inserts[len(base)])
    return _join(lines[:start] + out + lines[end:])


def _gap_has_change(
    pairs: list[tuple[int | None, int | None]],
    index: int,
    at: dict[int, int],
    op_of: dict[int, int],
    ops: list[tuple[str, int, int, int, int]],
) -> bool:
    """True if a left-out file line shares its gap with a changed SEARCH line with no file line.

    The gap runs between the nearest pairs where both sides matched. Such a file line may be
    the changed line itself, rewritten in the file since the model saw it: a conflict.
    """

    def both(i: int) -> bool:
        return pairs[i][0] is not None and pairs[i][1] is not None

    lo = index
    while lo > 0 and not both(lo - 1):
        lo -= 1
    hi = index
    while hi + 1 < len(pairs) and not both(hi + 1):
        hi += 1
    for i in range(lo, hi + 1):
        s, f = pairs[i]
        if s is not None and f is None and ops[op_of[at[i]]][0] != "equal":
            return True
    return False
