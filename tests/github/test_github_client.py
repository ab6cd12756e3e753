"""GitHubClient (real PyGithub underneath) against the fake GitHub on loopback."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from ratchet.errors import ConfigError, RatchetError
from ratchet.github.client import (
    GitHubClient,
    GitHubError,
    PullInfo,
    _accepted_permissions,
    task_marker,
)
from tests.fakes.github_server import ACTIONS_BOT_LOGIN, FakeGitHub, git, make_origin, push_branch

REPO = "octo/app"
STICKY = "<!-- ratchet:sticky=issue-1 -->"
Client = Callable[..., GitHubClient]


@pytest.fixture(scope="module")
def origin_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("origin")
    bare, work = make_origin(root)
    push_branch(work, bare, "ratchet/t1")
    return root


@pytest.fixture()
def origin(origin_template: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A fresh bare origin (``main`` and a pushed ``ratchet/t1``) and its work tree."""
    root = tmp_path / "repo"
    shutil.copytree(origin_template, root, symlinks=True)
    return root / "origin.git", root / "work"


@pytest.fixture()
def gh(origin: tuple[Path, Path]) -> Iterator[FakeGitHub]:
    bare, _ = origin
    with FakeGitHub(git_dir=bare) as fake:
        fake.add_repo(REPO)
        fake.add_actions_token("ghs_actions")
        for login, role in (("alice", "write"), ("rita", "read"), ("mona", "maintain")):
            fake.set_permission(REPO, login, role)
        fake.add_user("nora")
        fake.add_token("pat_alice", "alice")
        yield fake


@pytest.fixture()
def client(gh: FakeGitHub) -> Iterator[Client]:
    made: list[GitHubClient] = []

    def make(token: str = "ghs_actions", **kw: object) -> GitHubClient:
        opts: dict[str, object] = {
            "api_url": gh.api_url,
            "retry_total": 3,
            "backoff": 0.01,
            "timeout": 5,
            "secondary_rate_wait": 0.05,
            "max_wait": 5,
            "seconds_between_requests": 0,
            "seconds_between_writes": 0,
        }
        opts.update(kw)
        c = GitHubClient(token, REPO, **opts)  # type: ignore[arg-type]
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def open_prs(gh: FakeGitHub) -> list[dict[str, object]]:
    return gh.pulls(REPO, state="open")


# ----------------------------------------------------------------------------- construction


def test_importing_the_client_does_not_import_pygithub() -> None:
    code = "import sys, ratchet.github.client; print('github' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": "src"},
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("repo", ["", "octo", "octo/app/x", "-bad/app", "octo/a b"])
def test_malformed_repository_is_a_config_error(repo: str) -> None:
    with pytest.raises(ConfigError, match="owner/name"):
        GitHubClient("t", repo)


def test_missing_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="token"):
        GitHubClient("", REPO)


def test_github_error_is_a_ratchet_error() -> None:
    assert issubclass(GitHubError, RatchetError)


# ----------------------------------------------------------------------------- permission


@pytest.mark.parametrize(
    ("login", "expected"),
    [
        ("alice", "write"),
        ("rita", "read"),
        ("mona", "maintain"),
        ("octo", "admin"),
        ("nora", "read"),  # not a collaborator; public repository
        ("nobody-at-all", "none"),  # 404
    ],
)
def test_permission(client: Client, login: str, expected: str) -> None:
    assert client().permission(login) == expected


def test_permission_on_private_repository_for_outsider_is_none(
    gh: FakeGitHub, client: Client
) -> None:
    gh.update_repo(REPO, private=True)
    assert client().permission("nora") == "none"


def test_permission_of_a_bot_login(client: Client) -> None:
    assert client().permission(ACTIONS_BOT_LOGIN) == "read"


# ----------------------------------------------------------------------------- reactions


def test_react_adds_a_reaction(gh: FakeGitHub, client: Client) -> None:
    n = gh.create_issue(REPO, "t", as_user="alice")
    cid = gh.add_comment(REPO, n, "/agent next", as_user="alice")
    client().react(cid)
    client().react(cid, "rocket")
    assert [(r["content"], r["user"]["login"]) for r in gh.reactions(REPO, cid)] == [
        ("eyes", ACTIONS_BOT_LOGIN),
        ("rocket", ACTIONS_BOT_LOGIN),
    ]


def test_react_failure_is_only_a_warning(
    gh: FakeGitHub, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    gh.add_token("ghs_ro", ACTIONS_BOT_LOGIN, installation=True, permissions={"issues": "read"})
    n = gh.create_issue(REPO, "t", as_user="alice")
    cid = gh.add_comment(REPO, n, "hi", as_user="alice")
    with caplog.at_level(logging.WARNING, logger="ratchet.github"):
        client("ghs_ro").react(cid)
        client().react(999_999)
    assert gh.reactions(REPO, cid) == []
    messages = [r.getMessage() for r in caplog.records if r.name == "ratchet.github"]
    assert len(messages) == 2 and "issues: write" in messages[0]


# ----------------------------------------------------------------------------- issues


def test_issue_with_comments(gh: FakeGitHub, client: Client) -> None:
    n = gh.create_issue(REPO, "Add search", "Please add search.", as_user="alice", labels=["x"])
    c1 = gh.add_comment(REPO, n, "first", as_user="rita")
    c2 = gh.add_comment(REPO, n, "/agent next", as_user="alice")
    info = client().issue(n)
    assert (info.number, info.title, info.body, info.author) == (
        n,
        "Add search",
        "Please add search.",
        "alice",
    )
    assert (info.is_pr, info.state, info.labels, info.author_type) == (
        False,
        "open",
        ("x",),
        "User",
    )
    assert [(c.id, c.author, c.body) for c in info.comments] == [
        (c1, "rita", "first"),
        (c2, "alice", "/agent next"),
    ]
    first = info.comments[0]
    assert first.author_type == "User" and first.author_id > 0
    assert first.created_at.endswith("Z") and first.created_at <= info.comments[1].created_at


def test_issue_for_a_pull_request_number(gh: FakeGitHub, client: Client) -> None:
    n = gh.open_pr(REPO, head="ratchet/t1", as_user=ACTIONS_BOT_LOGIN)
    info = client().issue(n)
    assert info.is_pr is True and info.author == ACTIONS_BOT_LOGIN and info.author_type == "Bot"


@pytest.mark.parametrize(("count", "per_page"), [(35, 30), (150, 100)])
def test_issue_comments_are_paginated(
    gh: FakeGitHub, client: Client, count: int, per_page: int
) -> None:
    n = gh.create_issue(REPO, "t", as_user="alice")
    for i in range(count):
        gh.add_comment(REPO, n, f"c{i}", as_user="alice")
    info = client(per_page=per_page).issue(n)
    assert [c.body for c in info.comments] == [f"c{i}" for i in range(count)]
    assert len(gh.requests_to("GET", rf"/issues/{n}/comments$")) == 2


def test_missing_issue_is_not_found(client: Client) -> None:
    with pytest.raises(GitHubError, match="not found") as err:
        client().issue(404)
    assert err.value.status == 404 and err.value.hint


# ----------------------------------------------------------------------------- pull requests


def pr_body(key: str = "t1", text: str = "Ratchet's change") -> str:
    return f"{text}\n\n{task_marker(key)}"


def test_create_then_find_the_task_pr(gh: FakeGitHub, client: Client, origin: tuple) -> None:
    _, work = origin
    c = client()
    assert c.find_task_pr("t1", "ratchet/t1") is None
    pr = c.create_pr("ratchet/t1", "main", "Add search", pr_body())
    assert isinstance(pr, PullInfo)
    assert (pr.state, pr.merged, pr.head_ref, pr.base_ref) == ("open", False, "ratchet/t1", "main")
    assert pr.head_sha == git(work, "rev-parse", "ratchet/t1")
    assert pr.head_repo_full_name == REPO and pr.author == ACTIONS_BOT_LOGIN
    assert pr.url == f"{gh.url}/{REPO}/pull/{pr.number}"
    found = c.find_task_pr("t1", "ratchet/t1")
    assert found == pr
    assert len(open_prs(gh)) == 1


def test_duplicate_create_finds_and_updates_the_existing_pr(gh: FakeGitHub, client: Client) -> None:
    c = client()
    first = c.create_pr("ratchet/t1", "main", "Attempt 1", pr_body(text="one"))
    second = c.create_pr("ratchet/t1", "main", "Attempt 2", pr_body(text="two"))
    assert second.number == first.number
    assert second.title == "Attempt 2" and second.body.startswith("two")
    assert len(open_prs(gh)) == 1
    assert [r.status for r in gh.requests_to("POST", r"/pulls$")] == [201, 422]


def test_find_prefers_the_pr_with_the_task_marker(
    gh: FakeGitHub, client: Client, origin: tuple
) -> None:
    bare, work = origin
    git(work, "push", "-q", str(bare), "main:refs/heads/develop")
    marked = gh.open_pr(
        REPO, head="ratchet/t1", base="develop", body=pr_body(), as_user=ACTIONS_BOT_LOGIN
    )
    newer = gh.open_pr(REPO, head="ratchet/t1", base="main", body="no marker", as_user="alice")
    found = client().find_task_pr("t1", "ratchet/t1")
    assert found is not None and found.number == marked != newer


def test_find_ignores_closed_prs_and_fork_branches(gh: FakeGitHub, client: Client) -> None:
    closed = gh.open_pr(REPO, head="ratchet/t1", body=pr_body(), as_user=ACTIONS_BOT_LOGIN)
    gh.close_pr(REPO, closed)
    gh.add_repo("eve/app", parent=REPO)
    gh.open_pr(REPO, head="ratchet/t1", head_repo="eve/app", body=pr_body(), as_user="eve")
    assert client().find_task_pr("t1", "ratchet/t1") is None


def test_find_falls_back_to_the_branch_pr_without_marker(gh: FakeGitHub, client: Client) -> None:
    n = gh.open_pr(REPO, head="ratchet/t1", body="edited by a human", as_user=ACTIONS_BOT_LOGIN)
    found = client().find_task_pr("t1", "ratchet/t1")
    assert found is not None and found.number == n


def test_create_pr_for_unpushed_branch_says_so(client: Client) -> None:
    with pytest.raises(GitHubError) as err:
        client().create_pr("ratchet/never-pushed", "main", "T", pr_body())
    assert err.value.status == 422
    assert "head" in err.value.message and "push the branch" in err.value.hint


def test_update_pr_and_pull(gh: FakeGitHub, client: Client) -> None:
    c = client()
    pr = c.create_pr("ratchet/t1", "main", "Old", pr_body(), draft=True)
    assert pr.draft is True
    updated = c.update_pr(pr.number, title="New", body=pr_body(text="better"))
    assert (updated.title, updated.body) == ("New", pr_body(text="better"))
    assert c.update_pr(pr.number, body="only body " + task_marker("t1")).title == "New"
    assert c.update_pr(pr.number) == c.pull(pr.number)
    gh.merge_pr(REPO, pr.number)
    merged = c.pull(pr.number)
    assert (merged.state, merged.merged) == ("closed", True)


def test_pull_of_an_issue_number_is_not_found(gh: FakeGitHub, client: Client) -> None:
    n = gh.create_issue(REPO, "t", as_user="alice")
    with pytest.raises(GitHubError) as err:
        client().pull(n)
    assert err.value.status == 404


def test_pr_text_is_redacted_and_capped(gh: FakeGitHub, client: Client) -> None:
    secret = "s3cr3t-value-123456"
    c = client(redactor=lambda t: t.replace(secret, "***"))
    long_body = f"leak {secret}\n" + "y" * 70_000 + "\n" + task_marker("t1")
    pr = c.create_pr("ratchet/t1", "main", f"title {secret}", long_body)
    stored = gh.pulls(REPO)[0]
    assert secret not in stored["title"] and secret not in stored["body"]
    assert len(stored["body"]) <= 60_000 and task_marker("t1") in stored["body"]
    assert c.find_task_pr("t1", "ratchet/t1") == pr


def test_default_redactor_masks_the_token_itself(gh: FakeGitHub, client: Client) -> None:
    token = "ghs_" + "A" * 36
    gh.add_actions_token(token)
    n = gh.create_issue(REPO, "t", as_user="alice")
    client(token).upsert_comment(n, STICKY, f"token is {token}")
    assert token not in gh.comments(REPO, n)[0]["body"]


# ----------------------------------------------------------------------------- reviews


def test_review_with_inline_comments(gh: FakeGitHub, client: Client) -> None:
    n = gh.open_pr(REPO, head="ratchet/t1", as_user=ACTIONS_BOT_LOGIN)
    rid = gh.submit_review(
        REPO,
        n,
        as_user="alice",
        state="CHANGES_REQUESTED",
        body="Needs work",
        comments=[("app.py", 1, "use a constant"), ("docs.md", None, "file-level")],
    )
    info = client().review(n, rid)
    assert (info.id, info.state, info.body, info.author) == (
        rid,
        "CHANGES_REQUESTED",
        "Needs work",
        "alice",
    )
    assert info.author_id > 0 and info.author_type == "User" and info.commit_id
    assert info.comments == [("app.py", 1, "use a constant"), ("docs.md", None, "file-level")]


def test_missing_review_is_not_found(gh: FakeGitHub, client: Client) -> None:
    n = gh.open_pr(REPO, head="ratchet/t1", as_user=ACTIONS_BOT_LOGIN)
    with pytest.raises(GitHubError) as err:
        client().review(n, 12345)
    assert err.value.status == 404


# ----------------------------------------------------------------------------- sticky comment


def test_sticky_comment_is_edited_in_place(gh: FakeGitHub, client: Client) -> None:
    n = gh.create_issue(REPO, "t", as_user="alice")
    gh.add_comment(REPO, n, "/agent next", as_user="alice")
    c = client()
    first = c.upsert_comment(n, STICKY, "attempt 1: unchanged")
    gh.add_comment(REPO, n, "/agent next", as_user="alice")
    run2 = client()  # a fresh run finds the comment again
    second = run2.upsert_comment(n, STICKY, "attempt 2: improved")
    assert first == second
    bodies = [x["body"] for x in gh.comments(REPO, n)]
    assert bodies == ["/agent next", f"{STICKY}\nattempt 2: improved", "/agent next"]
    assert len(gh.requests_to("PATCH", rf"/issues/comments/{first}$")) == 1
    # same text again: no edit at all
    assert run2.upsert_comment(n, STICKY, "attempt 2: improved") == first
    assert len(gh.requests_to("PATCH", rf"/issues/comments/{first}$")) == 1


def test_a_run_edits_its_sticky_comment_without_searching_again(
    gh: FakeGitHub, client: Client
) -> None:
    n = gh.create_issue(REPO, "t", as_user="alice")
    c = client()
    cid = c.upsert_comment(n, STICKY, "recalling")
    listed = len(gh.requests_to("GET", rf"/issues/{n}/comments"))
    for phase in ("asking", "testing", "publishing"):
        assert c.upsert_comment(n, STICKY, phase) == cid
    assert len(gh.requests_to("GET", rf"/issues/{n}/comments")) == listed
    assert len(gh.requests_to("PATCH", rf"/issues/comments/{cid}$")) == 3
    assert gh.comments(REPO, n)[0]["body"] == f"{STICKY}\npublishing"
    # deleted meanwhile (by the bot's token here): the next update posts a new one
    httpx.delete(
        f"{gh.api_url}/repos/{REPO}/issues/comments/{cid}",
        headers={"Authorization": "token ghs_actions"},
    ).raise_for_status()
    again = c.upsert_comment(n, STICKY, "done")
    assert again != cid
    assert [x["body"] for x in gh.comments(REPO, n)] == [f"{STICKY}\ndone"]


def test_sticky_comment_keeps_a_marker_placed_by_the_caller(gh: FakeGitHub, client: Client) -> None:
    n = gh.create_issue(REPO, "t", as_user="alice")
    client().upsert_comment(n, STICKY, f"## Ratchet\nscore 40 → 55\n{STICKY}")
    assert gh.comments(REPO, n)[0]["body"] == f"## Ratchet\nscore 40 → 55\n{STICKY}"


def test_sticky_comment_ignores_a_human_comment_quoting_the_marker(
    gh: FakeGitHub, client: Client
) -> None:
    n = gh.create_issue(REPO, "t", as_user="alice")
    human = gh.add_comment(REPO, n, f"look: {STICKY} hijack", as_user="alice")
    cid = client().upsert_comment(n, STICKY, "status")
    assert cid != human
    comments = gh.comments(REPO, n)
    assert comments[0]["body"] == f"look: {STICKY} hijack"
    assert comments[1]["user"]["login"] == ACTIONS_BOT_LOGIN


def test_sticky_comment_with_a_personal_token_uses_the_token_user(
    gh: FakeGitHub, client: Client
) -> None:
    n = gh.create_issue(REPO, "t", as_user="alice")
    gh.add_comment(REPO, n, f"{STICKY}\nbot-made", as_user=ACTIONS_BOT_LOGIN)
    c = client("pat_alice")
    assert c.whoami() == "alice"
    cid = c.upsert_comment(n, STICKY, "from alice's token")
    assert cid == c.upsert_comment(n, STICKY, "again")
    assert [x["user"]["login"] for x in gh.comments(REPO, n)] == [ACTIONS_BOT_LOGIN, "alice"]


def test_sticky_comment_is_capped_and_keeps_the_marker(gh: FakeGitHub, client: Client) -> None:
    n = gh.create_issue(REPO, "t", as_user="alice")
    client().upsert_comment(n, STICKY, "z" * 100_000 + STICKY)
    body = gh.comments(REPO, n)[0]["body"]
    assert len(body) <= 60_000 and body.startswith(STICKY) and body.count(STICKY) == 1
    assert "truncated" in body


def test_sticky_comment_on_a_pull_request(gh: FakeGitHub, client: Client) -> None:
    c = client()
    pr = c.create_pr("ratchet/t1", "main", "T", pr_body())
    a = c.upsert_comment(pr.number, STICKY, "one")
    b = c.upsert_comment(pr.number, STICKY, "two")
    assert a == b and len(gh.comments(REPO, pr.number)) == 1


def test_add_labels(gh: FakeGitHub, client: Client) -> None:
    n = gh.create_issue(REPO, "t", as_user="alice")
    client().add_labels(n, ["ratchet", "automated"])
    assert gh.labels(REPO, n) == ["ratchet", "automated"]


# ----------------------------------------------------------------------------- errors


def test_invalid_token(client: Client) -> None:
    with pytest.raises(GitHubError) as err:
        client("ghs_revoked").issue(1)
    assert err.value.status == 401
    assert "rejected the token" in err.value.message and "github_token" in err.value.hint


def test_missing_pull_requests_permission_is_named(gh: FakeGitHub, client: Client) -> None:
    gh.add_actions_token("ghs_noprs", permissions={"contents": "write", "issues": "write"})
    with pytest.raises(GitHubError) as err:
        client("ghs_noprs").create_pr("ratchet/t1", "main", "T", pr_body())
    assert err.value.status == 403
    assert err.value.permission == "pull-requests: write"
    assert "pull-requests: write" in err.value.message
    assert "Allow GitHub Actions to create and approve pull requests" in err.value.hint
    assert open_prs(gh) == []


def test_missing_issues_write_permission_is_named(gh: FakeGitHub, client: Client) -> None:
    gh.add_actions_token("ghs_ro", permissions={"issues": "read", "pull-requests": "read"})
    n = gh.create_issue(REPO, "t", as_user="alice")
    with pytest.raises(GitHubError) as err:
        client("ghs_ro").upsert_comment(n, STICKY, "status")
    assert err.value.permission == "issues: write"
    assert "permissions:" in err.value.hint


def test_actions_not_permitted_to_create_prs(gh: FakeGitHub, client: Client) -> None:
    gh.update_repo(REPO, actions_can_create_prs=False)
    with pytest.raises(GitHubError) as err:
        client().create_pr("ratchet/t1", "main", "T", pr_body())
    assert "not permitted" in err.value.message
    assert "Allow GitHub Actions to create and approve pull requests" in err.value.hint


def test_unreachable_api(client: Client) -> None:
    c = client(api_url="http://127.0.0.1:9/api/v3", retry_total=0)
    with pytest.raises(GitHubError, match="could not reach"):
        c.issue(1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("pull_requests=write", "pull-requests: write"),
        ("issues=write; pull_requests=write", "issues: write or pull-requests: write"),
        ("contents=read,pull_requests=write", "contents: read and pull-requests: write"),
        ("", ""),
        (None, ""),
    ],
)
def test_accepted_permissions_header(header: str | None, expected: str) -> None:
    assert _accepted_permissions(header) == expected


# ----------------------------------------------------------------------------- retries


def test_502_then_success_is_retried(gh: FakeGitHub, client: Client) -> None:
    n = gh.create_issue(REPO, "t", as_user="alice")
    gh.fail_next(1, 502)
    assert client().issue(n).number == n
    assert [r.status for r in gh.requests_to("GET", rf"/issues/{n}$")] == [502, 200]


def test_post_is_retried_after_a_5xx(gh: FakeGitHub, client: Client) -> None:
    gh.fail_next(2, 503, method="POST")
    pr = client().create_pr("ratchet/t1", "main", "T", pr_body())
    assert [r.status for r in gh.requests_to("POST", r"/pulls$")] == [503, 503, 201]
    assert len(open_prs(gh)) == 1 and pr.number == open_prs(gh)[0]["number"]


def test_persistent_5xx_gives_up_after_retry_total(gh: FakeGitHub, client: Client) -> None:
    n = gh.create_issue(REPO, "t", as_user="alice")
    gh.fail_next(10, 500)
    with pytest.raises(GitHubError) as err:
        client(retry_total=2).issue(n)
    assert err.value.status == 500 and "after retries" in err.value.message
    assert len(gh.requests_to("GET", rf"/issues/{n}$")) == 3


def test_secondary_rate_limit_with_retry_after_is_honoured(gh: FakeGitHub, client: Client) -> None:
    n = gh.create_issue(REPO, "t", as_user="alice")
    gh.secondary_rate_limit_next(1, retry_after=1)
    assert client().issue(n).number == n
    statuses = [r.status for r in gh.requests_to("GET", rf"/issues/{n}$")]
    assert statuses == [403, 200]


def test_secondary_rate_limit_without_retry_after_waits_and_retries(
    gh: FakeGitHub, client: Client
) -> None:
    gh.secondary_rate_limit_next(2, retry_after=None, method="PATCH")
    c = client()
    pr = c.create_pr("ratchet/t1", "main", "T", pr_body())
    assert c.update_pr(pr.number, title="T2").title == "T2"
    assert [r.status for r in gh.requests_to("PATCH", r"/pulls/\d+$")] == [403, 403, 200]


def test_429_with_retry_after_is_honoured(gh: FakeGitHub, client: Client) -> None:
    gh.too_many_requests_next(1, retry_after=1)
    assert client().permission("alice") == "write"
    assert [r.status for r in gh.requests_to("GET", r"/permission$")] == [429, 200]


def test_429_without_retry_after_is_retried_with_backoff(gh: FakeGitHub, client: Client) -> None:
    gh.too_many_requests_next(2, retry_after=None)
    assert client().permission("rita") == "read"
    assert [r.status for r in gh.requests_to("GET", r"/permission$")] == [429, 429, 200]


def test_primary_rate_limit_too_far_away_fails_fast(gh: FakeGitHub, client: Client) -> None:
    gh.primary_rate_limit_next(5, reset_in=3600)
    with pytest.raises(GitHubError) as err:
        client(max_wait=2).pull(1)
    assert err.value.status == 403 and "rate limit" in err.value.message
    assert len(gh.requests_to("GET", r"/pulls/1$")) == 1
