"""What a sandbox must make reachable (toolchains) or unreachable (host sockets) for the tests,
as plain paths: the sandboxes turn them into mounts.

* :func:`host_sockets`: the unix sockets of the host's daemons (docker, containerd, dbus ...)
  under ``/run`` and ``/var/run``, which a read-only view of ``/`` would leave connectable.
* :func:`tool_dirs`: the directories the test command's tools live in (``PATH``, the virtual
  environment, the interpreter running Ratchet, rustup, Go, pyenv ... from the environment).
* :func:`hiding_plan`: for tests run as another account (see identity.py), the directories on
  the way to those tools that the account cannot enter (``/root`` is mode 0700), each to be
  covered by an empty, enterable tmpfs, with the tool directories bound back read-only. Whatever
  else those directories hold (credential files of the home directory) is hidden on the way.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ratchet.evaluate.identity import TestUser, outermost

#: where daemons keep their unix sockets (docker, containerd, dbus, systemd ...)
SOCKET_DIRS = ("/run", "/var/run")
MAX_SOCKET_SCAN = 5000  # directory entries looked at, at most

_MAVEN_REPO = re.compile(r"-Dmaven\.repo\.local=(\S+)")
#: environment variables naming directories (or path lists) the tests' tools are in
TOOL_VARS = (
    "PATH", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONUSERBASE", "JAVA_HOME", "GOROOT", "GOPATH",
    "GOMODCACHE", "CARGO_HOME", "RUSTUP_HOME", "NODE_PATH", "PYENV_ROOT", "NVM_DIR",
    "VOLTA_HOME", "BUN_INSTALL", "SDKMAN_DIR", "RBENV_ROOT", "ASDF_DIR", "DENO_DIR",
    "GRADLE_RO_DEP_CACHE",
)


@functools.lru_cache(maxsize=1)
def host_sockets(dirs: tuple[str, ...] = SOCKET_DIRS, depth: int = 5) -> tuple[str, ...]:
    """The unix sockets under ``dirs`` (at most ``depth`` levels, symlinks not followed), which
    bubblewrap's read-only view of ``/`` would otherwise leave reachable: each gets
    ``/dev/null`` bound over it, so ``connect`` is refused."""
    found: list[str] = []
    seen = 0
    stack = [(d, 0) for d in dirs if os.path.isdir(d) and not os.path.islink(d)]
    while stack and seen < MAX_SOCKET_SCAN:
        path, level = stack.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for e in entries:
            seen += 1
            try:
                if e.is_dir(follow_symlinks=False) and level < depth:
                    stack.append((e.path, level + 1))
                elif stat.S_ISSOCK(e.stat(follow_symlinks=False).st_mode):
                    found.append(e.path)
            except OSError:
                continue
    return tuple(sorted(set(found)))


def tool_dirs(env: Mapping[str, str]) -> list[str]:
    """Existing directories named by :data:`TOOL_VARS` in ``env``, and the interpreter running
    Ratchet (its prefix, base prefix and the directory of its real executable; a test command
    may name it), each as given and resolved. A ``bin`` directory of a virtual environment
    brings the whole environment (its ``lib`` holds the packages)."""
    dirs = [p for name in TOOL_VARS for p in env.get(name, "").split(os.pathsep)]
    dirs += _MAVEN_REPO.findall(env.get("MAVEN_OPTS", ""))
    dirs += [sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))]
    found: set[str] = set()
    for d in dirs:
        if not (os.path.isabs(d) and os.path.isdir(d)):
            continue
        for path in (d, os.path.realpath(d)):
            parent = os.path.dirname(path.rstrip("/"))
            if os.path.isfile(os.path.join(parent, "pyvenv.cfg")):
                path = parent
            found.add(os.path.normpath(path))
    return sorted(found)


def private_tool_dirs(env: Mapping[str, str], root: Path) -> list[str]:
    """The :func:`tool_dirs` under ``/tmp`` (which a sandbox's private /tmp would hide) or
    inside the project root (which the tree mounted there would hide), outermost only: they
    are bound back read-only."""
    tops = [d for d in tool_dirs(env) if d.startswith("/tmp/") or inside_strict(root, d)]
    return outermost(tops)


def hiding_plan(
    user: TestUser | None,
    sources: Iterable[str],
    destinations: Iterable[str] = (),
    fresh: Sequence[str] = (),
) -> list[tuple[str, str]]:
    """The mounts that let ``user`` reach ``sources`` (host directories to bind back) and the
    parents of ``destinations`` (where the sandbox mounts something of its own), in order:
    ``("tmpfs", dir)`` over each directory on the way that ``user`` cannot enter, and
    ``("bind", source)`` for each source behind one (not for one inside another bound back
    with no such directory between them). Paths under ``fresh`` (directories the sandbox
    creates anew) are left alone; a source ``user`` cannot enter itself stays unreachable."""
    if user is None:
        return []
    hide: set[str] = set()
    binds: set[str] = set()

    def walls(path: str) -> list[str]:
        parts = Path(path).parts
        return [os.path.join(*parts[:i]) for i in range(2, len(parts) + 1)
                if not user.enters(os.path.join(*parts[:i]))]

    def skipped(path: str) -> bool:
        return any(path == f or path.startswith(f.rstrip("/") + "/") for f in fresh)

    for src in sources:
        blocked = [w for w in walls(src) if w != src]
        if skipped(src) or not blocked or not user.enters(src):
            continue
        hide.update(blocked)
        binds.add(os.path.normpath(src))
    for dest in destinations:
        if not skipped(dest):
            hide.update(w for w in walls(dest) if w != dest)
    def covered(path: str) -> bool:  # inside another bind, no hidden directory between
        return any(within(path, b) and not any(within(h, b) and within(path, h) for h in hide)
                   for b in binds if b != path)

    ops = [("tmpfs", d) for d in hide] + [("bind", d) for d in binds if not covered(d)]
    return sorted(ops, key=lambda op: (len(Path(op[1]).parts), op[0] != "tmpfs", op[1]))


def with_parents(
    plan: list[tuple[str, str]], targets: Iterable[str], created: Sequence[str] = ("/tmp",)
) -> list[tuple[str, str]]:
    """``plan`` plus ``("dir", path)`` for each directory a sandbox must create on the way to
    ``targets`` and the plan's binds inside an empty tmpfs (one of the plan's, or ``created``):
    bubblewrap would make them mode 0700, which the tests' account cannot enter, so they are
    created 0755 first."""
    empty = [*created, *(p for op, p in plan if op == "tmpfs")]
    binds = [p for op, p in plan if op == "bind"]
    dirs: set[str] = set()
    for target in [*targets, *binds, *empty]:
        holders = [t for t in empty if within(target, t) and target != t]
        if not holders:
            continue
        top = max(holders, key=len)
        parts = Path(target).parts
        for i in range(len(Path(top).parts) + 1, len(parts)):
            here = os.path.join(*parts[:i])
            if here not in empty and not any(within(here, b) for b in binds):
                dirs.add(here)
    order = {"tmpfs": 0, "dir": 1, "bind": 2}
    ops = plan + [("dir", d) for d in dirs]
    return sorted(ops, key=lambda op: (len(Path(op[1]).parts), order[op[0]], op[1]))


def within(path: str, top: str) -> bool:
    """True if ``path`` is ``top`` or below it."""
    return path == top or path.startswith(top.rstrip("/") + "/")


def inside_strict(root: Path, path: str) -> bool:
    return Path(path) != root and root in Path(path).parents


def inside(root: Path, path: str) -> bool:
    """True if ``path`` is ``root`` or one of its ancestors/descendants (never mask those)."""
    p, r = Path(path), root
    return p == r or r in p.parents or p in r.parents
