"""Git operations for one iteration, through GitPython (plumbing through ``gitcmd.git``), both
under the one hardening policy of ``gitcmd``.

The user's checkout is never touched: Ratchet works in its own worktree under the repository's
git directory (``.git/ratchet/worktrees/<task>``) on branch ``ratchet/<task>``. Every git command
runs with hooks and fsmonitor disabled (a test run must not be able to plant code that git runs).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ratchet.core import keys
from ratchet.errors import GitError
from ratchet.workspace import gitcmd

if TYPE_CHECKING:  # GitPython is imported lazily: it costs ~0.1 s at start-up
    import git

SAFE_GIT_ENV = gitcmd.gitpython_env()


def _safe(repo: git.Repo) -> git.Repo:
    repo.git.update_environment(**SAFE_GIT_ENV)
    return repo


def open_repo(path: Path) -> git.Repo:
    """Open the git repository at ``path`` (or a parent). Raises GitError with a fix."""
    import git

    if not path.exists():
        raise GitError(f"{path} does not exist", "pass --repo with the path of a git checkout")
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise GitError(
            f"{path} is not a git repository",
            "run `git init && git add -A && git commit -m init` there, or pass --repo PATH",
        ) from exc
    if repo.bare:
        raise GitError(f"{path} is a bare repository", "point --repo at a checkout with files")
    return _safe(repo)


def state_dir(repo: git.Repo) -> Path:
    """Ratchet's private state directory inside the git directory (survives restarts)."""
    d = Path(repo.common_dir) / "ratchet"
    d.mkdir(parents=True, exist_ok=True)
    return d


def branch_exists(repo: git.Repo, name: str) -> bool:
    return _rev(repo, f"refs/heads/{name}") is not None


def _rev(repo: git.Repo, ref: str) -> str | None:
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}").strip() or None
    except Exception:
        return None


def resolve_base_branch(repo: git.Repo, configured: str | None) -> str:
    """The base branch: configured, else the checkout's branch, else main/master."""
    if configured:
        if not branch_exists(repo, configured) and _rev(repo, f"origin/{configured}") is None:
            raise GitError(
                f"base branch {configured!r} does not exist in {repo.working_dir}",
                "create it, or set base_branch in .github/ratchet.yml / --base-branch",
            )
        return configured
    candidates: list[str] = []
    try:
        if not repo.head.is_detached:
            candidates.append(repo.active_branch.name)
    except (TypeError, ValueError):
        pass
    candidates += ["main", "master"]
    for name in candidates:
        if name.startswith(keys.PREFIX):  # Ratchet's own branches (tasks, ledger) are no base
            continue
        if branch_exists(repo, name):
            return name
    raise GitError(
        f"no base branch found in {repo.working_dir} (the repository has no commits?)",
        "commit your code first (`git add -A && git commit -m init`) or pass --base-branch",
    )


def base_ref(repo: git.Repo, branch: str, prefer_remote: bool = False) -> str:
    """The commit of the base branch: the local branch, or ``origin/<branch>`` (first when
    ``prefer_remote``, as in CI where origin was just fetched)."""
    local, remote = _rev(repo, f"refs/heads/{branch}"), _rev(repo, f"refs/remotes/origin/{branch}")
    sha = (remote or local) if prefer_remote else (local or remote)
    if sha is None:
        raise GitError(f"base branch {branch!r} has no commits", "commit something first")
    return sha


def show_file(repo: git.Repo, commit: str, path: str) -> str | None:
    """The text of ``path`` at ``commit``, or None if it is not there."""
    try:
        return repo.git.show(f"{commit}:{path}", strip_newline_in_stdout=False)
    except Exception:
        return None


def ensure_branch(repo: git.Repo, branch: str, base_sha: str) -> str:
    """Create ``branch`` at ``base_sha`` unless it exists; return its tip."""
    import git as gitmod

    tip = _rev(repo, f"refs/heads/{branch}")
    if tip is None:
        try:
            repo.git.branch(branch, base_sha)
        except gitmod.GitCommandError as exc:
            raise GitError(
                f"could not create branch {branch}: {exc.stderr.strip()}",
                "a branch named `ratchet` (or another ref in the way) blocks ratchet/<task>: "
                "rename it, e.g. `git branch -m ratchet ratchet-old`",
            ) from exc
        tip = base_sha
    return tip


def worktree(repo: git.Repo, branch: str, key: str) -> Path:
    """A clean worktree of ``branch`` owned by Ratchet, created or reset to the branch tip.
    A worktree that no longer works (the repository was moved or mounted elsewhere, or the
    directory was damaged) is thrown away and created again: it only ever holds committed
    state, so nothing is lost."""
    import git as gitmod

    path = state_dir(repo) / "worktrees" / key
    try:
        if (path / ".git").exists():
            try:
                wt = _safe(gitmod.Repo(path))
                wt.git.checkout("--force", branch)
                wt.git.reset("--hard", f"refs/heads/{branch}")
                wt.git.clean("-fdx", "--quiet")
                return path
            except (
                gitmod.InvalidGitRepositoryError,
                gitmod.NoSuchPathError,
                gitmod.GitCommandError,
            ):
                pass  # recreate it below
        if path.exists():
            shutil.rmtree(path)
        repo.git.worktree("prune")
        path.parent.mkdir(parents=True, exist_ok=True)
        repo.git.worktree("add", "--force", str(path), branch)
    except gitmod.GitCommandError as exc:
        raise GitError(
            f"could not prepare the worktree for {branch}: {exc.stderr.strip()}"
        ) from exc
    return path


def ls_files(path: Path) -> list[str]:
    """The tracked files of the worktree at ``path`` (relative POSIX paths)."""
    out = gitcmd.git(path, "ls-files", "-z").stdout
    return [p for p in out.split("\0") if p]


def user_name(path: Path) -> str:
    """git's ``user.name`` for the repository at ``path`` ("" when unset)."""
    return gitcmd.git(path, "config", "user.name", check=False).stdout.strip()


def export_commit(repo: git.Repo, commit: str, dest: Path) -> Path:
    """Write the tree of ``commit`` into ``dest`` (no .git), using a throw-away index."""
    dest.mkdir(parents=True, exist_ok=True)
    root = Path(repo.working_dir)
    with tempfile.TemporaryDirectory(prefix="ratchet-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        gitcmd.git(root, "read-tree", commit, env=env)
        gitcmd.git(root, "checkout-index", "-a", "-f", f"--prefix={dest}/", env=env)
    return dest


@contextmanager
def task_lock(repo: git.Repo, key: str) -> Iterator[None]:
    """Hold the task's lock for the whole iteration: two runs of one task would share its
    worktree and attempt numbers. Raises GitError at once if another process holds it."""
    import fcntl

    path = state_dir(repo) / "locks" / f"{key}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise GitError(
                f"another ratchet process is working on task {key} in this repository",
                "wait for it to finish (CI: use a concurrency group per task)",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def commit_all(wt_path: Path, message: str, paths: list[str]) -> str:
    """Stage ``paths`` in the worktree and commit them; return the new commit SHA."""
    import git as gitmod

    wt = _safe(gitmod.Repo(wt_path))
    try:
        wt.git.add("--", *paths)
        wt.git.commit("-q", "--no-verify", "-m", message)
    except gitmod.GitCommandError as exc:
        raise GitError(f"git commit failed: {exc.stderr.strip()}") from exc
    return wt.head.commit.hexsha


def commit_message(title: str, rationale: str, attempt: int, before: int, after: int) -> str:
    """The commit message: title, blank line, rationale, then the Ratchet-* trailers."""
    body = rationale.strip()
    parts = [title.strip().splitlines()[0] if title.strip() else "Ratchet change", ""]
    if body:
        parts += [body, ""]
    parts += [f"Ratchet-Attempt: {attempt}", f"Ratchet-Score: {before} -> {after}"]
    return "\n".join(parts) + "\n"
