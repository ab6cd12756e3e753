"""Shared fixtures: a scrubbed environment, real git repositories, and running `ratchet`."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pytest

# Nothing in the tests may reach the internet or write to the real home directory.
_SCRUB_PREFIXES = ("GITHUB_", "ACTIONS_", "RUNNER_", "MINIMAX_", "MEM0_", "RATCHET_")
for _name in list(os.environ):
    if _name.startswith(_SCRUB_PREFIXES) or _name.endswith(("_API_KEY", "_TOKEN")):
        del os.environ[_name]
os.environ["MEM0_TELEMETRY"] = "false"

VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """pytest's ``tmp_path``, enterable (not listable) by other accounts when the suite runs as
    root: Ratchet then runs the tests it evaluates as ``nobody``, who must reach the trees and
    tools the tests build here, as it reaches Ratchet's own test trees (mode 0711) in real use.
    pytest makes each of these directories 0700."""
    if os.geteuid() == 0:
        system = Path(tempfile.gettempdir()).resolve()
        for d in [tmp_path, *tmp_path.parents]:
            if d == system or d == d.parent:
                break
            d.chmod(d.stat().st_mode | 0o011)
    return tmp_path


@pytest.fixture(autouse=True)
def _mem0_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEM0_DIR", str(tmp_path_factory.getbasetemp() / "mem0-home"))


GIT_ID = {
    "GIT_AUTHOR_NAME": "Test User",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test User",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ID}, check=True,
        capture_output=True, text=True,
    )
    return out.stdout.strip()


def plain_git(cwd: Path, *args: str, check: bool = True) -> str:
    """Unhardened git, as a user would run it (fixtures and controls); unstripped stdout."""
    return subprocess.run(
        ["git", "-c", "protocol.file.allow=always", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ID},
        check=check,
        capture_output=True,
        text=True,
    ).stdout


def make_repo(path: Path, files: Mapping[str, str], branch: str = "main") -> Path:
    """A real git repository at ``path`` with ``files`` committed on ``branch``."""
    path.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        f = path / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    git(path, "init", "-q", "-b", branch)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


def ratchet_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment a user's shell would give `ratchet`: PATH and HOME, nothing secret."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "MEM0_TELEMETRY": "false",
        "MEM0_DIR": str(home / ".mem0"),
        "COLUMNS": "120",
    }
    env.update(extra)
    rung = best_rung()
    if rung != "bwrap" and "RATCHET_SANDBOX" not in env:
        # the tests carry fake credentials; where only a weaker rung exists here, they name it,
        # accepting the risk, exactly as a user must (Ratchet refuses it otherwise)
        env["RATCHET_SANDBOX"] = rung
    return env


@functools.cache
def best_rung() -> str:
    """The sandbox rung `auto` picks on this machine."""
    from ratchet.evaluate.sandbox import choose_sandbox

    return choose_sandbox(environ={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}).name


def ratchet_exe() -> list[str]:
    exe = VENV_BIN / "ratchet"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ratchet"]


def run_ratchet(
    args: list[str], env: Mapping[str, str], cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ratchet_exe(), *args], env=dict(env), cwd=cwd, capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL,
    )


_USABLE: dict[str, bool] = {}

#: why a rung is missing, for skip reasons
WHY_MISSING = {
    "bwrap": "bubblewrap is not installed or cannot start here (no user namespaces, e.g. an "
    "unprivileged container)",
    "unshare": "unshare needs root and namespaces this machine does not allow",
}


def sandbox_usable(name: str) -> bool:
    """True if the sandbox rung ``name`` really starts on this machine (probed once)."""
    if name not in _USABLE:
        from ratchet.errors import ConfigError
        from ratchet.evaluate.sandbox import choose_sandbox

        try:
            _USABLE[name] = choose_sandbox(name, environ={}).name == name
        except ConfigError:
            _USABLE[name] = False
    return _USABLE[name]


def interpreter_hidden_without_mounts() -> bool:
    """True where Ratchet is root and the tests' account (nobody) cannot reach this interpreter
    without a mount namespace to bring it back (pyenv under /root, mode 0700)."""
    from ratchet.evaluate.identity import choose_user

    user = choose_user("auto", {})
    return user is not None and user.blocked(os.path.realpath(sys.executable)) is not None


#: for the none rung where :func:`interpreter_hidden_without_mounts`: the tests run as root,
#: as a user with such a machine must accept (or install Python where every account reads it)
NONE_RUNG_ENV = {"RATCHET_TEST_USER": "root"} if interpreter_hidden_without_mounts() else {}


def rung_box(name: str, environ: Mapping[str, str] | None = None):  # noqa: ANN201
    """``choose_sandbox(name)``, the none rung with :data:`NONE_RUNG_ENV`."""
    from ratchet.evaluate.sandbox import choose_sandbox

    env = {} if environ is None else dict(environ)
    return choose_sandbox(name, environ={**env, **NONE_RUNG_ENV} if name == "none" else env)


def needs_sandbox(name: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not sandbox_usable(name), reason=WHY_MISSING[name])


def isolating_sandbox() -> bool:
    """True if the sandbox Ratchet picks by itself hides the parent's environment."""
    return sandbox_usable("bwrap") or sandbox_usable("unshare")
