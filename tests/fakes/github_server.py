"""A stateful fake of the GitHub REST API (v3) on 127.0.0.1, driven by the real PyGithub.

Use it as a context manager; point PyGithub at ``fake.api_url`` (``<url>/api/v3``, the GitHub
Enterprise layout PyGithub expects for a custom ``base_url``)::

    with FakeGitHub() as gh:
        gh.add_repo("octo/app", git_dir=bare_repo)
        gh.add_token("ghs_x", "github-actions[bot]", installation=True,
                     permissions={"contents": "write", "issues": "write", "pull-requests": "write"})
        github.Github(auth=Auth.Token("ghs_x"), base_url=gh.api_url)

What it reproduces from the real service (field names, status codes, messages):
- JSON payloads with GitHub's field names (users, repositories, issues, pull requests with
  ``head``/``base`` parts, issue comments with ``reactions`` summaries, reviews, review comments,
  labels); ``Link`` header pagination (``per_page`` default 30, max 100; rel next/last/first/prev);
  ``X-RateLimit-*`` headers.
- Auth: ``Authorization: token X`` or ``Bearer X``; unknown token → 401 ``Bad credentials``;
  anonymous callers may read public repositories only. Installation tokens (GITHUB_TOKEN, App
  tokens) and fine-grained PATs carry per-area permissions (``contents``, ``issues``,
  ``pull-requests``); a missing one → 403 ``Resource not accessible by integration`` with the
  ``X-Accepted-GitHub-Permissions`` header. Installation tokens get that 403 on ``GET /user`` too.
- PR creation validates head/base against a local bare repository (``git_dir``) acting as origin:
  unknown head → 422 ``Validation Failed`` (field ``head``, code ``invalid``); an open PR for the
  same head → 422 ``A pull request already exists for owner:branch.``; head already in base → 422
  ``No commits between base and head``; ``GitHub Actions is not permitted to create or approve
  pull requests.`` (403) when the repository setting is off.
- Fault injection for the next N API requests: 5xx, secondary rate limit (403 + ``Retry-After``),
  primary rate limit, 429. Every request is recorded in ``requests``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import subprocess
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

API_PREFIX = "/api/v3"
DOCS = "https://docs.github.com/rest"
ACTIONS_BOT_LOGIN = "github-actions[bot]"
ACTIONS_BOT_ID = 41898282
REACTION_CONTENTS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
ROLES = ("none", "read", "triage", "write", "maintain", "admin")
_LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}
_LEVELS = {"none": 0, "read": 1, "write": 2, "admin": 3}
_REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING")
_MAX_BODY = 65536
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


# ----------------------------------------------------------------------------- public records


@dataclass
class RecordedRequest:
    """One request as the fake received it. ``headers`` names are lower-cased."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0


# ----------------------------------------------------------------------------- internal state


@dataclass
class _User:
    login: str
    id: int
    type: str  # "User" | "Bot" | "Organization"


@dataclass
class _Token:
    value: str
    login: str
    permissions: dict[str, str] | None  # None: a classic PAT, limited only by the user's role
    installation: bool
    scopes: str = "repo, workflow"


@dataclass
class _Label:
    id: int
    name: str
    color: str
    description: str | None = None


@dataclass
class _Repo:
    id: int
    owner: str
    name: str
    default_branch: str
    private: bool
    fork: bool
    parent: str | None
    git_dir: Path | None
    actions_can_create_prs: bool
    created_at: str
    roles: dict[str, str] = field(default_factory=dict)  # lower login -> role
    labels: dict[str, _Label] = field(default_factory=dict)  # lower name -> label
    issues: dict[int, _Issue] = field(default_factory=dict)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class _Issue:
    number: int
    id: int
    pr_id: int
    title: str
    body: str | None
    user: str
    state: str
    created_at: str
    updated_at: str
    is_pr: bool = False
    state_reason: str | None = None
    closed_at: str | None = None
    labels: list[str] = field(default_factory=list)
    comment_ids: list[int] = field(default_factory=list)
    # pull requests only
    head_repo: str = ""
    head_ref: str = ""
    base_ref: str = ""
    head_sha: str = ""
    base_sha: str = ""
    draft: bool = False
    merged: bool = False
    merged_at: str | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    maintainer_can_modify: bool = False
    review_ids: list[int] = field(default_factory=list)


@dataclass
class _Reaction:
    id: int
    user: str
    content: str
    created_at: str


@dataclass
class _Comment:
    id: int
    repo: str
    number: int
    user: str
    body: str
    created_at: str
    updated_at: str
    reactions: list[_Reaction] = field(default_factory=list)


@dataclass
class _Review:
    id: int
    repo: str
    number: int
    user: str
    state: str
    body: str
    commit_id: str
    submitted_at: str
    comment_ids: list[int] = field(default_factory=list)


@dataclass
class _ReviewComment:
    id: int
    review_id: int
    repo: str
    number: int
    user: str
    path: str
    line: int | None
    body: str
    commit_id: str
    created_at: str
    updated_at: str


@dataclass
class _Fault:
    status: int
    remaining: int
    body: dict[str, Any]
    headers: dict[str, str]
    method: str | None
    path: re.Pattern[str] | None


@dataclass(frozen=True)
class _Caller:
    login: str | None
    token: _Token | None


class _Resp(NamedTuple):
    status: int
    body: Any
    headers: dict[str, str] = {}


class ApiError(Exception):
    """Raised inside handlers; becomes a GitHub-shaped error response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        doc: str = DOCS,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.payload: dict[str, Any] = {"message": message, "documentation_url": doc}
        if errors is not None:
            self.payload["errors"] = errors
        self.payload["status"] = str(status)
        self.headers = headers or {}


def _not_found() -> ApiError:
    return ApiError(404, "Not Found")


def _validation(errors: list[dict[str, Any]], doc: str = DOCS) -> ApiError:
    return ApiError(422, "Validation Failed", errors=errors, doc=doc)


# ----------------------------------------------------------------------------- the fake


class FakeGitHub:
    """A stateful GitHub REST API on loopback. Thread-safe; use as a context manager.

    ``git_dir`` is the default origin bare repository for repositories added without one.
    """

    def __init__(self, *, git_dir: str | Path | None = None, host: str = "127.0.0.1") -> None:
        self.default_git_dir = Path(git_dir) if git_dir is not None else None
        self.requests: list[RecordedRequest] = []
        self._lock = threading.RLock()
        self._ids = 1000
        self._clock = _EPOCH
        self._users: dict[str, _User] = {}
        self._tokens: dict[str, _Token] = {}
        self._repos: dict[str, _Repo] = {}
        self._comments: dict[int, _Comment] = {}
        self._reviews: dict[int, _Review] = {}
        self._review_comments: dict[int, _ReviewComment] = {}
        self._faults: list[_Fault] = []
        self._rate_used: dict[str, int] = {}
        self._routes = self._build_routes()
        self._server = ThreadingHTTPServer((host, 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        port = self._server.server_address[1]
        self.url = f"http://{host}:{port}"
        self.api_url = self.url + API_PREFIX
        self._thread: threading.Thread | None = None
        self.add_user(ACTIONS_BOT_LOGIN, type="Bot", id=ACTIONS_BOT_ID)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeGitHub:
        """Serve in a background thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.05,), daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- setup helpers

    def add_user(self, login: str, *, type: str = "User", id: int | None = None) -> int:
        """Create (or return) a user of ``type`` User, Bot or Organization; returns its id."""
        with self._lock:
            existing = self._users.get(login.lower())
            if existing is not None:
                return existing.id
            uid = id if id is not None else self._next_id()
            self._users[login.lower()] = _User(login=login, id=uid, type=type)
            return uid

    def add_token(
        self,
        token: str,
        login: str,
        *,
        permissions: dict[str, str] | None = None,
        installation: bool = False,
    ) -> None:
        """Map ``token`` to ``login``.

        ``permissions`` (areas ``contents``, ``issues``, ``pull-requests``, ``metadata`` → ``read``
        or ``write``) makes it a fine-grained token: missing areas are refused with 403.
        ``installation=True`` makes it a GITHUB_TOKEN / App installation token (``GET /user`` is
        refused, denials say "by integration"); it defaults to all three areas at ``write``.
        """
        with self._lock:
            if login.lower() not in self._users:
                self.add_user(login, type="Bot" if login.endswith("[bot]") else "User")
            if installation and permissions is None:
                permissions = {"contents": "write", "issues": "write", "pull-requests": "write"}
            self._tokens[token] = _Token(token, login, permissions, installation)

    def add_actions_token(self, token: str, *, permissions: dict[str, str] | None = None) -> None:
        """A GITHUB_TOKEN: acts as ``github-actions[bot]`` (a Bot, id 41898282)."""
        self.add_token(token, ACTIONS_BOT_LOGIN, permissions=permissions, installation=True)

    def add_repo(
        self,
        full_name: str,
        *,
        git_dir: str | Path | None = None,
        default_branch: str = "main",
        private: bool = False,
        fork: bool = False,
        parent: str | None = None,
        actions_can_create_prs: bool = True,
        id: int | None = None,
    ) -> int:
        """Create a repository (and its owner, who gets ``admin``). Returns the repository id."""
        owner, _, name = full_name.partition("/")
        if not owner or not name:
            raise ValueError(f"not owner/name: {full_name!r}")
        with self._lock:
            self.add_user(owner)
            repo = _Repo(
                id=id if id is not None else self._next_id(),
                owner=self._users[owner.lower()].login,
                name=name,
                default_branch=default_branch,
                private=private,
                fork=fork or parent is not None,
                parent=parent,
                git_dir=Path(git_dir) if git_dir is not None else self.default_git_dir,
                actions_can_create_prs=actions_can_create_prs,
                created_at=self._now(),
            )
            repo.roles[owner.lower()] = "admin"
            self._repos[full_name.lower()] = repo
            return repo.id

    def update_repo(
        self,
        full_name: str,
        *,
        default_branch: str | None = None,
        private: bool | None = None,
        actions_can_create_prs: bool | None = None,
    ) -> None:
        """Change repository settings."""
        with self._lock:
            repo = self._repo_state(full_name)
            if default_branch is not None:
                repo.default_branch = default_branch
            if private is not None:
                repo.private = private
            if actions_can_create_prs is not None:
                repo.actions_can_create_prs = actions_can_create_prs

    def set_permission(self, repo: str, login: str, role: str) -> None:
        """Give ``login`` a role on ``repo``: admin, maintain, write, triage, read or none."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        with self._lock:
            self.add_user(login)
            self._repo_state(repo).roles[login.lower()] = role

    def create_issue(
        self, repo: str, title: str, body: str = "", *, as_user: str, labels: Iterable[str] = ()
    ) -> int:
        """Open an issue as ``as_user``; returns its number."""
        with self._lock:
            r = self._repo_state(repo)
            self.add_user(as_user)
            issue = self._new_issue(r, title, body, self._login(as_user))
            for name in labels:
                self._attach_label(r, issue, name)
            return issue.number

    def open_pr(
        self,
        repo: str,
        *,
        head: str,
        base: str | None = None,
        title: str = "A change",
        body: str = "",
        as_user: str,
        head_repo: str | None = None,
        head_sha: str | None = None,
        draft: bool = False,
    ) -> int:
        """Open a pull request directly (no validation), e.g. from a fork; returns its number."""
        with self._lock:
            r = self._repo_state(repo)
            self.add_user(as_user)
            hr = self._repo_state(head_repo) if head_repo else r
            issue = self._new_issue(r, title, body, self._login(as_user))
            issue.is_pr = True
            issue.pr_id = self._next_id()
            issue.head_repo = hr.full_name
            issue.head_ref = head
            issue.base_ref = base or r.default_branch
            issue.draft = draft
            issue.head_sha = head_sha or self._ref_sha(hr, head) or _fake_sha(hr.full_name, head)
            issue.base_sha = self._ref_sha(r, issue.base_ref) or _fake_sha(r.full_name, base or "")
            return issue.number

    def add_comment(self, repo: str, number: int, body: str, *, as_user: str) -> int:
        """Comment on issue/PR ``number`` as ``as_user``; returns the comment id."""
        with self._lock:
            r = self._repo_state(repo)
            self.add_user(as_user)
            issue = self._issue_state(r, number)
            return self._new_comment(r, issue, self._login(as_user), body).id

    def submit_review(
        self,
        repo: str,
        number: int,
        *,
        as_user: str,
        state: str = "COMMENTED",
        body: str = "",
        comments: Iterable[tuple[str, int | None, str]] = (),
    ) -> int:
        """Submit a review on PR ``number``; ``comments`` are (path, line, body). Returns its id."""
        if state not in _REVIEW_STATES:
            raise ValueError(f"unknown review state {state!r}")
        with self._lock:
            r = self._repo_state(repo)
            self.add_user(as_user)
            pr = self._pull_state(r, number)
            now = self._now()
            review = _Review(
                id=self._next_id(),
                repo=r.full_name,
                number=number,
                user=self._login(as_user),
                state=state,
                body=body,
                commit_id=self._live_head_sha(r, pr),
                submitted_at=now,
            )
            for path, line, text in comments:
                rc = _ReviewComment(
                    id=self._next_id(),
                    review_id=review.id,
                    repo=r.full_name,
                    number=number,
                    user=review.user,
                    path=path,
                    line=line,
                    body=text,
                    commit_id=review.commit_id,
                    created_at=now,
                    updated_at=now,
                )
                self._review_comments[rc.id] = rc
                review.comment_ids.append(rc.id)
            self._reviews[review.id] = review
            pr.review_ids.append(review.id)
            return review.id

    def merge_pr(self, repo: str, number: int, *, as_user: str | None = None) -> None:
        """Mark PR ``number`` merged (state closed). The git history is left as it is."""
        with self._lock:
            r = self._repo_state(repo)
            pr = self._pull_state(r, number)
            if pr.state != "open":
                raise ValueError(f"PR #{number} is not open")
            pr.head_sha = self._live_head_sha(r, pr)
            now = self._now()
            pr.state, pr.merged, pr.merged_at, pr.closed_at, pr.updated_at = (
                "closed",
                True,
                now,
                now,
                now,
            )
            pr.merged_by = self._login(as_user) if as_user else r.owner
            pr.merge_commit_sha = _fake_sha(r.full_name, f"merge-{number}-{pr.head_sha}")

    def close_pr(self, repo: str, number: int) -> None:
        """Close PR ``number`` without merging."""
        with self._lock:
            r = self._repo_state(repo)
            pr = self._pull_state(r, number)
            self._close(r, pr)

    # ---------------------------------------------------------------- fault injection

    def fail_next(
        self,
        count: int = 1,
        status: int = 502,
        *,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``count`` API requests (optionally only ``method``/``path`` regex
        matches) with ``status``."""
        default = {500: "Server Error", 502: "Server Error", 503: "Service Unavailable"}
        body = {"message": message or default.get(status, "Error"), "documentation_url": DOCS}
        with self._lock:
            self._faults.append(
                _Fault(
                    status=status,
                    remaining=count,
                    body=body,
                    headers=dict(headers or {}),
                    method=method.upper() if method else None,
                    path=re.compile(path) if path else None,
                )
            )

    def secondary_rate_limit_next(
        self, count: int = 1, *, retry_after: int | None = 1, method: str | None = None
    ) -> None:
        """GitHub's secondary rate limit: 403 with ``Retry-After`` (when not None)."""
        msg = (
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
            "again. If you reach out to GitHub Support for help, please include the request ID "
            f"{secrets.token_hex(8).upper()}."
        )
        hdrs = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.fail_next(count, 403, message=msg, headers=hdrs, method=method)

    def primary_rate_limit_next(self, count: int = 1, *, reset_in: int = 1) -> None:
        """GitHub's primary rate limit: 403, ``X-RateLimit-Remaining: 0`` and a reset time."""
        reset = int(datetime.now(UTC).timestamp()) + reset_in
        hdrs = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
        self.fail_next(
            count, 403, message="API rate limit exceeded for installation ID 1.", headers=hdrs
        )

    def too_many_requests_next(self, count: int = 1, *, retry_after: int | None = 1) -> None:
        """429 Too Many Requests, with ``Retry-After`` when not None."""
        hdrs = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.fail_next(count, 429, message="Too Many Requests", headers=hdrs)

    # ---------------------------------------------------------------- inspection helpers

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        """The issue comments on ``number`` as the API would list them."""
        with self._lock:
            r = self._repo_state(repo)
            issue = self._issue_state(r, number)
            return [self._comment_json(r, self._comments[c]) for c in issue.comment_ids]

    def pulls(self, repo: str, state: str = "all") -> list[dict[str, Any]]:
        """Pull requests in ``repo`` (``open``/``closed``/``all``), oldest first, full payloads."""
        with self._lock:
            r = self._repo_state(repo)
            return [
                self._pull_json(r, i, full=True)
                for i in sorted(r.issues.values(), key=lambda i: i.number)
                if i.is_pr and state in ("all", i.state)
            ]

    def issue_payload(self, repo: str, number: int) -> dict[str, Any]:
        """The issue (or PR-as-issue) payload for ``number``."""
        with self._lock:
            r = self._repo_state(repo)
            return self._issue_json(r, self._issue_state(r, number))

    def reactions(self, repo: str, comment_id: int) -> list[dict[str, Any]]:
        """Reactions on an issue comment."""
        with self._lock:
            r = self._repo_state(repo)
            c = self._comment_state(r, comment_id)
            return [self._reaction_json(x) for x in c.reactions]

    def labels(self, repo: str, number: int) -> list[str]:
        """Label names on issue/PR ``number``."""
        with self._lock:
            r = self._repo_state(repo)
            issue = self._issue_state(r, number)
            return [r.labels[n.lower()].name for n in issue.labels]

    def requests_to(self, method: str, path_regex: str) -> list[RecordedRequest]:
        """Recorded requests whose method matches and whose path (after /api/v3) matches."""
        pat = re.compile(path_regex)
        with self._lock:
            return [
                q
                for q in self.requests
                if q.method == method.upper() and pat.search(q.path.removeprefix(API_PREFIX))
            ]

    # ---------------------------------------------------------------- dispatch

    def dispatch(
        self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        """Handle one HTTP request; returns (status, headers, JSON body or None)."""
        split = urlsplit(raw_path)
        path = split.path
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        hdrs = {k.lower(): v for k, v in headers.items()}
        rec = RecordedRequest(method, path, query, hdrs, None)
        with self._lock:
            self.requests.append(rec)
        extra: dict[str, str] = {}
        caller = _Caller(None, None)
        try:
            if raw_body:
                try:
                    rec.body = json.loads(raw_body)
                except ValueError as exc:
                    raise ApiError(400, "Problems parsing JSON") from exc
            if not path.startswith(API_PREFIX + "/") and path != API_PREFIX:
                raise _not_found()
            fault = self._take_fault(method, path)
            if fault is not None:
                status, payload, extra = fault.status, fault.body, dict(fault.headers)
            else:
                caller = self._authenticate(hdrs)
                handler, params = self._route(method, path[len(API_PREFIX) :] or "/")
                with self._lock:
                    resp = handler(caller, query, rec.body, **params)
                status, payload, extra = resp.status, resp.body, dict(resp.headers)
        except ApiError as err:
            status, payload, extra = err.status, err.payload, dict(err.headers)
        rec.status = status
        out = self._standard_headers(caller)
        out.update(extra)
        return status, out, payload

    def _standard_headers(self, caller: _Caller) -> dict[str, str]:
        key = caller.token.value if caller.token else "anonymous"
        with self._lock:
            used = self._rate_used.get(key, 0) + 1
            self._rate_used[key] = used
        limit = 5000 if caller.token else 60
        reset = int(datetime.now(UTC).timestamp()) + 3600
        hdrs = {
            "Content-Type": "application/json; charset=utf-8",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-GitHub-Request-Id": secrets.token_hex(8).upper(),
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(limit - used, 0)),
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Resource": "core",
        }
        if caller.token is not None and caller.token.permissions is None:
            hdrs["X-OAuth-Scopes"] = caller.token.scopes
        return hdrs

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        api_path = path[len(API_PREFIX) :]
        with self._lock:
            for fault in self._faults:
                if fault.remaining <= 0:
                    continue
                if fault.method and fault.method != method.upper():
                    continue
                if fault.path and not fault.path.search(api_path):
                    continue
                fault.remaining -= 1
                return fault
            return None

    def _authenticate(self, hdrs: dict[str, str]) -> _Caller:
        auth = hdrs.get("authorization", "").strip()
        if not auth:
            return _Caller(None, None)
        scheme, _, value = auth.partition(" ")
        with self._lock:
            token = self._tokens.get(value.strip())
        if scheme.lower() not in ("token", "bearer") or token is None:
            raise ApiError(401, "Bad credentials")
        return _Caller(token.login, token)

    def _route(self, method: str, path: str) -> tuple[Callable[..., _Resp], dict[str, str]]:
        for verb, pattern, handler in self._routes:
            m = pattern.fullmatch(path)
            if m and verb == method.upper():
                return handler, {k: unquote(v) for k, v in m.groupdict().items()}
        raise _not_found()

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., _Resp]]]:
        repo = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
        table: list[tuple[str, str, Callable[..., _Resp]]] = [
            ("GET", r"/user", self._get_authenticated_user),
            ("GET", r"/users/(?P<login>[^/]+)", self._get_user),
            ("GET", repo, self._get_repo),
            ("GET", repo + r"/collaborators/(?P<login>[^/]+)/permission", self._get_permission),
            ("GET", repo + r"/issues", self._list_issues),
            ("POST", repo + r"/issues", self._create_issue),
            ("GET", repo + r"/issues/comments", self._list_repo_comments),
            ("GET", repo + r"/issues/comments/(?P<cid>\d+)", self._get_comment),
            ("PATCH", repo + r"/issues/comments/(?P<cid>\d+)", self._edit_comment),
            ("DELETE", repo + r"/issues/comments/(?P<cid>\d+)", self._delete_comment),
            ("GET", repo + r"/issues/comments/(?P<cid>\d+)/reactions", self._list_reactions),
            ("POST", repo + r"/issues/comments/(?P<cid>\d+)/reactions", self._create_reaction),
            ("GET", repo + r"/issues/(?P<number>\d+)", self._get_issue),
            ("PATCH", repo + r"/issues/(?P<number>\d+)", self._edit_issue),
            ("GET", repo + r"/issues/(?P<number>\d+)/comments", self._list_comments),
            ("POST", repo + r"/issues/(?P<number>\d+)/comments", self._create_comment),
            ("GET", repo + r"/issues/(?P<number>\d+)/labels", self._list_issue_labels),
            ("POST", repo + r"/issues/(?P<number>\d+)/labels", self._add_labels),
            (
                "DELETE",
                repo + r"/issues/(?P<number>\d+)/labels/(?P<label>[^/]+)",
                self._remove_label,
            ),
            ("GET", repo + r"/labels", self._list_repo_labels),
            ("GET", repo + r"/pulls", self._list_pulls),
            ("POST", repo + r"/pulls", self._create_pull),
            ("GET", repo + r"/pulls/(?P<number>\d+)", self._get_pull),
            ("PATCH", repo + r"/pulls/(?P<number>\d+)", self._edit_pull),
            ("GET", repo + r"/pulls/(?P<number>\d+)/merge", self._get_merged),
            ("GET", repo + r"/pulls/(?P<number>\d+)/reviews", self._list_reviews),
            ("GET", repo + r"/pulls/(?P<number>\d+)/reviews/(?P<rid>\d+)", self._get_review),
            (
                "GET",
                repo + r"/pulls/(?P<number>\d+)/reviews/(?P<rid>\d+)/comments",
                self._list_review_comments,
            ),
            ("GET", repo + r"/pulls/(?P<number>\d+)/comments", self._list_pull_comments),
        ]
        return [(verb, re.compile(pat), fn) for verb, pat, fn in table]

    # ---------------------------------------------------------------- authorization

    def _role(self, repo: _Repo, login: str | None) -> str:
        if login is None:
            return "read" if not repo.private else "none"
        role = repo.roles.get(login.lower())
        if role:
            return role
        return "read" if not repo.private else "none"

    def _need(self, caller: _Caller, repo: _Repo, areas: tuple[str, ...], level: str) -> None:
        """Check the token may act on ``repo`` with ``level`` in one of ``areas``."""
        token = caller.token
        if token is None:
            if repo.private:
                raise _not_found()
            if level != "read":
                raise ApiError(401, "Requires authentication")
            return
        if not token.installation and repo.private and self._role(repo, token.login) == "none":
            raise _not_found()
        if token.permissions is None:
            return
        perms = {"metadata": "read", **token.permissions}
        if any(_LEVELS.get(perms.get(a, "none"), 0) >= _LEVELS[level] for a in areas):
            return
        who = "integration" if token.installation else "personal access token"
        accepted = "; ".join(f"{a.replace('-', '_')}={level}" for a in areas)
        raise ApiError(
            403,
            f"Resource not accessible by {who}",
            headers={"X-Accepted-GitHub-Permissions": accepted},
        )

    def _may_moderate(self, caller: _Caller, repo: _Repo) -> bool:
        """Installation tokens (already area-checked) and write+ users may edit others' things."""
        if caller.token is None:
            return False
        if caller.token.installation:
            return True
        return ROLES.index(self._role(repo, caller.login)) >= ROLES.index("write")

    def _issue_areas(self, issue: _Issue) -> tuple[str, ...]:
        return ("issues", "pull-requests") if issue.is_pr else ("issues",)

    # ---------------------------------------------------------------- state helpers

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _now(self) -> str:
        """A strictly increasing UTC timestamp (GitHub's format, second resolution)."""
        now = datetime.now(UTC).replace(microsecond=0)
        self._clock = max(now, self._clock + timedelta(seconds=1))
        return self._clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _login(self, login: str) -> str:
        user = self._users.get(login.lower())
        if user is None:
            raise _not_found()
        return user.login

    def _repo_state(self, full_name: str) -> _Repo:
        repo = self._repos.get(full_name.lower())
        if repo is None:
            raise KeyError(f"no repository {full_name!r} in the fake")
        return repo

    def _repo_for(self, caller: _Caller, owner: str, name: str) -> _Repo:
        repo = self._repos.get(f"{owner}/{name}".lower())
        if repo is None:
            raise _not_found()
        self._need(caller, repo, ("metadata",), "read")
        return repo

    def _issue_state(self, repo: _Repo, number: int) -> _Issue:
        issue = repo.issues.get(int(number))
        if issue is None:
            raise _not_found()
        return issue

    def _pull_state(self, repo: _Repo, number: int) -> _Issue:
        issue = self._issue_state(repo, number)
        if not issue.is_pr:
            raise _not_found()
        return issue

    def _comment_state(self, repo: _Repo, cid: int) -> _Comment:
        c = self._comments.get(int(cid))
        if c is None or c.repo.lower() != repo.full_name.lower():
            raise _not_found()
        return c

    def _new_issue(self, repo: _Repo, title: str, body: str | None, user: str) -> _Issue:
        now = self._now()
        issue = _Issue(
            number=repo.next_number,
            id=self._next_id(),
            pr_id=0,
            title=title,
            body=body if body else None,
            user=user,
            state="open",
            created_at=now,
            updated_at=now,
        )
        repo.next_number += 1
        repo.issues[issue.number] = issue
        return issue

    def _new_comment(self, repo: _Repo, issue: _Issue, user: str, body: str) -> _Comment:
        now = self._now()
        c = _Comment(self._next_id(), repo.full_name, issue.number, user, body, now, now)
        self._comments[c.id] = c
        issue.comment_ids.append(c.id)
        issue.updated_at = now
        return c

    def _attach_label(self, repo: _Repo, issue: _Issue, name: str) -> None:
        key = name.lower()
        if key not in repo.labels:
            color = hashlib.sha1(name.encode()).hexdigest()[:6]
            repo.labels[key] = _Label(self._next_id(), name, color)
        if key not in [n.lower() for n in issue.labels]:
            issue.labels.append(repo.labels[key].name)

    def _close(self, repo: _Repo, issue: _Issue) -> None:
        if issue.state == "closed":
            return
        if issue.is_pr:
            issue.head_sha = self._live_head_sha(repo, issue)
        now = self._now()
        issue.state, issue.closed_at, issue.updated_at = "closed", now, now

    # ---------------------------------------------------------------- git (origin) helpers

    def _ref_sha(self, repo: _Repo, branch: str) -> str | None:
        if repo.git_dir is None:
            return None
        proc = subprocess.run(
            [
                "git",
                "--git-dir",
                str(repo.git_dir),
                "rev-parse",
                "--verify",
                "--quiet",
                f"refs/heads/{branch}^{{commit}}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return (proc.stdout.strip() or None) if proc.returncode == 0 else None

    def _branch_exists(self, repo: _Repo, branch: str) -> bool:
        return repo.git_dir is None or self._ref_sha(repo, branch) is not None

    def _has_commits_between(self, repo: _Repo, base_sha: str, head_sha: str) -> bool:
        if repo.git_dir is None:
            return True
        proc = subprocess.run(
            [
                "git",
                "--git-dir",
                str(repo.git_dir),
                "merge-base",
                "--is-ancestor",
                head_sha,
                base_sha,
            ],
            capture_output=True,
            check=False,
        )
        return proc.returncode != 0

    def _commit_count(self, repo: _Repo, pr: _Issue) -> int:
        head_repo = self._repos.get(pr.head_repo.lower(), repo)
        if head_repo.git_dir is None or head_repo.git_dir != repo.git_dir:
            return 1
        proc = subprocess.run(
            [
                "git",
                "--git-dir",
                str(repo.git_dir),
                "rev-list",
                "--count",
                f"{pr.base_sha}..{self._live_head_sha(repo, pr)}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return int(proc.stdout.strip()) if proc.returncode == 0 else 1

    def _live_head_sha(self, repo: _Repo, pr: _Issue) -> str:
        if pr.state != "open":
            return pr.head_sha
        head_repo = self._repos.get(pr.head_repo.lower(), repo)
        return self._ref_sha(head_repo, pr.head_ref) or pr.head_sha

    # ---------------------------------------------------------------- payloads

    def _user_json(self, login: str) -> dict[str, Any]:
        u = self._users.get(login.lower()) or _User(login, 10137, "User")
        api = f"{self.api_url}/users/{quote(u.login, safe='')}"
        html = (
            f"{self.url}/apps/{u.login.removesuffix('[bot]')}"
            if u.type == "Bot"
            else f"{self.url}/{u.login}"
        )
        return {
            "login": u.login,
            "id": u.id,
            "node_id": _node_id("U", u.id),
            "avatar_url": f"{self.url}/avatars/u/{u.id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": html,
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": u.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def _repo_json(self, repo: _Repo, caller: _Caller | None = None) -> dict[str, Any]:
        api = f"{self.api_url}/repos/{repo.full_name}"
        open_issues = sum(1 for i in repo.issues.values() if i.state == "open")
        data: dict[str, Any] = {
            "id": repo.id,
            "node_id": _node_id("R", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self._user_json(repo.owner),
            "html_url": f"{self.url}/{repo.full_name}",
            "description": None,
            "fork": repo.fork,
            "url": api,
            "issues_url": f"{api}/issues{{/number}}",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "labels_url": f"{api}/labels{{/name}}",
            "git_url": f"git://{urlsplit(self.url).netloc}/{repo.full_name}.git",
            "ssh_url": f"git@{urlsplit(self.url).hostname}:{repo.full_name}.git",
            "clone_url": f"{self.url}/{repo.full_name}.git",
            "created_at": repo.created_at,
            "updated_at": repo.created_at,
            "pushed_at": repo.created_at,
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_issues,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "topics": [],
            "visibility": "private" if repo.private else "public",
            "forks": 0,
            "open_issues": open_issues,
            "watchers": 0,
            "default_branch": repo.default_branch,
        }
        if caller is not None:
            if caller.token is not None:
                role = "write" if caller.token.installation else self._role(repo, caller.login)
                idx = ROLES.index(role)
                data["permissions"] = {
                    "admin": idx >= ROLES.index("admin"),
                    "maintain": idx >= ROLES.index("maintain"),
                    "push": idx >= ROLES.index("write"),
                    "triage": idx >= ROLES.index("triage"),
                    "pull": idx >= ROLES.index("read"),
                }
            if repo.parent and repo.parent.lower() in self._repos:
                parent = self._repo_json(self._repos[repo.parent.lower()])
                data["parent"] = parent
                data["source"] = parent
            data["network_count"] = 0
            data["subscribers_count"] = 0
        return data

    def _association(self, repo: _Repo, login: str) -> str:
        if login.lower() == repo.owner.lower():
            return "OWNER"
        if repo.roles.get(login.lower(), "none") != "none":
            return "COLLABORATOR"
        authored = any(
            i.is_pr and i.merged and i.user.lower() == login.lower() for i in repo.issues.values()
        )
        return "CONTRIBUTOR" if authored else "NONE"

    def _reactions_summary(self, url: str, reactions: list[_Reaction]) -> dict[str, Any]:
        data: dict[str, Any] = {"url": url, "total_count": len(reactions)}
        for content in REACTION_CONTENTS:
            data[content] = sum(1 for r in reactions if r.content == content)
        return data

    def _label_json(self, repo: _Repo, name: str) -> dict[str, Any]:
        label = repo.labels[name.lower()]
        return {
            "id": label.id,
            "node_id": _node_id("LA", label.id),
            "url": f"{self.api_url}/repos/{repo.full_name}/labels/{quote(label.name, safe='')}",
            "name": label.name,
            "color": label.color,
            "default": False,
            "description": label.description,
        }

    def _issue_json(self, repo: _Repo, issue: _Issue) -> dict[str, Any]:
        repo_api = f"{self.api_url}/repos/{repo.full_name}"
        api = f"{repo_api}/issues/{issue.number}"
        kind = "pull" if issue.is_pr else "issues"
        data: dict[str, Any] = {
            "url": api,
            "repository_url": repo_api,
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": f"{self.url}/{repo.full_name}/{kind}/{issue.number}",
            "id": issue.id,
            "node_id": _node_id("I", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self._user_json(issue.user),
            "labels": [self._label_json(repo, n) for n in issue.labels],
            "state": issue.state,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": len(issue.comment_ids),
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "author_association": self._association(repo, issue.user),
            "active_lock_reason": None,
            "body": issue.body,
            "closed_by": None,
            "reactions": self._reactions_summary(f"{api}/reactions", []),
            "timeline_url": f"{api}/timeline",
            "performed_via_github_app": None,
            "state_reason": issue.state_reason,
        }
        if issue.is_pr:
            pr_api = f"{repo_api}/pulls/{issue.number}"
            html = data["html_url"]
            data["draft"] = issue.draft
            data["pull_request"] = {
                "url": pr_api,
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": issue.merged_at,
            }
        return data

    def _part_json(self, repo_name: str, ref: str, sha: str) -> dict[str, Any]:
        repo = self._repos[repo_name.lower()]
        return {
            "label": f"{repo.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self._user_json(repo.owner),
            "repo": self._repo_json(repo),
        }

    def _pull_json(self, repo: _Repo, pr: _Issue, *, full: bool) -> dict[str, Any]:
        repo_api = f"{self.api_url}/repos/{repo.full_name}"
        api = f"{repo_api}/pulls/{pr.number}"
        issue_api = f"{repo_api}/issues/{pr.number}"
        html = f"{self.url}/{repo.full_name}/pull/{pr.number}"
        head_sha = self._live_head_sha(repo, pr)
        data: dict[str, Any] = {
            "url": api,
            "id": pr.pr_id,
            "node_id": _node_id("PR", pr.pr_id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_api,
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{repo_api}/pulls/comments{{/number}}",
            "comments_url": f"{issue_api}/comments",
            "statuses_url": f"{repo_api}/statuses/{head_sha}",
            "number": pr.number,
            "state": pr.state,
            "locked": False,
            "title": pr.title,
            "user": self._user_json(pr.user),
            "body": pr.body,
            "labels": [self._label_json(repo, n) for n in pr.labels],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": pr.created_at,
            "updated_at": pr.updated_at,
            "closed_at": pr.closed_at,
            "merged_at": pr.merged_at,
            "merge_commit_sha": pr.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": self._part_json(pr.head_repo, pr.head_ref, head_sha),
            "base": self._part_json(repo.full_name, pr.base_ref, pr.base_sha),
            "_links": {
                "self": {"href": api},
                "html": {"href": html},
                "issue": {"href": issue_api},
                "comments": {"href": f"{issue_api}/comments"},
                "review_comments": {"href": f"{api}/comments"},
                "review_comment": {"href": f"{repo_api}/pulls/comments{{/number}}"},
                "commits": {"href": f"{api}/commits"},
                "statuses": {"href": f"{repo_api}/statuses/{head_sha}"},
            },
            "author_association": self._association(repo, pr.user),
            "auto_merge": None,
            "draft": pr.draft,
        }
        if full:
            n_review_comments = sum(
                len(self._reviews[r].comment_ids) for r in pr.review_ids if r in self._reviews
            )
            data.update(
                {
                    "merged": pr.merged,
                    "mergeable": True if pr.state == "open" else None,
                    "rebaseable": True if pr.state == "open" else None,
                    "mergeable_state": "clean" if pr.state == "open" else "unknown",
                    "merged_by": self._user_json(pr.merged_by) if pr.merged_by else None,
                    "comments": len(pr.comment_ids),
                    "review_comments": n_review_comments,
                    "maintainer_can_modify": pr.maintainer_can_modify,
                    "commits": self._commit_count(repo, pr),
                    "additions": 0,
                    "deletions": 0,
                    "changed_files": 0,
                }
            )
        return data

    def _comment_json(self, repo: _Repo, c: _Comment) -> dict[str, Any]:
        repo_api = f"{self.api_url}/repos/{repo.full_name}"
        api = f"{repo_api}/issues/comments/{c.id}"
        issue = repo.issues.get(c.number)
        kind = "pull" if issue is not None and issue.is_pr else "issues"
        return {
            "url": api,
            "html_url": f"{self.url}/{repo.full_name}/{kind}/{c.number}#issuecomment-{c.id}",
            "issue_url": f"{repo_api}/issues/{c.number}",
            "id": c.id,
            "node_id": _node_id("IC", c.id),
            "user": self._user_json(c.user),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "author_association": self._association(repo, c.user),
            "body": c.body,
            "reactions": self._reactions_summary(f"{api}/reactions", c.reactions),
            "performed_via_github_app": None,
        }

    def _reaction_json(self, r: _Reaction) -> dict[str, Any]:
        return {
            "id": r.id,
            "node_id": _node_id("REA", r.id),
            "user": self._user_json(r.user),
            "content": r.content,
            "created_at": r.created_at,
        }

    def _review_json(self, repo: _Repo, rv: _Review) -> dict[str, Any]:
        pr_api = f"{self.api_url}/repos/{repo.full_name}/pulls/{rv.number}"
        html = f"{self.url}/{repo.full_name}/pull/{rv.number}#pullrequestreview-{rv.id}"
        return {
            "id": rv.id,
            "node_id": _node_id("PRR", rv.id),
            "user": self._user_json(rv.user),
            "body": rv.body,
            "state": rv.state,
            "html_url": html,
            "pull_request_url": pr_api,
            "author_association": self._association(repo, rv.user),
            "_links": {"html": {"href": html}, "pull_request": {"href": pr_api}},
            "submitted_at": rv.submitted_at,
            "commit_id": rv.commit_id,
        }

    def _review_comment_json(self, repo: _Repo, rc: _ReviewComment) -> dict[str, Any]:
        repo_api = f"{self.api_url}/repos/{repo.full_name}"
        api = f"{repo_api}/pulls/comments/{rc.id}"
        pr_api = f"{repo_api}/pulls/{rc.number}"
        html = f"{self.url}/{repo.full_name}/pull/{rc.number}#discussion_r{rc.id}"
        return {
            "url": api,
            "pull_request_review_id": rc.review_id,
            "id": rc.id,
            "node_id": _node_id("PRRC", rc.id),
            "diff_hunk": "@@ -1,1 +1,1 @@",
            "path": rc.path,
            "position": rc.line,
            "original_position": rc.line,
            "commit_id": rc.commit_id,
            "original_commit_id": rc.commit_id,
            "user": self._user_json(rc.user),
            "body": rc.body,
            "created_at": rc.created_at,
            "updated_at": rc.updated_at,
            "html_url": html,
            "pull_request_url": pr_api,
            "author_association": self._association(repo, rc.user),
            "_links": {
                "self": {"href": api},
                "html": {"href": html},
                "pull_request": {"href": pr_api},
            },
            "reactions": self._reactions_summary(f"{api}/reactions", []),
            "start_line": None,
            "original_start_line": None,
            "start_side": None,
            "line": rc.line,
            "original_line": rc.line,
            "side": "RIGHT",
            "subject_type": "line" if rc.line is not None else "file",
        }

    # ---------------------------------------------------------------- pagination

    def _page(self, path: str, query: dict[str, str], items: list[Any]) -> _Resp:
        try:
            per_page = min(max(int(query.get("per_page", "30")), 1), 100)
            page = max(int(query.get("page", "1")), 1)
        except ValueError as exc:
            raise ApiError(400, "Invalid pagination parameter") from exc
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(p: int) -> str:
            params = {k: v for k, v in query.items() if k != "page"}
            params["page"] = str(p)
            return f"<{self.url}{API_PREFIX}{path}?{urlencode(params)}>"

        rels: list[str] = []
        if page > 1:
            rels.append(f'{link(min(page - 1, last))}; rel="prev"')
        if page < last:
            rels.append(f'{link(page + 1)}; rel="next"')
            rels.append(f'{link(last)}; rel="last"')
        if page > 1:
            rels.append(f'{link(1)}; rel="first"')
        headers = {"Link": ", ".join(rels)} if rels else {}
        return _Resp(200, chunk, headers)

    # ---------------------------------------------------------------- handlers: users, repos

    def _get_authenticated_user(self, caller: _Caller, query: dict[str, str], body: Any) -> _Resp:
        if caller.token is None:
            raise ApiError(401, "Requires authentication")
        if caller.token.installation:
            raise ApiError(403, "Resource not accessible by integration")
        return _Resp(200, self._user_json(caller.token.login))

    def _get_user(self, caller: _Caller, query: dict[str, str], body: Any, login: str) -> _Resp:
        if login.lower() not in self._users:
            raise _not_found()
        return _Resp(200, self._user_json(login))

    def _get_repo(self, caller: _Caller, query: dict[str, str], body: Any, **kw: str) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        return _Resp(200, self._repo_json(repo, caller))

    def _get_permission(
        self, caller: _Caller, query: dict[str, str], body: Any, login: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        user = self._users.get(login.lower())
        if user is None:
            raise _not_found()
        role = self._role(repo, user.login)
        legacy = _LEGACY_PERMISSION[role]
        idx = ROLES.index(role)
        user_json = self._user_json(user.login)
        user_json["permissions"] = {
            "admin": idx >= ROLES.index("admin"),
            "maintain": idx >= ROLES.index("maintain"),
            "push": idx >= ROLES.index("write"),
            "triage": idx >= ROLES.index("triage"),
            "pull": idx >= ROLES.index("read"),
        }
        user_json["role_name"] = role
        return _Resp(200, {"permission": legacy, "role_name": role, "user": user_json})

    # ---------------------------------------------------------------- handlers: issues

    def _list_issues(self, caller: _Caller, query: dict[str, str], body: Any, **kw: str) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        self._need(caller, repo, ("issues",), "read")
        state = query.get("state", "open")
        wanted = {x.strip().lower() for x in query.get("labels", "").split(",") if x.strip()}
        creator = query.get("creator", "").lower()
        items = []
        for issue in sorted(repo.issues.values(), key=lambda i: i.number, reverse=True):
            if state != "all" and issue.state != state:
                continue
            if wanted and not wanted <= {n.lower() for n in issue.labels}:
                continue
            if creator and issue.user.lower() != creator:
                continue
            items.append(self._issue_json(repo, issue))
        return self._page(f"/repos/{repo.full_name}/issues", query, items)

    def _create_issue(self, caller: _Caller, query: dict[str, str], body: Any, **kw: str) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        self._need(caller, repo, ("issues",), "write")
        data = _as_object(body)
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            raise _validation([{"resource": "Issue", "code": "missing_field", "field": "title"}])
        text = _body_field(data.get("body"), "Issue")
        assert caller.login is not None
        issue = self._new_issue(repo, title, text, self._login(caller.login))
        for name in data.get("labels") or []:
            self._attach_label(repo, issue, name if isinstance(name, str) else name["name"])
        return _Resp(201, self._issue_json(repo, issue))

    def _get_issue(
        self, caller: _Caller, query: dict[str, str], body: Any, number: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        issue = self._issue_state(repo, int(number))
        self._need(caller, repo, self._issue_areas(issue), "read")
        return _Resp(200, self._issue_json(repo, issue))

    def _edit_issue(
        self, caller: _Caller, query: dict[str, str], body: Any, number: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        issue = self._issue_state(repo, int(number))
        self._need(caller, repo, self._issue_areas(issue), "write")
        self._require_author_or_moderator(caller, repo, issue.user)
        data = _as_object(body)
        if "title" in data:
            if not isinstance(data["title"], str) or not data["title"].strip():
                raise _validation(
                    [{"resource": "Issue", "code": "missing_field", "field": "title"}]
                )
            issue.title = data["title"]
        if "body" in data:
            issue.body = _body_field(data["body"], "Issue")
        if "labels" in data:
            issue.labels = []
            for name in data["labels"] or []:
                self._attach_label(repo, issue, name if isinstance(name, str) else name["name"])
        if data.get("state") in ("open", "closed"):
            if data["state"] == "closed":
                self._close(repo, issue)
                issue.state_reason = data.get("state_reason") or "completed"
            elif not issue.merged:
                issue.state, issue.closed_at, issue.state_reason = "open", None, "reopened"
        issue.updated_at = self._now()
        return _Resp(200, self._issue_json(repo, issue))

    def _require_author_or_moderator(self, caller: _Caller, repo: _Repo, author: str) -> None:
        if caller.login is not None and caller.login.lower() == author.lower():
            return
        if not self._may_moderate(caller, repo):
            raise ApiError(403, "Must have admin rights to Repository.")

    # ---------------------------------------------------------------- handlers: comments

    def _list_comments(
        self, caller: _Caller, query: dict[str, str], body: Any, number: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        issue = self._issue_state(repo, int(number))
        self._need(caller, repo, self._issue_areas(issue), "read")
        since = query.get("since", "")
        items = [
            self._comment_json(repo, self._comments[c])
            for c in issue.comment_ids
            if not since or self._comments[c].updated_at >= since
        ]
        return self._page(f"/repos/{repo.full_name}/issues/{issue.number}/comments", query, items)

    def _list_repo_comments(
        self, caller: _Caller, query: dict[str, str], body: Any, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        self._need(caller, repo, ("issues",), "read")
        items = [
            self._comment_json(repo, c)
            for c in sorted(self._comments.values(), key=lambda c: c.id)
            if c.repo.lower() == repo.full_name.lower()
        ]
        return self._page(f"/repos/{repo.full_name}/issues/comments", query, items)

    def _create_comment(
        self, caller: _Caller, query: dict[str, str], body: Any, number: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        issue = self._issue_state(repo, int(number))
        self._need(caller, repo, self._issue_areas(issue), "write")
        text = _body_field(_as_object(body).get("body"), "IssueComment", required=True)
        assert caller.login is not None and text is not None
        c = self._new_comment(repo, issue, self._login(caller.login), text)
        headers = {"Location": f"{self.api_url}/repos/{repo.full_name}/issues/comments/{c.id}"}
        return _Resp(201, self._comment_json(repo, c), headers)

    def _get_comment(
        self, caller: _Caller, query: dict[str, str], body: Any, cid: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        c = self._comment_state(repo, int(cid))
        self._need(caller, repo, self._issue_areas(repo.issues[c.number]), "read")
        return _Resp(200, self._comment_json(repo, c))

    def _edit_comment(
        self, caller: _Caller, query: dict[str, str], body: Any, cid: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        c = self._comment_state(repo, int(cid))
        self._need(caller, repo, self._issue_areas(repo.issues[c.number]), "write")
        self._require_author_or_moderator(caller, repo, c.user)
        text = _body_field(_as_object(body).get("body"), "IssueComment", required=True)
        assert text is not None
        c.body = text
        c.updated_at = self._now()
        return _Resp(200, self._comment_json(repo, c))

    def _delete_comment(
        self, caller: _Caller, query: dict[str, str], body: Any, cid: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        c = self._comment_state(repo, int(cid))
        issue = repo.issues[c.number]
        self._need(caller, repo, self._issue_areas(issue), "write")
        self._require_author_or_moderator(caller, repo, c.user)
        del self._comments[c.id]
        issue.comment_ids.remove(c.id)
        return _Resp(204, None)

    def _list_reactions(
        self, caller: _Caller, query: dict[str, str], body: Any, cid: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        c = self._comment_state(repo, int(cid))
        self._need(caller, repo, self._issue_areas(repo.issues[c.number]), "read")
        content = query.get("content")
        items = [self._reaction_json(r) for r in c.reactions if not content or r.content == content]
        return self._page(f"/repos/{repo.full_name}/issues/comments/{c.id}/reactions", query, items)

    def _create_reaction(
        self, caller: _Caller, query: dict[str, str], body: Any, cid: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        c = self._comment_state(repo, int(cid))
        self._need(caller, repo, self._issue_areas(repo.issues[c.number]), "write")
        content = _as_object(body).get("content")
        if content not in REACTION_CONTENTS:
            raise _validation(
                [{"resource": "Reaction", "code": "invalid", "field": "content"}],
                doc=f"{DOCS}/reactions/reactions#create-reaction-for-an-issue-comment",
            )
        assert caller.login is not None
        for r in c.reactions:
            if r.user.lower() == caller.login.lower() and r.content == content:
                return _Resp(200, self._reaction_json(r))
        reaction = _Reaction(self._next_id(), self._login(caller.login), content, self._now())
        c.reactions.append(reaction)
        return _Resp(201, self._reaction_json(reaction))

    # ---------------------------------------------------------------- handlers: labels

    def _list_issue_labels(
        self, caller: _Caller, query: dict[str, str], body: Any, number: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        issue = self._issue_state(repo, int(number))
        self._need(caller, repo, self._issue_areas(issue), "read")
        items = [self._label_json(repo, n) for n in issue.labels]
        return self._page(f"/repos/{repo.full_name}/issues/{issue.number}/labels", query, items)

    def _add_labels(
        self, caller: _Caller, query: dict[str, str], body: Any, number: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        issue = self._issue_state(repo, int(number))
        self._need(caller, repo, self._issue_areas(issue), "write")
        if not caller.token or not (
            caller.token.installation
            or ROLES.index(self._role(repo, caller.login)) >= ROLES.index("triage")
        ):
            raise ApiError(403, "Must have admin rights to Repository.")
        names = body.get("labels") if isinstance(body, dict) else body
        if not isinstance(names, list) or not names:
            raise _validation([{"resource": "Label", "code": "missing_field", "field": "labels"}])
        for name in names:
            self._attach_label(repo, issue, name if isinstance(name, str) else name["name"])
        issue.updated_at = self._now()
        return _Resp(200, [self._label_json(repo, n) for n in issue.labels])

    def _remove_label(
        self,
        caller: _Caller,
        query: dict[str, str],
        body: Any,
        number: str,
        label: str,
        **kw: str,
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        issue = self._issue_state(repo, int(number))
        self._need(caller, repo, self._issue_areas(issue), "write")
        kept = [n for n in issue.labels if n.lower() != label.lower()]
        if len(kept) == len(issue.labels):
            raise ApiError(404, "Label does not exist")
        issue.labels = kept
        return _Resp(200, [self._label_json(repo, n) for n in issue.labels])

    def _list_repo_labels(
        self, caller: _Caller, query: dict[str, str], body: Any, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        items = [self._label_json(repo, lb.name) for lb in repo.labels.values()]
        return self._page(f"/repos/{repo.full_name}/labels", query, items)

    # ---------------------------------------------------------------- handlers: pulls

    def _list_pulls(self, caller: _Caller, query: dict[str, str], body: Any, **kw: str) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        self._need(caller, repo, ("pull-requests",), "read")
        state = query.get("state", "open")
        head = query.get("head", "")
        base = query.get("base", "")
        sort = query.get("sort", "created")
        direction = query.get("direction", "desc" if sort == "created" else "asc")
        pulls = [i for i in repo.issues.values() if i.is_pr]
        if state != "all":
            pulls = [p for p in pulls if p.state == state]
        if head:
            owner, colon, ref = head.partition(":")
            for p in list(pulls):
                head_owner = self._repos[p.head_repo.lower()].owner.lower()
                if head_owner != owner.lower() or (colon and p.head_ref != ref):
                    pulls.remove(p)
        if base:
            pulls = [p for p in pulls if p.base_ref == base]
        key = (lambda p: p.updated_at) if sort in ("updated", "long-running") else None
        pulls.sort(key=key or (lambda p: p.number), reverse=direction == "desc")
        items = [self._pull_json(repo, p, full=False) for p in pulls]
        return self._page(f"/repos/{repo.full_name}/pulls", query, items)

    def _create_pull(self, caller: _Caller, query: dict[str, str], body: Any, **kw: str) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        self._need(caller, repo, ("pull-requests",), "write")
        doc = f"{DOCS}/pulls/pulls#create-a-pull-request"
        token = caller.token
        assert token is not None and caller.login is not None
        if (
            token.installation
            and token.login == ACTIONS_BOT_LOGIN
            and not repo.actions_can_create_prs
        ):
            raise ApiError(
                403, "GitHub Actions is not permitted to create or approve pull requests.", doc=doc
            )
        data = _as_object(body)
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            raise _validation(
                [{"resource": "PullRequest", "code": "missing_field", "field": "title"}], doc
            )
        head = data.get("head")
        base = data.get("base")
        if not isinstance(head, str) or not head:
            raise _validation(
                [{"resource": "PullRequest", "code": "missing_field", "field": "head"}], doc
            )
        if not isinstance(base, str) or not base:
            raise _validation(
                [{"resource": "PullRequest", "code": "missing_field", "field": "base"}], doc
            )
        head_owner, colon, head_ref = head.partition(":")
        if not colon:
            head_owner, head_ref = repo.owner, head
        head_repo = self._head_repo(repo, head_owner, data.get("head_repo"))
        base_sha = self._ref_sha(repo, base)
        if not self._branch_exists(repo, base):
            raise _validation(
                [{"resource": "PullRequest", "field": "base", "code": "invalid"}], doc
            )
        if head_repo is None or not self._branch_exists(head_repo, head_ref):
            raise _validation(
                [{"resource": "PullRequest", "field": "head", "code": "invalid"}], doc
            )
        for other in repo.issues.values():
            if (
                other.is_pr
                and other.state == "open"
                and other.head_repo.lower() == head_repo.full_name.lower()
                and other.head_ref == head_ref
                and other.base_ref == base
            ):
                msg = f"A pull request already exists for {head_repo.owner}:{head_ref}."
                raise _validation(
                    [{"resource": "PullRequest", "code": "custom", "message": msg}], doc
                )
        head_sha = self._ref_sha(head_repo, head_ref)
        if (
            head_sha
            and base_sha
            and head_repo.git_dir == repo.git_dir
            and not self._has_commits_between(repo, base_sha, head_sha)
        ):
            msg = f"No commits between {base} and {head_ref}"
            raise _validation([{"resource": "PullRequest", "code": "custom", "message": msg}], doc)
        text = _body_field(data.get("body"), "PullRequest")
        pr = self._new_issue(repo, title, text, self._login(caller.login))
        pr.is_pr = True
        pr.pr_id = self._next_id()
        pr.head_repo = head_repo.full_name
        pr.head_ref = head_ref
        pr.base_ref = base
        pr.head_sha = head_sha or _fake_sha(head_repo.full_name, head_ref)
        pr.base_sha = base_sha or _fake_sha(repo.full_name, base)
        pr.draft = bool(data.get("draft", False))
        pr.maintainer_can_modify = bool(data.get("maintainer_can_modify", False))
        headers = {"Location": f"{self.api_url}/repos/{repo.full_name}/pulls/{pr.number}"}
        return _Resp(201, self._pull_json(repo, pr, full=True), headers)

    def _head_repo(self, repo: _Repo, owner: str, head_repo: Any) -> _Repo | None:
        if isinstance(head_repo, str) and head_repo:
            return self._repos.get(f"{owner}/{head_repo}".lower())
        if owner.lower() == repo.owner.lower():
            return repo
        return self._repos.get(f"{owner}/{repo.name}".lower())

    def _get_pull(
        self, caller: _Caller, query: dict[str, str], body: Any, number: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        self._need(caller, repo, ("pull-requests",), "read")
        pr = self._pull_state(repo, int(number))
        return _Resp(200, self._pull_json(repo, pr, full=True))

    def _edit_pull(
        self, caller: _Caller, query: dict[str, str], body: Any, number: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        self._need(caller, repo, ("pull-requests",), "write")
        pr = self._pull_state(repo, int(number))
        self._require_author_or_moderator(caller, repo, pr.user)
        data = _as_object(body)
        doc = f"{DOCS}/pulls/pulls#update-a-pull-request"
        if "title" in data:
            if not isinstance(data["title"], str) or not data["title"].strip():
                raise _validation(
                    [{"resource": "PullRequest", "code": "missing_field", "field": "title"}], doc
                )
            pr.title = data["title"]
        if "body" in data:
            pr.body = _body_field(data["body"], "PullRequest")
        if "base" in data:
            if not isinstance(data["base"], str) or not self._branch_exists(repo, data["base"]):
                raise _validation(
                    [{"resource": "PullRequest", "field": "base", "code": "invalid"}], doc
                )
            pr.base_ref = data["base"]
            pr.base_sha = self._ref_sha(repo, pr.base_ref) or pr.base_sha
        if "maintainer_can_modify" in data:
            pr.maintainer_can_modify = bool(data["maintainer_can_modify"])
        if data.get("state") == "closed":
            self._close(repo, pr)
        elif data.get("state") == "open" and pr.state == "closed" and not pr.merged:
            for other in repo.issues.values():
                if (
                    other is not pr
                    and other.is_pr
                    and other.state == "open"
                    and other.head_repo == pr.head_repo
                    and other.head_ref == pr.head_ref
                ):
                    msg = f"A pull request already exists for {pr.head_repo.split('/')[0]}:"
                    msg += f"{pr.head_ref}."
                    raise _validation(
                        [{"resource": "PullRequest", "code": "custom", "message": msg}], doc
                    )
            pr.state, pr.closed_at = "open", None
        pr.updated_at = self._now()
        return _Resp(200, self._pull_json(repo, pr, full=True))

    def _get_merged(
        self, caller: _Caller, query: dict[str, str], body: Any, number: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        self._need(caller, repo, ("pull-requests",), "read")
        pr = self._pull_state(repo, int(number))
        if not pr.merged:
            raise _not_found()
        return _Resp(204, None)

    def _list_reviews(
        self, caller: _Caller, query: dict[str, str], body: Any, number: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        self._need(caller, repo, ("pull-requests",), "read")
        pr = self._pull_state(repo, int(number))
        items = [self._review_json(repo, self._reviews[r]) for r in pr.review_ids]
        return self._page(f"/repos/{repo.full_name}/pulls/{pr.number}/reviews", query, items)

    def _review_of(self, repo: _Repo, number: str, rid: str) -> _Review:
        pr = self._pull_state(repo, int(number))
        review = self._reviews.get(int(rid))
        if review is None or review.id not in pr.review_ids:
            raise _not_found()
        return review

    def _get_review(
        self,
        caller: _Caller,
        query: dict[str, str],
        body: Any,
        number: str,
        rid: str,
        **kw: str,
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        self._need(caller, repo, ("pull-requests",), "read")
        return _Resp(200, self._review_json(repo, self._review_of(repo, number, rid)))

    def _list_review_comments(
        self,
        caller: _Caller,
        query: dict[str, str],
        body: Any,
        number: str,
        rid: str,
        **kw: str,
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        self._need(caller, repo, ("pull-requests",), "read")
        review = self._review_of(repo, number, rid)
        items = [
            self._review_comment_json(repo, self._review_comments[c]) for c in review.comment_ids
        ]
        path = f"/repos/{repo.full_name}/pulls/{review.number}/reviews/{review.id}/comments"
        return self._page(path, query, items)

    def _list_pull_comments(
        self, caller: _Caller, query: dict[str, str], body: Any, number: str, **kw: str
    ) -> _Resp:
        repo = self._repo_for(caller, kw["owner"], kw["name"])
        self._need(caller, repo, ("pull-requests",), "read")
        pr = self._pull_state(repo, int(number))
        items = [
            self._review_comment_json(repo, self._review_comments[c])
            for r in pr.review_ids
            for c in self._reviews[r].comment_ids
        ]
        return self._page(f"/repos/{repo.full_name}/pulls/{pr.number}/comments", query, items)


# ----------------------------------------------------------------------------- HTTP layer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GitHub.com"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fake: FakeGitHub = self.server.fake  # type: ignore[attr-defined]
        status, headers, payload = fake.dispatch(self.command, self.path, dict(self.headers), raw)
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in headers.items():
            if payload is None and name.lower() == "content-type":
                continue
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return


# ----------------------------------------------------------------------------- origin helpers

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` with a fixed identity; returns stripped stdout (raises on failure)."""
    out = subprocess.run(
        ["git", "-C", str(cwd), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **_GIT_ENV},
    )
    return out.stdout.strip()


def make_origin(root: Path, *, branch: str = "main") -> tuple[Path, Path]:
    """Create ``root/origin.git`` (bare, acting as GitHub's copy) with one commit on ``branch``,
    and ``root/work``, a clone-like work tree to push from. Returns (bare, work)."""
    bare = root / "origin.git"
    work = root / "work"
    git(root, "init", "-q", "--bare", "-b", branch, str(bare))
    git(root, "init", "-q", "-b", branch, str(work))
    (work / "app.py").write_text("x = 1\n")
    git(work, "add", "app.py")
    git(work, "commit", "-q", "-m", "init")
    git(work, "push", "-q", str(bare), branch)
    return bare, work


def push_branch(
    work: Path, bare: Path, branch: str, content: str = "x = 2\n", *, base: str = "main"
) -> str:
    """Commit ``content`` into app.py on ``branch`` (from ``base``) and force-push it to
    ``bare``. Returns the new commit sha."""
    git(work, "checkout", "-q", "-B", branch, base)
    (work / "app.py").write_text(content)
    git(work, "commit", "-q", "-am", f"change on {branch}")
    git(work, "push", "-q", "-f", str(bare), branch)
    return git(work, "rev-parse", "HEAD")


# ----------------------------------------------------------------------------- small helpers


def _node_id(prefix: str, n: int) -> str:
    return f"{prefix}_kw{n:08d}"


def _fake_sha(*parts: str) -> str:
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()


def _as_object(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, "Problems parsing JSON")
    return body


def _body_field(value: Any, resource: str, *, required: bool = False) -> str | None:
    """Validate a markdown body the way GitHub does (type, blank, 65536-character cap)."""
    if value is None or value == "":
        if required:
            raise _validation([{"resource": resource, "code": "missing_field", "field": "body"}])
        return None
    if not isinstance(value, str):
        raise _validation([{"resource": resource, "code": "invalid", "field": "body"}])
    if len(value) > _MAX_BODY:
        raise _validation(
            [
                {
                    "resource": resource,
                    "code": "custom",
                    "field": "body",
                    "message": f"body is too long (maximum is {_MAX_BODY} characters)",
                }
            ]
        )
    return value
