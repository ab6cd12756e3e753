"""Ladder stage 6: a fuzzy match, placed only when it clearly beats every other window."""

from __future__ import annotations

from collections import Counter

from ratchet.edits.context import _Ctx
from ratchet.edits.match import _TAB_WIDTHS, _align, _Match, _widen
from ratchet.edits.messages import _already_applied, _ambiguous
from ratchet.edits.reapply import _guard_reapply, adds_content, old_block_present
from ratchet.edits.splice import _splice
from ratchet.edits.text import _code_lines, _indent, _split
from ratchet.edits.windows import _best_window, _fuzzy_windows

FUZZY_THRESHOLD = 0.85
FUZZY_MARGIN = 0.05
FUZZY_MIN_LINES = 2
FUZZY_MIN_CHARS = 40
_REPLACE_PRESENT = 0.98  # fuzzy score at which REPLACE counts as already in the file


def _try_fuzzy(
    ctx: _Ctx,
    text: str,
    lines: list[str],
    search: str,
    replace: str,
    min_line: int,
    r_hit: int | None = None,
) -> str | None:
    s_lines = _split(search)
    want = [line.strip() for line in s_lines if line.strip()]
    if len(want) < FUZZY_MIN_LINES and len("\n".join(want)) < FUZZY_MIN_CHARS:
        return None
    cutoff = FUZZY_THRESHOLD - FUZZY_MARGIN
    windows = [w for w in _fuzzy_windows(lines, s_lines, cutoff) if w.start >= min_line]
    best = _best_window(windows, len(want))
    if best is None or best.score < FUZZY_THRESHOLD:
        return None
    rivals = [w for w in windows if w.end <= best.start or w.start >= best.end]
    if rivals and max(w.score for w in rivals) >= best.score - FUZZY_MARGIN:
        starts = sorted({best.start, *(w.start for w in rivals if w.score >= best.score - 0.05)})
        raise _ambiguous(ctx, starts, fuzzy=True)
    r_lines = _split(replace)
    # "already applied" only when the block SEARCH stands for is really gone: REPLACE brings
    # something new and stands where SEARCH matched, and no line the edit removes is there
    applied_here = adds_content(s_lines, r_lines) and not old_block_present(
        s_lines, r_lines, lines[best.start : best.end]
    )
    if r_hit is not None and best.start <= r_hit < best.end and applied_here:
        raise _already_applied(ctx, r_hit)
    if applied_here and any(line.strip() for line in r_lines):
        r_best = _best_window(_fuzzy_windows(lines, r_lines, cutoff), len(r_lines))
        if (
            r_best is not None
            and _code_lines(search) != _code_lines(replace)  # blank-only edits look the same
            and r_best.score >= _REPLACE_PRESENT
            and r_best.score > best.score
        ):
            raise _already_applied(ctx, r_best.start)
    start, end = _widen(lines, s_lines, best.start, best.end)
    pairs = _align(s_lines, lines, start, end)
    tab, cols = _fuzzy_cols(pairs, s_lines, lines)
    match = _Match(start, end, pairs, cols, tab, "fuzzy", best.score)
    ctx.stage = f"fuzzy({best.score:.2f})"
    _guard_reapply(ctx, text, lines, match, replace)
    return _splice(ctx, lines, match, s_lines, r_lines)


def _fuzzy_cols(
    pairs: list[tuple[int | None, int | None]], s_lines: list[str], lines: list[str]
) -> tuple[int, dict[int, int]]:
    """(tab width, column map) voted by paired lines; identical lines weigh more."""
    best: tuple[int, int, dict[int, int]] = (0, 4, {})  # (votes, tab, map)
    for tab in _TAB_WIDTHS:
        votes: dict[int, Counter[int]] = {}
        for s, f in pairs:
            if s is None or f is None or not s_lines[s].strip() or not lines[f].strip():
                continue
            f_col, f_body = _indent(lines[f], tab)
            s_col, s_body = _indent(s_lines[s], tab)
            votes.setdefault(s_col, Counter())[f_col] += 3 if f_body == s_body else 1
        cols: dict[int, int] = {}
        total = 0
        for s_col in sorted(votes):
            f_col, count = votes[s_col].most_common(1)[0]
            if cols and f_col <= max(cols.values()):
                continue  # keep the nesting order
            cols[s_col] = f_col
            total += count
        if total > best[0]:
            best = (total, tab, cols)
    return best[1], best[2]
