"""The only place Ratchet talks to GitHub: a small, typed facade over PyGithub.

Everything returned is a frozen dataclass (never a PyGithub object), and every failure leaves as
``GitHubError`` with a message a person can act on (which token permission is missing, which
repository setting to flip). PyGithub is imported inside the constructor so ``ratchet --version``
stays fast.

Retries: PyGithub's ``GithubRetry`` (a urllib3 ``Retry``) retries 5xx, 429 and rate-limit 403s,
honouring ``Retry-After`` and the secondary-rate-limit wait; other 403s fail at once. Writes are
paced by ``seconds_between_writes`` as GitHub asks of integrations.

Outbound text (PR title/body, comments) is passed through a redactor (default: secrets in the
environment plus the token itself) and capped below GitHub's 65,536-character limit, keeping the
hidden ``<!-- ratchet:... -->`` markers that let the next run find its PR and comment again.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ratchet import __version__
from ratchet.errors import ConfigError, RatchetError
from ratchet.redact import Redactor, secret_values

if TYPE_CHECKING:  # pragma: no cover - typing only
    from github.IssueComment import IssueComment
    from github.NamedUser import NamedUser
    from github.PullRequest import PullRequest
    from github.Repository import Repository

log = logging.getLogger("ratchet.github")

COMMENT_LIMIT = 60_000
BODY_LIMIT = 60_000
TITLE_LIMIT = 256
ROLES = ("admin", "maintain", "write", "triage", "read", "none")
_LEGACY_PERMISSIONS = ("admin", "write", "read", "none")
_MARKER_RE = re.compile(r"<!-- ratchet:[^<>]*?-->")
_REPO_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_NOT_ACCESSIBLE = "resource not accessible by"
_ACTIONS_PR_SETTING = (
    'Enable "Allow GitHub Actions to create and approve pull requests" in the repository '
    "(Settings → Actions → General → Workflow permissions; for an organization repository also "
    "in the organization's settings), or pass a GitHub App or personal token as github_token."
)


class GitHubError(RatchetError):
    """A GitHub API call failed. ``status`` is the HTTP status (None: no response at all);
    ``permission`` names the token permission that was missing, when that was the cause."""

    def __init__(
        self,
        message: str,
        hint: str = "",
        *,
        status: int | None = None,
        permission: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.permission = permission


# ----------------------------------------------------------------------------- returned data


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


def task_marker(task_key: str) -> str:
    """The hidden marker a task's PR body carries: ``<!-- ratchet:task=<key> -->``."""
    return f"<!-- ratchet:task={task_key} -->"


# ----------------------------------------------------------------------------- the client


class GitHubClient:
    """GitHub REST access for one repository (``owner/name``) with one token.

    Raises ``ConfigError`` for a malformed ``repo``; methods raise ``GitHubError``.
    """

    def __init__(
        self,
        token: str,
        repo: str,
        *,
        api_url: str = "https://api.github.com",
        retry_total: int = 4,
        backoff: float = 1.0,
        timeout: float = 30.0,
        secondary_rate_wait: float = 60.0,
        max_wait: float = 300.0,
        seconds_between_requests: float = 0.25,
        seconds_between_writes: float = 1.0,
        per_page: int = 100,
        login: str | None = None,
        redactor: Callable[[str], str] | None = None,
    ) -> None:
        if not token:
            raise ConfigError(
                "no GitHub token was given",
                "Set GITHUB_TOKEN (action input github_token) to a token for this repository.",
            )
        if not _REPO_RE.match(repo or ""):
            raise ConfigError(
                f"GITHUB_REPOSITORY must look like owner/name, got {repo!r}",
                "Set GITHUB_REPOSITORY to the repository's owner/name.",
            )
        import github
        from github import Auth, GithubRetry

        _quiet_pygithub_logger()
        self.repo = repo
        self.api_url = api_url.rstrip("/")
        self._login = login
        self._login_known = login is not None
        self._redact = redactor or Redactor([*secret_values(), token])
        retry = GithubRetry(
            total=retry_total,
            backoff_factor=backoff,
            backoff_max=max_wait,
            status_forcelist=[*range(500, 600), 429],
            allowed_methods=frozenset({"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"}),
            raise_on_status=False,
            respect_retry_after_header=True,
            retry_after_max=max(1, int(max_wait)),
            secondary_rate_wait=secondary_rate_wait,
            max_rate_limit_wait=max_wait,
        )
        self._gh = github.Github(
            auth=Auth.Token(token),
            base_url=self.api_url,
            timeout=max(1, math.ceil(timeout)),
            user_agent=f"ratchet/{__version__}",
            per_page=per_page,
            retry=retry,
            seconds_between_requests=seconds_between_requests or None,
            seconds_between_writes=seconds_between_writes or None,
            lazy=True,
        )
        self._repo_obj: Repository = self._gh.get_repo(repo)

    # ---------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close pooled HTTP connections."""
        self._gh.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- identity and repository

    def whoami(self) -> str | None:
        """The token's login, or None when GitHub will not say (installation tokens such as
        GITHUB_TOKEN get 403 on ``GET /user``). Raises GitHubError for a rejected token."""
        if not self._login_known:
            from github.GithubException import GithubException

            try:
                self._login = self._gh.get_user().login
            except GithubException as exc:
                if exc.status not in (403, 404):
                    raise self._error(exc, "reading the token's user", "") from exc
                self._login = None
            except Exception as exc:
                raise self._error(exc, "reading the token's user", "") from exc
            self._login_known = True
        return self._login

    def repository(self) -> RepoInfo:
        """The bound repository. Raises GitHubError (404 when missing or invisible)."""
        try:
            r = self._gh.get_repo(self.repo)
            return RepoInfo(r.id, r.full_name, r.default_branch, r.private, r.fork)
        except Exception as exc:
            raise self._error(exc, f"reading repository {self.repo}", "metadata: read") from exc

    def permission(self, login: str) -> str:
        """``login``'s role on the repository: admin, maintain, write, triage, read or none.

        Uses the collaborator-permission API's ``role_name`` when it is a standard role, else its
        legacy ``permission``; a 404 (unknown user) is "none". Raises GitHubError otherwise.
        """
        from github.GithubException import GithubException

        path = f"/repos/{self.repo}/collaborators/{quote(login, safe='')}/permission"
        try:
            _, data = self._gh.requester.requestJsonAndCheck("GET", path)
        except GithubException as exc:
            if exc.status == 404:
                return "none"
            raise self._error(exc, f"reading {login}'s permission", "metadata: read") from exc
        except Exception as exc:
            raise self._error(exc, f"reading {login}'s permission", "metadata: read") from exc
        data = data if isinstance(data, dict) else {}
        role = data.get("role_name")
        if isinstance(role, str) and role in ROLES:
            return role
        legacy = data.get("permission")
        if isinstance(legacy, str) and legacy in _LEGACY_PERMISSIONS:
            return legacy
        return "none"

    # ---------------------------------------------------------------- issues and comments

    def react(self, comment_id: int, content: str = "eyes") -> None:
        """Add a reaction to an issue comment. Failures are logged as warnings, never raised."""
        path = f"/repos/{self.repo}/issues/comments/{int(comment_id)}/reactions"
        try:
            self._gh.requester.requestJsonAndCheck("POST", path, input={"content": content})
        except Exception as exc:  # a reaction is a courtesy: never fatal
            err = self._error(exc, f"reacting to comment {comment_id}", "issues: write")
            log.warning("could not add a reaction: %s %s", err.message, err.hint)

    def issue(self, number: int) -> IssueInfo:
        """Issue (or PR) ``number`` with all its conversation comments, oldest first."""
        action = f"reading issue #{number}"
        try:
            iss = self._repo_obj.get_issue(int(number))
            user = _user(iss.user)
            comments = [_comment_info(c) for c in iss.get_comments()]
            return IssueInfo(
                number=iss.number,
                title=iss.title or "",
                body=iss.body or "",
                author=user[0],
                is_pr=iss.pull_request is not None,
                state=iss.state,
                comments=comments,
                author_id=user[1],
                author_type=user[2],
                labels=tuple(label.name for label in iss.labels),
            )
        except Exception as exc:
            raise self._error(exc, action, "issues: read") from exc

    def upsert_comment(self, issue_number: int, marker: str, body: str) -> int:
        """The sticky comment: edit OUR comment containing ``marker`` in place, else create it.

        "Ours" means authored by the token's user when known, otherwise by a Bot account (what
        GITHUB_TOKEN and App tokens post as), so a human's comment quoting the marker is never
        taken over. The body is redacted, gets the marker if it lacks it, and is capped at 60,000
        characters. Returns the comment id. Raises GitHubError.
        """
        if not marker:
            raise ValueError("upsert_comment needs a non-empty marker")
        from github.GithubException import GithubException

        text = _with_marker(self._redact(body), marker, COMMENT_LIMIT)
        action = f"commenting on #{issue_number}"
        need = "issues: write (or pull-requests: write on a pull request)"
        try:
            me = self.whoami()
            iss = self._repo_obj.get_issue(int(issue_number))
            ours = self._find_ours(iss.get_comments(), marker, me)
            if ours is not None:
                if (ours.body or "") == text:
                    return ours.id
                try:
                    ours.edit(text)
                    return ours.id
                except GithubException as exc:
                    if exc.status not in (403, 404):
                        raise
                    log.warning(
                        "could not edit comment %s (%s); posting a new one", ours.id, exc.status
                    )
            created = iss.create_comment(text)
            if not self._login_known or self._login is None:
                self._login, self._login_known = _user(created.user)[0], True
            return created.id
        except GitHubError:
            raise
        except Exception as exc:
            raise self._error(exc, action, need) from exc

    def _find_ours(
        self, comments: Iterable[IssueComment], marker: str, me: str | None
    ) -> IssueComment | None:
        for c in comments:
            if marker not in (c.body or ""):
                continue
            login, _, kind = _user(c.user)
            if (me is not None and login.lower() == me.lower()) or (me is None and kind == "Bot"):
                return c
        return None

    def add_labels(self, number: int, labels: Iterable[str]) -> None:
        """Add labels to issue/PR ``number`` (GitHub creates unknown ones). Raises GitHubError."""
        names = [str(x) for x in labels]
        if not names:
            return
        try:
            self._repo_obj.get_issue(int(number)).add_to_labels(*names)
        except Exception as exc:
            raise self._error(exc, f"labelling #{number}", "issues: write") from exc

    # ---------------------------------------------------------------- pull requests

    def find_task_pr(self, task_key: str, branch: str) -> PullInfo | None:
        """The open PR from ``owner:branch`` of this repository, preferring the one whose body
        carries ``task_marker(task_key)``; None when there is none. Raises GitHubError."""
        marker = task_marker(task_key)
        try:
            pulls = self._open_pulls_from(branch)
        except Exception as exc:
            action = f"looking for the PR of {branch}"
            raise self._error(exc, action, "pull-requests: read") from exc
        for p in pulls:
            if marker in (p.body or ""):
                return _pull_info(p)
        return _pull_info(pulls[0]) if pulls else None

    def _open_pulls_from(self, branch: str) -> list[PullRequest]:
        owner = self.repo.split("/")[0]
        found = self._repo_obj.get_pulls(state="open", head=f"{owner}:{branch}")
        return [
            p
            for p in found
            if p.head.ref == branch
            and p.head.repo is not None
            and p.head.repo.full_name.lower() == self.repo.lower()
        ]

    def create_pr(
        self, branch: str, base: str, title: str, body: str, draft: bool = False
    ) -> PullInfo:
        """Open a PR from ``branch`` into ``base``. If GitHub says one already exists for the
        branch, that PR is found, given this title and body, and returned. Raises GitHubError."""
        from github.GithubException import GithubException

        title_text = _cap_title(self._redact(title))
        body_text = _cap_body(self._redact(body), BODY_LIMIT)
        action = f"creating a pull request from {branch} into {base}"
        try:
            p = self._repo_obj.create_pull(
                base=base, head=branch, title=title_text, body=body_text, draft=draft
            )
            return _pull_info(p)
        except GithubException as exc:
            if exc.status == 422 and _already_exists(exc.data):
                log.info("a pull request for %s already exists; updating it", branch)
                try:
                    existing = self._open_pulls_from(branch)
                except Exception as exc2:
                    raise self._error(exc2, action, "pull-requests: read") from exc2
                if existing:
                    return self._edit_pull(existing[0], existing[0].number, title_text, body_text)
            raise self._error(exc, action, "pull-requests: write") from exc
        except Exception as exc:
            raise self._error(exc, action, "pull-requests: write") from exc

    def update_pr(self, number: int, title: str | None = None, body: str | None = None) -> PullInfo:
        """Change PR ``number``'s title and/or body; returns the PR. Raises GitHubError."""
        if title is None and body is None:
            return self.pull(number)
        title_text = _cap_title(self._redact(title)) if title is not None else None
        body_text = _cap_body(self._redact(body), BODY_LIMIT) if body is not None else None
        return self._edit_pull(self._repo_obj.get_pull(int(number)), number, title_text, body_text)

    def _edit_pull(
        self, p: PullRequest, number: int, title: str | None, body: str | None
    ) -> PullInfo:
        from github.GithubObject import NotSet

        try:
            p.edit(
                title=title if title is not None else NotSet,
                body=body if body is not None else NotSet,
            )
            return _pull_info(p)
        except Exception as exc:
            raise self._error(exc, f"updating PR #{number}", "pull-requests: write") from exc

    def pull(self, number: int) -> PullInfo:
        """PR ``number``. Raises GitHubError (404 when it is not a pull request)."""
        try:
            return _pull_info(self._repo_obj.get_pull(int(number)))
        except Exception as exc:
            raise self._error(exc, f"reading PR #{number}", "pull-requests: read") from exc

    def review(self, pr_number: int, review_id: int) -> ReviewInfo:
        """Review ``review_id`` on PR ``pr_number`` with its inline comments. Raises GitHubError."""
        action = f"reading review {review_id} on PR #{pr_number}"
        try:
            p = self._repo_obj.get_pull(int(pr_number))
            r = p.get_review(int(review_id))
            comments = [
                (c.path, c.line if c.line is not None else c.original_line, c.body or "")
                for c in p.get_single_review_comments(int(review_id))
            ]
            login, uid, kind = _user(r.user)
            return ReviewInfo(
                id=r.id,
                state=r.state,
                body=r.body or "",
                author=login,
                author_id=uid,
                comments=comments,
                author_type=kind,
                commit_id=r.commit_id or "",
            )
        except Exception as exc:
            raise self._error(exc, action, "pull-requests: read") from exc

    # ---------------------------------------------------------------- errors

    def _error(self, exc: BaseException, action: str, need: str) -> GitHubError:
        """Translate any failure below this boundary into a GitHubError."""
        return translate_error(exc, action, need, api_url=self.api_url, repo=self.repo)


def _quiet_pygithub_logger() -> None:
    """PyGithub attaches its own stderr handler at INFO ("Request ... failed with 403"); drop it
    so only warnings reach the user, through the application's logging."""
    pg = logging.getLogger("github")
    for handler in list(pg.handlers):
        if type(handler) is logging.StreamHandler:
            pg.removeHandler(handler)
    pg.setLevel(logging.WARNING)


# ----------------------------------------------------------------------------- error translation


def translate_error(
    exc: BaseException, action: str, need: str, *, api_url: str = "", repo: str = ""
) -> GitHubError:
    """A ``GitHubError`` that says what failed and what to do about it.

    ``need`` is the workflow permission the call requires (e.g. "pull-requests: write"); it is
    named when GitHub refuses the token with "Resource not accessible by integration" (GitHub's
    ``X-Accepted-GitHub-Permissions`` header wins when present)."""
    if isinstance(exc, GitHubError):
        return exc
    from github.GithubException import GithubException

    if not isinstance(exc, GithubException):
        import requests

        if isinstance(exc, requests.exceptions.RequestException):
            return GitHubError(
                f"could not reach the GitHub API at {api_url} while {action}: {type(exc).__name__}",
                "Check the network and GITHUB_API_URL; GitHub may be down "
                "(https://www.githubstatus.com).",
            )
        return GitHubError(f"unexpected failure while {action}: {exc!r}")

    status = exc.status
    data = exc.data if isinstance(exc.data, dict) else {}
    message = str(data.get("message") or "").strip()
    headers = {str(k).lower(): str(v) for k, v in (exc.headers or {}).items()}
    said = f" (GitHub said: {message})" if message else ""

    if status == 401:
        return GitHubError(
            f"GitHub rejected the token while {action} (401 {message or 'Bad credentials'})",
            "The token is missing, expired or revoked: check the github_token input / "
            "GITHUB_TOKEN secret.",
            status=401,
        )
    if status in (403, 429) and _rate_limited(message, headers, status):
        return GitHubError(
            f"GitHub rate limit hit while {action}; retries were exhausted{said}",
            "Wait for the limit to reset (see X-RateLimit-Reset / Retry-After) and run again; "
            "fewer concurrent runs help with secondary rate limits.",
            status=status,
        )
    if status == 403 and message.lower().startswith("github actions is not permitted"):
        return GitHubError(
            f"GitHub refused {action}: {message}",
            _ACTIONS_PR_SETTING,
            status=403,
            permission="pull-requests: write",
        )
    if status == 403 and _NOT_ACCESSIBLE in message.lower():
        permission = _accepted_permissions(headers.get("x-accepted-github-permissions")) or need
        hint = (
            f"Grant it in the workflow job: `permissions: {{ {permission} }}`."
            if permission
            else "Grant the token the permission this call needs."
        )
        if "pull-requests" in permission and "creating a pull request" in action:
            hint += " " + _ACTIONS_PR_SETTING
        return GitHubError(
            f"the GitHub token may not do this: {action} needs `{permission or 'more access'}`"
            f"{said}",
            hint,
            status=403,
            permission=permission or None,
        )
    if status == 403:
        return GitHubError(
            f"GitHub refused {action} (403){said}",
            f"Check that the token's user or app has access to {repo} and the permission `{need}`."
            if need
            else "Check the token's access to the repository.",
            status=403,
            permission=need or None,
        )
    if status == 404:
        return GitHubError(
            f"not found while {action}{said}",
            f"Check the repository ({repo}), the number, and that the token can see it "
            "(GitHub answers 404 for private repositories it may not read).",
            status=404,
        )
    if status == 422:
        return GitHubError(
            f"GitHub rejected {action}: {_validation_text(data) or message or 'validation failed'}",
            "For a pull request: push the branch first and make sure it has commits the base "
            "lacks.",
            status=422,
        )
    if status >= 500:
        return GitHubError(
            f"GitHub is failing ({status}) while {action}, after retries{said}",
            "This is on GitHub's side; run again later (https://www.githubstatus.com).",
            status=status,
        )
    return GitHubError(f"GitHub answered {status} while {action}{said}", status=status)


def _rate_limited(message: str, headers: dict[str, str], status: int) -> bool:
    lower = message.lower()
    if status == 429:
        return True
    if "rate limit" in lower:
        return True
    return headers.get("x-ratelimit-remaining") == "0" or (not message and "retry-after" in headers)


def _accepted_permissions(header: str | None) -> str:
    """``pull_requests=write; issues=write`` → ``pull-requests: write or issues: write``."""
    if not header:
        return ""
    alternatives = []
    for group in header.split(";"):
        parts = []
        for item in group.split(","):
            name, _, level = item.strip().partition("=")
            if name:
                parts.append(f"{name.strip().replace('_', '-')}: {level.strip() or 'read'}")
        if parts:
            alternatives.append(" and ".join(parts))
    return " or ".join(alternatives)


def _validation_text(data: dict[str, Any]) -> str:
    out = []
    for err in data.get("errors") or []:
        if isinstance(err, dict):
            if err.get("message"):
                out.append(str(err["message"]))
            else:
                field_name = err.get("field", "?")
                out.append(f"{err.get('resource', '')} {field_name} {err.get('code', '')}".strip())
        elif isinstance(err, str):
            out.append(err)
    return "; ".join(out)


def _already_exists(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    return (
        "already exists" in _validation_text(data).lower()
        or "already exists" in str(data.get("message", "")).lower()
    )


# ----------------------------------------------------------------------------- conversions


def _user(user: NamedUser | None) -> tuple[str, int, str]:
    """(login, id, type) of a PyGithub user; a deleted account is GitHub's "ghost"."""
    if user is None:
        return ("ghost", 0, "User")
    return (user.login, int(user.id), user.type or "User")


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _comment_info(c: IssueComment) -> CommentInfo:
    login, uid, kind = _user(c.user)
    return CommentInfo(
        id=c.id,
        author=login,
        author_id=uid,
        author_type=kind,
        body=c.body or "",
        created_at=_iso(c.created_at),
        updated_at=_iso(c.updated_at),
    )


def _pull_info(p: PullRequest) -> PullInfo:
    head_repo = p.head.repo
    login, uid, _ = _user(p.user)
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


_TRUNCATED = "\n\n… (truncated by Ratchet)"


def _with_marker(text: str, marker: str, limit: int) -> str:
    """``text`` carrying ``marker``, at most ``limit`` characters (the marker always kept)."""
    if marker not in text:
        text = f"{marker}\n{text}"
    if len(text) <= limit:
        return text
    rest = text.replace(marker, "")
    room = max(limit - len(marker) - 1 - len(_TRUNCATED), 0)
    return f"{marker}\n{rest[:room]}{_TRUNCATED}"


def _cap_body(text: str, limit: int) -> str:
    """``text`` capped at ``limit`` characters, keeping every ``<!-- ratchet:... -->`` marker."""
    if len(text) <= limit:
        return text
    markers = "\n".join(dict.fromkeys(_MARKER_RE.findall(text)))
    rest = _MARKER_RE.sub("", text)
    room = max(limit - len(markers) - 1 - len(_TRUNCATED), 0)
    capped = rest[:room] + _TRUNCATED
    return f"{capped}\n{markers}" if markers else capped


def _cap_title(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1] + "…"
