"""The process environment, read once.

This is the one module that reads ``os.environ``. ``ratchet``'s entry point (``cli.main``)
calls :func:`capture` at start: it removes the inherited variables that would redirect git or
inject git configuration (``GIT_DIR``, ``GIT_CONFIG_*`` ...), then freezes a copy of what is
left into an :class:`Environment`, which the command hands down. Code that needs a variable and
was not handed the snapshot asks :func:`current`, which returns the same snapshot while a
command runs (and a fresh one when Ratchet is used as a library, outside any command).

The variables Ratchet reads are listed in the README; :class:`Environment` names the common
ones as properties so no module spells ``"MEM0_API_KEY"`` twice.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ratchet.core.minimax_protocol import DEFAULT_BASE_URL

DEFAULT_MEM0_HOST = "https://api.mem0.ai"


@dataclass(frozen=True, eq=False)
class Environment(Mapping[str, str]):
    """A read-only snapshot of the environment; a ``Mapping`` so it passes wherever an
    ``environ`` is expected (a test process's environment is built from it)."""

    vars: Mapping[str, str]

    @classmethod
    def of(cls, source: Mapping[str, str]) -> Environment:
        return cls(MappingProxyType(dict(source)))

    def __getitem__(self, name: str) -> str:
        return self.vars[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.vars)

    def __len__(self) -> int:
        return len(self.vars)

    def value(self, name: str) -> str | None:
        """The variable's value without surrounding blanks; None when unset or blank."""
        v = self.vars.get(name, "").strip()
        return v or None

    @property
    def in_actions(self) -> bool:
        return self.vars.get("GITHUB_ACTIONS") == "true"

    @property
    def minimax_api_key(self) -> str | None:
        return self.value("MINIMAX_API_KEY")

    @property
    def minimax_base_url(self) -> str:
        return (self.value("MINIMAX_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")

    @property
    def model(self) -> str | None:
        return self.value("RATCHET_MODEL")

    @property
    def mem0_api_key(self) -> str | None:
        return self.value("MEM0_API_KEY")

    @property
    def mem0_host(self) -> str:
        return (self.value("MEM0_HOST") or DEFAULT_MEM0_HOST).rstrip("/")


_captured: Environment | None = None


def capture() -> Environment:
    """Scrub git's redirecting variables from the process environment (so no git that
    Ratchet or a library starts inherits them), then freeze what is left as the snapshot that
    :func:`current` returns until :func:`release`."""
    global _captured
    from ratchet.workspace.gitcmd import scrub_environ

    scrub_environ(os.environ)
    _captured = Environment.of(os.environ)
    return _captured


def release() -> None:
    """Forget the snapshot (the command is over)."""
    global _captured
    _captured = None


def current() -> Environment:
    """The snapshot taken by :func:`capture`; outside a command, a fresh one."""
    return _captured if _captured is not None else Environment.of(os.environ)


def default_for_library(name: str, value: str) -> str:
    """Set ``name`` for a library that reads it from the process environment itself (the
    Mem0 SDK reads ``MEM0_DIR`` and ``MEM0_TELEMETRY`` when imported), unless the user set
    it; returns the value in force."""
    global _captured
    if not os.environ.get(name):
        os.environ[name] = value
        if _captured is not None:
            _captured = Environment.of({**_captured.vars, name: value})
    return os.environ[name]
