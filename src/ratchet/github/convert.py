"""PyGithub objects → Ratchet's plain values (``github/models.py``), and the length limits
GitHub puts on titles, bodies and comments (cut with a marker, never mid-character)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ratchet.github.models import CommentInfo, PullInfo
from ratchet.sanitize import clip

if TYPE_CHECKING:
    from github.IssueComment import IssueComment
    from github.NamedUser import NamedUser
    from github.Organization import Organization
    from github.PullRequest import PullRequest

TITLE_LIMIT = 256
_MARKER_RE = re.compile(r"<!-- ratchet:[^<>]*?-->")


def user_of(user: NamedUser | Organization | None) -> tuple[str, int, str]:
    """(login, id, type) of a PyGithub user; a deleted account is GitHub's "ghost"."""
    if user is None:
        return ("ghost", 0, "User")
    return (user.login, int(user.id), user.type or "User")


def iso(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def comment_info(c: IssueComment) -> CommentInfo:
    login, uid, kind = user_of(c.user)
    return CommentInfo(
        id=c.id,
        author=login,
        author_id=uid,
        author_type=kind,
        body=c.body or "",
        created_at=iso(c.created_at),
        updated_at=iso(c.updated_at),
    )


def pull_info(p: PullRequest) -> PullInfo:
    head_repo = p.head.repo
    login, uid, _ = user_of(p.user)
    state = p.state
    # merged iff merged_at is set; reading it avoids an extra GET for listed (simple) PRs
    merged = state == "closed" and p.merged_at is not None
    return PullInfo(
        number=p.number,
        url=p.html_url,
        state=state,
        merged=merged,
        head_ref=p.head.ref,
        head_sha=p.head.sha,
        head_repo_full_name=head_repo.full_name if head_repo is not None else "",
        base_ref=p.base.ref,
        author=login,
        body=p.body or "",
        title=p.title or "",
        draft=bool(p.draft),
        author_id=uid,
        head_repo_id=head_repo.id if head_repo is not None else 0,
    )


# ----------------------------------------------------------------------------- text shaping


TRUNCATED = "\n\n… (truncated by Ratchet)"


def with_marker(text: str, marker: str, limit: int) -> str:
    """``text`` carrying ``marker``, at most ``limit`` characters (the marker always kept)."""
    if marker not in text:
        text = f"{marker}\n{text}"
    if len(text) <= limit:
        return text
    rest = text.replace(marker, "")
    room = max(limit - len(marker) - 1 - len(TRUNCATED), 0)
    return f"{marker}\n{rest[:room]}{TRUNCATED}"


def cap_body(text: str, limit: int) -> str:
    """``text`` capped at ``limit`` characters, keeping every ``<!-- ratchet:... -->`` marker."""
    if len(text) <= limit:
        return text
    markers = "\n".join(dict.fromkeys(_MARKER_RE.findall(text)))
    rest = _MARKER_RE.sub("", text)
    room = max(limit - len(markers) - 1 - len(TRUNCATED), 0)
    capped = rest[:room] + TRUNCATED
    return f"{capped}\n{markers}" if markers else capped


def cap_title(text: str) -> str:
    # rstrip=False: a space before the ellipsis stays, as pull request titles always had it
    # (clipping it now would retitle the existing pull requests of long-titled tasks)
    return clip(" ".join(text.split()), TITLE_LIMIT, rstrip=False)
