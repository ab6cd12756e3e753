"""Untrusted text → inert GitHub Markdown: escaped inline text, quotes, code spans and fences
that the text cannot close, safe links, and the final redact-and-cap of a document. Pure."""

from __future__ import annotations

import re
from collections.abc import Callable

from ratchet.sanitize import clip, longest_run, quote_block, strip_invisible

Redact = Callable[[str], str]

MAX_CHARS = 60_000
TRUNCATED_NOTE = "_… truncated to fit GitHub's size limit._"
_TASK_LIMIT = 3_000
_TITLE_LIMIT = 200
_ERROR_LIMIT = 6_000



_MENTION = r"(?<![A-Za-z0-9_])@[A-Za-z0-9](?:[A-Za-z0-9-]*)(?:/[A-Za-z0-9_.-]+)?"
_REF = r"(?:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?#\d+|https?://[^\s`|]+?/(?:issues|pull)/\d+"
_CLOSING = rf"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\b[ \t]*:?[ \t]*(?:{_REF})"
_CROSS_REF = r"\b[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#\d+"
_NEUTRALISE = re.compile(rf"(?i){_CLOSING}|{_MENTION}|{_CROSS_REF}")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]!|~#$])")
_SAFE_URL = re.compile(r"^https?://[^\s<>()\[\]\"'`\\]+$")
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,})(.*)$")


def escape_plain(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def escape_segment(text: str) -> str:
    """Escape ``text`` (already cleaned); mentions, closing keywords and cross-repository
    references become code spans, which GitHub neither notifies nor links."""
    out: list[str] = []
    pos = 0
    for m in _NEUTRALISE.finditer(text):
        out.append(escape_plain(text[pos : m.start()]))
        out.append(f"`{m.group(0)}`")  # the patterns contain no backtick
        pos = m.end()
    out.append(escape_plain(text[pos:]))
    return "".join(out)


def inline(text: str, redact: Redact, limit: int = _TITLE_LIMIT) -> str:
    """Return untrusted ``text`` as one line of inert Markdown: redacted, invisible and control
    characters removed, whitespace collapsed, cut to ``limit`` characters, escaped."""
    text = redact(strip_invisible(text[: 8 * limit + 1024]))
    return escape_segment(clip(" ".join(text.split()), limit))


def quote(text: str, redact: Redact, limit: int = _TASK_LIMIT) -> str:
    """Return untrusted multi-line ``text`` as an inert Markdown block quote (``> `` lines),
    redacted, cleaned, cut to ``limit`` characters and escaped line by line."""
    text = redact(strip_invisible(text[: 8 * limit + 1024])).strip("\n")
    text = clip(text, limit)
    lines = [escape_segment(line.rstrip()) for line in text.split("\n")]
    return "\n".join(f"> {line}" if line else ">" for line in lines) or ">"


def code(text: str, redact: Redact, limit: int = 200) -> str:
    """Return ``text`` as an inline code span it cannot close (one line, redacted)."""
    text = clip(" ".join(redact(strip_invisible(text)).split()), limit)
    ticks = "`" * (longest_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(text: str, redact: Redact, limit: int = _ERROR_LIMIT, info: str = "") -> str:
    """Return untrusted ``text`` (test output, an error) in a code fence it cannot close:
    redacted, ANSI/control characters removed, the tail kept when over ``limit``."""
    text = redact(strip_invisible(text))
    if len(text) > limit:
        text = "… (earlier output cut)\n" + text[len(text) - limit :]
    return quote_block(text, info)


def is_safe_url(url: str | None) -> bool:
    return bool(url) and len(url or "") <= 2000 and bool(_SAFE_URL.match(url or ""))


def link(label: str, url: str | None) -> str:
    """``[label](url)`` for a plain http(s) URL; just ``label`` otherwise."""
    return f"[{label}]({url})" if is_safe_url(url) else label


def url_link(url: str) -> str:
    """A link showing the URL itself (escaped), or "–" for anything but a plain http(s) URL."""
    return f"[{escape_plain(url)}]({url})" if is_safe_url(url) else "–"


def finish(text: str, redact: Redact, limit: int = MAX_CHARS) -> str:
    """Redact the whole document (a backstop) and cap it at ``limit`` characters, cutting at
    a line boundary, closing a code fence left open by the cut, and saying so."""
    text = redact(text)
    if len(text) <= limit:
        return text
    room = max(limit - len(TRUNCATED_NOTE) - 200, 0)
    cut = text.rfind("\n", 0, room)
    kept = text[: cut if cut > 0 else room]
    open_fence: str | None = None
    for line in kept.split("\n"):
        m = _FENCE_LINE.match(line)
        if not m:
            continue
        ticks, rest = m.group(1), m.group(2)
        if open_fence is None:
            open_fence = ticks
        elif len(ticks) >= len(open_fence) and not rest.strip():
            open_fence = None
    closing = f"\n{open_fence}" if open_fence else ""
    return f"{kept}{closing}\n\n{TRUNCATED_NOTE}\n"


