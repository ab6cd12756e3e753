"""Ladder stage 6: a fuzzy match, placed only where a window holds SEARCH up to a copy slip,
and no other window nearly does."""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass

from ratchet.edits.context import _Ctx
from ratchet.edits.match import _TAB_WIDTHS, _align, _Match, _widen
from ratchet.edits.messages import _already_applied, _ambiguous, _conflict, _missing
from ratchet.edits.reapply import _guard_reapply, adds_content
from ratchet.edits.splice import _splice
from ratchet.edits.text import _indent, _model, _slip, _split
from ratchet.edits.windows import _best_window, _fuzzy_windows, _Window

FUZZY_THRESHOLD = 0.85
FUZZY_MARGIN = 0.05
FUZZY_MIN_LINES = 2
FUZZY_MIN_CHARS = 40
_SLIPS_PER_LINES = 10  # a copy of SEARCH may slip by one character per this many lines (1+)
_CHECKED = 60  # windows checked for holding SEARCH, best score first


def _telling(want: list[str]) -> bool:
    """Whether SEARCH says enough for a slip in it to be told from another block that merely
    looks alike: two lines with words or numbers in them (a line of brackets alone, ``]`` or
    ``})``, places nothing), or enough text."""
    telling = [line for line in want if any(ch.isalnum() for ch in line)]
    return len(telling) >= FUZZY_MIN_LINES or len("\n".join(want)) >= FUZZY_MIN_CHARS


def _try_fuzzy(
    ctx: _Ctx,
    text: str,
    lines: list[str],
    search: str,
    replace: str,
    min_line: int,
    r_hit: int | None = None,
) -> str | None:
    """Stage 6. A window is a place SEARCH could have been copied from only when it *holds*
    SEARCH: every non-blank SEARCH line is there, and they differ by at most one slipped
    character in all (one more per 10 lines; see :func:`_slip`). A window that does not is
    neither the match nor a rival, however close its score. Another window that is at most
    one slip further away and scores within the margin makes the match ambiguous."""
    s_lines = _split(search)
    want = [line.strip() for line in s_lines if line.strip()]
    if len(want) < FUZZY_MIN_LINES and len("\n".join(want)) < FUZZY_MIN_CHARS:
        return None
    cutoff = FUZZY_THRESHOLD - FUZZY_MARGIN
    windows = [w for w in _fuzzy_windows(lines, s_lines, cutoff) if w.start >= min_line]
    r_lines = _split(replace)
    budget = max(1, len(want) // _SLIPS_PER_LINES)
    found = _candidates(windows, s_lines, lines, budget + 1)
    if not found or found[0].slips > budget:
        _refuse_a_stale_change(ctx, windows, s_lines, r_lines, lines, r_hit)
        return None
    best = found[0]
    if best.window.score < FUZZY_THRESHOLD:
        return None
    if best.slips and not _telling(want):
        return None  # a slip in the one line that says anything: another block looks alike
    # "already applied" only when the block SEARCH stands for is really gone: the place that
    # holds SEARCH (up to its slips) is REPLACE, as it is, line for line, and REPLACE brings
    # something new (a re-sent edit whose change is a slip's size). REPLACE merely inside
    # that place is an edit that removes lines, still to be applied.
    adds = adds_content(s_lines, r_lines)
    for c in found:
        if r_hit == c.start and c.slips <= budget and c.end - c.start == len(r_lines) and adds:
            raise _already_applied(ctx, r_hit)
    # SEARCH is only here with a slip, and REPLACE, which brings new lines, stands as it is
    # elsewhere: most likely the edit was applied there, and this is a sibling block
    if r_hit is not None and adds and not best.start <= r_hit < best.end:
        raise _already_applied(ctx, r_hit)
    close = [c.window.start for c in found[1:] if c.slips <= best.slips + 1
             and c.window.score >= best.window.score - FUZZY_MARGIN]
    if close:
        raise _ambiguous(ctx, sorted({best.window.start, *close}), fuzzy=True)
    tab, cols = _fuzzy_cols(best.pairs, s_lines, lines)
    match = _Match(best.start, best.end, best.pairs, cols, tab, "fuzzy", best.window.score)
    ctx.stage = f"fuzzy({best.window.score:.2f})"
    _guard_reapply(ctx, text, lines, match, replace)
    return _splice(ctx, lines, match, s_lines, r_lines)


Pairs = list[tuple[int | None, int | None]]


@dataclass
class _Candidate:
    """A window that holds SEARCH up to ``slips`` slipped characters, widened over the blank
    lines SEARCH starts and ends with ([start, end)), with its line pairs."""

    window: _Window
    slips: int
    start: int
    end: int
    pairs: Pairs


def _slips(s_lines: list[str], lines: list[str], pairs: Pairs) -> int | None:
    """Slipped characters between SEARCH and the file lines it is paired with; None when a
    non-blank SEARCH line has no file line."""
    total = 0
    for s, f in pairs:
        if s is None or not s_lines[s].strip():
            continue
        if f is None:
            return None
        total += _slip(s_lines[s], lines[f])
    return total


def _blame(s_lines: list[str], lines: list[str], pairs: Pairs) -> tuple[int, int | None] | None:
    """The SEARCH line a window fails on, with its file line: the first one missing, else
    the one that differs most; None when none differs."""
    worst: tuple[int, int, int | None] | None = None
    for s, f in pairs:
        if s is None or not s_lines[s].strip():
            continue
        if f is None:
            return s, f
        slip = _slip(s_lines[s], lines[f])
        if slip and (worst is None or slip > worst[0]):
            worst = (slip, s, f)
    return None if worst is None else (worst[1], worst[2])


def _candidates(
    windows: list[_Window], s_lines: list[str], lines: list[str], most: int
) -> list[_Candidate]:
    """Windows holding SEARCH up to ``most`` slips, fewest slips (then best score) first,
    none overlapping a better one."""
    m = sum(1 for line in s_lines if line.strip())
    ranked = sorted(windows, key=lambda w: (-round(w.score, 6), abs(w.count - m), w.start))
    scored: list[_Candidate] = []
    for w in ranked[:_CHECKED]:
        start, end = _widen(lines, s_lines, w.start, w.end)
        pairs = _align(s_lines, lines, start, end)
        slips = _slips(s_lines, lines, pairs)
        if slips is not None and slips <= most:
            scored.append(_Candidate(w, slips, start, end, pairs))
    out: list[_Candidate] = []
    for c in sorted(scored, key=lambda c: c.slips):  # stable: best score first within
        if not any(c.window.start < o.window.end and o.window.start < c.window.end for o in out):
            out.append(c)
    return out


def _refuse_a_stale_change(
    ctx: _Ctx,
    windows: list[_Window],
    s_lines: list[str],
    r_lines: list[str],
    lines: list[str],
    r_hit: int | None,
) -> None:
    """No window holds SEARCH. If the closest one differs in a line the edit changes (and
    REPLACE is not in the file), the file changed under the model: say which line."""
    best = _best_window(windows, len([line for line in s_lines if line.strip()]))
    if best is None or best.score < FUZZY_THRESHOLD or r_hit is not None:
        return
    start, end = _widen(lines, s_lines, best.start, best.end)
    bad = _blame(s_lines, lines, _align(s_lines, lines, start, end))
    ops = difflib.SequenceMatcher(
        None, [_model(x) for x in s_lines], [_model(x) for x in r_lines], autojunk=False
    ).get_opcodes()
    changed = {x for tag, i1, i2, _j1, _j2 in ops if tag != "equal" for x in range(i1, i2)}
    if bad is not None and bad[0] in changed:
        s, f = bad
        if f is None:
            raise _missing(ctx, start, end, s_lines[s])
        raise _conflict(ctx, f, lines[f], s_lines[s])


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
