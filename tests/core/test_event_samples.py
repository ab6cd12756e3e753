"""Event decisions on recorded GitHub payloads (tests/samples, see its README): what each
real event asks Ratchet to do, and who must be allowed to ask."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ratchet.core import publish
from ratchet.intent import Intent, Skip, parse_event

SAMPLES = Path(__file__).parent / "samples"
TRIGGER = "/agent next"


def sample(name: str, **changes: Any) -> dict[str, Any]:
    """The recorded payload ``name`` with ``changes`` applied (``"a.b": value`` paths)."""
    payload = json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    for path, value in changes.items():
        node = payload
        *parents, last = path.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    return payload


def test_a_new_comment_with_the_trigger_on_an_issue_iterates_its_task() -> None:
    payload = sample("issue_comment.created", comment__body="/agent next  keep it small")
    intent = parse_event("issue_comment", payload, TRIGGER)
    assert isinstance(intent, Intent)
    assert (intent.action, intent.task_key, intent.issue_number) == ("iterate", "issue-1", 1)
    assert intent.comment_id == payload["comment"]["id"] == 492700400
    assert intent.actor is not None and intent.actor.login == "Codertocat"
    assert intent.instructions == "keep it small"
    decision = publish.who_asks(intent, allowed_bot_ids=())
    assert decision == publish.AskRole("Codertocat")  # a user: the permission API decides


@pytest.mark.parametrize(
    "name", ["issue_comment.created", "issue_comment.created.with-organization"]
)
def test_an_ordinary_comment_is_not_a_command(name: str) -> None:
    assert isinstance(parse_event("issue_comment", sample(name), TRIGGER), Skip)


def test_an_edited_comment_never_triggers_even_with_the_phrase() -> None:
    # a command edited into a comment is not run; the editor (if a writer) is told why
    payload = sample("issue_comment.edited", comment__body="/agent next")
    intent = parse_event("issue_comment", payload, TRIGGER)
    assert isinstance(intent, Intent) and intent.action == "command"
    assert intent.command is not None and intent.command.verb == "edited"
    assert intent.actor is not None and intent.actor.login == payload["sender"]["login"]
    # editing a comment that already held a command (a typo fix) is silent
    payload["changes"] = {"body": {"from": "/agent stop"}}
    skip = parse_event("issue_comment", payload, TRIGGER)
    assert isinstance(skip, Skip) and "only new comments" in skip.reason
    # and an edit that adds no command is not Ratchet's business
    payload = sample("issue_comment.edited", comment__body="thanks!")
    assert isinstance(parse_event("issue_comment", payload, TRIGGER), Skip)


def test_a_comment_on_a_pull_request_resolves_its_task_from_the_head_branch() -> None:
    payload = sample("issue_comment.created", comment__body="/agent next")
    payload["issue"]["pull_request"] = {"url": payload["issue"]["url"].replace("issues", "pulls")}
    intent = parse_event("issue_comment", payload, TRIGGER)
    assert isinstance(intent, Intent) and intent.task_key is None and intent.pr_number == 1
    assert publish.task_key_for(intent, None, "Codertocat/Hello-World") == publish.AskPull(1)


def test_a_comment_by_a_bot_is_refused_unless_allowed() -> None:
    payload = sample("issue_comment.created", comment__body="/agent next")
    payload["comment"]["user"].update(login="helper[bot]", type="Bot", id=41898282)
    intent = parse_event("issue_comment", payload, TRIGGER)
    assert isinstance(intent, Intent)
    assert isinstance(publish.who_asks(intent, allowed_bot_ids=()), publish.Refused)
    assert publish.who_asks(intent, allowed_bot_ids=(41898282,)) == publish.Allowed()


def _ratchet_pr(name: str, **changes: Any) -> dict[str, Any]:
    payload = sample(name, **changes)
    payload["pull_request"]["head"]["ref"] = "ratchet/issue-1"
    return payload


def test_a_review_of_a_ratchet_pull_request_is_feedback() -> None:
    payload = _ratchet_pr("pull_request_review.submitted")
    intent = parse_event("pull_request_review", payload, TRIGGER)
    assert isinstance(intent, Intent)
    assert (intent.action, intent.task_key, intent.pr_number) == ("feedback", "issue-1", 2)
    assert intent.review_id == payload["review"]["id"]
    assert intent.review_state == "commented" and not intent.also_iterate
    assert intent.head_sha == payload["pull_request"]["head"]["sha"]


def test_a_review_asking_for_changes_also_iterates() -> None:
    payload = _ratchet_pr("pull_request_review.submitted", review__state="changes_requested")
    intent = parse_event("pull_request_review", payload, TRIGGER)
    assert isinstance(intent, Intent) and intent.also_iterate


def test_a_dismissed_review_and_a_review_of_another_branch_are_skipped() -> None:
    dismissed = parse_event("pull_request_review", _ratchet_pr("pull_request_review.dismissed"),
                            TRIGGER)
    assert isinstance(dismissed, Skip) and "only submitted" in dismissed.reason
    other = parse_event("pull_request_review", sample("pull_request_review.submitted"), TRIGGER)
    assert isinstance(other, Skip) and "not a Ratchet pull request" in other.reason


def test_a_review_of_a_pull_request_from_a_fork_is_refused() -> None:
    payload = _ratchet_pr("pull_request_review.submitted")
    head_repo = copy.deepcopy(payload["pull_request"]["head"]["repo"])
    head_repo.update(id=head_repo["id"] + 1, full_name="someone/Hello-World")
    payload["pull_request"]["head"]["repo"] = head_repo
    skip = parse_event("pull_request_review", payload, TRIGGER)
    assert isinstance(skip, Skip) and "fork" in skip.reason


@pytest.mark.parametrize("merged", [False, True])
def test_a_closed_ratchet_pull_request_is_remembered(merged: bool) -> None:
    payload = _ratchet_pr("pull_request.closed", pull_request__merged=merged)
    intent = parse_event("pull_request", payload, TRIGGER)
    assert isinstance(intent, Intent)
    assert (intent.action, intent.merged, intent.needs_permission) == ("closed", merged, False)
    assert publish.who_asks(intent, allowed_bot_ids=()) == publish.Allowed()


def test_an_opened_pull_request_is_not_an_instruction() -> None:
    skip = parse_event("pull_request", _ratchet_pr("pull_request.opened"), TRIGGER)
    assert isinstance(skip, Skip) and "only closing" in skip.reason


def test_a_dispatched_run_iterates_the_configured_task() -> None:
    intent = parse_event("workflow_dispatch", sample("workflow_dispatch"), TRIGGER)
    assert isinstance(intent, Intent) and intent.action == "iterate"
    assert not intent.needs_permission  # starting a workflow already needs write access
    assert publish.task_key_for(intent, None, "Codertocat/Hello-World") == publish.NeedsTask(
        "workflow_dispatch"
    )
    assert publish.task_key_for(intent, "Fix the README typo", "Codertocat/Hello-World") == (
        "fix-the-readme-typo"
    )
