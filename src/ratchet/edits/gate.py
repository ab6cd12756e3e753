"""Gates on the finished text: no new bidirectional controls, and no new syntax errors in
Python, JSON or TOML files that parsed before the edits."""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib

from ratchet.edits.messages import _fence
from ratchet.errors import EditError

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
