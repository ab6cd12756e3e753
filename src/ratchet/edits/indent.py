"""Indentation style: which indent character a file uses, and REPLACE's new lines rewritten
in it."""

from __future__ import annotations

from collections import Counter


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


def _indent_char(lines: list[str], start: int, end: int) -> str | None:
    """The indent character of the file: taken from the matched span, else the whole file."""
    for lo, hi in ((start, end), (0, len(lines))):
        tabs = sum(1 for line in lines[lo:hi] if line.startswith("\t") and line.strip())
        spaces = sum(1 for line in lines[lo:hi] if line.startswith(" ") and line.strip())
        if tabs or spaces:
            return "\t" if tabs > spaces else " "
    return None
