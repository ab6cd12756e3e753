"""The task branch on ``origin``: fetch it, check who wrote it, push it with a lease.

The token travels in the environment of each git command (``gitcmd.auth_env``), never in argv
or ``.git/config``. Pushes use ``--force-with-lease`` on the tip we started from, so a
concurrent push is detected rather than overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ratchet.errors import GitError
from ratchet.workspace.gitcmd import AUTHOR_EMAIL, git


@dataclass(frozen=True)
class RemoteBranch:
    name: str
    sha: str | None  # None: not on origin
    foreign_authors: tuple[str, ...] = ()  # authors of commits on it that are not Ratchet


def fetch_branch(
    repo: Path, branch: str, env: Mapping[str, str] | None, remote: str = "origin"
) -> str | None:
    """Fetch ``branch`` from ``remote`` into ``refs/remotes/<remote>/<branch>``; its SHA or None."""
    out = git(repo, "ls-remote", "--heads", remote, f"refs/heads/{branch}", env=env)
    line = out.stdout.strip().splitlines()
    if not line:
        return None
    git(
        repo,
        "fetch",
        "--no-tags",
        "--quiet",
        remote,
        f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}",
        env=env,
    )
    return line[0].split()[0]


def inspect(
    repo: Path, branch: str, base_sha: str, env: Mapping[str, str] | None, remote: str = "origin"
) -> RemoteBranch:
    """The remote task branch and whether someone other than Ratchet committed to it."""
    sha = fetch_branch(repo, branch, env, remote)
    if sha is None:
        return RemoteBranch(branch, None)
    out = git(repo, "log", "--format=%ae%x09%an", f"{base_sha}..{sha}", check=False)
    foreign = sorted(
        {
            line.split("\t", 1)[1] if "\t" in line else line
            for line in out.stdout.splitlines()
            if line and line.split("\t", 1)[0] != AUTHOR_EMAIL
        }
    )
    return RemoteBranch(branch, sha, tuple(foreign))


def push_with_lease(
    repo: Path,
    sha: str,
    branch: str,
    expected: str | None,
    env: Mapping[str, str] | None,
    remote: str = "origin",
) -> None:
    """Push ``sha`` to ``branch`` only if the remote branch is still at ``expected``
    (None: must not exist). Raises GitError saying a concurrent push happened."""
    lease = f"--force-with-lease=refs/heads/{branch}:{expected or ''}"
    proc = git(
        repo,
        "push",
        "--porcelain",
        lease,
        remote,
        f"{sha}:refs/heads/{branch}",
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        stale = "stale info" in proc.stderr or "rejected" in proc.stdout + proc.stderr
        raise GitError(
            f"could not push {branch}: "
            + ("someone else pushed to it meanwhile" if stale else proc.stderr.strip()[-300:]),
            "nothing was overwritten; the next run starts from the new tip"
            if stale
            else "check that the token may push (contents: write)",
        )


def delete_with_lease(
    repo: Path, branch: str, expected: str, env: Mapping[str, str] | None, remote: str = "origin"
) -> bool:
    """Delete the remote branch if it is still at ``expected``; True if deleted."""
    proc = git(
        repo,
        "push",
        "--porcelain",
        f"--force-with-lease=refs/heads/{branch}:{expected}",
        remote,
        f":refs/heads/{branch}",
        env=env,
        check=False,
    )
    return proc.returncode == 0
