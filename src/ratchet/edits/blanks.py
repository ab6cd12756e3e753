"""The file's blank lines in a tolerant match: before the 3-way splice, SEARCH (and where
needed REPLACE) are rewritten to the blank lines the file has, so the diff SEARCH → REPLACE
says what the model changed and not where it miscounted blank lines.

The unit is a *region*: the stretch of SEARCH between two non-blank lines the edit keeps as
they are, and before the first and after the last of them. A region whose lines REPLACE
leaves as they were is *untouched*; any other holds a change."""

from __future__ import annotations

import dataclasses
import difflib

from ratchet.edits.match import _Match
from ratchet.edits.text import _lead_blanks, _model, _similarity, _trail_blanks

_REWRITTEN_MIN = 0.6  # a REPLACE line this close to a SEARCH line is that line, rewritten
_PAIRINGS_MAX = 20_000  # line pairs compared at most in one rewritten block


def _kept(
    s_lines: list[str], r_lines: list[str], nb_s: list[int], nb_r: list[int]
) -> tuple[dict[int, int], dict[int, int]]:
    """Non-blank SEARCH line -> its REPLACE line (indices into nb_s, nb_r): the lines the edit
    keeps as they are; and those plus the lines it rewrites, each paired with the closest new
    line in its place (in order; a line with none close enough is removed)."""
    same: dict[int, int] = {}
    sm = difflib.SequenceMatcher(
        None, [_model(s_lines[j]) for j in nb_s], [_model(r_lines[j]) for j in nb_r],
        autojunk=False,
    )
    rewritten: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            same.update((i1 + x, j1 + x) for x in range(i2 - i1))
        elif tag == "replace" and (i2 - i1) * (j2 - j1) <= _PAIRINGS_MAX:
            nxt = j1
            for i in range(i1, i2):
                a = _model(s_lines[nb_s[i]]).strip()
                best, best_score = None, _REWRITTEN_MIN
                for j in range(nxt, j2):
                    score = _similarity(a, _model(r_lines[nb_r[j]]).strip())
                    if score >= best_score:
                        best, best_score = j, score
                if best is not None:
                    rewritten[i] = best
                    nxt = best + 1
    return same, {**same, **rewritten}


Stretch = tuple[int, int, list[str]]


def _stretches(lines: list[str], match: _Match, nb_s: list[int]) -> dict[int, Stretch]:
    """t -> (blank lines in SEARCH, in the file, the file's) between non-blank SEARCH lines t
    and t+1, where both are matched and the file has only blank lines between them."""
    paired = {s: f for s, f in match.pairs if s is not None and f is not None}
    out: dict[int, Stretch] = {}
    for t in range(len(nb_s) - 1):
        a, b = nb_s[t], nb_s[t + 1]
        if a not in paired or b not in paired:
            continue
        fa, fb = paired[a], paired[b]
        if fb > fa and not any(lines[x].strip() for x in range(fa + 1, fb)):
            out[t] = (b - a - 1, fb - fa - 1, lines[fa + 1 : fb])
    return out


def adopt_file_blanks(
    lines: list[str], match: _Match, s_lines: list[str], r_lines: list[str]
) -> tuple[list[str], list[str], bool]:
    """SEARCH and REPLACE rewritten to the file's blank lines (its bytes) between matched lines.

    Untouched region (two lines the edit keeps as they are, adjacent in both): SEARCH takes the
    file's number of blank lines; so does REPLACE when it has SEARCH's number (the model left
    the stretch as it copied it); any other number in REPLACE is what the model wants there,
    and stays. Region with a change: where REPLACE carries the file's blank lines (see
    :func:`_carried`; regions taken between the lines kept as they are, and again between
    those and the rewritten ones), REPLACE's layout stands and SEARCH takes the file's blank
    lines; elsewhere the splice keeps the file's blank lines as lines SEARCH left out.
    Returns (SEARCH, REPLACE, whether anything changed)."""
    nb_s = [j for j, line in enumerate(s_lines) if line.strip()]
    nb_r = [j for j, line in enumerate(r_lines) if line.strip()]
    same, paired = _kept(s_lines, r_lines, nb_s, nb_r)
    stretch = _stretches(lines, match, nb_s)
    new_r = list(r_lines)
    adopt: set[int] = set()
    for kept in (same, paired):
        bounds: list[int | None] = [None, *sorted(kept), None]
        for p, q in reversed(list(zip(bounds, bounds[1:], strict=False))):
            span = range(p or 0, len(nb_s) - 1 if q is None else q)
            off = [t for t in span if t in stretch and stretch[t][0] != stretch[t][1]]
            if not off:
                continue
            ra = nb_r[kept[p]] if p is not None else -1
            rb = nb_r[kept[q]] if q is not None else len(r_lines)
            region = r_lines[ra + 1 : rb]
            if kept is same and p is not None and q == p + 1 and same[q] == same[p] + 1:
                if len(region) == stretch[p][0]:  # untouched; REPLACE left it as it was
                    new_r[ra + 1 : rb] = stretch[p][2]
                adopt.update(off)
            else:
                adopt.update(_carried(region, stretch, span, off, p, q))
    new_s = list(s_lines)
    for t in sorted(adopt, reverse=True):
        new_s[nb_s[t] + 1 : nb_s[t + 1]] = stretch[t][2]
    return new_s, new_r, bool(adopt)


def _carried(
    region: list[str],
    stretch: dict[int, Stretch],
    span: range,
    off: list[int],
    p: int | None,
    q: int | None,
) -> list[int]:
    """The stretches of a changed region (those where SEARCH's blank lines are not the
    file's) whose blank lines REPLACE carries: the one next to the kept line before the change
    (``p``) when REPLACE starts the region with at least as many blank lines as the file has
    there, the one next to the kept line after it (``q``) when REPLACE ends it so; all of
    them when SEARCH has fewer blank lines in the region than the file and REPLACE at least
    as many."""
    in_search = sum(stretch[t][0] for t in span if t in stretch)
    in_file = sum(stretch[t][1] for t in span if t in stretch)
    if in_search < in_file <= sum(1 for line in region if not line.strip()):
        return off
    lead, trail = _lead_blanks(region), _trail_blanks(region)
    return [t for t in off
            if (t == p and 0 < stretch[t][1] <= lead)
            or (q is not None and t == q - 1 and 0 < stretch[t][1] <= trail)]


def absorb_edge_blanks(
    lines: list[str], match: _Match, s_lines: list[str], r_lines: list[str]
) -> _Match:
    """Blank lines just outside the match that REPLACE starts (ends) with beyond SEARCH's own
    join the match as lines SEARCH left out: the model copied them into REPLACE only."""
    pairs = list(match.pairs)
    start, end = match.start, match.end
    extra = _lead_blanks(r_lines) - _lead_blanks(s_lines)
    while extra > 0 and start > 0 and not lines[start - 1].strip():
        start, extra = start - 1, extra - 1
        pairs.insert(0, (None, start))
    extra = _trail_blanks(r_lines) - _trail_blanks(s_lines)
    while extra > 0 and end < len(lines) and not lines[end].strip():
        pairs.append((None, end))
        end, extra = end + 1, extra - 1
    return dataclasses.replace(match, start=start, end=end, pairs=pairs)
