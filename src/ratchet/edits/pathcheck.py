"""The pure path check shared with :mod:`ratchet.workspace.paths` (no filesystem access)."""

from __future__ import annotations

import re

from ratchet.errors import EditError

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
