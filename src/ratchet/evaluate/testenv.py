"""The environment a test run gets, and the credential files it must not see.

:func:`safe_env` builds the child environment from an ALLOWLIST (``PATH``, locale,
``TZ``, toolchain locations, ...) and then forces ``HOME``/``TMPDIR`` to private directories,
``TERM=dumb``, ``PYTHONHASHSEED=0``, ``PYTHONDONTWRITEBYTECODE=1`` and ``CI=true``. A name that
looks like a credential (``*_KEY``, ``*_TOKEN``, ``*SECRET*``, ``*PASSWORD*``, ``GITHUB_*``,
``ACTIONS_*``, ``RUNNER_*``, ``MEM0_*``, ``MINIMAX_*`` ...) is never passed, even if allowlisted
or given in ``extra``; neither is a value that looks like a token.
Credential files and directories (``~/.ssh``, ``~/.aws``, the Docker socket, the Actions
file-command files ...) are listed here for the sandboxes that can hide them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping

from ratchet.core.secrets import is_withheld_name, looks_secret_value

#: names copied from the parent environment when present (and not secret-looking)
ALLOWED_NAMES: frozenset[str] = frozenset(
    {
        "PATH",
        "LANG",
        "LANGUAGE",
        "LC_ALL",
        "LC_CTYPE",
        "LC_MESSAGES",
        "TZ",
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONIOENCODING",
        "PYTHONUTF8",
        "JAVA_HOME",
        "GOROOT",
        "GOPATH",
        "GOFLAGS",
        "GOMODCACHE",
        "GOTOOLCHAIN",
        "RUSTFLAGS",
        "MAVEN_OPTS",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "NODE_PATH",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "SOURCE_DATE_EPOCH",
    }
)

#: always set, whatever the parent had
FORCED: Mapping[str, str] = {
    "TERM": "dumb",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "CI": "true",
    "NO_COLOR": "1",
}


#: relative to the real home directory; hidden inside bwrap when they exist
HOME_CREDENTIALS: tuple[str, ...] = (
    ".git-credentials",
    ".netrc",
    ".docker",
    ".config/gh",
    ".config/hub",
    ".config/git/credentials",
    ".config/gcloud",
    ".mem0",
    ".ssh",
    ".aws",
    ".azure",
    ".kube",
    ".gnupg",
    ".npmrc",
    ".pypirc",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".m2/settings.xml",
    ".m2/settings-security.xml",
    ".gradle/gradle.properties",
    ".terraformrc",
    ".terraform.d/credentials.tfrc.json",
    ".config/ratchet",
)
#: absolute paths hidden inside bwrap when they exist
SYSTEM_CREDENTIALS: tuple[str, ...] = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/secrets",
    "/github/file_commands",
)
#: environment variables naming files that must not be reachable: GitHub Actions file commands
#: (writing them changes later workflow steps), the event payload, the ssh-agent socket
PATH_VARS_TO_HIDE: tuple[str, ...] = (
    "GITHUB_ENV",
    "GITHUB_PATH",
    "GITHUB_OUTPUT",
    "GITHUB_STATE",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_EVENT_PATH",
    "SSH_AUTH_SOCK",
)

#: True if the tests must not see an environment variable NAME (see ratchet.core.secrets)
is_secret_name = is_withheld_name


def _clean_path(value: str) -> str:
    """PATH without empty or relative entries (they would resolve inside the tested tree)."""
    parts = [p for p in value.split(os.pathsep) if p and os.path.isabs(p)]
    return os.pathsep.join(dict.fromkeys(parts))


def safe_env(environ: Mapping[str, str], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for the test command.

    Copies only :data:`ALLOWED_NAMES` from ``environ``, then applies ``extra`` (typically
    ``HOME`` and ``TMPDIR`` pointing at private directories, or user-configured variables),
    then :data:`FORCED`. Any name that :func:`is_secret_name` flags, and any value that
    :func:`looks_secret_value` flags, is dropped, also from ``extra``. ``HOME`` is never the
    parent's: without one in ``extra`` a fresh private directory is created for it.
    Returns a new dict; raises nothing.
    """
    env: dict[str, str] = {}
    for name in ALLOWED_NAMES:
        value = environ.get(name)
        if value is None or is_secret_name(name) or looks_secret_value(value):
            continue
        env[name] = value
    for name, value in (extra or {}).items():
        if is_secret_name(name) or looks_secret_value(value) or "\0" in value or not name:
            continue
        env[name] = value
    env.update(FORCED)
    if "PATH" in env:
        env["PATH"] = _clean_path(env["PATH"])
    else:
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    if not env.get("HOME") or env["HOME"] == environ.get("HOME"):
        env["HOME"] = tempfile.mkdtemp(prefix="ratchet-home-")
    if not env.get("TMPDIR"):
        env["TMPDIR"] = env["HOME"]
    return env


def credential_paths(environ: Mapping[str, str]) -> list[str]:
    """Existing credential files/directories that the bwrap sandbox hides (absolute, sorted)."""
    homes = {os.path.expanduser("~")}
    if environ.get("HOME"):
        homes.add(environ["HOME"])
    candidates = [os.path.join(h, rel) for h in homes for rel in HOME_CREDENTIALS]
    candidates += list(SYSTEM_CREDENTIALS)
    candidates += [environ[v] for v in PATH_VARS_TO_HIDE if environ.get(v)]
    found = {os.path.realpath(p) for p in candidates if os.path.isabs(p) and os.path.lexists(p)}
    return sorted(p for p in found if os.path.exists(p) and p != "/")
