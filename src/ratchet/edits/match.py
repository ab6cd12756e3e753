"""Whole-line matching (ladder stages 2-4): trailing whitespace ignored, indentation
re-mapped, blank lines ignored. Finders return every place that fits; callers refuse more
than one."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ratchet.edits.text import _canon, _indent, _similarity

_TAB_WIDTHS = (4, 8)


@dataclass
class _Match:
    """A whole-line match: file lines [start, end) aligned to SEARCH lines."""

    start: int
    end: int
    pairs: list[tuple[int | None, int | None]]  # (search index, file index) in order
    cols: dict[int, int] = field(default_factory=dict)  # SEARCH indent column -> file column
    tab: int = 4
    stage: str = "lines"
    score: float = 1.0

    def column(self, col: int) -> int:
        """Where a REPLACE line indented ``col`` columns (model's view) goes in the file."""
        if not self.cols:
            return col
        if col in self.cols:
            return self.cols[col]
        keys = sorted(self.cols)
        scale = 1.0
        if len(keys) > 1 and keys[-1] > keys[0]:
            scale = max(0.25, (self.cols[keys[-1]] - self.cols[keys[0]]) / (keys[-1] - keys[0]))
        below = [k for k in keys if k <= col]
        if not below:
            return max(0, col + self.cols[keys[0]] - keys[0])
        return max(0, self.cols[below[-1]] + round((col - below[-1]) * scale))


def _anchor(s_lines: list[str]) -> int:
    for index, line in enumerate(s_lines):
        if line.strip():
            return index
    raise ValueError("SEARCH has no non-blank line")  # callers check this first


def _find_rstrip(lines: list[str], s_lines: list[str]) -> list[_Match]:
    want = [_canon(line) for line in s_lines]
    k = _anchor(s_lines)
    n = len(want)
    found: list[_Match] = []
    for pos, line in enumerate(lines):
        if _canon(line) != want[k]:
            continue
        start = pos - k
        if start < 0 or start + n > len(lines):
            continue
        if all(_canon(lines[start + j]) == want[j] for j in range(n)):
            found.append(_Match(start, start + n, [(j, start + j) for j in range(n)]))
    return found


def _col_map(file_lines: list[str], s_lines: list[str], tab: int) -> dict[int, int] | None:
    """Map SEARCH indent columns to file columns if the lines match apart from indentation.

    The map must be consistent (one SEARCH column always lands on one file column) and keep
    the nesting order; a uniform shift is the common case, a re-scaled indent (2 vs 4
    spaces, tabs vs spaces) also fits. None if the lines differ otherwise.
    """
    cols: dict[int, int] = {}
    for f_line, s_line in zip(file_lines, s_lines, strict=True):
        s_blank, f_blank = not s_line.strip(), not f_line.strip()
        if s_blank or f_blank:
            if s_blank != f_blank:
                return None
            continue
        f_col, f_body = _indent(f_line, tab)
        s_col, s_body = _indent(s_line, tab)
        if f_body != s_body or cols.setdefault(s_col, f_col) != f_col:
            return None
    keys = sorted(cols)
    if not keys or any(cols[a] >= cols[b] for a, b in zip(keys, keys[1:], strict=False)):
        return None
    return cols


def _best_col_map(file_lines: list[str], s_lines: list[str]) -> tuple[int, dict[int, int]] | None:
    """The column map at the first tab width that fits, preferring a uniform shift."""
    fits: list[tuple[int, dict[int, int]]] = []
    for tab in _TAB_WIDTHS:
        cols = _col_map(file_lines, s_lines, tab)
        if cols is not None:
            if len({f - s for s, f in cols.items()}) == 1:
                return tab, cols
            fits.append((tab, cols))
    return fits[0] if fits else None


def _find_shifted(lines: list[str], s_lines: list[str]) -> list[_Match]:
    k = _anchor(s_lines)
    key = _indent(s_lines[k], 4)[1]
    n = len(s_lines)
    found: dict[tuple[int, int], _Match] = {}
    for pos, line in enumerate(lines):
        if _indent(line, 4)[1] != key:
            continue
        start = pos - k
        if start < 0 or start + n > len(lines) or (start, start + n) in found:
            continue
        fit = _best_col_map(lines[start : start + n], s_lines)
        if fit is not None:
            pairs: list[tuple[int | None, int | None]] = [(j, start + j) for j in range(n)]
            found[(start, start + n)] = _Match(
                start, start + n, pairs, fit[1], fit[0], "indentation"
            )
    return list(found.values())


def _find_blank_tolerant(lines: list[str], s_lines: list[str]) -> list[_Match]:
    s_nb = [j for j, line in enumerate(s_lines) if line.strip()]
    f_nb = [i for i, line in enumerate(lines) if line.strip()]
    want = [s_lines[j] for j in s_nb]
    key = _indent(want[0], 4)[1]
    m = len(want)
    found: dict[tuple[int, int], _Match] = {}
    for w, i in enumerate(f_nb):
        if w + m > len(f_nb) or _indent(lines[i], 4)[1] != key:
            continue
        fit = _best_col_map([lines[f_nb[w + x]] for x in range(m)], want)
        if fit is None:
            continue
        start, end = _widen(lines, s_lines, f_nb[w], f_nb[w + m - 1] + 1)
        if (start, end) not in found:
            pairs = _align(s_lines, lines, start, end)
            found[(start, end)] = _Match(start, end, pairs, fit[1], fit[0], "blank_lines")
    return list(found.values())


def _widen(lines: list[str], s_lines: list[str], start: int, end: int) -> tuple[int, int]:
    """Extend [start, end) over the blank lines SEARCH itself starts or ends with."""
    lead = 0
    while lead < len(s_lines) and not s_lines[lead].strip():
        lead += 1
    trail = 0
    while trail < len(s_lines) - lead and not s_lines[len(s_lines) - 1 - trail].strip():
        trail += 1
    while lead and start > 0 and not lines[start - 1].strip():
        start -= 1
        lead -= 1
    while trail and end < len(lines) and not lines[end].strip():
        end += 1
        trail -= 1
    return start, end


def _align(
    s_lines: list[str], lines: list[str], start: int, end: int
) -> list[tuple[int | None, int | None]]:
    """Pair SEARCH lines with file lines [start, end) in order; unmatched ones pair with None."""
    span = lines[start:end]
    a = [_canon(line).strip() for line in s_lines]
    b = [_canon(line).strip() for line in span]
    pairs: list[tuple[int | None, int | None]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs.extend((i1 + x, start + j1 + x) for x in range(i2 - i1))
            continue
        next_f = j1
        for s in range(i1, i2):
            best, best_score = None, 0.6
            for f in range(next_f, j2):
                if bool(a[s]) != bool(b[f]):
                    continue
                score = _similarity(a[s], b[f]) if a[s] else 1.0
                if score >= best_score:
                    best, best_score = f, score
                    if score == 1.0:
                        break
            if best is None:
                pairs.append((s, None))
                continue
            pairs.extend((None, start + f) for f in range(next_f, best))
            pairs.append((s, start + best))
            next_f = best + 1
        pairs.extend((None, start + f) for f in range(next_f, j2))
    return pairs
