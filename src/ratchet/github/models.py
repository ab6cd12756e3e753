"""The data GitHubClient returns: frozen dataclasses, never PyGithub objects."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CommentInfo", "IssueInfo", "PullInfo", "RepoInfo", "ReviewInfo"]


@dataclass(frozen=True)
class CommentInfo:
    """An issue/PR conversation comment. Times are GitHub's ISO-8601 UTC strings."""

    id: int
    author: str
    author_id: int
    author_type: str
    body: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class IssueInfo:
    """An issue or pull request seen through the Issues API, with all its comments."""

    number: int
    title: str
    body: str
    author: str
    is_pr: bool
    state: str
    comments: list[CommentInfo] = field(default_factory=list)
    author_id: int = 0
    author_type: str = "User"
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class PullInfo:
    """A pull request. ``url`` is the web (html) URL."""

    number: int
    url: str
    state: str
    merged: bool
    head_ref: str
    head_sha: str
    head_repo_full_name: str
    base_ref: str
    author: str
    body: str
    title: str = ""
    draft: bool = False
    author_id: int = 0
    head_repo_id: int = 0


@dataclass(frozen=True)
class ReviewInfo:
    """A pull request review; ``comments`` are (path, line, body) with line None for file
    comments (or outdated ones without an original line)."""

    id: int
    state: str
    body: str
    author: str
    author_id: int
    comments: list[tuple[str, int | None, str]] = field(default_factory=list)
    author_type: str = "User"
    commit_id: str = ""


@dataclass(frozen=True)
class RepoInfo:
    """The repository the client is bound to."""

    id: int
    full_name: str
    default_branch: str
    private: bool
    fork: bool
