"""Ratchet's one git hardening policy: list-args, no prompts, no hooks, no secrets in argv.

Git runs two ways, under the same policy: plumbing and remote commands through :func:`git`
here (argv ``-c`` options), repository operations through GitPython (``workspace/git.py``),
whose environment :func:`gitpython_env` builds from the same settings. The policy

- disables hooks (``core.hooksPath=/dev/null``) and fsmonitor (``core.fsmonitor=false``):
  a repository (or a patch the model wrote) can plant either, and both would run on our next
  git command;
- refuses the ``file`` transport (``protocol.file.allow=never``) except for the commands that
  talk to a configured remote (fetch, push, ls-remote, pull), where it is ``user``: a local bare
  repository as ``origin`` works (tests, users), while transports started *by git itself*
  (submodules, whose URLs come from repository content) stay refused; ``ext::`` is always refused;
- never prompts (``GIT_TERMINAL_PROMPT=0``), speaks C locale (stable messages to parse), and
  commits as a fixed identity unless the caller passes another;
- drops inherited variables that would redirect git to another repository or inject configuration
  (``GIT_DIR``, ``GIT_INDEX_FILE``, ``GIT_CONFIG_PARAMETERS``, ``GIT_CONFIG_COUNT`` …); the
  CLI removes them from its own environment at start (:func:`scrub_environ`), so GitPython's
  children do not inherit them either.

Credentials travel in the environment only (:func:`auth_env`), never in argv nor ``.git/config``.
"""

from __future__ import annotations

import base64
import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from ratchet.environment import current
from ratchet.errors import GitCommandError
from ratchet.redact import Redactor, secret_values

__all__ = [
    "AUTHOR_EMAIL",
    "AUTHOR_NAME",
    "GitCommandError",
    "auth_env",
    "base_env",
    "git",
    "git_argv",
]

AUTHOR_NAME = "Ratchet"
AUTHOR_EMAIL = "ratchet@users.noreply.github.com"

#: the settings every git command carries: hooks and fsmonitor would run code a repository (or a
#: patch) planted; a signing program could be anything; ``ext::`` runs commands
HARDENING: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("protocol.ext.allow", "never"),
)
#: subcommands that talk to a remote the user configured; the only ones allowed the file transport
_REMOTE_COMMANDS = frozenset({"fetch", "push", "ls-remote", "pull"})
_STDERR_TAIL = 2000

#: inherited variables that would point git at another repository or add configuration
_DROP_EXACT = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
        "GIT_QUARANTINE_PATH",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
        "GIT_EXTERNAL_DIFF",
        "GIT_EXEC_PATH",
        "GIT_PROTOCOL_FROM_USER",
        "GIT_ALLOW_PROTOCOL",
    }
)
_DROP_PREFIXES = ("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_")


def auth_env(token: str, server_url: str = "https://github.com") -> dict[str, str]:
    """Environment variables that make git send ``token`` to ``server_url`` as HTTP basic auth
    (``x-access-token:TOKEN``, the form GitHub accepts for installation and Actions tokens).

    Uses ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_0``/``GIT_CONFIG_VALUE_0`` (git >= 2.31) to set
    ``http.<server_url>/.extraheader``, so the token is neither in argv (visible in ``ps``) nor
    written to ``.git/config``. Returns a new dict; raises ValueError on an empty token or a
    token/URL containing a line break.
    """
    if not token:
        raise ValueError("auth_env: empty token")
    if any(c in token + server_url for c in "\r\n\0"):
        raise ValueError("auth_env: token or server URL contains a line break")
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.{server_url.rstrip('/')}/.extraheader",
        "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {basic}",
    }


def base_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment :func:`git` runs with: the process's environment minus
    repository-redirecting and config-injecting ``GIT_*`` variables, plus prompt, locale and
    identity settings, plus ``env`` (which wins, so callers may pass another identity or an
    auth header)."""
    out = {
        k: v
        for k, v in current().items()
        if k not in _DROP_EXACT and not k.startswith(_DROP_PREFIXES)
    }
    out.update(_FIXED_ENV)
    if env:
        out.update(env)
    return out


_FIXED_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GCM_INTERACTIVE": "never",
    "LC_ALL": "C",
    "LANGUAGE": "C",
    "GIT_AUTHOR_NAME": AUTHOR_NAME,
    "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
    "GIT_COMMITTER_NAME": AUTHOR_NAME,
    "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
}


def gitpython_env() -> dict[str, str]:
    """The variables GitPython's commands run with: the same settings as :func:`git_argv`
    (through ``GIT_CONFIG_COUNT``, which also overrides any inherited ``GIT_CONFIG_KEY_n``), the
    file transport refused (GitPython does no remote work), and the fixed prompt, locale and
    identity settings of :func:`base_env`."""
    pairs = [*HARDENING, ("protocol.file.allow", "never")]
    out = {"GIT_CONFIG_COUNT": str(len(pairs)), "GIT_CONFIG_PARAMETERS": ""}
    for i, (key, value) in enumerate(pairs):
        out[f"GIT_CONFIG_KEY_{i}"] = key
        out[f"GIT_CONFIG_VALUE_{i}"] = value
    out.update(_FIXED_ENV)
    return out


def scrub_environ(environ: dict[str, str] | os._Environ[str]) -> list[str]:
    """Remove the inherited variables that would redirect git or inject configuration from
    ``environ`` (:func:`ratchet.environment.capture` passes the process's, once, at start);
    returns the names removed."""
    gone = [k for k in environ if k in _DROP_EXACT or k.startswith(_DROP_PREFIXES)]
    for k in gone:
        del environ[k]
    return gone


def git_argv(*args: str) -> list[str]:
    """The full argv for ``git <args>`` with the hardening ``-c`` options in front.
    ``args[0]`` must be the subcommand (it decides whether the file transport is allowed)."""
    file_allow = "user" if args and args[0] in _REMOTE_COMMANDS else "never"
    options = [f"{k}={v}" for k, v in HARDENING] + [f"protocol.file.allow={file_allow}"]
    return ["git", *(part for opt in options for part in ("-c", opt)), *args]


def git(
    repo: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    input: bytes | str | None = None,
    check: bool = True,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``git <args>`` in ``repo`` and return the completed process (stdout/stderr decoded as
    UTF-8, undecodable bytes replaced). ``args[0]`` is the subcommand; pass paths after ``--``.

    Raises :class:`GitCommandError` (a ``GitError``) when git exits non-zero and ``check`` is true,
    when it runs longer than ``timeout`` seconds, or when git is not installed. The message names
    the arguments (never the environment), the exit code and the tail of stderr, redacted.
    """
    argv = git_argv(*args)
    full_env = base_env(env)
    data = input.encode("utf-8") if isinstance(input, str) else input
    try:
        proc = subprocess.run(
            argv,
            cwd=repo,
            env=full_env,
            input=data,
            stdin=None if data is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise _error(args, -1, _decode(exc.stderr), env, f"timed out after {timeout:g}s") from None
    except FileNotFoundError as exc:
        if not Path(repo).is_dir():
            raise _error(args, -1, "", env, f"directory {repo} does not exist") from exc
        raise _error(args, -1, "", env, "git is not installed", hint="Install git.") from exc
    result = subprocess.CompletedProcess(
        argv, proc.returncode, _decode(proc.stdout), _decode(proc.stderr)
    )
    if check and proc.returncode != 0:
        raise _error(args, proc.returncode, result.stderr, env)
    return result


def _decode(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, str):
        return data
    return data.decode("utf-8", errors="replace")


def _error(
    args: Sequence[str],
    returncode: int,
    stderr: str,
    env: Mapping[str, str] | None,
    what: str = "",
    hint: str = "",
) -> GitCommandError:
    secrets = list(secret_values())
    for key, value in (env or {}).items():
        if key.startswith("GIT_CONFIG_VALUE_"):
            secrets.append(value)
            secrets.extend(value.split())  # the base64 credential alone
    redact = Redactor(secrets)
    tail = redact(stderr.strip()[-_STDERR_TAIL:])
    command = redact(" ".join(shlex.quote(a) for a in ("git", *args)))
    message = f"{command} failed ({what or f'exit {returncode}'})"
    if tail:
        message += f": {tail}"
    return GitCommandError(
        message, command=tuple(args), returncode=returncode, stderr=tail, hint=hint
    )
