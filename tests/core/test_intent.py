from __future__ import annotations

from typing import Any

import pytest

from ratchet.intent import Intent, Skip, match_trigger, parse_event

REPO = {"id": 1, "full_name": "octo/app", "default_branch": "main"}
ALICE = {"login": "alice", "id": 10, "type": "User"}


def comment_event(body: str, *, pr: bool = False, action: str = "created") -> dict[str, Any]:
    issue: dict[str, Any] = {"number": 7, "title": "t", "body": "b"}
    if pr:
        issue["pull_request"] = {"url": "x"}
    return {"action": action, "repository": REPO, "sender": ALICE, "issue": issue,
            "comment": {"id": 99, "body": body, "user": ALICE}}


def pr_payload(ref: str = "ratchet/issue-7", head_repo: dict[str, Any] | None = None,
               **extra: Any) -> dict[str, Any]:
    return {"number": 12, "head": {"ref": ref, "sha": "abc", "repo": head_repo or REPO},
            "base": {"ref": "main"}, **extra}


@pytest.mark.parametrize(
    ("body", "expected"),
    [("/agent next", ""), ("  /AGENT NEXT  use sqlite", "use sqlite"), ("/agent nextly", None),
     ("please /agent next", None), ("/agent next\nmore lines", "more lines")],
)
def test_match_trigger(body: str, expected: str | None) -> None:
    assert match_trigger(body, "/agent next") == expected


def test_issue_comment_on_issue() -> None:
    got = parse_event("issue_comment", comment_event("/agent next add tests"), "/agent next")
    assert isinstance(got, Intent)
    assert got.task_key == "issue-7" and got.issue_number == 7 and got.comment_id == 99
    assert got.instructions == "add tests" and got.actor and got.actor.login == "alice"
    assert got.needs_permission


def test_issue_comment_on_pr_resolves_later() -> None:
    got = parse_event("issue_comment", comment_event("/agent next", pr=True), "/agent next")
    assert isinstance(got, Intent) and got.task_key is None and got.pr_number == 7


@pytest.mark.parametrize("payload", [comment_event("thanks!"), comment_event("/agent next",
                                                                              action="deleted")])
def test_irrelevant_comments_skip(payload: dict[str, Any]) -> None:
    assert isinstance(parse_event("issue_comment", payload, "/agent next"), Skip)


def test_review_on_ratchet_pr_is_feedback() -> None:
    payload = {"action": "submitted", "repository": REPO, "sender": ALICE,
               "pull_request": pr_payload(),
               "review": {"id": 5, "state": "CHANGES_REQUESTED", "body": "use a dict",
                          "user": ALICE}}
    got = parse_event("pull_request_review", payload, "/agent next")
    assert isinstance(got, Intent)
    assert got.action == "feedback" and got.task_key == "issue-7" and got.also_iterate
    assert got.review_state == "changes_requested"


def test_review_from_fork_or_other_branch_skips() -> None:
    fork = {"id": 2, "full_name": "evil/app"}
    base = {"action": "submitted", "repository": REPO, "sender": ALICE,
            "review": {"id": 5, "state": "approved", "body": "", "user": ALICE}}
    assert isinstance(parse_event("pull_request_review",
                                  {**base, "pull_request": pr_payload(head_repo=fork)}, "x"), Skip)
    assert isinstance(parse_event("pull_request_review",
                                  {**base, "pull_request": pr_payload(ref="feature")}, "x"), Skip)
    assert isinstance(parse_event("pull_request_review",
                                  {**base, "pull_request": pr_payload(ref="ratchet/ledger")}, "x"),
                      Skip)


def test_closed_pr() -> None:
    payload = {"action": "closed", "repository": REPO, "sender": ALICE,
               "pull_request": pr_payload(merged=True)}
    got = parse_event("pull_request", payload, "/agent next")
    assert isinstance(got, Intent) and got.action == "closed" and got.merged


@pytest.mark.parametrize("event", ["schedule", "workflow_dispatch"])
def test_scheduled(event: str) -> None:
    got = parse_event(event, {"repository": REPO}, "/agent next")
    assert isinstance(got, Intent) and got.action == "iterate" and not got.needs_permission


@pytest.mark.parametrize(
    ("event", "payload"),
    [("push", {}), ("issue_comment", []), ("issue_comment", {"action": "created"}),
     ("pull_request", {"action": "opened", "pull_request": pr_payload()}),
     ("pull_request_review", {"action": "submitted", "pull_request": {"number": "x"}})],
)
def test_malformed_or_unhandled_skip(event: str, payload: Any) -> None:
    assert isinstance(parse_event(event, payload, "/agent next"), Skip)
