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


def _model(line: str) -> str:
    """A line as SEARCH and REPLACE are compared with each other: both are the model's text,
    so a typographic quote or trailing whitespace REPLACE changes is a change."""
    return line.rstrip("\r")


def _canon(line: str) -> str:
    return line.translate(_FOLD).rstrip(" \t\r")


def _indent(line: str, tab: int) -> tuple[int, str]:
    line = _canon(line)
    body = line.lstrip(" \t")
    lead = line[: len(line) - len(body)]
    return len(lead.expandtabs(tab)), body


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _slip(a: str, b: str) -> int:
    """How many characters two lines differ by (indentation and trailing whitespace aside):
    the longer one's characters that are not in their common blocks. A typo is 1."""
    a, b = _canon(a).strip(), _canon(b).strip()
    if a == b:
        return 0
    blocks = difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
    return max(len(a), len(b)) - sum(block.size for block in blocks)


def _code_lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


Op = tuple[str, int, int, int, int]


def _line_ops(a: list[str], b: list[str]) -> list[Op]:
    """difflib opcodes turning lines ``a`` into ``b``, anchored on the lines with code: those
    are aligned first (as they are, see :func:`_model`); between two anchors,
    the blank lines next to an anchor pair with those next to the same anchor on the other
    side first. So a blank line never pulls a change away from the code around it."""
    ca, cb = [_model(x) for x in a], [_model(x) for x in b]
    nb_a = [i for i, x in enumerate(ca) if x.strip()]
    nb_b = [j for j, x in enumerate(cb) if x.strip()]
    anchors: list[tuple[int, int]] = []
    sm = difflib.SequenceMatcher(None, [ca[i] for i in nb_a], [cb[j] for j in nb_b],
                                 autojunk=False)
    for tag, i1, i2, j1, _j2 in sm.get_opcodes():
        if tag == "equal":
            anchors += [(nb_a[i1 + x], nb_b[j1 + x]) for x in range(i2 - i1)]
    ops: list[Op] = []
    pa = pb = 0
    for ia, ib in [*anchors, (len(a), len(b))]:
        ops += _gap_ops(a[pa:ia], b[pb:ib], pa, pb)
        if ia < len(a):
            ops.append(("equal", ia, ia + 1, ib, ib + 1))
        pa, pb = ia + 1, ib + 1
    return ops


def _gap_ops(a: list[str], b: list[str], pa: int, pb: int) -> list[Op]:
    """Opcodes for the lines between two anchors (at offsets ``pa``, ``pb``): the blank lines
    each side starts with pair up (while they are the same), so do those it ends with; the
    rest is diffed as it is."""
    if not a and not b:
        return []
    lead = 0
    while lead < min(len(a), len(b)) and not a[lead].strip() and a[lead] == b[lead]:
        lead += 1
    ops: list[Op] = []
    if lead:
        ops.append(("equal", pa, pa + lead, pb, pb + lead))
    trail = 0
    while (trail < min(len(a), len(b)) - lead and not a[-1 - trail].strip()
           and a[-1 - trail] == b[-1 - trail]):
        trail += 1
    i1, i2, j1, j2 = pa + lead, pa + len(a) - trail, pb + lead, pb + len(b) - trail
    middle = difflib.SequenceMatcher(
        None, [_model(x) for x in a[lead : len(a) - trail]],
        [_model(x) for x in b[lead : len(b) - trail]], autojunk=False,
    )
    ops += [(t, i1 + x1, i1 + x2, j1 + y1, j1 + y2) for t, x1, x2, y1, y2 in middle.get_opcodes()]
    if trail:
        ops.append(("equal", i2, i2 + trail, j2, j2 + trail))
    return ops
