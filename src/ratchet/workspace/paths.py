"""Path policy and file I/O for edits: which paths may change, reading and writing them safely.

The pure path checks live in :func:`ratchet.edits.check_path` (one implementation); this module
adds what needs the filesystem: symlinks, file types, sizes, encodings, protection globs and
atomic writes. ``plan_changes`` works in memory and is all-or-nothing; ``write_changes`` is
the only function here that writes.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from ratchet.edits import apply_edits, check_path
from ratchet.errors import EditError
from ratchet.types import Edit

__all__ = [
    "ALWAYS_PROTECTED",
    "DEFAULT_PROTECTED",
    "check_relpath",
    "is_protected",
    "plan_changes",
    "read_for_edit",
    "write_changes",
]

# The tests are the judge: by default the model may not touch them, their configuration, the
# CI that runs them, or the files that decide what gets installed or executed around them.
# Patterns are gitignore-style (see is_protected); a later "!pattern" un-protects.
DEFAULT_PROTECTED: tuple[str, ...] = (
    # test code, any language
    "tests/**",
    "test/**",
    "testing/**",
    "**/tests/**",
    "**/test/**",
    "**/__tests__/**",
    "spec/**",
    "**/test_*.py",
    "**/*_test.py",
    "**/tests.py",
    "**/conftest.py",
    "**/*_test.go",
    "**/*.test.*",
    "**/*.spec.*",
    "**/*_spec.rb",
    # test runner configuration
    "pytest.ini",
    "tox.ini",
    "setup.cfg",
    "noxfile.py",
    "pyproject.toml",
    ".coveragerc",
    "jest.config.*",
    "vitest.config.*",
    "karma.conf.*",
    ".mocharc*",
    "phpunit.xml*",
    # code that runs at interpreter start-up and could change what the tests see
    "**/sitecustomize.py",
    "**/usercustomize.py",
    "**/*.pth",
    # build/run entry points and dependency manifests (deps are installed from the base)
    "Makefile",
    "GNUmakefile",
    "justfile",
    "Taskfile.yml",
    "package.json",
    "requirements*.txt",
    "constraints*.txt",
    "Pipfile",
    "Pipfile.lock",
    "poetry.lock",
    "uv.lock",
    "pdm.lock",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "Cargo.lock",
    "go.sum",
    # CI and repository plumbing
    ".github/**",
    ".ci/**",
    ".circleci/**",
    ".gitlab/**",
    ".gitlab-ci.yml",
    ".travis.yml",
    "azure-pipelines.yml",
    "Jenkinsfile",
    ".pre-commit-config.yaml",
    ".gitmodules",
    ".gitattributes",
    "CODEOWNERS",
    "action.yml",
    "action.yaml",
    "Dockerfile",
    "**/Dockerfile",
    ".devcontainer/**",
)

# Never editable, whatever the configuration says.
ALWAYS_PROTECTED: tuple[str, ...] = (
    ".git/**",
    ".github/ratchet.yml",
    ".github/ratchet.yaml",
    ".github/workflows/**",
)

BINARY_SNIFF_BYTES = 8192


def check_relpath(path: str) -> str:
    """Return ``path`` as a normalised relative POSIX path.

    Raises ``EditError(category="unsafe_path")`` when it is empty, absolute, escapes with
    ``..``, names ``.git`` in any case, or holds backslashes, drive letters or control
    characters. Same rules as :func:`ratchet.edits.check_path` (it is that function).
    """
    return check_path(path)


# ---------------------------------------------------------------------------------------------
# Protection globs
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _compile(pattern: str) -> tuple[re.Pattern[str], bool] | None:
    """gitignore-style glob -> (regex over a whole relative path, directory-only flag)."""
    pat = pattern.strip()
    if not pat or pat.startswith("#"):
        return None
    dir_only = pat.endswith("/")
    pat = pat.rstrip("/")
    anchored = pat.startswith("/") or "/" in pat
    pat = pat.lstrip("/")
    if not pat:
        return None
    out: list[str] = []
    i = 0
    while i < len(pat):
        if pat.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pat.startswith("**", i):
            out.append(".*")
            i += 2
        elif pat[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pat[i] == "?":
            out.append("[^/]")
            i += 1
        elif pat[i] == "[":
            close = pat.find("]", i + 2 if pat.startswith(("[!", "[^"), i) else i + 1)
            if close == -1:
                out.append(re.escape(pat[i]))
                i += 1
                continue
            body = pat[i + 1 : close]
            if body.startswith(("!", "^")):
                body = "^" + body[1:]
            out.append("(?!/)[" + body.replace("\\", "\\\\") + "]")
            i = close + 1
        else:
            out.append(re.escape(pat[i]))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(prefix + "".join(out), re.IGNORECASE | re.DOTALL), dir_only


def _glob_hits(path: str, pattern: str) -> bool:
    compiled = _compile(pattern)
    if compiled is None:
        return False
    regex, dir_only = compiled
    parts = path.split("/")
    # The path itself, or any directory above it (matching a directory covers its contents).
    candidates = ["/".join(parts[:k]) for k in range(1, len(parts))]
    if not dir_only:
        candidates.append(path)
    return any(regex.fullmatch(candidate) for candidate in candidates)


def is_protected(path: str, patterns: Sequence[str]) -> bool:
    """True if ``path`` (relative POSIX) matches ``patterns``, gitignore-style.

    ``*`` and ``?`` stay within one path component, ``**`` spans any depth (``**/x`` also
    matches a top-level ``x``), ``[abc]`` is a character class. A pattern without ``/``
    matches a name at any depth; one with ``/`` is anchored at the repository root. A match
    on a directory covers everything under it; a trailing ``/`` matches directories only.
    Matching ignores case. Patterns apply in order and a later ``!pattern`` un-protects, so
    the last matching pattern decides.
    """
    norm = path.strip("/")
    protected = False
    for pattern in patterns:
        if pattern.startswith("!"):
            if protected and _glob_hits(norm, pattern[1:]):
                protected = False
        elif not protected and _glob_hits(norm, pattern):
            protected = True
    return protected


def _refuse_protected(rel: str, always: bool) -> EditError:
    if always:
        why = "it controls how Ratchet itself and the CI run, and can never be edited"
    else:
        why = (
            "it is protected: tests, test configuration, CI and dependency files are the "
            "judge of a change, so they are not edited by default"
        )
    return EditError(
        f"The edit to `{rel}` was refused: {why}. Change the code under test instead (or, "
        "for a protected path, ask a maintainer to unprotect it in .github/ratchet.yml).",
        "unsafe_path",
        rel,
    )


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def _walk(root: Path, rel: str) -> tuple[Path, os.stat_result | None]:
    """Check every component of ``root/rel`` without following links.

    Returns the full path and its lstat (None if missing). Raises EditError if the path or a
    parent is a symlink, a parent is not a directory, or it resolves outside ``root``.
    """
    base = Path(os.path.realpath(root))
    current = base
    parts = rel.split("/")
    for depth, part in enumerate(parts, 1):
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return base / rel, None
        except NotADirectoryError as exc:
            raise EditError(
                f"`{rel}` cannot be used: a parent of it is not a directory.", "invalid", rel
            ) from exc
        if stat.S_ISLNK(st.st_mode):
            what = "is a symbolic link" if depth == len(parts) else "is under a symbolic link"
            raise EditError(
                f"The edit to `{rel}` was refused: it {what}, and Ratchet does not edit "
                "through symbolic links. Edit the real file instead.",
                "unsafe_path",
                rel,
            )
        if depth < len(parts) and not stat.S_ISDIR(st.st_mode):
            raise EditError(
                f"`{rel}` cannot be used: `{'/'.join(parts[:depth])}` is a file, not a directory.",
                "invalid",
                rel,
            )
    full = base / rel
    real = os.path.realpath(full)
    if os.path.commonpath([real, str(base)]) != str(base):
        raise EditError(
            f"The edit to `{rel}` was refused: it resolves outside the repository.",
            "unsafe_path",
            rel,
        )
    return full, st


def read_for_edit(root: Path, relpath: str, max_bytes: int = 1_000_000) -> str | None:
    """Read ``root/relpath`` for editing; None if it does not exist.

    The text is decoded as UTF-8 with line endings and a BOM kept as they are. Raises
    ``EditError`` if the path is unsafe, it or a parent is a symlink (``unsafe_path``), it is
    not a regular file (``invalid``), is larger than ``max_bytes`` (``too_large``), or is
    binary (NUL in the first 8 KB) or not valid UTF-8 (``binary``).
    """
    rel = check_relpath(relpath)
    full, st = _walk(Path(root), rel)
    if st is None:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise EditError(
            f"`{rel}` is not a regular file (a directory, device or pipe) and cannot be edited.",
            "invalid",
            rel,
        )
    if st.st_size > max_bytes:
        raise _too_big(rel, st.st_size, max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(full, flags)
    except OSError as exc:
        raise EditError(f"`{rel}` could not be opened: {exc.strerror}.", "invalid", rel) from exc
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise EditError(f"`{rel}` is not a regular file.", "invalid", rel)
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_big(rel, len(data), max_bytes)
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        raise EditError(f"`{rel}` is a binary file and cannot be edited as text.", "binary", rel)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditError(
            f"`{rel}` is not valid UTF-8 text (byte {exc.start}), so it is not edited.",
            "binary",
            rel,
        ) from exc


def _too_big(rel: str, size: int, limit: int) -> EditError:
    return EditError(
        f"`{rel}` is too large to edit ({size} bytes; the limit is {limit}).", "too_large", rel
    )


# ---------------------------------------------------------------------------------------------
# Planning (in memory)
# ---------------------------------------------------------------------------------------------


def plan_changes(
    root: Path,
    edits: Sequence[Edit],
    *,
    protected: Sequence[str] = DEFAULT_PROTECTED,
    max_files: int = 10,
    max_bytes: int = 1_000_000,
) -> dict[str, tuple[str | None, str]]:
    """Validate and apply ``edits`` in memory; return ``{relpath: (before, after)}``.

    Edits are grouped by normalised path (first-seen order; edits to one path keep their
    order) and each group goes through :func:`ratchet.edits.apply_edits`. Nothing is written.
    All-or-nothing: raises ``EditError`` on the first refusal, for a path in
    ``ALWAYS_PROTECTED`` or matching ``protected`` (``unsafe_path``), more than ``max_files``
    files or a result over ``max_bytes`` (``too_large``), or any read/apply refusal.
    """
    if not edits:
        raise EditError("The proposal has no edits.", "invalid")
    groups: dict[str, list[Edit]] = {}
    for edit in edits:
        if not isinstance(edit, Edit):
            raise EditError("Internal: plan_changes needs Edit objects.", "invalid")
        rel = check_relpath(edit.path)
        if is_protected(rel, ALWAYS_PROTECTED):
            raise _refuse_protected(rel, always=True)
        if is_protected(rel, protected):
            raise _refuse_protected(rel, always=False)
        groups.setdefault(rel, []).append(edit)
    if len(groups) > max_files:
        raise EditError(
            f"The proposal changes {len(groups)} files; the limit is {max_files}. Make a "
            "smaller change that touches fewer files.",
            "too_large",
        )
    changes: dict[str, tuple[str | None, str]] = {}
    for rel, group in groups.items():
        before = read_for_edit(Path(root), rel, max_bytes=max_bytes)
        after = apply_edits(rel, before, group)
        size = len(after.encode("utf-8"))
        if size > max_bytes:
            raise _too_big(rel, size, max_bytes)
        changes[rel] = (before, after)
    return changes


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _make_parents(base: Path, rel: str) -> None:
    current = base
    for part in rel.split("/")[:-1]:
        current = current / part
        try:
            os.mkdir(current)
        except FileExistsError:
            pass
        st = os.lstat(current)
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
            raise EditError(
                f"`{rel}` cannot be written: `{current.relative_to(base)}` is not a real "
                "directory.",
                "unsafe_path",
                rel,
            )


def _write_atomic(full: Path, data: bytes, mode: int | None) -> None:
    tmp = full.parent / f".{full.name}.ratchet-{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, full)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_changes(root: Path, changes: Mapping[str, tuple[str | None, str]]) -> None:
    """Write planned changes atomically (temp file + ``os.replace`` in the same directory).

    Keeps each existing file's mode, creates missing parent directories inside ``root``, and
    writes the text as UTF-8 bytes so CRLF and a BOM survive. Before writing anything it
    re-checks every path (no symlinks, inside ``root``) and that each file still holds
    ``before`` (and that a file to create still does not exist). Raises ``EditError`` if a
    check fails; if a write fails midway, files already written are restored.
    """
    base = Path(os.path.realpath(root))
    plan: list[tuple[str, Path, str | None, str, int | None]] = []
    for relpath, (before, after) in changes.items():
        rel = check_relpath(relpath)
        full, st = _walk(base, rel)
        if (st is None) != (before is None):
            state = "appeared" if st is not None else "disappeared"
            raise EditError(
                f"`{rel}` {state} since the edit was planned; plan again.", "invalid", rel
            )
        mode = None
        if st is not None:
            if not stat.S_ISREG(st.st_mode):
                raise EditError(f"`{rel}` is not a regular file.", "invalid", rel)
            if read_for_edit(base, rel, max_bytes=max(st.st_size, 1)) != before:
                raise EditError(
                    f"`{rel}` changed since the edit was planned; plan again.", "invalid", rel
                )
            mode = stat.S_IMODE(st.st_mode)
        plan.append((rel, full, before, after, mode))

    done: list[tuple[Path, str | None, int | None]] = []
    try:
        for rel, full, before, after, mode in plan:
            _make_parents(base, rel)
            _write_atomic(full, after.encode("utf-8"), mode)
            done.append((full, before, mode))
    except BaseException:
        for full, before, mode in reversed(done):
            with contextlib.suppress(OSError):
                if before is None:
                    os.unlink(full)
                else:
                    _write_atomic(full, before.encode("utf-8"), mode)
        raise
