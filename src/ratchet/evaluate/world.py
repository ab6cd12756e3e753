"""The world the tests see: what the workflow (or the developer) prepared besides the commit.

A test tree is an export of a commit, so it lacks everything git ignores that the project's
CI set up before running the tests: ``node_modules`` after ``npm ci``, a ``.venv``, cargo's
``target/`` ... and the tools under the home directory (rustup, Go's module cache, pyenv ...),
which the sandbox hides by giving the tests a private ``HOME``. :func:`discover` finds both:

* **shared directories**: directories in the checkout that git ignores and whose name says
  what they are (:data:`DEPENDENCY_DIRS`, :data:`CACHE_DIRS`, ``*.egg-info``), plus the
  ignored paths named by the ``prepared_paths`` setting. The sandbox shows dependency
  directories inside the tree read-only, at the same place, without copying them. Build
  caches (``target/`` ...) need writes: they are shared through a copy-on-write overlay where
  the sandbox can make one (writes go to a private layer and are thrown away), and left out
  otherwise (the build then starts cold, which is slower but never wrong);
* **toolchain locations**: environment variables (``RUSTUP_HOME``, ``CARGO_HOME``, ``GOPATH``,
  ``PYENV_ROOT`` ...) pointing at the real directories under the home directory, visible
  read-only inside the sandbox. Credential files there stay hidden (see sandbox.py).

Nothing that looks like a credential (``.env``, keys, ``*secret*`` ...) is ever shared.
"""

from __future__ import annotations

import fnmatch
import os
import pwd
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ratchet.environment import current

#: ignored directories the tests may read (shown read-only)
DEPENDENCY_DIRS = frozenset(
    {"node_modules", ".venv", "venv", ".tox", ".nox", "vendor", ".bundle", "bower_components",
     "jspm_packages", ".pnpm-store", ".yarn", "deps", ".eggs", "elm-stuff", "Pods"}
)
#: ignored build caches the tests' build writes to (shared only through an overlay)
CACHE_DIRS = frozenset(
    {"target", ".gradle", "_build", ".dart_tool", ".stack-work", "dist-newstyle", ".build"}
)
#: never shared, whatever the configuration says
_CREDENTIAL = re.compile(
    r"(^|/)(\.env(\..*)?|\.netrc|\.npmrc|\.pypirc|\.git-credentials|\.ssh|\.aws|\.docker|"
    r"id_[a-z0-9]+|[^/]*\.(pem|key|p12|pfx|jks|keystore|kdbx)|[^/]*(secret|credential|token)"
    r"[^/]*)$",
    re.IGNORECASE,
)
MAX_SHARED = 200

#: (variable, path under the home directory, only when that path exists)
_TOOLCHAINS: tuple[tuple[str, str], ...] = (
    ("RUSTUP_HOME", ".rustup"),
    ("CARGO_HOME", ".cargo"),
    ("GOPATH", "go"),
    ("PYENV_ROOT", ".pyenv"),
    ("NVM_DIR", ".nvm"),
    ("VOLTA_HOME", ".volta"),
    ("BUN_INSTALL", ".bun"),
    ("SDKMAN_DIR", ".sdkman"),
    ("RBENV_ROOT", ".rbenv"),
    ("ASDF_DIR", ".asdf"),
    ("DENO_DIR", ".cache/deno"),
    ("GRADLE_RO_DEP_CACHE", ".gradle/caches"),
)


@dataclass(frozen=True)
class Shared:
    """One prepared path of the checkout, relative to it (POSIX); ``cache`` when the tests'
    build writes into it."""

    rel: str
    cache: bool = False


@dataclass(frozen=True)
class World:
    """What the tests see beyond the exported commit. ``checkout`` is the user's checkout (the
    place the workflow prepared); ``env`` the toolchain variables for the test environment."""

    checkout: str
    shared: tuple[Shared, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    skipped: tuple[str, ...] = field(default=(), compare=False)  # refused paths, for a person

    @property
    def dependencies(self) -> tuple[Shared, ...]:
        return tuple(s for s in self.shared if not s.cache)

    @property
    def caches(self) -> tuple[Shared, ...]:
        return tuple(s for s in self.shared if s.cache)

    def describe(self, overlays: bool) -> str:
        """One line for the run header and ``ratchet doctor``."""
        if not self.shared:
            return "none found (git-ignored node_modules/, .venv/, target/ … in the checkout)"
        parts = [f"{s.rel}/" for s in self.dependencies[:8]]
        more = len(self.dependencies) - 8
        if more > 0:
            parts.append(f"+{more} more")
        text = (", ".join(parts) + " (read-only)") if parts else "no dependency directories"
        if self.caches:
            names = ", ".join(f"{s.rel}/" for s in self.caches[:5])
            text += (
                f"; build caches {names}: "
                + ("shared copy-on-write" if overlays else "not shared (this sandbox cannot "
                   "overlay them; builds start cold)")
            )
        return text


def _homes(environ: Mapping[str, str]) -> list[Path]:
    homes: list[Path] = []
    if environ.get("HOME"):
        homes.append(Path(environ["HOME"]))
    try:
        homes.append(Path(pwd.getpwuid(os.getuid()).pw_dir))
    except (KeyError, OSError):
        pass
    return list(dict.fromkeys(h for h in homes if h.is_absolute()))


def toolchain_env(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Toolchain variables to give the tests: those already set in ``environ`` are left to
    the environment's own allowlist; the others point at existing directories under the
    home directory (``$HOME`` first, then the account's home)."""
    found: list[tuple[str, str]] = []
    for name, rel in _TOOLCHAINS:
        if environ.get(name):
            continue
        for home in _homes(environ):
            path = home / rel
            if path.is_dir():
                found.append((name, str(path)))
                break
    maven = environ.get("MAVEN_OPTS", "")
    for home in _homes(environ):  # Maven's local repository: Java finds it from the account's
        repo = home / ".m2" / "repository"  # home, not $HOME (another one for tests as nobody)
        if repo.is_dir() and "maven.repo.local" not in maven:
            found.append(("MAVEN_OPTS", f"{maven} -Dmaven.repo.local={repo}".strip()))
            break
    for home in _homes(environ):  # pip install --user
        local = home / ".local"
        if not environ.get("PYTHONUSERBASE") and any((local / "lib").glob("python3*")):
            found.append(("PYTHONUSERBASE", str(local)))
            break
    return found


def _ignored(checkout: Path) -> list[str]:
    """Paths git ignores in ``checkout`` (directories end with ``/``), [] if git fails."""
    from ratchet.errors import GitError
    from ratchet.workspace.gitcmd import git

    try:
        out = git(
            checkout, "ls-files", "--others", "--ignored", "--exclude-standard", "--directory",
            "-z", check=True, timeout=60,
        ).stdout
    except (GitError, OSError):
        return []
    return [p for p in out.split("\0") if p]


def _selected(entries: Sequence[str], patterns: Sequence[str]) -> tuple[list[Shared], list[str]]:
    shared: list[Shared] = []
    skipped: list[str] = []
    for entry in entries:
        is_dir = entry.endswith("/")
        rel = entry.rstrip("/")
        if not rel or rel.startswith("/") or ".." in rel.split("/") or rel.split("/")[0] == ".git":
            continue
        name = rel.rsplit("/", 1)[-1]
        wanted = any(fnmatch.fnmatch(rel, p.rstrip("/")) for p in patterns)
        default = is_dir and (name in DEPENDENCY_DIRS or name in CACHE_DIRS
                              or name.endswith(".egg-info"))
        if not (wanted or default):
            continue
        if _CREDENTIAL.search(rel) or name.startswith("ratchet"):
            skipped.append(rel)
            continue
        shared.append(Shared(rel, cache=is_dir and name in CACHE_DIRS))
    return shared[:MAX_SHARED], skipped


def discover(
    checkout: Path,
    environ: Mapping[str, str] | None = None,
    prepared_paths: Sequence[str] = (),
) -> World:
    """The world of ``checkout``: its prepared paths (``prepared_paths`` adds glob patterns,
    relative to the checkout, of more ignored paths to share, e.g. ``src/**/*.so``) and the
    toolchain variables. Reads the checkout with git; raises nothing."""
    env = current() if environ is None else environ
    root = Path(checkout).resolve()
    shared, skipped = _selected(_ignored(root), prepared_paths)
    shared = [s for s in shared if (root / s.rel).exists() and not (root / s.rel).is_symlink()]
    return World(
        checkout=str(root),
        shared=tuple(shared),
        env=tuple(toolchain_env(env)),
        skipped=tuple(skipped),
    )


def fingerprint_paths(world: World) -> list[str]:
    """Files and directories whose modification time changes when the prepared world changes
    (a package installed into node_modules or .venv), for the baseline cache key."""
    paths: list[str] = []
    for s in world.shared:
        base = os.path.join(world.checkout, s.rel)
        paths.append(base)
        for marker in (".package-lock.json", ".yarn-integrity", ".modules.yaml", "pyvenv.cfg"):
            paths.append(os.path.join(base, marker))
        paths += sorted(str(p) for p in Path(base).glob("lib/python3*/site-packages"))[:2]
    return paths
