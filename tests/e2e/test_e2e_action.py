"""End to end: `ratchet action` as GitHub Actions runs it, against fakes of GitHub (driven by
the real PyGithub), MiniMax and Mem0 on 127.0.0.1, with a local bare repository as origin.

Each run gets a fresh clone as its workspace (a new runner) and an event payload file, and the
assertions are on what users see: pull requests, comments, reactions, branches on origin,
memory, the step summary and the outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.action_world import REPO, TOKEN, World
from tests.conftest import git
from tests.fakes.github_server import FakeGitHub
from tests.fakes.mem0_server import FakeMem0Server
from tests.fakes.minimax_server import FakeMiniMax
from tests.scenarios import FIX_ADD, IMPL_MUL

pytestmark = pytest.mark.e2e


def test_agent_next_review_and_merge(world: World) -> None:
    world.model.script(FIX_ADD, IMPL_MUL)

    # 1. a writer asks: one PR, memory, a 👀 reaction, a status comment, outputs
    payload = world.comment(world.issue, "/agent next", "alice")
    proc, outputs, summary = world.run("issue_comment", payload)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    pulls = world.gh.pulls(REPO)
    assert len(pulls) == 1
    pr = pulls[0]
    assert pr["head"]["ref"] == "ratchet/issue-1" and pr["state"] == "open"
    assert "<!-- ratchet:task=issue-1 -->" in pr["body"]
    assert outputs["outcome"] == "improved" and outputs["pr_number"] == str(pr["number"])
    assert outputs["branch"] == "ratchet/issue-1" and outputs["pr_url"]
    assert [r["content"] for r in world.gh.reactions(REPO, payload["comment"]["id"])] == ["eyes"]
    status = world.status_comments(world.issue)
    assert len(status) == 1 and "improved" in status[0].lower()
    attempts = world.memory("attempt")
    assert [(a["attempt"], a["outcome"], a["pr"]) for a in attempts] == [
        (1, "improved", pr["number"])
    ]
    assert "xychart-beta" in summary and "Fix add" in summary
    tip1 = git(world.origin, "rev-parse", "ratchet/issue-1")
    assert git(world.origin, "log", "-1", "--format=%s", tip1) == "Fix add"

    # 2. a reader asks: nothing happens (no model call, no memory, no push, no comment)
    calls = len(world.model.requests)
    proc, outputs, _ = world.run("issue_comment", world.comment(world.issue, "/agent next", "bob"))
    assert proc.returncode == 0, proc.stderr
    assert len(world.model.requests) == calls and len(world.memory()) == 1
    assert git(world.origin, "rev-parse", "ratchet/issue-1") == tip1
    assert len(world.status_comments(world.issue)) == 1
    assert outputs.get("outcome") == "skipped"

    # 3. a review asking for changes is remembered and carried by the next prompt
    review_id = world.gh.submit_review(
        REPO,
        pr["number"],
        as_user="alice",
        state="CHANGES_REQUESTED",
        body="Good start. Please also implement mul.",
        comments=[("calc/ops.py", 9, "this still raises")],
    )
    review = {
        "id": review_id,
        "state": "changes_requested",
        "body": "Good start. Please also implement mul.",
        "user": world.user("alice"),
    }
    proc, outputs, _ = world.run(
        "pull_request_review",
        world.pr_event(pr["number"], "submitted", review=review, sender=world.user("alice")),
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    feedback = world.memory("feedback")
    assert len(feedback) == 1 and "Please also implement mul" in feedback[0]["detail"]
    assert "this still raises" in feedback[0]["detail"]
    prompt = json.dumps(world.model.requests[-1].json["messages"])
    assert "Please also implement mul" in prompt and "Fix add" in prompt
    assert len(world.gh.pulls(REPO)) == 1  # the same PR, updated
    assert git(world.origin, "log", "--format=%s", "main..ratchet/issue-1").splitlines() == [
        "Implement mul",
        "Fix add",
    ]
    body = world.gh.pulls(REPO)[0]["body"]
    assert "Implement mul" in body and "Fix add" in body

    # 4. merged: remembered as accepted, and the task branch is cleaned up
    world.gh.merge_pr(REPO, pr["number"], as_user="alice")
    proc, outputs, _ = world.run(
        "pull_request", world.pr_event(pr["number"], "closed", sender=world.user("alice"))
    )
    assert proc.returncode == 0, proc.stderr
    assert [m["outcome"] for m in world.memory("outcome")] == ["accepted"]
    assert git(world.origin, "branch", "--list", "ratchet/issue-1") == ""

    # no secret reached anything users can read
    texts = [p["body"] for p in world.gh.pulls(REPO)] + [
        c["body"] for c in world.gh.comments(REPO, world.issue)
    ]
    assert not any(TOKEN in t or "mm-key-secret" in t for t in texts)


def test_closed_unmerged_is_rejected_and_not_proposed_again(world: World) -> None:
    world.model.script(FIX_ADD, FIX_ADD)
    proc, _, _ = world.run("issue_comment", world.comment(world.issue, "/agent next", "alice"))
    assert proc.returncode == 0, proc.stderr
    number = world.gh.pulls(REPO)[0]["number"]
    world.gh.close_pr(REPO, number)
    proc, outputs, _ = world.run("pull_request", world.pr_event(number, "closed"))
    assert proc.returncode == 0, proc.stderr
    assert outputs["outcome"] == "rejected"
    proc, outputs, _ = world.run(
        "issue_comment", world.comment(world.issue, "/agent next", "alice")
    )
    assert proc.returncode == 0, proc.stderr
    attempts = world.memory("attempt")
    # the same patch again is refused before any test runs; the model is asked once more
    assert [a["outcome"] for a in attempts] == ["improved", "repeat", "no_change"]
    assert "rejected" in attempts[1]["detail"]
    assert len(world.gh.pulls(REPO, "open")) == 0
    assert git(world.origin, "branch", "--list", "ratchet/issue-1") == ""


def test_foreign_push_stops_ratchet(world: World) -> None:
    world.model.script(FIX_ADD, IMPL_MUL)
    proc, _, _ = world.run("issue_comment", world.comment(world.issue, "/agent next", "alice"))
    assert proc.returncode == 0, proc.stderr
    human = world.tmp / "human"
    git(world.tmp, "clone", "-q", "-b", "ratchet/issue-1", str(world.origin), str(human))
    (human / "notes.txt").write_text("my own fix\n")
    git(human, "add", "notes.txt")
    git(human, "commit", "-q", "-m", "human change")
    git(human, "push", "-q", "origin", "ratchet/issue-1")
    tip = git(world.origin, "rev-parse", "ratchet/issue-1")
    calls = len(world.model.requests)
    proc, outputs, _ = world.run(
        "issue_comment", world.comment(world.issue, "/agent next", "alice")
    )
    assert proc.returncode == 0, proc.stderr
    assert outputs["outcome"] == "blocked"
    assert git(world.origin, "rev-parse", "ratchet/issue-1") == tip
    assert len(world.model.requests) == calls
    assert "stops pushing" in world.status_comments(world.issue)[0]


def test_unhandled_event_and_bad_payload(world: World, tmp_path: Path) -> None:
    proc, outputs, _ = world.run(
        "push", {"ref": "refs/heads/main", "repository": world.repository()}
    )
    assert proc.returncode == 0 and "nothing to do" in proc.stdout
    assert outputs["outcome"] == "skipped"
    proc, outputs, _ = world.run("issue_comment", {"action": "created", "issue": "garbage"})
    assert proc.returncode == 0 and outputs["outcome"] == "skipped"


def test_agent_next_on_the_pr_continues_its_task(world: World) -> None:
    world.model.script(FIX_ADD, IMPL_MUL)
    proc, _, _ = world.run("issue_comment", world.comment(world.issue, "/agent next", "alice"))
    assert proc.returncode == 0, proc.stderr
    number = world.gh.pulls(REPO)[0]["number"]
    payload = world.comment(number, "/agent next now implement mul please", "alice")
    proc, outputs, _ = world.run("issue_comment", payload)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert outputs["outcome"] == "improved" and outputs["pr_number"] == str(number)
    prompt = json.dumps(world.model.requests[-1].json["messages"])
    assert "now implement mul please" in prompt
    assert len(world.gh.pulls(REPO)) == 1
    assert git(world.origin, "log", "--format=%s", "main..ratchet/issue-1").splitlines() == [
        "Implement mul",
        "Fix add",
    ]


def test_missing_token_scope_is_named(tmp_path: Path) -> None:
    with FakeGitHub() as gh, FakeMiniMax() as model, FakeMem0Server() as mem0:
        world = World(tmp_path, gh, model, mem0)
        gh.add_token(
            TOKEN,
            "github-actions[bot]",
            installation=True,
            permissions={"contents": "write", "issues": "write", "pull-requests": "read"},
        )
        model.script(FIX_ADD)
        proc, outputs, _ = world.run(
            "issue_comment", world.comment(world.issue, "/agent next", "alice")
        )
        assert proc.returncode == 1
        assert "pull-requests: write" in proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr
        assert outputs["outcome"] == "error"
        status = world.status_comments(world.issue)
        assert len(status) == 1 and "pull-requests: write" in status[0]
        # the attempt was recorded before publishing, and the branch was pushed
        assert [a["outcome"] for a in world.memory("attempt")] == ["improved"]
        assert git(world.origin, "log", "-1", "--format=%s", "ratchet/issue-1") == "Fix add"


def test_without_mem0_the_ledger_remembers_across_runners(world: World) -> None:
    world.model.script(FIX_ADD, IMPL_MUL)
    proc, _, _ = world.run(
        "issue_comment", world.comment(world.issue, "/agent next", "alice"), mem0=False
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "memory: ledger" in proc.stdout
    ledger = git(world.origin, "show", "ratchet/ledger:ledger.jsonl")
    assert '"outcome": "improved"' in ledger or '"outcome":"improved"' in ledger
    proc, outputs, _ = world.run(
        "issue_comment", world.comment(world.issue, "/agent next", "alice"), mem0=False
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    prompt = json.dumps(world.model.requests[-1].json["messages"])
    assert "Fix add" in prompt and "improved" in prompt
    assert outputs["outcome"] == "improved" and world.mem0.requests == []


def test_a_publish_token_opens_the_pr_as_the_app_so_ci_runs(world: World) -> None:
    """With `publish_token` (a GitHub App installation token), the task's PR is the App's:
    GitHub starts the repository's workflows for it (GITHUB_TOKEN's events never do); the
    status comment and reaction still come from the workflow's token."""
    app_token = "ghs_appINSTALLATIONtoken0123456789ab"
    world.gh.add_token(app_token, "ratchet-app[bot]", installation=True)
    world.model.script(FIX_ADD)
    payload = world.comment(world.issue, "/agent next", "alice")
    proc, outputs, _ = world.run("issue_comment", payload, RATCHET_PUBLISH_TOKEN=app_token)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    [pr] = world.gh.pulls(REPO)
    assert pr["user"]["login"] == "ratchet-app[bot]"
    [status] = [c for c in world.gh.comments(REPO, world.issue) if "ratchet:status" in c["body"]]
    assert status["user"]["login"] == "github-actions[bot]"
    log = [line for line in (proc.stdout + proc.stderr).splitlines()
           if not line.startswith("::add-mask::")]  # the runner hides it from the log
    assert f"::add-mask::{app_token}" in proc.stdout
    assert not any(app_token in line for line in log)
    assert outputs["outcome"] == "improved"
