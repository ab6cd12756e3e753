"""The 3-way splice of a tolerant match: base SEARCH, ours the matched file lines, theirs
REPLACE. Lines REPLACE keeps from SEARCH keep the file's bytes; new lines are re-indented
through the match's column map and written in the file's own indent character."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ratchet.edits.blanks import absorb_edge_blanks, adopt_file_blanks
from ratchet.edits.context import _Ctx
from ratchet.edits.indent import _indent_char, _restyle_new_lines
from ratchet.edits.match import _align, _Match
from ratchet.edits.messages import _conflict
from ratchet.edits.text import (
    _canon,
    _join,
    _lead_blanks,
    _line_ops,
    _model,
    _similarity,
    _trail_blanks,
)

_CHANGED_LINE_MIN = 0.8  # a line REPLACE rewrites must be this close to the file's line


def _splice(
    ctx: _Ctx, lines: list[str], match: _Match, s_lines: list[str], r_lines: list[str]
) -> str:
    """3-way merge of the matched file lines: base SEARCH, ours the file, theirs REPLACE."""
    if match.stage != "lines":
        s_lines, r_lines, adopted = adopt_file_blanks(lines, match, s_lines, r_lines)
        if adopted:
            match = dataclasses.replace(
                match, pairs=_align(s_lines, lines, match.start, match.end)
            )
    # blank lines around the match that REPLACE repeats but SEARCH left out are the file's
    match = absorb_edge_blanks(lines, match, s_lines, r_lines)
    char = _indent_char(lines, match.start, match.end)
    # the model added trailing whitespace the file does not use: its new lines lose theirs
    strip_trailing = any(
        s is not None
        and f is not None
        and s_lines[s] != s_lines[s].rstrip()
        and lines[f] == lines[f].rstrip()
        for s, f in match.pairs
    ) and all(lines[f] == lines[f].rstrip() for _s, f in match.pairs if f is not None)
    cr = "\r" if ctx.doc.new_line_cr else ""
    restyled: dict[str, str] = {}
    if match.stage == "lines":
        joined = _restyle_new_lines("\n".join(r_lines), "\n".join(s_lines), lines, True)
        restyled = dict(zip(r_lines, joined.split("\n"), strict=True))

    def render(line: str) -> str:
        # a line of whitespace only keeps it, re-indented like code, as REPLACE has it
        if not line.strip() and (strip_trailing or not line):
            return cr
        if strip_trailing:
            line = line.rstrip()
        body = line.lstrip(" \t")
        col = len(line[: len(line) - len(body)].expandtabs(match.tab))
        new_col = match.column(col)
        if match.stage == "lines":
            return restyled.get(line, line) + cr
        lead = line[: len(line) - len(body)]
        if new_col == col and (char is None or lead.startswith(char)):
            return line + cr  # in place, in the file's indent character (alignment kept)
        if char == "\t":
            lead = "\t" * (new_col // match.tab) + " " * (new_col % match.tab)
        else:
            lead = " " * new_col
        return lead + body + cr

    pairs = list(match.pairs)
    start, end = match.start, match.end
    copied = _copied_lines(s_lines, lines, pairs)
    # A 3-way merge: base SEARCH, ours the file span, theirs REPLACE. The model's change is
    # the diff SEARCH → REPLACE; every file line that change does not touch keeps its bytes
    # and its place — the lines paired with unchanged SEARCH lines, and the lines SEARCH left
    # out (blank lines, mostly) that lie outside the changed blocks.
    ops = _line_ops(s_lines, r_lines)
    op_of: dict[int, int] = {}
    inserts: dict[int, int] = {}
    for k, (tag, i1, i2, _j1, _j2) in enumerate(ops):
        for x in range(i1, i2):
            op_of[x] = k
        if tag == "insert":
            inserts[i1] = k
    changed = {k for k, op in enumerate(ops) if op[0] != "equal"}

    # for every pair: the SEARCH index before and after it (for lines SEARCH left out)
    prev_s: list[int | None] = []
    last: int | None = None
    for s, _f in pairs:
        prev_s.append(last)
        if s is not None:
            last = s
    next_s: list[int | None] = [None] * len(pairs)
    nxt: int | None = None
    for i in range(len(pairs) - 1, -1, -1):
        next_s[i] = nxt
        if pairs[i][0] is not None:
            nxt = pairs[i][0]

    def inside(i: int) -> int | None:
        """The changed op a left-out file line sits inside (both neighbours in it), if any."""
        a, b = prev_s[i], next_s[i]
        if a is None or b is None:
            return None
        ka, kb = op_of[a], op_of[b]
        if ka == kb and ka in changed:
            return ka
        return None

    replace_has_no_blanks = all(line.strip() for line in r_lines)
    out: list[str] = []
    done: set[int] = set()
    held: dict[int, list[str]] = {}  # changed op -> file blank lines inside it, in order

    # blank lines SEARCH left out, outside the changes, in the gap before each SEARCH line
    # (after the last one: the gap before the end, where an insertion at the end goes)
    gap_before: dict[int, int] = {}
    for i, (s, f) in enumerate(pairs):
        if s is None and f is not None and not lines[f].strip() and inside(i) is None:
            nxt_s = next_s[i]
            at = len(s_lines) if nxt_s is None else nxt_s
            gap_before[at] = gap_before.get(at, 0) + 1

    def left_out_run(i: int) -> int:
        """Blank lines SEARCH left out in the file's blank run that ends before SEARCH line
        ``i``: in the gap before it and, across blank lines the edit keeps, the gaps before
        those."""
        count = gap_before.get(i, 0)
        while i > 0 and not s_lines[i - 1].strip() and ops[op_of[i - 1]][0] == "equal":
            i -= 1
            count += gap_before.get(i, 0)
        return count

    def left_out_after(i: int) -> int:
        """Blank lines SEARCH left out in the file's blank run that starts at SEARCH line
        ``i`` (the end of a block): in the gap before it and, across blank lines the edit
        keeps, the gaps after those."""
        count = gap_before.get(i, 0)
        while i < len(s_lines) and not s_lines[i].strip() and ops[op_of[i]][0] == "equal":
            i += 1
            count += gap_before.get(i, 0)
        return count

    def emit(k: int) -> None:
        if k in done:
            return
        done.add(k)
        _tag, i1, i2, j1, j2 = ops[k]
        block = [copied.get(_model(line)) or render(line) for line in r_lines[j1:j2]]
        # REPLACE repeats a blank line SEARCH left out, next to this block: the file keeps
        # its own, so it is not written twice (an insertion sits after its gap's blanks)
        drop = min(_lead_blanks(block), left_out_run(i1))
        block = block[drop:]
        if i2 > i1:
            drop = min(_trail_blanks(block), left_out_after(i2))
            block = block[: len(block) - drop]
        blanks = held.get(k, [])
        if blanks and replace_has_no_blanks and block:
            # REPLACE has no blank lines at all, so the model left them all out: keep the
            # file's blank lines of this block at the same relative place among its lines.
            # (When REPLACE has blank lines of its own, its layout stands.)
            model = max(1, i2 - i1)
            for q, where in reversed(blanks_at[k]):
                block.insert(min(len(block), int(where * len(block) / model + 0.5)), q)
        out.extend(block)

    blanks_at: dict[int, list[tuple[str, int]]] = {}
    for i, (s, f) in enumerate(pairs):  # collect the blank lines inside changed blocks first
        if s is None and f is not None and not lines[f].strip():
            within = inside(i)
            if within is not None:
                a = prev_s[i]
                assert a is not None
                held.setdefault(within, []).append(lines[f])
                blanks_at.setdefault(within, []).append((lines[f], a - ops[within][1] + 1))

    for i, (s, f) in enumerate(pairs):
        if s is None:
            assert f is not None
            if lines[f].strip():
                if _gap_has_change(pairs, i, op_of, ops):
                    raise _conflict(ctx, f, lines[f], None)
                out.append(lines[f])  # a line SEARCH left out, outside any change: keep it
            elif inside(i) is None:
                out.append(lines[f])  # a blank line SEARCH left out, outside the changes
            continue
        if s in inserts:
            emit(inserts[s])
        k = op_of[s]
        if ops[k][0] == "equal":
            if f is not None:
                out.append(lines[f])
            continue
        if f is not None and match.stage == "fuzzy":
            if _similarity(_canon(s_lines[s]).strip(), lines[f].strip()) < _CHANGED_LINE_MIN:
                raise _conflict(ctx, f, lines[f], s_lines[s])
        emit(k)
    if len(s_lines) in inserts:
        emit(inserts[len(s_lines)])
    return _join(lines[:start] + out + lines[end:])


def _copied_lines(
    s_lines: list[str], lines: list[str], pairs: list[tuple[int | None, int | None]]
) -> dict[str, str]:
    """A line REPLACE writes that is one of SEARCH's (moved, or repeated) is the model's copy
    of a file line: it is written as the file has it (its copy slips and trailing whitespace
    aside). Maps SEARCH's line (canonical) to the file's bytes, where that is one line."""
    found: dict[str, set[str]] = {}
    for s, f in pairs:
        if s is not None and f is not None and s_lines[s].strip():
            found.setdefault(_model(s_lines[s]), set()).add(lines[f])
    return {key: next(iter(file_lines)) for key, file_lines in found.items()
            if len(file_lines) == 1}


def _gap_has_change(
    pairs: list[tuple[int | None, int | None]],
    index: int,
    op_of: dict[int, int],
    ops: Sequence[tuple[str, int, int, int, int]],
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
        if s is not None and f is None and ops[op_of[s]][0] != "equal":
            return True
    return False
