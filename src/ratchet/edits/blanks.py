"""The file's blank lines in a tolerant match: before the 3-way splice, SEARCH (and where
needed REPLACE) are rewritten to the blank lines the file has, so the diff SEARCH → REPLACE
says what the model changed and not where it miscounted blank lines.

The unit is a *region*: the stretch of SEARCH between two non-blank lines the edit keeps
(kept, or rewritten one for one), and before the first and after the last of them. A region
whose lines REPLACE leaves as they were is *untouched*; any other holds a change."""

from __future__ import annotations

import dataclasses
import difflib

from ratchet.edits.match import _Match
from ratchet.edits.text import _lead_blanks, _model, _similarity, _trail_blanks

_REWRITTEN_MIN = 0.6  # a REPLACE line this close to a SEARCH line is that line, rewritten
_PAIRINGS_MAX = 20_000  # line pairs compared at most in one rewritten block


def _kept(
    s_lines: list[str], r_lines: list[str], nb_s: list[int], nb_r: list[int]
) -> tuple[dict[int, int], set[int]]:
    """Non-blank SEARCH line -> its REPLACE line (indices into nb_s, nb_r): the lines the edit
    keeps, and the lines it rewrites, each into the closest of the new lines in its place
    (in order; a line with none close enough is removed); and the set of rewritten ones."""
    same: dict[int, int] = {}
    rewritten: set[int] = set()
    sm = difflib.SequenceMatcher(
        None, [_model(s_lines[j]) for j in nb_s], [_model(r_lines[j]) for j in nb_r],
        autojunk=False,
    )
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            for x in range(i2 - i1):
                same[i1 + x] = j1 + x
        elif tag == "replace" and (i2 - i1) * (j2 - j1) > _PAIRINGS_MAX:
            rewritten.update(range(i1, i2))  # too large to pair line by line: all changed
        elif tag == "replace":  # a rewritten line is the closest new one (in order)
            nxt = j1
            for i in range(i1, i2):
                a = _model(s_lines[nb_s[i]]).strip()
                best, best_score = None, _REWRITTEN_MIN
                for j in range(nxt, j2):
                    score = _similarity(a, _model(r_lines[nb_r[j]]).strip())
                    if score >= best_score:
                        best, best_score = j, score
                if best is not None:
                    same[i] = best
                    rewritten.add(i)
                    nxt = best + 1
    return same, rewritten


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
    and stays.
    Region with a change, where SEARCH has fewer or more
    blank lines than the file: when REPLACE writes the file's blank lines there (at least as
    many right after the kept line before the change, or right before the kept line after it,
    as the file has; or, SEARCH having fewer, at least as many in all), REPLACE's layout
    stands and SEARCH takes the file's blank lines; otherwise the splice keeps the file's
    blank lines as lines SEARCH left out. Returns (SEARCH, REPLACE, whether anything
    changed)."""
    nb_s = [j for j, line in enumerate(s_lines) if line.strip()]
    nb_r = [j for j, line in enumerate(r_lines) if line.strip()]
    same, rewritten = _kept(s_lines, r_lines, nb_s, nb_r)
    stretch = _stretches(lines, match, nb_s)
    new_s, new_r = list(s_lines), list(r_lines)
    changed = False
    bounds: list[int | None] = [None, *sorted(same), None]
    for p, q in reversed(list(zip(bounds, bounds[1:], strict=False))):
        span = range(p or 0, len(nb_s) - 1 if q is None else q)
        off = [t for t in span if t in stretch and stretch[t][0] != stretch[t][1]]
        if not off:
            continue
        ra = nb_r[same[p]] if p is not None else -1
        rb = nb_r[same[q]] if q is not None else len(r_lines)
        region = r_lines[ra + 1 : rb]
        if (
            p is not None and q == p + 1 and same[q] == same[p] + 1 and not {p, q} & rewritten
        ):  # untouched
            if len(region) == stretch[p][0]:  # REPLACE left the stretch as SEARCH had it
                new_r[ra + 1 : rb] = stretch[p][2]
        elif not _replace_has_file_blanks(region, stretch, span, p, q):
            continue
        for t in sorted(off, reverse=True):
            new_s[nb_s[t] + 1 : nb_s[t + 1]] = stretch[t][2]
        changed = True
    return new_s, new_r, changed


def _replace_has_file_blanks(
    region: list[str], stretch: dict[int, Stretch], span: range, p: int | None,
    q: int | None,
) -> bool:
    """Whether REPLACE's lines of a changed region carry the file's blank lines: at least as
    many right after the kept line before the change (``p``), or right before the kept line
    after it (``q``), as the file has there; or, where SEARCH has fewer blank lines than the
    file, at least as many in all as the file has there."""
    if p is not None and p in stretch and 0 < stretch[p][1] <= _lead_blanks(region):
        return True
    if q is not None and q - 1 in stretch and 0 < stretch[q - 1][1] <= _trail_blanks(region):
        return True
    in_search = sum(stretch[t][0] for t in span if t in stretch)
    in_file = sum(stretch[t][1] for t in span if t in stretch)
    return in_search < in_file <= sum(1 for line in region if not line.strip())


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
