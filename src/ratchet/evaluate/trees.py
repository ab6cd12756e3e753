"""Where a task's test trees live: one fixed directory per (checkout, task).

The baseline and every candidate of a task are exported to the same absolute path, one after
the other (the task lock keeps two runs of a task apart), so test ids, snapshots and
tracebacks that contain the tree's path compare equal between them. Inside a sandbox with a
mount namespace the tests see the tree at the checkout's own path anyway; this fixed place
is what they see without one.

The directory is ``$TMPDIR/ratchet-<uid>/<hash of the checkout path>-<task>/tree``; the
per-user parent is created private (mode 0700; 0711 for root, whose tests run as another
account that must be able to enter it, though not list it) and must be owned by this user.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ratchet.errors import EvalError

if TYPE_CHECKING:
    import git


def _private_base() -> Path:
    base = Path(tempfile.gettempdir()) / f"ratchet-{os.getuid()}"
    mode = 0o711 if os.geteuid() == 0 else 0o700
    try:
        base.mkdir(mode=mode, exist_ok=True)
        info = os.lstat(base)
    except OSError as exc:
        raise EvalError(f"cannot create the test directory {base}: {exc}",
                        "set TMPDIR to a writable directory") from exc
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise EvalError(
            f"{base} is not a directory owned by this user",
            "remove it, or set TMPDIR to a private directory",
        )
    if stat.S_IMODE(info.st_mode) != mode:
        os.chmod(base, mode)
    return base


def tree_path(checkout: Path, key: str) -> Path:
    """The fixed test-tree path of task ``key`` in ``checkout``."""
    digest = hashlib.sha256(str(Path(checkout).resolve()).encode()).hexdigest()[:12]
    return _private_base() / f"{digest}-{key}" / "tree"


def _make_writable(func, path, _exc) -> None:  # noqa: ANN001
    """rmtree error handler: tests may leave read-only directories behind."""
    try:
        os.chmod(os.path.dirname(path), 0o700)
        if not os.path.islink(path):
            os.chmod(path, 0o700)
        func(path)
    except OSError:
        pass


def wipe(path: Path) -> None:
    """Remove ``path`` (symlinks inside are removed, never followed)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, onerror=_make_writable)


@contextlib.contextmanager
def exported(repo: git.Repo, commit: str, key: str) -> Iterator[Path]:
    """A fresh export of ``commit`` at the task's fixed tree path, removed afterwards."""
    from ratchet.workspace import git as gitops

    path = tree_path(Path(repo.working_dir), key)
    wipe(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield gitops.export_commit(repo, commit, path)
    finally:
        wipe(path)
