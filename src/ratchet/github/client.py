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

The returned dataclasses live in :mod:`ratchet.github.models` and the error translation in
:mod:`ratchet.github.errors`; both are re-exported here.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ratchet import __version__
from ratchet.core.render import marker as task_marker  # one definition of the marker
from ratchet.errors import ConfigError
from ratchet.github.convert import (
    TITLE_LIMIT,
    cap_body,
    cap_title,
    comment_info,
    pull_info,
    user_of,
    with_marker,
)
from ratchet.github.errors import GitHubError, _already_exists, translate_error
from ratchet.github.errors import _accepted_permissions as _accepted_permissions
from ratchet.github.models import CommentInfo, IssueInfo, PullInfo, RepoInfo, ReviewInfo
from ratchet.redact import Redactor, secret_values

if TYPE_CHECKING:  # pragma: no cover - typing only
    from github.IssueComment import IssueComment
    from github.PullRequest import PullRequest
    from github.Repository import Repository

__all__ = [
    "BODY_LIMIT",
    "COMMENT_LIMIT",
    "ROLES",
    "TITLE_LIMIT",
    "CommentInfo",
    "GitHubClient",
    "GitHubError",
    "IssueInfo",
    "PullInfo",
    "RepoInfo",
    "ReviewInfo",
    "task_marker",
    "translate_error",
]

log = logging.getLogger("ratchet.github")

COMMENT_LIMIT = 60_000
BODY_LIMIT = 60_000
ROLES = ("admin", "maintain", "write", "triage", "read", "none")
_LEGACY_PERMISSIONS = ("admin", "write", "read", "none")
_REPO_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")


# ----------------------------------------------------------------------------- the client


def _check_identity(token: str, repo: str) -> None:
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


def _retry_policy(total: int, backoff: float, secondary_wait: float, max_wait: float) -> Any:
    """PyGithub's retry: 5xx and 429 on every method, Retry-After honoured, rate-limit waits
    bounded by ``max_wait``."""
    from github import GithubRetry

    return GithubRetry(
        total=total,
        backoff_factor=backoff,
        backoff_max=max_wait,
        status_forcelist=[*range(500, 600), 429],
        allowed_methods=frozenset({"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"}),
        raise_on_status=False,
        respect_retry_after_header=True,
        retry_after_max=max(1, int(max_wait)),
        secondary_rate_wait=secondary_wait,
        max_rate_limit_wait=max_wait,
    )


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
        _check_identity(token, repo)
        import github
        from github import Auth

        _quiet_pygithub_logger()
        self.repo = repo
        self.api_url = api_url.rstrip("/")
        self._login = login
        self._login_known = login is not None
        #: the sticky comments of this run, by (issue, marker): edited without a new search
        self._sticky: dict[tuple[int, str], IssueComment] = {}
        self._redact = redactor or Redactor([*secret_values(), token])
        retry = _retry_policy(retry_total, backoff, secondary_rate_wait, max_wait)
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
            user = user_of(iss.user)
            comments = [comment_info(c) for c in iss.get_comments()]
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

    def open_issues(self, limit: int = 3000) -> list[IssueInfo]:
        """The open issues and pull requests, newest first, without their comments: one
        paginated listing (100 a page), at most ``limit``."""
        from github.GithubObject import GithubObject

        action = "listing the open issues"
        out: list[IssueInfo] = []
        # the listed JSON as GitHub sent it: PyGithub's attributes would fetch each issue
        # again for a key the listing leaves out (``pull_request`` on a plain issue)
        listed = GithubObject.raw_data.fget  # type: ignore[attr-defined]
        try:
            for iss in self._repo_obj.get_issues(state="open"):
                raw = listed(iss)
                user = raw.get("user") or {}
                out.append(IssueInfo(
                    number=int(raw["number"]), title=str(raw.get("title") or ""),
                    body=str(raw.get("body") or ""), author=str(user.get("login") or ""),
                    is_pr=bool(raw.get("pull_request")), state=str(raw.get("state") or ""),
                    author_id=int(user.get("id") or 0), author_type=str(user.get("type") or ""),
                    labels=tuple(str(x.get("name")) for x in raw.get("labels") or []),
                ))  # fmt: skip
                if len(out) >= limit:
                    break
        except Exception as exc:
            raise self._error(exc, action, "issues: read") from exc
        return out

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

        text = with_marker(self._redact(body), marker, COMMENT_LIMIT)
        action = f"commenting on #{issue_number}"
        need = "issues: write (or pull-requests: write on a pull request)"
        try:
            sticky = (int(issue_number), marker)
            ours = self._sticky.get(sticky)  # found (or created) earlier in this run
            iss = None
            if ours is None:
                me = self.whoami()
                iss = self._repo_obj.get_issue(int(issue_number))
                ours = self._find_ours(iss.get_comments(), marker, me)
            if ours is not None:
                if (ours.body or "") == text:
                    self._sticky[sticky] = ours
                    return ours.id
                try:
                    ours.edit(text)
                    self._sticky[sticky] = ours
                    return ours.id
                except GithubException as exc:
                    if exc.status not in (403, 404):
                        raise
                    self._sticky.pop(sticky, None)
                    log.warning(
                        "could not edit comment %s (%s); posting a new one", ours.id, exc.status
                    )
            if iss is None:
                iss = self._repo_obj.get_issue(int(issue_number))
            created = iss.create_comment(text)
            if not self._login_known or self._login is None:
                self._login, self._login_known = user_of(created.user)[0], True
            self._sticky[sticky] = created
            return created.id
        except GitHubError:
            raise
        except Exception as exc:
            raise self._error(exc, action, need) from exc

    def reply(self, issue_number: int, body: str) -> int:
        """A new comment on issue/PR ``issue_number`` (a reply to a command): redacted, capped.
        Returns its id. Raises GitHubError."""
        text = self._redact(body)[:COMMENT_LIMIT]
        try:
            return int(self._repo_obj.get_issue(int(issue_number)).create_comment(text).id)
        except Exception as exc:
            raise self._error(
                exc, f"replying on #{issue_number}", "issues: write (or pull-requests: write)"
            ) from exc

    def _find_ours(
        self, comments: Iterable[IssueComment], marker: str, me: str | None
    ) -> IssueComment | None:
        for c in comments:
            if marker not in (c.body or ""):
                continue
            login, _, kind = user_of(c.user)
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
                return pull_info(p)
        return pull_info(pulls[0]) if pulls else None

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

        title_text = cap_title(self._redact(title))
        body_text = cap_body(self._redact(body), BODY_LIMIT)
        action = f"creating a pull request from {branch} into {base}"
        try:
            p = self._repo_obj.create_pull(
                base=base, head=branch, title=title_text, body=body_text, draft=draft
            )
            return pull_info(p)
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
        title_text = cap_title(self._redact(title)) if title is not None else None
        body_text = cap_body(self._redact(body), BODY_LIMIT) if body is not None else None
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
            return pull_info(p)
        except Exception as exc:
            raise self._error(exc, f"updating PR #{number}", "pull-requests: write") from exc

    def pull(self, number: int) -> PullInfo:
        """PR ``number``. Raises GitHubError (404 when it is not a pull request)."""
        try:
            return pull_info(self._repo_obj.get_pull(int(number)))
        except Exception as exc:
            raise self._error(exc, f"reading PR #{number}", "pull-requests: read") from exc

    def review(self, pr_number: int, review_id: int) -> ReviewInfo:
        """Review ``review_id`` on PR ``pr_number`` with its inline comments. Raises GitHubError."""
        action = f"reading review {review_id} on PR #{pr_number}"
        try:
            p = self._repo_obj.get_pull(int(pr_number))
            r = p.get_review(int(review_id))
            # PyGithub types ``original_line`` as int, but it is None for file-level comments
            comments: list[tuple[str, int | None, str]] = [
                (c.path, c.line if c.line is not None else c.original_line, c.body or "")
                for c in p.get_single_review_comments(int(review_id))
            ]
            login, uid, kind = user_of(r.user)
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


# ----------------------------------------------------------------------------- conversions
