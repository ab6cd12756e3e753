"""Fuzzy window scoring: windows of non-blank file lines ranked by similarity to SEARCH.

A token-bag Dice prefilter picks candidate windows; difflib scores only the best of them.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass

_FUZZY_PREFILTER = 0.5  # token-bag Dice a window needs before difflib scores it
_FUZZY_MAX_LINES = 50_000  # beyond this many non-blank lines the fuzzy stage is skipped
_FUZZY_DICE_BAND = 0.2  # windows scored by difflib: token Dice within this of the best window
_FUZZY_MAX_SCORED = 300
_FUZZY_SCORE_BUDGET = 2_000_000  # characters of SEARCH x windows scored
_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass
class _Window:
    score: float
    first: int  # index into the non-blank line list
    count: int
    start: int  # file line span [start, end)
    end: int


def _fuzzy_windows(
    lines: list[str], s_lines: list[str], cutoff: float, exact_length: bool = False
) -> list[_Window]:
    """Windows of non-blank file lines whose difflib ratio to SEARCH is at least ``cutoff``."""
    nb = [i for i, line in enumerate(lines) if line.strip()]
    want = [line.strip() for line in s_lines if line.strip()]
    m = len(want)
    if not m or not nb or len(nb) > _FUZZY_MAX_LINES:
        return []
    target_len = sum(len(line) + 1 for line in want)
    stripped = [lines[i].strip() for i in nb]
    target_tokens = Counter(tok for line in want for tok in _TOKEN.findall(line))
    total_target = sum(target_tokens.values())
    all_tokens = [_TOKEN.findall(lines[i]) for i in nb]
    line_sizes = [len(tokens) for tokens in all_tokens]
    # Only tokens SEARCH has can be in common, so windows count just those.
    line_tokens = [Counter(t for t in tokens if t in target_tokens) for tokens in all_tokens]
    prefilter = min(cutoff, _FUZZY_PREFILTER)
    spread = 0 if exact_length else min(3, max(1, round(m * 0.1)))
    shortlist: list[tuple[float, int, int]] = []  # (token Dice, first, count)
    for count in range(max(1, m - spread), m + spread + 1):
        if count > len(nb):
            break
        window: Counter[str] = Counter()
        size = common = 0
        for x in range(count):
            common += _move(window, target_tokens, line_tokens[x], 1)
            size += line_sizes[x]
        for first in range(len(nb) - count + 1):
            if first:
                common += _move(window, target_tokens, line_tokens[first - 1], -1)
                common += _move(window, target_tokens, line_tokens[first + count - 1], 1)
                size += line_sizes[first + count - 1] - line_sizes[first - 1]
            if size + total_target == 0:
                continue
            dice = 2 * common / (size + total_target)
            if dice >= prefilter:
                shortlist.append((dice, first, count))
    # difflib is the costly part: score only the windows whose token overlap is near the best.
    shortlist.sort(key=lambda item: -item[0])
    if shortlist:
        floor = shortlist[0][0] - _FUZZY_DICE_BAND
        limit = max(24, min(_FUZZY_MAX_SCORED, _FUZZY_SCORE_BUDGET // target_len))
        shortlist = [item for item in shortlist if item[0] >= floor][:limit]
    out: list[_Window] = []
    for _dice, first, count in shortlist:
        score = _score(want, stripped[first : first + count])
        if score >= cutoff:
            out.append(_Window(score, first, count, nb[first], nb[first + count - 1] + 1))
    return out


def _score(a: list[str], b: list[str]) -> float:
    """Similarity of two line lists in [0, 1], like difflib's ratio over the joined text.

    Lines are aligned first (cheap, hash-based); only lines that differ are compared character
    by character. Each line counts its characters plus one for its newline.
    """
    total = sum(len(x) + 1 for x in a) + sum(len(y) + 1 for y in b)
    if total == 0:
        return 1.0
    matched = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            matched += 2 * sum(len(x) + 1 for x in a[i1:i2])
        elif tag == "replace":
            for x, y in zip(a[i1:i2], b[j1:j2], strict=False):
                blocks = difflib.SequenceMatcher(None, x, y, autojunk=False).get_matching_blocks()
                matched += 2 * (sum(block.size for block in blocks) + 1)
    return matched / total


def _move(window: Counter[str], target: Counter[str], tokens: Counter[str], sign: int) -> int:
    """Add (sign 1) or remove (sign -1) a line's tokens; return the change in common tokens."""
    delta = 0
    for tok, k in tokens.items():
        had = window[tok]
        now = had + sign * k
        window[tok] = now
        want = target[tok]
        delta += min(now, want) - min(had, want)
    return delta


def _best_window(windows: list[_Window], m: int) -> _Window | None:
    if not windows:
        return None
    return max(windows, key=lambda w: (round(w.score, 6), -abs(w.count - m), -w.start))
