"""Refusal messages written for the model: what went wrong and what to send instead."""

from __future__ import annotations

import difflib

from ratchet.edits.context import _Ctx
from ratchet.edits.text import _similarity, _split
from ratchet.edits.windows import _best_window, _fuzzy_windows
from ratchet.errors import EditError

_SHOW_HITS = 12
_CONTEXT = 5


def _fence(body: str) -> str:
    ticks = "```"
    while ticks in body:
        ticks += "`"
    return f"{ticks}\n{body.rstrip(chr(10))}\n{ticks}"


def _no_op(ctx: _Ctx, why: str) -> EditError:
    return EditError(
        f"{ctx.where} changes nothing: {why}. If the change is already in the file, leave "
        "this edit out; otherwise make REPLACE differ from the current text.",
        "no_op",
        ctx.path,
    )


def _ambiguous(ctx: _Ctx, starts: list[int], fuzzy: bool = False) -> EditError:
    numbers = sorted({s + 1 for s in starts})
    shown = ", ".join(str(n) for n in numbers[:_SHOW_HITS])
    if len(numbers) > _SHOW_HITS:
        shown += ", …"
    how = "nearly equally well" if fuzzy else ""
    return EditError(
        f"{ctx.where} was refused: its SEARCH text matches {len(numbers)} places "
        f"{how + ' ' if how else ''}(starting at lines {shown}), and edits must match exactly "
        "one place. Add a few more unchanged lines before or after to SEARCH (for example the "
        "enclosing `def`/`class` line) so it matches only the place you mean. No edit in this "
        "batch was applied.",
        "ambiguous",
        ctx.path,
    )


def _already_applied(ctx: _Ctx, line: int) -> EditError:
    return EditError(
        f"{ctx.where} was refused: its SEARCH text is not in the file, but its REPLACE text "
        f"already is (near line {line + 1}), so this change looks already applied. Leave this "
        "edit out, or re-read the file and send an edit against its current text.",
        "already_applied",
        ctx.path,
    )


def _conflict(ctx: _Ctx, f: int, file_line: str, s_line: str | None) -> EditError:
    if s_line is None:
        detail = (
            f"the file has line {f + 1} `{file_line.strip()}` inside the lines you change, "
            "but SEARCH leaves it out"
        )
    else:
        detail = (
            f"SEARCH has `{s_line.strip()}` but the file has `{file_line.strip()}` "
            f"(line {f + 1}) in a line you change"
        )
    return EditError(
        f"{ctx.where} was refused: it roughly matches the file, but {detail}. Copy SEARCH "
        "exactly from the current file. No edit in this batch was applied.",
        "not_found",
        ctx.path,
    )


def _missing(ctx: _Ctx, start: int, end: int, s_line: str) -> EditError:
    return EditError(
        f"{ctx.where} was refused: it roughly matches lines {start + 1}-{end} of the file, but "
        f"SEARCH has `{s_line.strip()}`, a line you change, and the file has no such line "
        "there. Copy SEARCH exactly from the current file. No edit in this batch was applied.",
        "not_found",
        ctx.path,
    )


def _closest(lines: list[str], search: str) -> tuple[int, int, float] | None:
    """The best window for SEARCH even below the fuzzy threshold: (start, end, score)."""
    s_lines = _split(search)
    want = [line.strip() for line in s_lines if line.strip()]
    if not want or not lines:
        return None
    windows = _fuzzy_windows(lines, s_lines, 0.5, exact_length=True)
    if not windows:
        # Fall back to the file line closest to any of the (longest) SEARCH lines.
        stripped = [line.strip() for line in lines]
        closest: tuple[float, int] | None = None
        for wanted in sorted(want, key=len, reverse=True)[:8]:
            for close in difflib.get_close_matches(wanted, stripped, n=1, cutoff=0.6):
                score = _similarity(wanted, close)
                if closest is None or score > closest[0]:
                    closest = (score, stripped.index(close))
        if closest is None:
            return None
        return closest[1], closest[1] + 1, closest[0]
    best = _best_window(windows, len(want))
    if best is None or best.score < 0.5:
        return None
    return best.start, best.end, best.score


def _not_found(ctx: _Ctx, text: str, search: str) -> EditError:
    lines = _split(text)
    parts = [
        f"{ctx.where} was refused: its SEARCH text was not found in the file. SEARCH must "
        "copy the current file exactly (every character, including indentation, comments "
        "and docstrings). No edit in this batch was applied."
    ]
    parts.extend(ctx.notes)
    if ctx.number > 1 and search.strip() and search.strip() in ctx.original:
        parts.append(
            "This SEARCH matches the file as it was before the earlier edits in this batch. "
            "Edits apply in order, so a later SEARCH must match the text after the earlier "
            "edits; merge overlapping edits into one."
        )
    closest = _closest(lines, search)
    if closest is not None:
        start, end, _score = closest
        lo, hi = max(0, start - _CONTEXT), min(len(lines), end + _CONTEXT)
        parts.append(
            f"Did you mean these lines (lines {lo + 1}-{hi} of `{ctx.path}`)?\n"
            + _fence("\n".join(lines[lo:hi]))
        )
    else:
        parts.append(
            f"Nothing in `{ctx.path}` resembles SEARCH; check that this is the right file."
        )
    parts.append("Resend the whole batch with this SEARCH copied from the file.")
    return EditError("\n\n".join(parts), "not_found", ctx.path)
