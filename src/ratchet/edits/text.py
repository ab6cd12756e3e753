"""Text handling every stage shares: the document model (UTF-8 BOM, CRLF and the final
newline kept as found) and the line, search and normalisation helpers on LF text."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass
class _Doc:
    """The working LF text of a file plus what is needed to write it back the same way."""

    text: str
    bom: bool = False
    crlf: bool = False
    final_newline: bool | None = None  # None: empty or new file, keep whatever edits produce
    new_line_cr: bool = False  # mixed endings, mostly CRLF: new lines end with "\r"

    @classmethod
    def open(cls, before: str | None) -> _Doc:
        if before is None:
            return cls("")
        bom = before.startswith("\ufeff")
        body = before[1:] if bom else before
        newlines = body.count("\n")
        crlf_count = body.count("\r\n")
        crlf = newlines > 0 and crlf_count == newlines
        new_line_cr = not crlf and crlf_count * 2 > newlines
        if crlf:
            body = body.replace("\r\n", "\n")
        final: bool | None = None
        if body:
            final = body.endswith("\n")
            if not final:
                body += "\n"
        return cls(body, bom, crlf, final, new_line_cr)

    def close(self, text: str) -> str:
        if self.final_newline is False and text.endswith("\n"):
            text = text[:-1]
        elif self.final_newline is True and text and not text.endswith("\n"):
            text += "\n"
        if self.crlf:
            text = text.replace("\n", "\r\n")
        if self.bom:
            text = "\ufeff" + text
        return text


def _split(text: str) -> list[str]:
    """Lines of ``text`` without their "\\n"; a final newline does not add an empty line."""
    if text == "":
        return []
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    return parts


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _exact_hits(text: str, needle: str, limit: int = 200) -> list[int]:
    hits: list[int] = []
    pos = text.find(needle)
    while pos != -1 and len(hits) < limit:
        hits.append(pos)
        pos = text.find(needle, pos + 1)
    return hits


def _lead_blanks(lines: list[str]) -> int:
    count = 0
    while count < len(lines) and not lines[count].strip():
        count += 1
    return count


def _trail_blanks(lines: list[str]) -> int:
    count = 0
    while count < len(lines) and not lines[len(lines) - 1 - count].strip():
        count += 1
    return count


# Model output often swaps ASCII punctuation for typographic look-alikes; stages 2-4 compare
# lines with these folded back (the file's own bytes are what is kept).
_FOLD = str.maketrans(
    {
        "\u00a0": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
    }
)


def _canon(line: str) -> str:
    return line.translate(_FOLD).rstrip(" \t\r")


def _indent(line: str, tab: int) -> tuple[int, str]:
    line = _canon(line)
    body = line.lstrip(" \t")
    lead = line[: len(line) - len(body)]
    return len(lead.expandtabs(tab)), body


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _code_lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]
