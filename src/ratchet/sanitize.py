"""Make untrusted text safe to show a model, and bounded.

Text from users (task text, issue bodies, review comments) and from test runs can carry
hidden instructions: HTML comments that GitHub does not render, zero-width and bidi
characters that hide or reorder text, ANSI escapes and other control characters. These
functions remove them and cap the length; ``quote_block`` presents text as quoted data that
the text itself cannot break out of. Everything here is pure and deterministic.
"""

from __future__ import annotations

import re

#: appended (inside the limit) when text was cut
TRUNCATION_MARKER = "\n… [truncated {n} characters]"

_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks
    r"|\x1b[@-Z\\-_]"  # other two-character escapes
)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)

#: zero-width, invisible and bidirectional-control code points (Trojan Source, ASCII smuggling)
_INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian variation selectors, vowel separator
    (0x200B, 0x200F),  # ZWSP, ZWNJ, ZWJ, LRM, RLM
    (0x202A, 0x202E),  # LRE, RLE, PDF, LRO, RLO
    (0x2060, 0x206F),  # word joiner, invisible operators, LRI/RLI/FSI/PDI, deprecated
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # BOM / zero-width no-break space
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF9, 0xFFFB),  # interlinear annotation
    (0x1D173, 0x1D17A),  # musical invisible formatting
    (0xE0000, 0xE007F),  # tag characters (invisible ASCII copies)
    (0xE0100, 0xE01EF),  # variation selectors supplement
)


def _build_table() -> dict[int, int | None]:
    table: dict[int, int | None] = {}
    for lo, hi in _INVISIBLE_RANGES:
        for cp in range(lo, hi + 1):
            table[cp] = None
    for cp in range(0x20):
        if cp not in (0x09, 0x0A):
            table[cp] = None
    table[0x7F] = None
    for cp in range(0x80, 0xA0):  # C1 controls
        table[cp] = None
    table[0x2028] = 0x0A  # line / paragraph separators become newlines
    table[0x2029] = 0x0A
    return table


_TABLE = _build_table()


def strip_invisible(text: str) -> str:
    """Return ``text`` without ANSI escapes, control characters (except newline and tab),
    zero-width and bidi controls. CRLF and lone CR become LF."""
    text = _ANSI.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_TABLE)


def cap(text: str, limit: int) -> str:
    """Return ``text`` cut to at most ``limit`` characters, ending with a truncation marker
    when something was removed (the marker is counted inside the limit)."""
    limit = max(limit, 0)
    if len(text) <= limit:
        return text
    removed = len(text) - limit
    while True:
        marker = TRUNCATION_MARKER.format(n=removed)
        if len(marker) >= limit:
            return text[:limit]
        keep = limit - len(marker)
        if len(text) - keep == removed:
            return text[:keep] + marker
        removed = len(text) - keep


def clip(text: str, limit: int, *, rstrip: bool = True) -> str:
    """Return ``text`` when it fits in ``limit`` characters, else its first ``limit - 1``
    characters (trailing whitespace removed unless ``rstrip`` is False) and ``…``: never
    longer than ``limit`` (``""`` for a ``limit`` of 0 or less). The one rule for cutting a
    line or a title short with an ellipsis."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    head = text[: limit - 1]
    return (head.rstrip() if rstrip else head) + "…"


def clean_user_text(text: str, limit: int) -> str:
    """Return ``text`` with HTML comments, zero-width/bidi characters, ANSI escapes and control
    characters (except ``\\n`` and ``\\t``) removed, capped at ``limit`` characters with a
    marker. Invisible characters are removed first, so they cannot hide a comment opener."""
    if not text:
        return ""
    # bound the work on enormous inputs before the regex passes
    if limit >= 0 and len(text) > 4 * limit + 4096:
        text = text[: 4 * limit + 4096]
    text = strip_invisible(text)
    text = _HTML_COMMENT.sub("", text)
    return cap(text, limit)


def one_line(text: str, limit: int) -> str:
    """Return ``text`` cleaned (as ``clean_user_text``), whitespace collapsed to single
    spaces, and cut to ``limit`` characters with a trailing ``…``."""
    limit = max(limit, 0)
    text = clean_user_text(text[: 8 * limit + 1024], 8 * limit + 1024)
    return clip(" ".join(text.split()), limit)


def longest_run(text: str, char: str = "`") -> int:
    """The length of the longest run of ``char`` in ``text`` (0 when there is none): a code
    span or fence around ``text`` is made of one more backtick than this, so ``text`` cannot
    close it."""
    longest = 0
    for m in re.finditer(re.escape(char) + "+", text):
        longest = max(longest, m.end() - m.start())
    return longest


def fence_for(text: str) -> str:
    """The code fence :func:`quote_block` puts around ``text``: a backtick run longer than any
    backtick run inside, at least three."""
    return "`" * max(3, longest_run(text) + 1)


def quote_block(text: str, info: str = "") -> str:
    """Return ``text`` inside a Markdown code fence that the text cannot close: the fence is
    a backtick run longer than any backtick run inside (at least three). ``info`` is an
    optional info string (e.g. a language), reduced to one safe word."""
    fence = fence_for(text)
    info = re.sub(r"[^A-Za-z0-9_+.-]", "", info)[:20]
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}{info}\n{body}{fence}"


def trim_middle(text: str, limit: int, head_share: float = 0.35) -> str:
    """Return ``text`` of at most ``limit`` characters: its head and its tail (the tail gets
    the larger share; test summaries live at the end) around an omission marker. Cuts fall
    on line boundaries when one is near."""
    limit = max(limit, 0)
    if len(text) <= limit:
        return text
    marker_len = len("\n… [000000000000 characters omitted] …\n")
    if limit <= marker_len + 2:
        return text[-limit:] if limit else ""
    room = limit - marker_len
    head_n = int(room * head_share)
    tail_n = room - head_n
    head = text[:head_n]
    cut = head.rfind("\n")
    if cut >= head_n // 2:
        head = head[: cut + 1]
    tail = text[len(text) - tail_n :]
    cut = tail.find("\n")
    if 0 <= cut <= tail_n // 2:
        tail = tail[cut + 1 :]
    omitted = len(text) - len(head) - len(tail)
    return f"{head.rstrip(chr(10))}\n… [{omitted} characters omitted] …\n{tail}"
