"""The pure edit engine: apply a model's search/replace edits to the text of one file.

``apply_edits(path, before, edits)`` returns the new text or raises :class:`EditError` whose
message is written for the model (what went wrong and what to send instead). No I/O here.

Each edit is matched on LF text down a ladder. A stage that finds more than one place
refuses ("ambiguous"); it never falls through to a looser stage and never takes the first:

1. exact substring (also sub-line fragments);
2. whole lines, trailing whitespace ignored;
3. whole lines whose indentation differs consistently: a uniform shift, tabs for spaces or a
   re-scaled indent (tabs expanded at width 4, then 8); typographic quotes/dashes folded;
4. as 3, ignoring blank lines (the model dropped or added a blank line);
5. ``...`` elision: SEARCH and REPLACE are split on elision lines, which must pair up, and
   each piece goes through the whole ladder, in file order;
6. fuzzy: similarity >= 0.85 (difflib, lines aligned first, then characters) over windows of
   stripped non-blank lines, refused unless it beats every non-overlapping window by 0.05;
   needs 2 lines or 40 characters.

Tolerant matches (2-6) splice as a 3-way merge (base = SEARCH, ours = the matched lines,
theirs = REPLACE): lines REPLACE keeps from SEARCH keep the file's bytes, new lines are
re-indented through the column map and written in the file's own indent character.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import sys
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ratchet.errors import EditError
from ratchet.types import Edit

__all__ = [
    "FUZZY_MARGIN",
    "FUZZY_THRESHOLD",
    "EditLike",
    "apply_edits",
    "apply_edits_with_stages",
    "check_path",
]

FUZZY_THRESHOLD = 0.85
FUZZY_MARGIN = 0.05
FUZZY_MIN_LINES = 2
FUZZY_MIN_CHARS = 40
_FUZZY_PREFILTER = 0.5  # token-bag Dice a window needs before difflib scores it
_FUZZY_MAX_LINES = 50_000  # beyond this many non-blank lines the fuzzy stage is skipped
_FUZZY_DICE_BAND = 0.2  # windows scored by difflib: token Dice within this of the best window
_FUZZY_MAX_SCORED = 300
_FUZZY_SCORE_BUDGET = 2_000_000  # characters of SEARCH x windows scored
_REPLACE_PRESENT = 0.98  # fuzzy score at which REPLACE counts as already in the file
_CHANGED_LINE_MIN = 0.8  # a line REPLACE rewrites must be this close to the file's line
_TAB_WIDTHS = (4, 8)
_SHOW_HITS = 12
_CONTEXT = 5

EditLike = Edit | Mapping[str, object] | tuple[str, str]

# ---------------------------------------------------------------------------------------------
# Paths (no filesystem): shared with ratchet.workspace.paths.check_relpath
# ---------------------------------------------------------------------------------------------

_BAD_PATH_CHARS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_PATH_BYTES = 4096
_MAX_NAME_BYTES = 255


def check_path(path: object) -> str:
    """Return ``path`` as a normalised relative POSIX path (``./a//b`` -> ``a/b``).

    Pure: no filesystem access. Raises ``EditError(category="unsafe_path")`` for an empty or
    non-string path, NUL/control/invisible characters, backslashes, drive letters, absolute or
    ``~`` paths, any ``..`` component, a trailing slash, over-long names, or a ``.git``
    component in any case (also ``.git.``/``.git `` and ``git~1`` aliases).
    """
    if not isinstance(path, str) or not path:
        raise _unsafe(str(path or ""), "the path is empty")
    shown = path if len(path) <= 200 else path[:200] + "…"
    if path != path.strip():
        raise _unsafe(shown, "it starts or ends with whitespace")
    if _BAD_PATH_CHARS.search(path):
        raise _unsafe(shown, "it contains a control or invisible character")
    if "\\" in path:
        raise _unsafe(shown, "it contains a backslash; use '/' between directories")
    if _DRIVE.match(path) or path.startswith("/"):
        raise _unsafe(shown, "it is absolute; give a path relative to the repository root")
    if path.startswith("~"):
        raise _unsafe(shown, "it starts with '~'; give a path relative to the repository root")
    if path.endswith("/"):
        raise _unsafe(shown, "it names a directory; give the path of a file")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if not parts:
        raise _unsafe(shown, "it does not name a file")
    for part in parts:
        if part == "..":
            raise _unsafe(shown, "it contains '..'; give a path inside the repository")
        if _is_git_dir_name(part):
            raise _unsafe(shown, "files under .git cannot be edited")
        if len(part.encode("utf-8")) > _MAX_NAME_BYTES:
            raise _unsafe(shown, "a path component is too long")
    normal = "/".join(parts)
    if len(normal.encode("utf-8")) > _MAX_PATH_BYTES:
        raise _unsafe(shown, "the path is too long")
    return normal


def _is_git_dir_name(part: str) -> bool:
    folded = part.casefold().rstrip(". ")
    return folded in (".git", "git~1")


def _unsafe(path: str, why: str) -> EditError:
    return EditError(
        f"The path `{path}` was refused: {why}. Edits may only name files inside the "
        "repository, as a relative path with '/' separators (for example `src/pkg/mod.py`).",
        "unsafe_path",
        path,
    )


# ---------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------


def apply_edits(path: str, before: str | None, edits: Iterable[EditLike] | EditLike) -> str:
    """Apply ``edits`` in order to ``before`` (the text of ``path``; None if the file is missing).

    ``edits`` holds :class:`Edit` objects, mappings with ``search``/``replace`` (a ``path`` key is
    ignored) or ``(search, replace)`` tuples. Each edit applies to the result of the previous
    one and the batch is all-or-nothing. An empty ``search`` creates a missing file (or fills
    an empty one). CRLF, a UTF-8 BOM and the presence or absence of the final newline are kept.

    Returns the new text. Raises ``EditError`` (category ``unsafe_path``, ``invalid``,
    ``binary``, ``missing_file``, ``exists``, ``no_op``, ``not_found``, ``ambiguous``,
    ``already_applied`` or ``syntax_error``) on the first refusal; ``str(error)`` tells the
    model what went wrong and what to send instead.
    """
    return apply_edits_with_stages(path, before, edits)[0]


def apply_edits_with_stages(
    path: str, before: str | None, edits: Iterable[EditLike] | EditLike
) -> tuple[str, list[str]]:
    """Like :func:`apply_edits`, and also return which ladder stage placed each edit.

    Stages: ``create``, ``duplicate`` (a repeat of an earlier edit, skipped), ``exact``,
    ``trailing_whitespace``, ``indentation``, ``blank_lines``, ``fuzzy(0.91)`` and
    ``elision+<stage of the last piece>``; for telemetry only.
    """
    rel = check_path(path)
    pairs = _normalise_edits(rel, edits)
    if before is not None and not isinstance(before, str):
        raise EditError(f"Internal: the text of `{rel}` is not a string.", "invalid", rel)
    if before is not None and "\x00" in before:
        raise EditError(
            f"`{rel}` is a binary file (it contains NUL bytes) and cannot be edited as text.",
            "binary",
            rel,
        )
    total = len(pairs)
    for number, (search, replace) in enumerate(pairs, 1):
        _check_edit_text(rel, number, total, search, replace)

    doc = _Doc.open(before)
    text = doc.text
    original = text
    exists = before is not None
    stages: list[str] = []
    for number, (search, replace) in enumerate(pairs, 1):
        if (search, replace) in pairs[: number - 1]:
            stages.append("duplicate")  # the model sent the same edit twice: apply it once
            continue
        ctx = _Ctx(rel, number, total, doc, original)
        if search == "":
            filled = _create_or_fill(ctx, exists, text, replace)
            keep_bom = doc.bom
            doc = _Doc.open(filled)
            doc.bom = doc.bom or keep_bom
            text = doc.text
            exists = True
            stages.append("create")
            continue
        if not exists:
            raise EditError(
                f"`{rel}` does not exist, so edit {number} of {total} cannot find its SEARCH "
                "text. To create the file, send one edit with an empty SEARCH and the whole "
                "file as REPLACE; to change an existing file, check the path.",
                "missing_file",
                rel,
            )
        new_text = _apply_one(ctx, text, search, replace)
        if new_text == text:
            raise _no_op(ctx, "applying it leaves the file unchanged")
        text = new_text
        stages.append(ctx.stage)

    after = doc.close(text)
    if after == before:
        raise EditError(
            f"The edits for `{rel}` leave the file exactly as it was. Send a change that "
            "actually modifies the file, or none.",
            "no_op",
            rel,
        )
    _check_new_controls(rel, before, after)
    _syntax_gate(rel, before, after)
    return after, stages


# ---------------------------------------------------------------------------------------------
# Input normalisation and per-edit validation
# ---------------------------------------------------------------------------------------------


def _normalise_edits(rel: str, edits: object) -> list[tuple[str, str]]:
    if isinstance(edits, Edit | Mapping):
        edits = [edits]
    if isinstance(edits, str | bytes) or not isinstance(edits, Iterable):
        raise EditError(f"Internal: the edits for `{rel}` are not a list.", "invalid", rel)
    pairs: list[tuple[str, str]] = []
    for item in edits:
        if isinstance(item, Edit):
            search, replace = item.search, item.replace
        elif isinstance(item, Mapping):
            search, replace = item.get("search"), item.get("replace")
        elif isinstance(item, tuple | list) and len(item) == 2:
            search, replace = item[0], item[1]
        else:
            raise EditError(
                f"Each edit for `{rel}` needs a `search` and a `replace` string.", "invalid", rel
            )
        if search is None:
            search = ""
        if not isinstance(search, str) or not isinstance(replace, str):
            raise EditError(
                f"Each edit for `{rel}` needs `search` and `replace` as strings "
                "(use an empty `search` to create a file, an empty `replace` to delete text).",
                "invalid",
                rel,
            )
        pairs.append((_clean_edit_text(search), _clean_edit_text(replace)))
    if not pairs:
        raise EditError(f"No edits were given for `{rel}`.", "invalid", rel)
    return pairs


def _clean_edit_text(value: str) -> str:
    if value.startswith("\ufeff"):
        value = value[1:]
    return value.replace("\r\n", "\n")


def _check_edit_text(rel: str, number: int, total: int, search: str, replace: str) -> None:
    where = f"Edit {number} of {total} for `{rel}`"
    if "\x00" in search or "\x00" in replace:
        raise EditError(f"{where} contains NUL bytes; only text can be edited.", "binary", rel)
    if search == replace and search != "":
        raise EditError(
            f"{where} has identical SEARCH and REPLACE, so it would change nothing. "
            "Put the new text in REPLACE.",
            "no_op",
            rel,
        )
    lazy_s = sum(1 for line in search.split("\n") if _is_lazy_comment(line))
    lazy_r = [line.strip() for line in replace.split("\n") if _is_lazy_comment(line)]
    if len(lazy_r) > lazy_s:
        raise EditError(
            f"{where} was refused: its REPLACE contains the placeholder `{lazy_r[0]}` instead "
            "of real code, which would delete the code it stands for. Write out the complete "
            "replacement text.",
            "invalid",
            rel,
        )


_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _check_new_controls(rel: str, before: str | None, after: str) -> None:
    """Refuse edits that introduce bidirectional-override characters (Trojan Source)."""
    if len(_BIDI.findall(after)) > len(_BIDI.findall(before or "")):
        raise EditError(
            f"The edits for `{rel}` add invisible bidirectional-control characters "
            "(U+202A-U+202E, U+2066-U+2069). Remove them.",
            "invalid",
            rel,
        )


# ---------------------------------------------------------------------------------------------
# Document model: BOM, line endings and the final newline
# ---------------------------------------------------------------------------------------------


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


@dataclass
class _Ctx:
    path: str
    number: int
    total: int
    doc: _Doc
    original: str
    stage: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"Edit {self.number} of {self.total} for `{self.path}`"


def _create_or_fill(ctx: _Ctx, exists: bool, text: str, replace: str) -> str:
    if not exists:
        return replace
    if text.strip() == "":
        if replace == text:
            raise _no_op(ctx, "the file is empty and REPLACE is empty")
        return replace
    raise EditError(
        f"{ctx.where} has an empty SEARCH, which only creates a new file, but `{ctx.path}` "
        "already exists. To change it, put the exact lines to replace in SEARCH; to add text, "
        "use the lines next to where it goes as SEARCH and repeat them in REPLACE.",
        "exists",
        ctx.path,
    )


def _no_op(ctx: _Ctx, why: str) -> EditError:
    return EditError(
        f"{ctx.where} changes nothing: {why}. If the change is already in the file, leave "
        "this edit out; otherwise make REPLACE differ from the current text.",
        "no_op",
        ctx.path,
    )


# ---------------------------------------------------------------------------------------------
# One edit: the ladder
# ---------------------------------------------------------------------------------------------


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


def _apply_one(ctx: _Ctx, text: str, search: str, replace: str) -> str:
    lines = _split(text)
    new_text = _try_literal(ctx, text, lines, search, replace, 0)
    if new_text is not None:
        return new_text
    s_parts, r_parts = _elision_parts(search), _elision_parts(replace)
    if len(s_parts) > 1 and len(s_parts) == len(r_parts):
        return _apply_elided(ctx, text, s_parts, r_parts)
    if len(s_parts) > 1:
        # An unpaired `...` stands for code the model skipped: no fuzzy guess over it.
        ctx.notes.append(
            "SEARCH contains elision lines (`...`) that do not pair up with the same number "
            "of elision lines in REPLACE; either pair them or copy the full text."
        )
        raise _not_found(ctx, text, search)
    if ctx.number > 1 and search.strip() in ctx.original:
        # An earlier edit in this batch changed these lines; a fuzzy match here would
        # silently merge two overlapping edits.
        raise _not_found(ctx, text, search)
    r_hit = _replace_location(text, lines, search, replace)
    new_text = _try_fuzzy(ctx, text, lines, search, replace, 0, r_hit)
    if new_text is not None:
        return new_text
    if r_hit is not None:
        raise _already_applied(ctx, r_hit)
    raise _not_found(ctx, text, search)


def _try_literal(
    ctx: _Ctx, text: str, lines: list[str], search: str, replace: str, min_line: int
) -> str | None:
    """Stages 1-4. Returns the new text, None if nothing matched; raises on ambiguity."""
    result = _exact(ctx, text, search, replace, min_line)
    if result is not None:
        ctx.stage = "exact"
        return result
    s_lines = _split(search)
    if not any(line.strip() for line in s_lines):
        return None
    for stage, finder in (
        ("trailing_whitespace", _find_rstrip),
        ("indentation", _find_shifted),
        ("blank_lines", _find_blank_tolerant),
    ):
        matches = _after(finder(lines, s_lines), min_line)
        if len(matches) > 1:
            raise _ambiguous(ctx, [m.start for m in matches])
        if matches:
            ctx.stage = stage
            _guard_reapply(ctx, text, lines, matches[0], replace)
            return _splice(ctx, lines, matches[0], s_lines, _split(replace))
    return None


def _after(matches: list[_Match], min_line: int) -> list[_Match]:
    if min_line and len(matches) > 1:
        later = [m for m in matches if m.start >= min_line]
        return later if later else matches
    return matches


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


# --- stage 1: exact substring ------------------------------------------------------------------


def _exact_hits(text: str, needle: str, limit: int = 200) -> list[int]:
    hits: list[int] = []
    pos = text.find(needle)
    while pos != -1 and len(hits) < limit:
        hits.append(pos)
        pos = text.find(needle, pos + 1)
    return hits


def _whole_line_hit(text: str, pos: int, needle: str) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    if text[line_start:pos].strip(" \t"):
        return False
    end = pos + len(needle)
    return needle.endswith("\n") or end >= len(text) or text[end] == "\n"


def _exact(ctx: _Ctx, text: str, search: str, replace: str, min_line: int) -> str | None:
    hits = _exact_hits(text, search)
    if not hits:
        return None
    if len(hits) > 1 and min_line:
        later = [h for h in hits if text.count("\n", 0, h) >= min_line]
        hits = later or hits
    if len(hits) > 1 and len(search.strip()) >= 8:
        # Models copy whole lines: if exactly one hit is a whole line, the others are
        # accidental sub-line matches (``return x`` inside ``return xy``).
        whole = [h for h in hits if _whole_line_hit(text, h, search)]
        if len(whole) == 1:
            hits = whole
    if len(hits) > 1:
        raise _ambiguous(ctx, [text.count("\n", 0, h) for h in hits])
    pos = hits[0]
    end = pos + len(search)
    _guard_reapply_span(ctx, text, pos, end, replace)
    replace = _restyle_new_lines(
        replace, search, _split(text), first_is_line=pos == text.rfind("\n", 0, pos) + 1
    )
    # When the match ends at a line end, SEARCH and REPLACE are line content: a missing or
    # extra trailing newline in either one must not join or split lines.
    if search.endswith("\n"):
        end -= 1
    elif end >= len(text) or text[end] != "\n":
        return text[:pos] + replace + text[end:]
    core = replace[:-1] if replace.endswith("\n") else replace
    line_start = text.rfind("\n", 0, pos) + 1
    if pos == line_start:
        pos, end = _absorb_blank_edges(text, pos, end, _split(search), _split(replace))
        line_start = pos
    if core == "" and not text[line_start:pos].strip(" \t"):
        return text[:line_start] + text[end + 1 :]  # delete the whole line(s)
    return text[:pos] + core + text[end:]


def _indent_style(lines: list[str]) -> tuple[str, int] | None:
    """``("\\t", 4)`` or ``(" ", unit)`` when nearly all indented lines agree; else None."""
    tabs = spaces = 0
    steps: Counter[int] = Counter()
    prev: int | None = None
    for line in lines:
        body = line.lstrip(" \t")
        if not body.strip():
            continue
        lead = line[: len(line) - len(body)]
        if lead.startswith("\t"):
            tabs += 1
        elif lead.startswith(" "):
            spaces += 1
        if "\t" not in lead:
            if prev is not None and len(lead) > prev:
                steps[len(lead) - prev] += 1
            prev = len(lead)
    total = tabs + spaces
    if total == 0:
        return None
    if tabs >= 0.9 * total:
        return "\t", 4
    if spaces >= 0.9 * total:
        unit = steps.most_common(1)[0][0] if steps else 4
        return " ", unit if unit in (2, 3, 4, 8) else 4
    return None


def _restyle_new_lines(replace: str, search: str, lines: list[str], first_is_line: bool) -> str:
    """Write REPLACE's new lines with the file's indent character (tabs vs spaces).

    Only lines that are not also in SEARCH change, and only their leading whitespace; used
    where REPLACE is otherwise taken verbatim (exact and trailing-whitespace matches).
    """
    if "\t" not in replace and "\n " not in replace and not replace.startswith(" "):
        return replace
    style = _indent_style(lines)
    if style is None:
        return replace
    char, unit = style
    known = {line.rstrip() for line in search.split("\n")}
    parts = replace.split("\n")
    leads = [
        len(part) - len(part.lstrip(" "))
        for part in parts
        if part.strip() and part.startswith(" ") and part.rstrip() not in known
    ]
    model_unit = min([n for n in leads if n > 0] or [4])
    if model_unit not in (2, 4, 8):
        model_unit = 4
    out: list[str] = []
    for index, part in enumerate(parts):
        body = part.lstrip(" \t")
        lead = part[: len(part) - len(body)]
        if (index == 0 and not first_is_line) or not lead or not body or part.rstrip() in known:
            out.append(part)
        elif char == " " and "\t" in lead:
            out.append(" " * len(lead.expandtabs(unit)) + body)
        elif char == "\t" and "\t" not in lead and len(lead) >= model_unit:
            tabs, rest = divmod(len(lead), model_unit)
            out.append("\t" * tabs + " " * rest + body)
        else:
            out.append(part)
    return "\n".join(out)


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


def _absorb_blank_edges(
    text: str, pos: int, end: int, s_lines: list[str], r_lines: list[str]
) -> tuple[int, int]:
    """Widen a line-aligned match [pos, end) over blank lines REPLACE repeats but SEARCH lacks.

    A model that leaves the blank lines around its SEARCH out but keeps them in REPLACE would
    otherwise double them. ``end`` indexes the newline that ends the last matched line.
    """
    extra = _lead_blanks(r_lines) - _lead_blanks(s_lines)
    while extra > 0 and pos > 0:
        prev = text.rfind("\n", 0, pos - 1) + 1
        if text[prev : pos - 1].strip():
            break
        pos, extra = prev, extra - 1
    extra = _trail_blanks(r_lines) - _trail_blanks(s_lines)
    while extra > 0 and end + 1 < len(text):
        nxt = text.find("\n", end + 1)
        if nxt == -1 or text[end + 1 : nxt].strip():
            break
        end, extra = nxt, extra - 1
    return pos, end


# --- stages 2-4: whole lines -----------------------------------------------------------------


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


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


# --- the 3-way splice --------------------------------------------------------------------------


def _indent_char(lines: list[str], start: int, end: int) -> str | None:
    """The indent character of the file: taken from the matched span, else the whole file."""
    for lo, hi in ((start, end), (0, len(lines))):
        tabs = sum(1 for line in lines[lo:hi] if line.startswith("\t") and line.strip())
        spaces = sum(1 for line in lines[lo:hi] if line.startswith(" ") and line.strip())
        if tabs or spaces:
            return "\t" if tabs > spaces else " "
    return None


def _splice(
    ctx: _Ctx, lines: list[str], match: _Match, s_lines: list[str], r_lines: list[str]
) -> str:
    """3-way merge of the matched file lines: base SEARCH, ours the file, theirs REPLACE."""
    char = _indent_char(lines, match.start, match.end)
    strip_trailing = any(
        s is not None
        and f is not None
        and s_lines[s] != s_lines[s].rstrip()
        and lines[f] == lines[f].rstrip()
        for s, f in match.pairs
    )
    cr = "\r" if ctx.doc.new_line_cr else ""
    restyled: dict[str, str] = {}
    if match.stage == "lines":
        joined = _restyle_new_lines("\n".join(r_lines), "\n".join(s_lines), lines, True)
        restyled = dict(zip(r_lines, joined.split("\n"), strict=True))

    def render(line: str) -> str:
        if not line.strip():
            return cr
        if strip_trailing:
            line = line.rstrip()
        body = line.lstrip(" \t")
        col = len(line[: len(line) - len(body)].expandtabs(match.tab))
        new_col = match.column(col)
        if match.stage == "lines":
            return restyled.get(line, line) + cr
        if new_col == col and char is None:
            return line + cr
        if char == "\t":
            lead = "\t" * (new_col // match.tab) + " " * (new_col % match.tab)
        else:
            lead = " " * new_col
        return lead + body + cr

    pairs = list(match.pairs)
    start, end = match.start, match.end
    # Blank lines around the match that REPLACE repeats but SEARCH left out join the match.
    extra = _lead_blanks(r_lines) - _lead_blanks(s_lines)
    while extra > 0 and start > 0 and not lines[start - 1].strip():
        start, extra = start - 1, extra - 1
        pairs.insert(0, (None, start))
    extra = _trail_blanks(r_lines) - _trail_blanks(s_lines)
    while extra > 0 and end < len(lines) and not lines[end].strip():
        pairs.append((None, end))
        end, extra = end + 1, extra - 1
    # What is diffed against REPLACE: every SEARCH line, plus the blank file lines SEARCH left
    # out (so a blank line REPLACE has there is not written twice). Non-blank file lines that
    # SEARCH left out stay outside the diff and keep their place.
    base: list[str] = []
    at: dict[int, int] = {}  # index in pairs -> index in base
    for index, (s, f) in enumerate(pairs):
        if s is not None:
            base.append(_canon(s_lines[s]))
        elif f is not None and not lines[f].strip():
            base.append("")
        else:
            continue
        at[index] = len(base) - 1
    file_only = {at[i] for i, (s, _f) in enumerate(pairs) if s is None and i in at}
    ops = difflib.SequenceMatcher(
        None, base, [_canon(line) for line in r_lines], autojunk=False
    ).get_opcodes()
    op_of: dict[int, int] = {}
    inserts: dict[int, int] = {}
    for k, (tag, i1, i2, _j1, _j2) in enumerate(ops):
        for x in range(i1, i2):
            op_of[x] = k
        if tag == "insert":
            inserts[i1] = k

    replace_has_no_blanks = all(line.strip() for line in r_lines)
    out: list[str] = []
    done: set[int] = set()

    def emit(k: int) -> None:
        if k in done:
            return
        done.add(k)
        _tag, i1, i2, j1, j2 = ops[k]
        block = [render(line) for line in r_lines[j1:j2]]
        blanks = [x - i1 for x in range(i1, i2) if x in file_only]
        if blanks and len(blanks) == i2 - i1:
            block = [cr] * len(blanks) + block  # only lines the model never saw: keep them
        elif blanks and replace_has_no_blanks and len(block) >= (i2 - i1) - len(blanks):
            # REPLACE has no blank lines at all, so the model left them all out: where it
            # rewrites or grows this block, keep the file's blank lines at the same relative
            # place among its lines. Otherwise (REPLACE has its own layout, or the block
            # shrinks) REPLACE's layout stands.
            model = (i2 - i1) - len(blanks)
            length = len(block)
            for q in reversed(blanks):
                before = q - sum(1 for b in blanks if b < q)  # model lines above this blank
                block.insert(int(before * length / model + 0.5), cr)
        out.extend(block)

    for index, (s, f) in enumerate(pairs):
        if index not in at:
            assert f is not None
            if _gap_has_change(pairs, index, at, op_of, ops):
                raise _conflict(ctx, f, lines[f], None)
            out.append(lines[f])  # a line SEARCH left out, outside any change: keep it
            continue
        x = at[index]
        if x in inserts:
            emit(inserts[x])
        k = op_of[x]
        if ops[k][0] == "equal":
            if f is not None:
                out.append(lines[f])
            continue
        if s is not None and f is not None and match.stage == "fuzzy":
            if _similarity(base[x].strip(), lines[f].strip()) < _CHANGED_LINE_MIN:
                raise _conflict(ctx, f, lines[f], s_lines[s])
        emit(k)
    if len(base) in inserts:
        emit(inserts[len(base)])
    return _join(lines[:start] + out + lines[end:])


def _gap_has_change(
    pairs: list[tuple[int | None, int | None]],
    index: int,
    at: dict[int, int],
    op_of: dict[int, int],
    ops: list[tuple[str, int, int, int, int]],
) -> bool:
    """True if a left-out file line shares its gap with a changed SEARCH line with no file line.

    The gap runs between the nearest pairs where both sides matched. Such a file line may be
    the changed line itself, rewritten in the file since the model saw it: a conflict.
    """

    def both(i: int) -> bool:
        return pairs[i][0] is not None and pairs[i][1] is not None

    lo = index
    while lo > 0 and not both(lo - 1):
        lo -= 1
    hi = index
    while hi + 1 < len(pairs) and not both(hi + 1):
        hi += 1
    for i in range(lo, hi + 1):
        s, f = pairs[i]
        if s is not None and f is None and ops[op_of[at[i]]][0] != "equal":
            return True
    return False


# --- already applied -------------------------------------------------------------------------


def _guard_reapply_span(ctx: _Ctx, text: str, pos: int, end: int, replace: str) -> None:
    """SEARCH was found, but REPLACE is already there around it (a re-sent edit)."""
    if len(replace) <= end - pos or not replace.strip():
        return
    for hit in _exact_hits(text, replace, limit=20):
        if hit <= pos and hit + len(replace) >= end:
            raise _already_applied(ctx, text.count("\n", 0, hit))


def _guard_reapply(ctx: _Ctx, text: str, lines: list[str], match: _Match, replace: str) -> None:
    start = sum(len(line) + 1 for line in lines[: match.start])
    end = sum(len(line) + 1 for line in lines[: match.end])
    _guard_reapply_span(ctx, text, start, end, replace)


def _replace_location(text: str, lines: list[str], search: str, replace: str) -> int | None:
    """The line where REPLACE already stands, if it is in the file at exactly one place.

    Blank lines are only ignored when SEARCH and REPLACE differ in more than blank lines.
    """
    if not replace.strip():
        return None
    hits = _exact_hits(text, replace, limit=2)
    if len(hits) == 1:
        return text.count("\n", 0, hits[0])
    if hits:
        return None
    r_lines = _split(replace)
    finders = [_find_rstrip, _find_shifted]
    if _code_lines(search) != _code_lines(replace):
        finders.append(_find_blank_tolerant)
    for finder in finders:
        matches = finder(lines, r_lines)
        if len(matches) == 1:
            return matches[0].start
        if matches:
            return None
    return None


def _code_lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


# --- stage 5: elision ------------------------------------------------------------------------

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


# --- stage 6: fuzzy --------------------------------------------------------------------------

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


def _try_fuzzy(
    ctx: _Ctx,
    text: str,
    lines: list[str],
    search: str,
    replace: str,
    min_line: int,
    r_hit: int | None = None,
) -> str | None:
    s_lines = _split(search)
    want = [line.strip() for line in s_lines if line.strip()]
    if len(want) < FUZZY_MIN_LINES and len("\n".join(want)) < FUZZY_MIN_CHARS:
        return None
    cutoff = FUZZY_THRESHOLD - FUZZY_MARGIN
    windows = [w for w in _fuzzy_windows(lines, s_lines, cutoff) if w.start >= min_line]
    best = _best_window(windows, len(want))
    if best is None or best.score < FUZZY_THRESHOLD:
        return None
    rivals = [w for w in windows if w.end <= best.start or w.start >= best.end]
    if rivals and max(w.score for w in rivals) >= best.score - FUZZY_MARGIN:
        starts = sorted({best.start, *(w.start for w in rivals if w.score >= best.score - 0.05)})
        raise _ambiguous(ctx, starts, fuzzy=True)
    r_lines = _split(replace)
    if r_hit is not None and best.start <= r_hit < best.end:
        raise _already_applied(ctx, r_hit)
    if any(line.strip() for line in r_lines):
        r_best = _best_window(_fuzzy_windows(lines, r_lines, cutoff), len(r_lines))
        if (
            r_best is not None
            and _code_lines(search) != _code_lines(replace)  # blank-only edits look the same
            and r_best.score >= _REPLACE_PRESENT
            and r_best.score > best.score
        ):
            raise _already_applied(ctx, r_best.start)
    start, end = _widen(lines, s_lines, best.start, best.end)
    pairs = _align(s_lines, lines, start, end)
    tab, cols = _fuzzy_cols(pairs, s_lines, lines)
    match = _Match(start, end, pairs, cols, tab, "fuzzy", best.score)
    ctx.stage = f"fuzzy({best.score:.2f})"
    _guard_reapply(ctx, text, lines, match, replace)
    return _splice(ctx, lines, match, s_lines, r_lines)


def _best_window(windows: list[_Window], m: int) -> _Window | None:
    if not windows:
        return None
    return max(windows, key=lambda w: (round(w.score, 6), -abs(w.count - m), -w.start))


def _fuzzy_cols(
    pairs: list[tuple[int | None, int | None]], s_lines: list[str], lines: list[str]
) -> tuple[int, dict[int, int]]:
    """(tab width, column map) voted by paired lines; identical lines weigh more."""
    best: tuple[int, int, dict[int, int]] = (0, 4, {})  # (votes, tab, map)
    for tab in _TAB_WIDTHS:
        votes: dict[int, Counter[int]] = {}
        for s, f in pairs:
            if s is None or f is None or not s_lines[s].strip() or not lines[f].strip():
                continue
            f_col, f_body = _indent(lines[f], tab)
            s_col, s_body = _indent(s_lines[s], tab)
            votes.setdefault(s_col, Counter())[f_col] += 3 if f_body == s_body else 1
        cols: dict[int, int] = {}
        total = 0
        for s_col in sorted(votes):
            f_col, count = votes[s_col].most_common(1)[0]
            if cols and f_col <= max(cols.values()):
                continue  # keep the nesting order
            cols[s_col] = f_col
            total += count
        if total > best[0]:
            best = (total, tab, cols)
    return best[1], best[2]


# ---------------------------------------------------------------------------------------------
# Refusal messages (written for the model)
# ---------------------------------------------------------------------------------------------


def _fence(body: str) -> str:
    ticks = "```"
    while ticks in body:
        ticks += "`"
    return f"{ticks}\n{body.rstrip(chr(10))}\n{ticks}"


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
        best: tuple[float, int] | None = None
        for wanted in sorted(want, key=len, reverse=True)[:8]:
            for close in difflib.get_close_matches(wanted, stripped, n=1, cutoff=0.6):
                score = _similarity(wanted, close)
                if best is None or score > best[0]:
                    best = (score, stripped.index(close))
        if best is None:
            return None
        return best[1], best[1] + 1, best[0]
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


# ---------------------------------------------------------------------------------------------
# Syntax gate
# ---------------------------------------------------------------------------------------------


def _parse_error(path: str, text: str) -> tuple[str, int | None] | None:
    """(message, line) if ``text`` does not parse as the language of ``path``; else None."""
    lower = path.lower()
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        if lower.endswith((".py", ".pyi")):
            ast.parse(text, filename=path)
        elif lower.endswith(".json"):
            json.loads(text)
        elif lower.endswith(".toml"):
            tomllib.loads(text)
        else:
            return None
    except SyntaxError as exc:
        return f"{type(exc).__name__}: {exc.msg}", exc.lineno
    except json.JSONDecodeError as exc:
        return f"invalid JSON: {exc.msg}", exc.lineno
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        return f"invalid TOML: {exc}", int(found.group(1)) if found else None
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"{type(exc).__name__}: {exc}", None
    return None


# Python syntax newer than the interpreter running Ratchet: the repository's own Python may
# accept it, so it is not held against the edit.
_PEP695 = re.compile(
    r"^\s*(?:type\s+\w+\s*(?:\[.*\])?\s*=|(?:async\s+)?def\s+\w+\s*\[|class\s+\w+\s*\[)"
)
_TSTRING = re.compile(r"(?:^|[\s=(\[{,:])[tT][rR]?['\"]")


def _newer_python_syntax(message: str, line_text: str) -> bool:
    if sys.version_info < (3, 12) and ("f-string" in message or _PEP695.match(line_text)):
        return True
    return sys.version_info < (3, 14) and bool(_TSTRING.search(line_text))


def _syntax_gate(rel: str, before: str | None, after: str) -> None:
    if before is not None and _parse_error(rel, before) is not None:
        return  # it did not parse before the edit; nothing to protect
    problem = _parse_error(rel, after)
    if problem is None:
        return
    message, line = problem
    body = after[1:] if after.startswith("\ufeff") else after
    all_lines = [text.rstrip("\r") for text in body.split("\n")]
    if rel.lower().endswith((".py", ".pyi")) and line is not None and 1 <= line <= len(all_lines):
        if _newer_python_syntax(message, all_lines[line - 1]):
            return
    where = ""
    if line is not None:
        if 1 <= line <= len(all_lines):
            lo, hi = max(0, line - 3), min(len(all_lines), line + 2)
            shown = "\n".join(
                f"{'>' if n + 1 == line else ' '} {all_lines[n]}" for n in range(lo, hi)
            )
            where = f" at line {line}:\n{_fence(shown)}\n"
        else:
            where = f" at line {line}. "
    raise EditError(
        f"The edits for `{rel}` were refused: the file parsed before, but after them it "
        f"does not ({message}){where or '. '}Fix the edit (check indentation, brackets, quotes "
        "and commas) and resend the whole batch. No edit in this batch was applied.",
        "syntax_error",
        rel,
    )
