"""Ladder stage 5 and placeholder detection: ``...`` elision lines and lazy comments
(``# ... existing code ...``) that stand for code the model skipped."""

from __future__ import annotations

import re

from ratchet.edits.context import _Ctx
from ratchet.edits.fuzzy import _try_fuzzy
from ratchet.edits.literal import _try_literal
from ratchet.edits.match import _find_blank_tolerant, _find_rstrip, _find_shifted
from ratchet.edits.messages import _fence, _no_op, _not_found
from ratchet.edits.text import _split
from ratchet.errors import EditError

_COMMENT = re.compile(r"^(?:#+|//+|/\*+|<!--|--|;+|%+|\*)\s*(.*?)\s*(?:\*+/|-->)?$")


_LAZY_WORDS = re.compile(
    r"\b(?:(?:rest|remainder)\s+of\s+(?:the\s+)?(?:code|file|function|method|class|body|"
    r"module|implementation|test|tests|cases)|existing\s+(?:code|implementation|methods?|logic|"
    r"tests?|imports?|functions?)|(?:code|logic|implementation)\s+(?:unchanged|omitted|"
    r"remains?(?:\s+the\s+same)?)|unchanged\s+code|omitted\s+for\s+brevity|same\s+as\s+before)\b",
    re.IGNORECASE,
)


def _is_lazy_comment(line: str) -> bool:
    """A comment standing for skipped code: ``# ...``, ``// ... existing code ...``."""
    stripped = line.strip()
    match = _COMMENT.match(stripped)
    if not match or len(stripped) > 100:
        return False
    body = match.group(1)
    if body.startswith(("...", "…")) and not re.search(r"[={}\[\];]", body):
        return True
    return bool(_LAZY_WORDS.search(body))


def _is_elision(line: str) -> bool:
    return line.strip() in ("...", "…", "[...]") or _is_lazy_comment(line)


def _elision_parts(text: str) -> list[str]:
    lines = text.split("\n")
    parts: list[list[str]] = [[]]
    for line in lines:
        if _is_elision(line):
            parts.append([])
        else:
            parts[-1].append(line)
    # Every part but the last was cut before a marker line, so its lines are whole lines.
    texts = ["\n".join(part) + "\n" if part else "" for part in parts[:-1]]
    return [*texts, "\n".join(parts[-1])]


def _apply_elided(ctx: _Ctx, text: str, s_parts: list[str], r_parts: list[str]) -> str:
    min_line = 0
    changed = False
    for s_part, r_part in zip(s_parts, r_parts, strict=True):
        if not s_part.strip():
            if r_part.strip():
                raise EditError(
                    f"{ctx.where} was refused: REPLACE adds text next to a `...` elision line "
                    "where SEARCH has nothing to anchor it. Put real, unchanged lines around "
                    "every `...` in SEARCH.",
                    "not_found",
                    ctx.path,
                )
            continue
        lines = _split(text)
        if _trimmed(s_part) == _trimmed(r_part):
            min_line = _locate_context(ctx, text, lines, s_part, min_line)
            continue
        before_count = len(lines)
        new_text = _try_literal(ctx, text, lines, s_part, r_part, min_line)
        if new_text is None:
            new_text = _try_fuzzy(ctx, text, lines, s_part, r_part, min_line)
        if new_text is None:
            ctx.notes.append(
                "SEARCH was split on its `...` lines and this piece was not found:\n"
                + _fence(s_part)
            )
            raise _not_found(ctx, text, s_part)
        changed = True
        end = _last_changed_line(text, new_text)
        min_line = max(min_line, end + len(_split(new_text)) - before_count)
        text = new_text
    ctx.stage = f"elision+{ctx.stage}"
    if not changed:
        raise _no_op(ctx, "every piece between the `...` lines is unchanged")
    return text


def _trimmed(piece: str) -> list[str]:
    """A piece's lines without trailing whitespace (blank lines count)."""
    return [line.rstrip() for line in _split(piece)]


def _last_changed_line(old: str, new: str) -> int:
    """Index (in ``old`` lines) just past the last line that differs between old and new."""
    a, b = _split(old), _split(new)
    tail = 0
    while tail < min(len(a), len(b)) and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
        tail += 1
    return len(a) - tail


def _locate_context(ctx: _Ctx, text: str, lines: list[str], piece: str, min_line: int) -> int:
    """Find an unchanged piece at or after ``min_line``; return the line after it."""
    p_lines = _split(piece)
    for finder in (_find_rstrip, _find_shifted, _find_blank_tolerant):
        matches = [m for m in finder(lines, p_lines) if m.start >= min_line]
        if matches:
            return matches[0].end
    pos = text.find(piece.strip("\n"))
    if pos != -1 and text.count("\n", 0, pos) >= min_line:
        return text.count("\n", 0, pos) + 1
    ctx.notes.append(
        "SEARCH was split on its `...` lines and this unchanged piece was not found after "
        "the previous one:\n" + _fence(piece)
    )
    raise _not_found(ctx, text, piece)
