"""Patches from planned changes: a git-style unified diff for people, a normalised hash for memory.

``changes`` is what :func:`ratchet.workspace.paths.plan_changes` returns:
``{relpath: (before or None for a new file, after)}``.

Normalisation rule for :func:`patch_sha256` (version ``ratchet-patch-v2``): two proposals
hash the same when they make the same change at the same place, whatever their whitespace
noise, the amount of context the model sent, or the line numbers. For each path both texts
are normalised (BOM dropped, CRLF/CR -> LF, trailing whitespace stripped from every line,
blank lines dropped) and diffed line by line. Each change is kept as
``[line before, removed lines, added lines, line after]``, where the two anchors are the
nearest unchanged (normalised) lines of the file around it, or ``""`` at the file's edges:
they tell apart the same edit made in two places without depending on line numbers or hunk
headers. Paths whose normalised texts are equal drop out. The hash is the SHA-256 of the
canonical JSON of ``["ratchet-patch-v2", [[path, [change, ...]], ...]]`` sorted by path.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping

__all__ = ["PATCH_HASH_VERSION", "normalised_changes", "patch_sha256", "unified_diff"]

PATCH_HASH_VERSION = "ratchet-patch-v2"
_NO_NEWLINE = "\\ No newline at end of file\n"

Changes = Mapping[str, tuple[str | None, str]]


def unified_diff(changes: Changes, context: int = 3) -> str:
    """Return a git-style unified diff of ``changes`` (``a/``/``b/`` headers, sorted by path).

    New files get ``new file mode 100644`` and ``--- /dev/null``; a last line without a
    newline gets git's ``\\ No newline at end of file`` marker; CRLF and BOM bytes are kept,
    so ``git apply`` reproduces ``after`` exactly. Paths with no change are left out.
    """
    out: list[str] = []
    for path in sorted(changes):
        before, after = changes[path]
        if before == after:
            continue
        old_lines = _lines(before or "")
        new_lines = _lines(after)
        out.append(f"diff --git a/{path} b/{path}\n")
        if before is None:
            out.append("new file mode 100644\n")
        if not old_lines and not new_lines:
            continue  # an empty new file: the header alone creates it
        old_name = "/dev/null" if before is None else f"a/{path}"
        body = difflib.unified_diff(
            old_lines, new_lines, fromfile=old_name, tofile=f"b/{path}", n=context
        )
        for line in body:
            if line.startswith(("---", "+++")) and not line.endswith("\n"):
                line += "\n"
            if line.endswith("\n"):
                out.append(line)
            else:
                out.append(line + "\n" + _NO_NEWLINE)
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines with their "\n" (only "\n" ends a line, unlike str.splitlines)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _normal_lines(text: str | None) -> list[str]:
    if not text:
        return []
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [line.rstrip() for line in text.split("\n") if line.strip()]


def normalised_changes(changes: Changes) -> list[list[object]]:
    """The canonical form hashed by :func:`patch_sha256`.

    ``[[path, [[line before, removed, added, line after], ...]], ...]``, sorted by path.
    """
    canon: list[list[object]] = []
    for path in sorted(changes):
        before, after = changes[path]
        old, new = _normal_lines(before), _normal_lines(after)
        if old == new and before is not None:
            continue
        hunks: list[list[object]] = []
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                above = old[i1 - 1] if i1 > 0 else ""
                below = old[i2] if i2 < len(old) else ""
                hunks.append([above, old[i1:i2], new[j1:j2], below])
        canon.append([path, hunks])
    return canon


def patch_sha256(changes: Changes) -> str:
    """Return the hex SHA-256 of the normalised patch (see the module docstring for the rule).

    Equivalent proposals (the same change at the same place, with different trailing
    whitespace, line endings, blank lines, context or line numbers) give the same hash; the
    same lines changed at two different places do not. An empty change set hashes the empty
    list.
    """
    payload = json.dumps(
        [PATCH_HASH_VERSION, normalised_changes(changes)],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
