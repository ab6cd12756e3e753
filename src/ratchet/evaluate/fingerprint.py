"""A cheap fingerprint of the toolchain a test command will find.

The baseline is cached by (commit, command, fingerprint). Without the fingerprint, a baseline
recorded before the user installed a missing package (or switched interpreter) would be reused,
and the next change would be credited with the fixes the environment made. The fingerprint
covers the variables that choose tools (``PATH``, ``VIRTUAL_ENV`` …) and the modification times
of the directories on ``PATH`` and of the package directories next to them: installing or
removing a package changes them. It is a heuristic, made of stats only (microseconds).
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Mapping, Sequence

from ratchet.environment import current

_VARIABLES = ("PATH", "VIRTUAL_ENV", "PYTHONPATH", "CONDA_PREFIX", "NODE_PATH", "GOPATH",
              "GOFLAGS", "JAVA_HOME", "CARGO_HOME", "RUSTUP_TOOLCHAIN")
_PACKAGE_DIRS = ("lib/python3*/site-packages", "lib/python3*/dist-packages",
                 "lib/python3/dist-packages", "lib/node_modules")
_MAX_DIRS = 40


def _mtime(path: str) -> str:
    try:
        return str(os.stat(path).st_mtime_ns)
    except OSError:
        return "-"


def environment_fingerprint(
    environ: Mapping[str, str] | None = None, extra_paths: Sequence[str] = ()
) -> str:
    """A short hex digest that changes when the visible toolchain changes (or the modification
    time of one of ``extra_paths``: the prepared directories of the checkout)."""
    env = current() if environ is None else environ
    parts = [f"{name}={env.get(name, '')}" for name in _VARIABLES]
    dirs: list[str] = []
    for entry in env.get("PATH", "").split(os.pathsep)[:_MAX_DIRS]:
        if not os.path.isabs(entry):
            continue
        dirs.append(entry)
        prefix = os.path.dirname(entry.rstrip("/"))
        for pattern in _PACKAGE_DIRS:
            dirs += sorted(glob.glob(os.path.join(prefix, pattern)))[:4]
    for extra in (env.get("VIRTUAL_ENV", ""), env.get("CONDA_PREFIX", "")):
        if extra:
            for pattern in _PACKAGE_DIRS:
                dirs += sorted(glob.glob(os.path.join(extra, pattern)))[:4]
    dirs += list(extra_paths)
    seen: set[str] = set()
    for d in dirs:
        if d not in seen:
            seen.add(d)
            parts.append(f"{d}:{_mtime(d)}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
