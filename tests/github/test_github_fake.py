"""The fake GitHub speaks GitHub's wire format: checked with raw HTTP and with PyGithub itself."""

from __future__ import annotations

import http.client
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fakes.github_server import (
    ACTIONS_BOT_ID,
    ACTIONS_BOT_LOGIN,
    FakeGitHub,
    git,
    make_origin,
    push_branch,
)

REPO = "octo/app"


def call(
    gh: FakeGitHub,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    scheme: str = "token",
) -> tuple[int, dict[str, str], Any]:
    """One raw HTTP request to the fake's API; returns (status, lower-cased headers, JSON)."""
    parts = urlsplit(gh.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    headers = {"User-Agent": "test", "Accept": "application/vnd.github+json"}
    if token:
        headers["Authorization"] = f"{scheme} {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, "/api/v3" + path, body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    hdrs = {k.lower(): v for k, v in resp.getheaders()}
    return resp.status, hdrs, json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def origin_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("origin")
    make_origin(root)
    return root


@pytest.fixture()
def origin(origin_template: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A fresh copy of a bare origin (main: one commit) and its work tree."""
    root = tmp_path / "repo"
    shutil.copytree(origin_template, root, symlinks=True)
    return root / "origin.git", root / "work"


@pytest.fixture()
def gh(origin: tuple[Path, Path]) -> Iterator[FakeGitHub]:
    bare, _ = origin
    with FakeGitHub(git_dir=bare) as fake:
        fake.add_repo(REPO)
        fake.add_user("alice")
        fake.set_permission(REPO, "alice", "write")
        fake.add_token("pat_alice", "alice")
        fake.add_actions_token("ghs_actions")
        yield fake


# ----------------------------------------------------------------------------- auth


def test_anonymous_reads_public_repo_but_cannot_write(gh: FakeGitHub) -> None:
    status, _, repo = call(gh, "GET", f"/repos/{REPO}")
    assert status == 200
    assert repo["full_name"] == REPO and repo["default_branch"] == "main"
    assert repo["url"] == f"{gh.api_url}/repos/{REPO}"
    number = gh.create_issue(REPO, "t", as_user="alice")
    status, _, err = call(gh, "POST", f"/repos/{REPO}/issues/{number}/comments", body={"body": "x"})
    assert status == 401 and err["message"] == "Requires authentication"


def test_bad_token_is_401_bad_credentials_and_bearer_works(gh: FakeGitHub) -> None:
    status, _, err = call(gh, "GET", f"/repos/{REPO}", token="nope")
    assert (status, err["message"]) == (401, "Bad credentials")
    assert "documentation_url" in err
    status, _, _ = call(gh, "GET", f"/repos/{REPO}", token="pat_alice", scheme="Bearer")
    assert status == 200


def test_private_repo_is_404_to_outsiders(gh: FakeGitHub) -> None:
    gh.add_repo("octo/secret", private=True)
    gh.add_token("pat_bob", "bob")
    assert call(gh, "GET", "/repos/octo/secret")[0] == 404
    assert call(gh, "GET", "/repos/octo/secret", token="pat_bob")[0] == 404
    gh.set_permission("octo/secret", "bob", "read")
    status, _, repo = call(gh, "GET", "/repos/octo/secret", token="pat_bob")
    assert status == 200 and repo["private"] is True and repo["permissions"]["push"] is False


def test_missing_scope_is_403_not_accessible_by_integration(gh: FakeGitHub) -> None:
    gh.add_token("ghs_ro", ACTIONS_BOT_LOGIN, installation=True, permissions={"issues": "read"})
    number = gh.create_issue(REPO, "t", as_user="alice")
    status, hdrs, err = call(
        gh, "POST", f"/repos/{REPO}/issues/{number}/comments", token="ghs_ro", body={"body": "x"}
    )
    assert status == 403
    assert err["message"] == "Resource not accessible by integration"
    assert err["documentation_url"].startswith("https://docs.github.com/")
    assert hdrs["x-accepted-github-permissions"] == "issues=write"
    status, hdrs, _ = call(gh, "GET", f"/repos/{REPO}/pulls", token="ghs_ro")
    assert status == 403 and hdrs["x-accepted-github-permissions"] == "pull_requests=read"
    # reading issues is allowed
    assert call(gh, "GET", f"/repos/{REPO}/issues/{number}", token="ghs_ro")[0] == 200


def test_get_user_refused_to_installation_tokens(gh: FakeGitHub) -> None:
    status, _, err = call(gh, "GET", "/user", token="ghs_actions")
    assert (status, err["message"]) == (403, "Resource not accessible by integration")
    status, hdrs, me = call(gh, "GET", "/user", token="pat_alice")
    assert status == 200 and me["login"] == "alice" and me["type"] == "User"
    assert "x-ratelimit-remaining" in hdrs and "x-oauth-scopes" in hdrs


# ----------------------------------------------------------------------------- permissions


@pytest.mark.parametrize(
    ("role", "legacy"),
    [
        ("admin", "admin"),
        ("maintain", "write"),
        ("write", "write"),
        ("triage", "read"),
        ("read", "read"),
    ],
)
def test_collaborator_permission_payload(gh: FakeGitHub, role: str, legacy: str) -> None:
    gh.set_permission(REPO, "carol", role)
    status, _, data = call(
        gh, "GET", f"/repos/{REPO}/collaborators/carol/permission", token="ghs_actions"
    )
    assert status == 200
    assert (data["permission"], data["role_name"]) == (legacy, role)
    assert data["user"]["login"] == "carol"


def test_permission_of_unknown_user_is_404_and_outsider_reads(gh: FakeGitHub) -> None:
    path = f"/repos/{REPO}/collaborators/ghost-user/permission"
    assert call(gh, "GET", path, token="ghs_actions")[0] == 404
    gh.add_user("dave")
    status, _, data = call(
        gh, "GET", f"/repos/{REPO}/collaborators/dave/permission", token="ghs_actions"
    )
    assert status == 200 and data["permission"] == "read"  # public repository


def test_bot_login_is_url_encoded_in_path(gh: FakeGitHub) -> None:
    path = f"/repos/{REPO}/collaborators/github-actions%5Bbot%5D/permission"
    status, _, data = call(gh, "GET", path, token="ghs_actions")
    assert status == 200 and data["user"]["id"] == ACTIONS_BOT_ID
    assert data["user"]["type"] == "Bot"


# ----------------------------------------------------------------------------- pagination


def test_link_header_pagination(gh: FakeGitHub) -> None:
    number = gh.create_issue(REPO, "t", as_user="alice")
    for i in range(75):
        gh.add_comment(REPO, number, f"c{i}", as_user="alice")
    base = f"/repos/{REPO}/issues/{number}/comments"
    status, hdrs, page1 = call(gh, "GET", base, token="pat_alice")
    assert status == 200 and len(page1) == 30
    url = f"{gh.api_url}{base}"
    assert hdrs["link"] == f'<{url}?page=2>; rel="next", <{url}?page=3>; rel="last"'
    status, hdrs, page2 = call(gh, "GET", base + "?page=2", token="pat_alice")
    assert [c["body"] for c in page2][:1] == ["c30"]
    assert 'rel="prev"' in hdrs["link"] and 'rel="first"' in hdrs["link"]
    status, hdrs, page3 = call(gh, "GET", base + "?page=3&per_page=30", token="pat_alice")
    assert len(page3) == 15 and 'rel="next"' not in hdrs["link"]
    status, hdrs, big = call(gh, "GET", base + "?per_page=500", token="pat_alice")
    assert len(big) == 75 and "link" not in hdrs  # per_page is capped at 100


def test_pygithub_iterates_all_pages(gh: FakeGitHub) -> None:
    import github

    number = gh.create_issue(REPO, "t", as_user="alice")
    for i in range(65):
        gh.add_comment(REPO, number, f"c{i}", as_user="alice")
    g = github.Github(
        auth=github.Auth.Token("pat_alice"),
        base_url=gh.api_url,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    comments = list(g.get_repo(REPO).get_issue(number).get_comments())
    assert [c.body for c in comments] == [f"c{i}" for i in range(65)]
    assert len(gh.requests_to("GET", r"/issues/\d+/comments$")) == 3
    g.close()


# ----------------------------------------------------------------------------- pull requests


def test_pull_request_lifecycle_against_origin(gh: FakeGitHub, origin: tuple[Path, Path]) -> None:
    bare, work = origin
    sha = push_branch(work, bare, "ratchet/t1")
    body = {"title": "T", "head": "ratchet/t1", "base": "main", "body": "b"}
    status, hdrs, pr = call(gh, "POST", f"/repos/{REPO}/pulls", token="ghs_actions", body=body)
    assert status == 201
    assert hdrs["location"] == pr["url"]
    assert pr["head"]["sha"] == sha and pr["head"]["ref"] == "ratchet/t1"
    assert pr["head"]["label"] == "octo:ratchet/t1"
    assert pr["head"]["repo"]["full_name"] == REPO
    assert pr["base"]["sha"] == git(work, "rev-parse", "main")
    assert pr["user"]["login"] == ACTIONS_BOT_LOGIN and pr["merged"] is False
    assert pr["commits"] == 1
    # a second push shows up as the new head sha of the open PR
    new_sha = push_branch(work, bare, "ratchet/t1", "x = 3\n")
    status, _, again = call(gh, "GET", f"/repos/{REPO}/pulls/{pr['number']}", token="pat_alice")
    assert again["head"]["sha"] == new_sha != sha
    # duplicate
    status, _, err = call(gh, "POST", f"/repos/{REPO}/pulls", token="ghs_actions", body=body)
    assert status == 422 and err["message"] == "Validation Failed"
    assert err["errors"][0]["message"] == "A pull request already exists for octo:ratchet/t1."
    # the PR is also an issue
    status, _, as_issue = call(gh, "GET", f"/repos/{REPO}/issues/{pr['number']}", token="pat_alice")
    assert as_issue["pull_request"]["url"] == pr["url"]
    # merge
    gh.merge_pr(REPO, pr["number"])
    status, _, merged = call(gh, "GET", f"/repos/{REPO}/pulls/{pr['number']}", token="pat_alice")
    assert (merged["state"], merged["merged"]) == ("closed", True)
    assert merged["merged_at"] is not None and merged["head"]["sha"] == new_sha
    assert call(gh, "GET", f"/repos/{REPO}/pulls/{pr['number']}/merge", token="pat_alice")[0] == 204


def test_pull_request_validation_errors(gh: FakeGitHub, origin: tuple[Path, Path]) -> None:
    bare, work = origin
    body = {"title": "T", "head": "not-pushed", "base": "main"}
    status, _, err = call(gh, "POST", f"/repos/{REPO}/pulls", token="ghs_actions", body=body)
    assert status == 422
    assert err["errors"] == [{"resource": "PullRequest", "field": "head", "code": "invalid"}]
    push_branch(work, bare, "feature")
    body = {"title": "T", "head": "feature", "base": "nope"}
    status, _, err = call(gh, "POST", f"/repos/{REPO}/pulls", token="ghs_actions", body=body)
    assert err["errors"][0]["field"] == "base"
    # a branch with nothing new
    git(work, "push", "-q", str(bare), "main:refs/heads/same")
    body = {"title": "T", "head": "same", "base": "main"}
    status, _, err = call(gh, "POST", f"/repos/{REPO}/pulls", token="ghs_actions", body=body)
    assert status == 422 and err["errors"][0]["message"] == "No commits between main and same"
    body = {"head": "feature", "base": "main"}
    status, _, err = call(gh, "POST", f"/repos/{REPO}/pulls", token="ghs_actions", body=body)
    assert err["errors"][0] == {
        "resource": "PullRequest",
        "code": "missing_field",
        "field": "title",
    }


def test_actions_may_not_create_prs_when_setting_is_off(
    gh: FakeGitHub, origin: tuple[Path, Path]
) -> None:
    bare, work = origin
    push_branch(work, bare, "feature")
    gh.update_repo(REPO, actions_can_create_prs=False)
    body = {"title": "T", "head": "feature", "base": "main"}
    status, _, err = call(gh, "POST", f"/repos/{REPO}/pulls", token="ghs_actions", body=body)
    assert status == 403
    assert err["message"] == "GitHub Actions is not permitted to create or approve pull requests."
    # a person's token still may
    assert call(gh, "POST", f"/repos/{REPO}/pulls", token="pat_alice", body=body)[0] == 201


def test_list_pulls_filters(gh: FakeGitHub, origin: tuple[Path, Path]) -> None:
    bare, work = origin
    gh.add_repo("alice/app", parent=REPO)
    a = gh.open_pr(REPO, head="ratchet/a", as_user=ACTIONS_BOT_LOGIN)
    b = gh.open_pr(REPO, head="ratchet/b", as_user=ACTIONS_BOT_LOGIN)
    f = gh.open_pr(REPO, head="ratchet/a", head_repo="alice/app", as_user="alice")
    gh.close_pr(REPO, b)

    def numbers(query: str) -> list[int]:
        status, _, pulls = call(gh, "GET", f"/repos/{REPO}/pulls{query}", token="pat_alice")
        assert status == 200
        return [p["number"] for p in pulls]

    assert numbers("") == [f, a]  # open, newest first
    assert numbers("?state=all") == [f, b, a]
    assert numbers("?state=closed") == [b]
    assert numbers("?head=octo:ratchet/a") == [a]
    assert numbers("?head=alice:ratchet/a") == [f]
    assert numbers("?state=all&base=main&direction=asc") == [a, b, f]
    status, _, fork_pr = call(gh, "GET", f"/repos/{REPO}/pulls/{f}", token="pat_alice")
    assert fork_pr["head"]["repo"]["fork"] is True
    assert fork_pr["head"]["repo"]["full_name"] == "alice/app"
    # simple listing omits the full-only fields, as GitHub does
    status, _, listed = call(gh, "GET", f"/repos/{REPO}/pulls", token="pat_alice")
    assert "merged" not in listed[0] and "merged_at" in listed[0]


# ----------------------------------------------------------------------------- comments, reactions


def test_comment_crud_and_reactions(gh: FakeGitHub) -> None:
    number = gh.create_issue(REPO, "t", as_user="alice")
    path = f"/repos/{REPO}/issues/{number}/comments"
    status, _, c = call(gh, "POST", path, token="ghs_actions", body={"body": "hi"})
    assert status == 201 and c["user"]["login"] == ACTIONS_BOT_LOGIN
    assert c["html_url"].endswith(f"/octo/app/issues/{number}#issuecomment-{c['id']}")
    cpath = f"/repos/{REPO}/issues/comments/{c['id']}"
    status, _, edited = call(gh, "PATCH", cpath, token="ghs_actions", body={"body": "bye"})
    assert status == 200 and edited["body"] == "bye"
    assert edited["updated_at"] > edited["created_at"]
    status, _, r = call(
        gh, "POST", cpath + "/reactions", token="ghs_actions", body={"content": "eyes"}
    )
    assert status == 201 and r["content"] == "eyes"
    status, _, r2 = call(
        gh, "POST", cpath + "/reactions", token="ghs_actions", body={"content": "eyes"}
    )
    assert status == 200 and r2["id"] == r["id"]
    status, _, err = call(
        gh, "POST", cpath + "/reactions", token="ghs_actions", body={"content": "party"}
    )
    assert status == 422
    status, _, got = call(gh, "GET", cpath, token="pat_alice")
    assert got["reactions"]["eyes"] == 1 and got["reactions"]["total_count"] == 1
    assert call(gh, "DELETE", cpath, token="ghs_actions")[0] == 204
    assert call(gh, "GET", cpath, token="pat_alice")[0] == 404
    assert gh.comments(REPO, number) == []


def test_people_cannot_edit_others_comments_without_write(gh: FakeGitHub) -> None:
    number = gh.create_issue(REPO, "t", as_user="alice")
    cid = gh.add_comment(REPO, number, "mine", as_user="alice")
    gh.add_token("pat_eve", "eve")
    cpath = f"/repos/{REPO}/issues/comments/{cid}"
    assert call(gh, "PATCH", cpath, token="pat_eve", body={"body": "pwned"})[0] == 403
    assert call(gh, "PATCH", cpath, token="pat_alice", body={"body": "ok"})[0] == 200


def test_comment_body_limits(gh: FakeGitHub) -> None:
    number = gh.create_issue(REPO, "t", as_user="alice")
    path = f"/repos/{REPO}/issues/{number}/comments"
    status, _, err = call(gh, "POST", path, token="ghs_actions", body={"body": "x" * 65537})
    assert status == 422 and "too long" in err["errors"][0]["message"]
    status, _, err = call(gh, "POST", path, token="ghs_actions", body={"body": ""})
    assert status == 422


def test_issues_create_edit_and_labels(gh: FakeGitHub) -> None:
    status, _, issue = call(
        gh,
        "POST",
        f"/repos/{REPO}/issues",
        token="pat_alice",
        body={"title": "Bug", "body": "b", "labels": ["bug"]},
    )
    assert status == 201 and [lb["name"] for lb in issue["labels"]] == ["bug"]
    n = issue["number"]
    status, _, labels = call(
        gh,
        "POST",
        f"/repos/{REPO}/issues/{n}/labels",
        token="ghs_actions",
        body={"labels": ["ratchet"]},
    )
    assert [lb["name"] for lb in labels] == ["bug", "ratchet"]
    status, _, edited = call(
        gh, "PATCH", f"/repos/{REPO}/issues/{n}", token="pat_alice", body={"state": "closed"}
    )
    assert edited["state"] == "closed" and edited["closed_at"] and "pull_request" not in edited
    status, _, listed = call(gh, "GET", f"/repos/{REPO}/issues?state=all", token="pat_alice")
    assert [i["number"] for i in listed] == [n]


def test_reviews_and_review_comments(gh: FakeGitHub) -> None:
    n = gh.open_pr(REPO, head="ratchet/x", as_user=ACTIONS_BOT_LOGIN)
    rid = gh.submit_review(
        REPO,
        n,
        as_user="alice",
        state="CHANGES_REQUESTED",
        body="please",
        comments=[("app.py", 1, "rename"), ("README.md", None, "whole file")],
    )
    status, _, reviews = call(gh, "GET", f"/repos/{REPO}/pulls/{n}/reviews", token="pat_alice")
    assert [(r["id"], r["state"]) for r in reviews] == [(rid, "CHANGES_REQUESTED")]
    status, _, comments = call(
        gh, "GET", f"/repos/{REPO}/pulls/{n}/reviews/{rid}/comments", token="pat_alice"
    )
    assert [(c["path"], c["line"], c["body"]) for c in comments] == [
        ("app.py", 1, "rename"),
        ("README.md", None, "whole file"),
    ]
    assert comments[0]["pull_request_review_id"] == rid
    status, _, all_comments = call(
        gh, "GET", f"/repos/{REPO}/pulls/{n}/comments", token="pat_alice"
    )
    assert len(all_comments) == 2
    assert call(gh, "GET", f"/repos/{REPO}/pulls/{n}/reviews/999", token="pat_alice")[0] == 404


# ----------------------------------------------------------------------------- faults, recording


def test_fault_injection_and_recording(gh: FakeGitHub) -> None:
    gh.fail_next(2, 503)
    assert call(gh, "GET", f"/repos/{REPO}", token="pat_alice")[0] == 503
    assert call(gh, "GET", f"/repos/{REPO}", token="pat_alice")[0] == 503
    assert call(gh, "GET", f"/repos/{REPO}", token="pat_alice")[0] == 200
    gh.secondary_rate_limit_next(retry_after=1)
    status, hdrs, err = call(gh, "GET", f"/repos/{REPO}", token="pat_alice")
    assert status == 403 and hdrs["retry-after"] == "1"
    assert err["message"].startswith("You have exceeded a secondary rate limit")
    gh.too_many_requests_next(retry_after=1)
    assert call(gh, "GET", f"/repos/{REPO}", token="pat_alice")[0] == 429
    gh.fail_next(1, 500, method="POST")
    assert call(gh, "GET", f"/repos/{REPO}", token="pat_alice")[0] == 200
    assert [r.status for r in gh.requests] == [503, 503, 200, 403, 429, 200]
    assert gh.requests[0].headers["authorization"] == "token pat_alice"
    assert gh.requests[0].path == f"/api/v3/repos/{REPO}"
