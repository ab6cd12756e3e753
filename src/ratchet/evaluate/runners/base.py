"""The interface every test runner module implements, and the plain data it works with.

A runner module knows one test runner (pytest, jest, go test ...):

* ``matches(program)`` — is this command that runner? (``program`` has wrappers peeled off);
* ``instrument(inv, out)`` — the command (and environment) that makes the runner write
  machine-readable results into the private directory ``out``; None to run it as it is;
* ``collect(ctx)`` — per-test results ``{test_id: status}`` from that report (or from the
  output), or None when there is nothing to read;
* ``select(inv, ids, out)`` — the command that runs only the tests ``ids`` (for the rerun of
  the tests whose outcome changed); None when the runner cannot select by id.

Runners only ever *append* to the user's command (or set environment variables), so the
command keeps its quoting and meaning.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ratchet.evaluate import shell
from ratchet.evaluate.report import ERROR, FAILED, PASSED, SKIPPED

#: worst first: when a test id is reported twice, the worse status wins
RANK = {PASSED: 0, SKIPPED: 1, FAILED: 2, ERROR: 3}


@dataclass(frozen=True)
class Invocation:
    """Where the runner sits in the test command, and how to pass it more arguments.

    ``command`` is the whole command as configured; ``words`` the runner's own words after
    wrappers (``("jest", "--ci")``); ``via`` the layers seen through, for a person
    (``("npm test",)``); ``lead`` the words that must come before arguments appended at the
    top level so they reach the runner (``("--",)`` through ``npm test``); ``last`` the
    command's last simple command when the runner IS that command (so it can be rebuilt);
    ``cwd`` the directory (relative to the tree) it runs in; ``tail`` is False when the runner
    is not the last step (``node --test && npm run lint``): arguments appended to the command
    would not reach it, so only the environment can instrument it.
    """

    command: str
    words: tuple[str, ...]
    via: tuple[str, ...] = ()
    lead: tuple[str, ...] = ()
    last: shell.LastCommand | None = None
    cwd: str = ""
    tail: bool = True

    def append(self, extra: Sequence[str]) -> str:
        """The command with ``extra`` arguments reaching the runner at the end of its words
        (callers check ``tail`` first)."""
        if not extra:
            return self.command
        if not self.tail:
            raise ValueError("arguments appended to the command would not reach the runner")
        return shell.append(self.command, [*self.lead, *extra])

    def rebuild(self, words: Sequence[str]) -> str | None:
        """The command with the runner's words replaced, when that is safe; else None."""
        last = self.last
        if last is None or not last.plain or self.lead:
            return None
        n = len(self.words)
        if tuple(last.words[len(last.words) - n :]) != self.words:
            return None
        return shell.rebuild(last, [*last.words[: len(last.words) - n], *words])

    @property
    def args(self) -> tuple[str, ...]:
        return self.words[1:]


@dataclass(frozen=True)
class Instrumented:
    """A command to run instead of the configured one, plus environment to add.

    ``env`` values for ``PYTHONPATH`` and ``NODE_OPTIONS`` are prepended to what the
    environment already has. ``fallback`` is a plainer plan to try when the runner refuses
    this one's options (an older version), before the command runs as configured."""

    command: str
    env: Mapping[str, str] = field(default_factory=dict)
    note: str = ""  # what was done, for a person ("appended --json --outputFile")
    fallback: Instrumented | None = None


@dataclass(frozen=True)
class Collected:
    """Per-test results read after a run. ``output`` replaces the run's output when set (a
    runner whose console output is machine-readable gives the readable text here)."""

    tests: dict[str, str]
    source: str
    output: str | None = None

    @property
    def per_test(self) -> bool:
        return self.source not in ("summary", "exit")


@dataclass(frozen=True)
class CollectContext:
    """What a runner may read after the run.

    ``out`` is the private report directory; ``root`` the absolute path the tests saw as the
    project root (ids are made relative to it); ``views`` the host directories that hold the
    tree's files as the tests saw them, with the tree-relative prefix each one serves
    (the tree itself first, then the upper layers of shared build directories)."""

    out: Path
    output: str
    root: str
    views: tuple[tuple[Path, str], ...]
    since: float = 0.0
    cwd: str = ""
    words: tuple[str, ...] = ()  # the runner's words as run (empty when not visible)

    @property
    def tree(self) -> Path:
        """The host directory of the project root (where the run's cwd-relative files are)."""
        return self.views[0][0] if self.views else Path(self.root)

    def find(self, pattern: str, limit: int = 1000) -> list[Path]:
        """Files written since the run started that match ``pattern`` (relative to the
        project root, ``**`` allowed), in every view; never outside them."""
        if os.path.isabs(pattern):
            if not (pattern == self.root or pattern.startswith(self.root.rstrip("/") + "/")):
                return []
            pattern = os.path.relpath(pattern, self.root)
        if not pattern or ".." in Path(pattern).parts:
            return []
        found: list[Path] = []
        for base, prefix in self.views:
            if prefix:
                hits = _walk_matching(base, prefix, pattern, limit)
            else:
                hits = [Path(h) for h in sorted(glob.glob(str(base / pattern), recursive=True))]
            real_base = base.resolve()
            for path in hits:
                try:
                    real = path.resolve()
                    real.relative_to(real_base)
                    if real.is_file() and real.stat().st_mtime >= self.since - 2:
                        found.append(real)
                except (OSError, ValueError):
                    continue
                if len(found) >= limit:
                    return found
        return found

    def relative(self, path: str) -> str:
        """``path`` (absolute as the tests saw it, or relative) relative to the project root."""
        path = path.replace(os.sep, "/")
        root = self.root.rstrip("/")
        if path == root:
            return "."
        if path.startswith(root + "/"):
            return path[len(root) + 1 :]
        if path.startswith("file://" + root + "/"):
            return path[len("file://" + root) + 1 :]
        return path


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for a glob ``pattern`` over POSIX relative paths (``**/`` = any directories)."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _walk_matching(base: Path, prefix: str, pattern: str, limit: int) -> list[Path]:
    """Files under ``base`` (which holds the tree's ``prefix/``) whose tree path matches."""
    regex = glob_regex(pattern)
    hits: list[Path] = []
    for dirpath, _dirs, files in os.walk(base):
        for name in files:
            path = Path(dirpath, name)
            rel = f"{prefix}/{path.relative_to(base).as_posix()}"
            if regex.match(rel):
                hits.append(path)
                if len(hits) >= limit:
                    return hits
    return hits


def merge(into: dict[str, str], test_id: str, status: str) -> None:
    """Record ``status`` for ``test_id``; a worse status already recorded stays."""
    old = into.get(test_id)
    if old is None or RANK[status] > RANK[old]:
        into[test_id] = status


class Runner:
    """Base class: a runner that is recognised but cannot be instrumented or selected.

    ``instrument`` and ``select`` of a subclass that appends arguments are only called for an
    invocation whose ``tail`` is true, unless the class sets ``env_only`` (it instruments
    through the environment and checks ``tail`` itself)."""

    env_only = False

    #: short name used in ids of records and in messages ("pytest", "jest")
    name = ""
    #: where its per-test results come from, for a person
    results_via = ""

    def matches(self, prog: shell.Program) -> bool:
        raise NotImplementedError

    def instrument(self, inv: Invocation, out: Path) -> Instrumented | None:
        return None

    def collect(self, ctx: CollectContext) -> Collected | None:
        return None

    def select(self, inv: Invocation, ids: Sequence[str], out: Path) -> Instrumented | None:
        return None


#: parsers of plain console output that identify tests (libtest lines, go -v, unittest -v,
#: TAP): used when the runner could not be instrumented or is not visible in the command
OutputParser = Callable[[str, str], Collected | None]


def undoing(
    inv: Invocation, extra: list[str], note: str, options: tuple[str, ...], undo: str
) -> Instrumented:
    """``extra`` appended to the command, and ``undo`` after it when the command has one of
    ``options`` (``--bail``: a run stopped at the first failure hides the tests after it);
    then the plan falls back to ``extra`` alone, for a version that refuses ``undo``."""
    plain = Instrumented(inv.append(extra), note=note)
    if not has_option(inv.args, *options):
        return plain
    return Instrumented(inv.append([*extra, undo]), note=f"{note} {undo}", fallback=plain)


def has_option(words: Sequence[str], *names: str) -> bool:
    """True if any of ``names`` is among ``words`` (also as ``--name=value``)."""
    for w in words:
        for n in names:
            if w == n or w.startswith(n + "="):
                return True
    return False
