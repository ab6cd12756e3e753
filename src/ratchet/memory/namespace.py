"""The memory namespace of a repository: ``ratchet:<owner>/<repo>``.

One Mem0 entity (``user_id``) per repository, the same whether Ratchet runs in GitHub Actions
(``GITHUB_REPOSITORY``) or locally on a checkout whose ``origin`` points at GitHub (or a GitHub
Enterprise host). A checkout without such a remote gets ``ratchet:local/<directory name>``.

GitHub owner and repository names are case-insensitive, so the namespace is lower-cased: a
local run and an Actions run of the same repository share one memory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

PREFIX = "ratchet:"
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# git@host:owner/repo(.git) — the scp-like syntax git accepts for ssh remotes
_SCP = re.compile(r"^(?:[^@/\s]+@)?(?P<host>[^:/\s]+):(?P<path>[^\s]+)$")


def repo_namespace(repo: Path | None, environ: Mapping[str, str]) -> str:
    """Return ``ratchet:<owner>/<repo>`` for ``repo``.

    Sources, first match wins: ``GITHUB_REPOSITORY`` in ``environ``; the ``origin`` remote of
    the git checkout at ``repo`` (default: the current directory) when it is a hosted URL
    (https, ssh, scp-like ``git@host:o/r.git``, git://); else ``ratchet:local/<dir name>``.
    Never raises: a missing git, a non-repository or an odd URL fall through to the next source.
    """
    slug = _slug_from_github_repository(environ.get("GITHUB_REPOSITORY", ""))
    if slug is None:
        url = origin_url(repo)
        slug = parse_remote_url(url) if url else None
    if slug is not None:
        return PREFIX + slug
    directory = (repo or Path.cwd()).resolve()
    name = _clean(directory.name) or "repository"
    return f"{PREFIX}local/{name}"


def origin_url(repo: Path | None) -> str | None:
    """The configured URL of remote ``origin`` of the checkout at ``repo``, or None."""
    from ratchet.errors import GitError
    from ratchet.workspace.gitcmd import git

    try:
        proc = git(repo or Path.cwd(), "config", "--get", "remote.origin.url", check=False)
    except GitError:
        return None
    url = proc.stdout.strip()
    return url if proc.returncode == 0 and url else None


def parse_remote_url(url: str) -> str | None:
    """``owner/repo`` (lower-cased) from a hosted git remote URL, or None for local paths,
    ``file://`` URLs and anything that does not end in two name segments."""
    url = url.strip()
    if not url:
        return None
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https", "ssh", "git", "git+ssh", "ssh+git"):
            return None
        if not parts.hostname:
            return None
        path = parts.path
    else:
        match = _SCP.match(url)
        # "C:\\x" or "./a:b" are paths, not scp-like remotes
        if match is None or len(match.group("host")) < 2 or "/" in match.group("host"):
            return None
        path = match.group("path")
    segments = [s for s in path.strip("/").split("/") if s]
    if len(segments) < 2:
        return None
    owner, name = segments[-2], segments[-1]
    if name.endswith(".git"):
        name = name[: -len(".git")]
    if not (_NAME.match(owner) and _NAME.match(name)) or name in (".", ".."):
        return None
    return f"{owner}/{name}".lower()


def _slug_from_github_repository(value: str) -> str | None:
    owner, sep, name = value.strip().partition("/")
    if not sep or not _NAME.match(owner) or not _NAME.match(name):
        return None
    return f"{owner}/{name}".lower()


def _clean(name: str) -> str:
    """A directory name made safe for a Mem0 entity id (no whitespace or slashes)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-").lower()
