"""`ratchet doctor`: check the configuration, keys and reachability, and say what to fix."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from ratchet import __version__
from ratchet.environment import Environment
from ratchet.errors import RatchetError
from ratchet.redact import redactor_from_env

if TYPE_CHECKING:  # GitPython and the settings are imported only when the checks run
    import git

    from ratchet.config import Settings

Check = Callable[[], str]


@dataclass
class _State:
    """What the checks found so far, for the checks that need it."""

    repo: git.Repo | None = None
    settings: Settings | None = None


class Doctor:
    def __init__(self, env: Environment) -> None:
        self.env = env
        self.console = Console(highlight=False)
        self.redact = redactor_from_env(env)
        self.failed = 0

    def check(self, name: str, fn: Check) -> bool:
        try:
            detail = fn()
        except RatchetError as exc:
            self.failed += 1
            self.console.print(f"[red]✗[/] {name}: {escape(self.redact(str(exc)))}")
            if exc.hint:
                self.console.print(f"    [dim]fix:[/] {escape(self.redact(exc.hint))}")
            return False
        except Exception as exc:  # report, never crash the doctor
            self.failed += 1
            self.console.print(
                f"[red]✗[/] {name}: {escape(self.redact(f'{type(exc).__name__}: {exc}'))}"
            )
            return False
        self.console.print(f"[green]✓[/] {name}: {escape(self.redact(detail))}")
        return True

    def note(self, name: str, detail: str) -> None:
        self.console.print(f"[yellow]•[/] {name}: {escape(self.redact(detail))}")


def _sandbox_check(env: Environment, configured: str = "auto", test_user: str = "auto") -> str:
    """The rung, what a test could reach from it, and whether a run would refuse it."""
    from ratchet.errors import ConfigError
    from ratchet.evaluate.exposure import refuse_exposure
    from ratchet.evaluate.sandbox import choose_sandbox

    sb = choose_sandbox(configured, environ=env, test_user=test_user)
    if not sb.warning:
        return f"{sb.name}: {sb.description}"
    try:
        refuse_exposure(sb, env, configured)
    except ConfigError as exc:  # a run here would refuse to test: say so, and how to fix it
        raise ConfigError(f"{sb.name}: {sb.warning} {exc}", exc.hint) from exc
    return f"{sb.name} — {sb.warning}"


def _user_line(env: Environment, configured: str, test_user: str) -> str:
    """The account the tests run as, and why."""
    import pwd

    from ratchet.evaluate.sandbox import choose_sandbox

    try:
        sb = choose_sandbox(configured, environ=env, test_user=test_user)
    except RatchetError as exc:
        return f"unknown ({exc})"
    if sb.user is not None:
        return sb.user.describe()
    me = pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        return "root (test_user: root): the tests run as root, the risk accepted"
    return f"{me}, Ratchet's own account (not root: it has no privileges to drop)"


def _tests_as_root(test_user: str) -> bool:
    from ratchet.environment import current
    from ratchet.evaluate.identity import choose_user

    try:
        return choose_user(test_user, current()) is None
    except RatchetError:
        return True


def _limits_line(settings: object) -> str:
    """What one test run may use (``test_limits``), and the host sockets bubblewrap hides."""
    from ratchet.config import TestLimitsConfig
    from ratchet.evaluate.sandbox import host_sockets

    cfg = getattr(getattr(settings, "config", None), "test_limits", None) or TestLimitsConfig()

    def mb(n: int) -> str:
        return f"{n} MiB" if n else "unlimited"

    procs = str(cfg.processes) if cfg.processes else "unlimited"
    test_user = getattr(getattr(settings, "config", None), "test_user", "auto")
    as_root = os.geteuid() == 0 and _tests_as_root(test_user)
    root = " (not applied: the tests run as root)" if as_root and cfg.processes else ""
    return (f"processes {procs}{root}, memory {mb(cfg.memory_mb)} per process, one file "
            f"{mb(cfg.file_mb)}, private /tmp "
            f"{mb(cfg.tmp_mb)}, no core dumps; {len(host_sockets())} host socket(s) under /run "
            "hidden from the tests under bubblewrap")


def cmd_doctor(args: argparse.Namespace, env: Environment) -> int:
    from ratchet.session import RunOptions, build_settings
    from ratchet.workspace import git as gitops

    d = Doctor(env)
    d.console.print(f"ratchet {__version__}, Python {sys.version.split()[0]}")
    d.check("git", lambda: shutil.which("git") or _raise("git is not installed", "install git"))
    state = _State()

    def repo_check() -> str:
        repo = gitops.open_repo(args.repo.resolve())
        state.repo = repo
        return str(repo.working_dir)

    if d.check("repository", repo_check):
        repo = state.repo
        assert repo is not None  # repo_check passed

        def config_check() -> str:
            s = build_settings(RunOptions(repo=args.repo), repo, env, need_task=False)
            state.settings = s
            return (
                f"base branch {s.base_branch}; task: {_short(s.task_text) or '(none: pass --task)'}"
            )

        if d.check("config", config_check):
            s = state.settings
            assert s is not None  # config_check passed
            d.check(
                "test command",
                lambda: (
                    f"{s.test_command} ({s.test_command_source})"
                    if s.test_command
                    else _raise(
                        "no test command configured or detected",
                        "set test_command in .github/ratchet.yml",
                    )
                ),
            )
            from ratchet.memory.factory import choose_backend

            d.note("memory backend", choose_backend(s.config.memory, env))

    config = state.settings.config if state.settings is not None else None
    configured = config.sandbox if config is not None else "auto"
    user = config.test_user if config is not None else "auto"
    d.check("test sandbox", lambda: _sandbox_check(env, configured, user))
    d.note("tests run as", _user_line(env, configured, user))
    d.note("test limits", _limits_line(state.settings))
    if state.settings is not None and state.settings.test_command:
        assert state.repo is not None  # the settings are built from the repository
        _explain_evaluation(d, state.repo, state.settings)
    _check_minimax(d, state.settings)
    _check_mem0(d, state)
    if d.failed:
        d.console.print(f"\n{d.failed} problem(s) found.")
        return 1
    d.console.print("\nAll checks passed.")
    return 0


def _explain_evaluation(d: Doctor, repo: git.Repo, s: Settings) -> None:
    """The runner, whether results are per test, the prepared directories, where tests run."""
    from pathlib import Path

    from ratchet.evaluate import explain
    from ratchet.evaluate.sandbox import choose_sandbox
    from ratchet.evaluate.world import discover

    root = Path(repo.working_dir)
    world = discover(root, prepared_paths=s.config.prepared_paths, environ=d.env)
    try:
        sandbox = choose_sandbox(environ=d.env, test_user=s.config.test_user)
    except RatchetError:
        return
    lines = explain.lines(s.test_command, root, sandbox, world, s.config.junit_path)
    for name, detail in lines:
        d.note(name, detail)
    if world.skipped:
        d.note("not shared with the tests", ", ".join(world.skipped))


def _short(text: str, limit: int = 60) -> str:
    # not sanitize.clip: keeps ``limit`` characters and puts the ellipsis after them (61 in
    # all), which clip (never longer than its limit) cannot say; kept as doctor prints it
    return text if len(text) <= limit else text[:limit] + "…"


def _raise(message: str, hint: str) -> str:
    raise RatchetError(message, hint)


def _check_minimax(d: Doctor, settings: object) -> None:
    from ratchet.config import DEFAULT_MODEL

    env = d.env
    key = env.minimax_api_key
    if not key:
        d.note(
            "MiniMax",
            "MINIMAX_API_KEY is not set — `ratchet run` needs it; `ratchet demo` "
            "runs offline without it",
        )
        return
    base = env.minimax_base_url
    model = getattr(settings, "model", None) or env.model or DEFAULT_MODEL

    def ping() -> str:
        from ratchet.model.minimax import MiniMaxClient

        client = MiniMaxClient(
            key, base_url=base, model=model, max_attempts=1, deadline=60.0, max_tokens=256
        )
        client.complete([{"role": "user", "content": "Reply with the word OK."}])
        return f"{base} answered as {model}"

    d.check("MiniMax", ping)


def _check_mem0(d: Doctor, state: _State) -> None:
    key = d.env.mem0_api_key
    if not key:
        return
    host = d.env.mem0_host

    def ping() -> str:
        from ratchet.memory.mem0_store import Mem0Store
        from ratchet.memory.namespace import repo_namespace
        from ratchet.workspace import git as gitops

        repo = state.repo
        root = getattr(repo, "working_dir", None)
        sd = gitops.state_dir(repo) if repo is not None else None
        import tempfile
        from pathlib import Path

        store = Mem0Store(
            key,
            host=host,
            user_id=repo_namespace(Path(root) if root else None, d.env),
            state_dir=sd or Path(tempfile.mkdtemp()),
            max_attempts=1,
        )
        return store.ping()

    d.check("Mem0", ping)
