"""Which test runner a test command runs, seen through the layers people put around it.

``resolve(command, tree)`` looks at the command's last simple command, peels wrappers
(``VAR=x``, ``uv run``, ``poetry run``, ``npx``, ``python -m``, ``coverage run -m`` ...) and
follows package-manager scripts (``npm test``, ``npm run X``, ``yarn X``, ``pnpm X``,
``bun run X``) into ``package.json``, up to four levels deep, until a known runner appears.
Arguments appended to the command then still reach that runner (``npm`` needs ``--`` before
them; yarn, pnpm and bun pass them on as they are).

It cannot see inside ``make``, ``tox``, ``nox`` or a shell script; for those the run still
gets per-test results where the runner can be reached through the environment
(``PYTEST_ADDOPTS``) or prints test names (libtest, ``go test -v``, ``unittest -v``, TAP), and
counts or the exit code otherwise.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ratchet.evaluate import shell
from ratchet.evaluate.runners import RUNNERS, Invocation, Runner

MAX_DEPTH = 4
_NPM_TEST = frozenset({"test", "t", "tst"})
_NPM_RUN = frozenset({"run", "run-script", "rum", "urn"})
_OPAQUE = {
    "make": "a Makefile target",
    "gmake": "a Makefile target",
    "tox": "a tox environment",
    "nox": "a nox session",
    "just": "a justfile recipe",
    "task": "a Taskfile task",
    "bazel": "a Bazel target",
    "sh": "a shell script",
    "bash": "a shell script",
}
#: yarn/pnpm commands that are not scripts
_PM_BUILTINS = frozenset(
    {"install", "add", "remove", "upgrade", "up", "why", "info", "list", "ls", "link", "unlink",
     "pack", "publish", "init", "create", "dlx", "exec", "config", "cache", "import",
     "workspace", "workspaces", "set", "node", "bin", "dedupe", "outdated", "audit", "help"}
)


@dataclass(frozen=True)
class Resolution:
    """``runner`` and ``invocation`` when a known runner was found, else None and a ``note``
    for a person saying what Ratchet could not see through."""

    runner: Runner | None
    invocation: Invocation | None
    note: str = ""

    @property
    def described(self) -> str:
        """"jest (via npm test)", or "unknown runner"."""
        if self.runner is None:
            return "unknown runner"
        via = self.invocation.via if self.invocation else ()
        return self.runner.name + (f" (via {' → '.join(via)})" if via else "")


def _scripts(directory: Path) -> dict[str, str]:
    try:
        data = json.loads((directory / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):
        return {}
    return {k: v for k, v in scripts.items() if isinstance(k, str) and isinstance(v, str)}


def _script_call(words: tuple[str, ...]) -> tuple[str, str, tuple[str, ...]] | None:
    """(manager label, script name, lead words) when ``words`` run a package.json script."""
    if not words:
        return None
    pm = os.path.basename(words[0])
    rest = list(words[1:])
    if any(w in ("-w", "--workspace", "--prefix", "-C", "--dir", "--filter") or
           w.startswith(("--workspace=", "--prefix=", "--dir=", "--filter=")) for w in rest):
        return None  # the script lives in another package.json
    plain = [w for w in rest if not w.startswith("-")]
    if pm == "npm":
        if plain[:1] and plain[0] in _NPM_TEST:
            name = "test"
        elif plain[:1] and plain[0] in _NPM_RUN and len(plain) > 1:
            name = plain[1]
        else:
            return None
        lead: tuple[str, ...] = () if "--" in rest else ("--",)
        label = "npm test" if name == "test" and plain[0] in _NPM_TEST else f"npm run {name}"
        return label, name, lead
    if pm in ("yarn", "pnpm", "bun"):
        if plain[:1] == ["run"] and len(plain) > 1:
            name = plain[1]
        elif plain[:1] and plain[0] not in _PM_BUILTINS and not (pm == "bun" and
                                                                  plain[0] == "test"):
            name = plain[0]
        else:
            return None
        return f"{pm} {'run ' if plain[0] == 'run' else ''}{name}", name, ()
    return None


def resolve(command: str, tree: Path) -> Resolution:
    """The runner ``command`` runs in the checkout ``tree`` (its files are read, never run).

    The last simple command is looked at first (arguments appended to the command reach it);
    failing that, the earlier ones (``node --test && npm run lint``): a runner found there can
    only be instrumented through the environment (its invocation has ``tail`` false)."""
    return _resolve(command, Path(tree), "", (), (), 0, command, True)


def _resolve(
    text: str,
    tree: Path,
    cwd: str,
    lead: tuple[str, ...],
    via: tuple[str, ...],
    depth: int,
    top: str,
    tail: bool,
) -> Resolution:
    found = _resolve_last(text, tree, cwd, lead, via, depth, top, tail)
    if found.runner is not None:
        return found
    earlier = shell.segments(text)[:-1]
    for part in reversed(earlier):
        other = _resolve_last(part, tree, cwd, lead, via, depth, top, False)
        if other.runner is not None:
            return other
    return found


def _resolve_last(
    text: str,
    tree: Path,
    cwd: str,
    lead: tuple[str, ...],
    via: tuple[str, ...],
    depth: int,
    top: str,
    tail: bool,
) -> Resolution:
    last = shell.last_command(text)
    if last is None:
        return Resolution(
            None, None,
            "its last step uses a pipe, a subshell or command substitution, so Ratchet runs "
            "it exactly as written",
        )
    prog = shell.program(last.words)
    moved = shell.cwd_of_prefix(last.prefix)
    here = os.path.normpath(os.path.join(cwd, moved)) if moved else cwd
    here = "" if here == "." else here
    for runner in RUNNERS:
        if runner.matches(prog):
            inv = Invocation(
                command=top,
                words=prog.words,
                via=via + prog.via,
                lead=lead,
                last=last if depth == 0 and tail else None,
                cwd=here,
                tail=tail,
            )
            return Resolution(runner, inv)
    call = _script_call(prog.words)
    if call is not None:
        label, name, more_lead = call
        scripts = _scripts(tree / here)
        if name in scripts and depth < MAX_DEPTH:
            return _resolve(
                scripts[name], tree, here, lead + more_lead, via + (label,), depth + 1, top, tail
            )
        if name not in scripts:
            return Resolution(None, None, f"{label}: no such script in package.json")
    kind = _OPAQUE.get(prog.name)
    if kind:
        return Resolution(None, None, f"Ratchet cannot see inside {kind} ({prog.name})")
    what = prog.name or "the command"
    return Resolution(None, None, f"{what} is not a test runner Ratchet knows")
