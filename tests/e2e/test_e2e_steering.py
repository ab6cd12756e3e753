"""End to end: steering a task from GitHub comments (`/agent status|forget|stop|resume|help`),
money, and what a paused task does, against the fake GitHub, Mem0 and MiniMax on 127.0.0.1.
Assertions are on what people see: replies, the status comment, the PR body, outputs, memory.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.action_world import REPO, World
from tests.conftest import git
from tests.scenarios import BREAK_SUB, CONFIG, FIX_ADD, IMPL_MUL, proposal

pytestmark = pytest.mark.e2e

CONFIG_TASK = "make-the-calculator-correct"


def replies(world: World, number: int) -> list[str]:
    """The bot's replies (not the sticky status comment) on issue/PR ``number``."""
    return [
        c["body"]
        for c in world.gh.comments(REPO, number)
        if c["user"]["type"] == "Bot" and "ratchet:status" not in c["body"]
    ]


def schedule(world: World) -> dict[str, Any]:
    return {"schedule": "*/30 * * * *", "repository": world.repository()}


def say(world: World, number: int, body: str, login: str = "alice") -> tuple[Any, dict, str]:
    proc, outputs, summary = world.run("issue_comment", world.comment(number, body, login))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc, outputs, summary


def test_status_and_bad_commands_from_writers_and_readers(world: World) -> None:
    world.model.script(FIX_ADD)
    say(world, world.issue, "/agent next")
    calls = len(world.model.requests)

    # a reader's command has no effect and gets no reply
    _, outputs, _ = say(world, world.issue, "/agent status", "bob")
    assert outputs["outcome"] == "skipped" and replies(world, world.issue) == []

    # a writer's status: the attempt table, budget and cost, flaky tests, running
    _, outputs, _ = say(world, world.issue, "/agent status")
    [status] = replies(world, world.issue)
    assert outputs["outcome"] == "command" and status.startswith("@alice")
    for text in ("Ratchet status", "Fix add", "attempts 1 of 30", "▶️ running",
                 "Known flaky tests", "No known flaky tests", "Ideas that failed"):
        assert text in status, text

    # bad input: no effect, and a reply that says why
    for body, why in (
        ("/agent forget 999", "there is no attempt 999; attempts are numbered 1 to 1"),
        ("/agent forget -1", "`forget` needs an attempt number or `all`"),
        ("> /agent forget 1", "was not run: commands in a quote or in code are text"),
        ("```\n/agent stop\n```", "was not run"),
        ("/agent dance", "`dance` is not a Ratchet command"),
    ):
        say(world, world.issue, body)
        assert why in replies(world, world.issue)[-1], body
    assert "`/agent forget <N>`" in replies(world, world.issue)[-1]  # the help lists commands

    # a command edited into an old comment is not run either
    cid = world.gh.add_comment(REPO, world.issue, "thanks", as_user="alice")
    edited = {
        "action": "edited",
        "issue": world.gh.issue_payload(REPO, world.issue),
        "comment": {"id": cid, "body": "/agent forget 1", "user": world.user("alice")},
        "changes": {"body": {"from": "thanks"}},
        "repository": world.repository(),
        "sender": world.user("alice"),
    }
    proc, _, _ = world.run("issue_comment", edited)
    assert proc.returncode == 0, proc.stderr
    assert "editing a comment are not run" in replies(world, world.issue)[-1]

    assert world.memory("forget") == [] and world.memory("control") == []
    assert len(world.model.requests) == calls  # no command called the model


def test_a_paused_task_ignores_the_schedule_reviews_and_next(world: World) -> None:
    world.model.script(FIX_ADD, IMPL_MUL)
    proc, outputs, _ = world.run("schedule", schedule(world))
    assert proc.returncode == 0 and outputs["outcome"] == "improved", proc.stderr
    pr = world.gh.pulls(REPO)[0]["number"]
    assert world.gh.pulls(REPO)[0]["head"]["ref"] == f"ratchet/{CONFIG_TASK}"

    say(world, pr, "/agent stop")  # on the PR: the task of its branch
    assert "Paused by @alice" in replies(world, pr)[-1]
    [control] = world.memory("control")
    assert (control["outcome"], control["actor"], control["task"]) == (
        "paused", "alice", CONFIG_TASK
    )

    calls = len(world.model.requests)
    proc, outputs, _ = world.run("schedule", schedule(world))
    assert proc.returncode == 0 and outputs["outcome"] == "paused", proc.stderr
    _, outputs, _ = say(world, pr, "/agent next")
    assert outputs["outcome"] == "paused"
    assert "This task is paused by @alice" in replies(world, pr)[-1]
    # a review asking for changes is remembered, and nothing is tried
    body = "Please also make mul multiply."
    rid = world.gh.submit_review(REPO, pr, as_user="alice", state="CHANGES_REQUESTED", body=body)
    review = {"id": rid, "state": "changes_requested", "body": body, "user": world.user("alice")}
    proc, outputs, _ = world.run(
        "pull_request_review",
        world.pr_event(pr, "submitted", review=review, sender=world.user("alice")),
    )
    assert proc.returncode == 0 and outputs["outcome"] == "feedback", proc.stderr
    assert [f["detail"].count(body) for f in world.memory("feedback")] == [1]
    assert "The task is paused, so nothing was tried now" in world.status_comments(pr)[-1]
    say(world, pr, "/agent resume", "bob")  # a reader cannot resume it
    say(world, pr, "/agent stop")
    assert "already paused" in replies(world, pr)[-1]
    assert len(world.model.requests) == calls

    say(world, pr, "/agent status")
    assert "⏸️ paused by @alice" in replies(world, pr)[-1]
    say(world, pr, "/agent resume")
    assert "Resumed by @alice" in replies(world, pr)[-1]
    proc, outputs, _ = world.run("schedule", schedule(world))
    assert proc.returncode == 0 and outputs["outcome"] == "improved", proc.stderr
    assert [a["title"] for a in world.memory("attempt")] == ["Fix add", "Implement mul"]
    assert body in str(world.model.requests[-1].json["messages"])  # the review, in force


def test_forgetting_an_attempt_lets_its_patch_be_tried_again(world: World) -> None:
    world.model.script(BREAK_SUB, BREAK_SUB)
    say(world, world.issue, "/agent next")
    assert [a["outcome"] for a in world.memory("attempt")] == ["regressed"]

    say(world, world.issue, "/agent forget 1")
    assert "Forgot attempt 1 at the request of @alice" in replies(world, world.issue)[-1]
    [forget] = world.memory("forget")
    assert (forget["attempt"], forget["actor"]) == (1, "alice")

    say(world, world.issue, "/agent next")
    # the same patch is tested again (not refused as a repeat), and the prompt did not
    # carry the forgotten attempt
    assert [a["outcome"] for a in world.memory("attempt")] == ["regressed", "regressed"]
    prompt = str(world.model.requests[-1].json["messages"])
    assert "Make sub symmetric" not in prompt
    say(world, world.issue, "/agent status")
    assert "~~Make sub symmetric~~ (forgotten)" in replies(world, world.issue)[-1]


def test_cost_sums_across_three_runs_and_matches_the_tokens(world: World) -> None:
    tokens = [(10_000, 2_000), (20_000, 1_000), (30_000, 3_000)]
    world.model.script(*(
        dataclasses.replace(reply, prompt_tokens=p, completion_tokens=c)
        for reply, (p, c) in zip((FIX_ADD, BREAK_SUB, IMPL_MUL), tokens, strict=True)
    ))  # fmt: skip
    costs = []
    for _ in tokens:
        _, outputs, summary = say(world, world.issue, "/agent next")
        costs.append(float(outputs["cost"]))
    # MiniMax-M3: $0.30 per million input tokens, $1.20 per million output tokens
    expected = [(p * 0.30 + c * 1.20) / 1e6 for p, c in tokens]
    assert costs == pytest.approx(expected)
    assert float(outputs["task_cost"]) == pytest.approx(sum(expected)) == pytest.approx(0.0252)
    attempts = world.memory("attempt")
    assert [(a["tokens_in"], a["tokens_out"]) for a in attempts] == tokens
    [status] = world.status_comments(world.issue)
    # 30k in, 3k out; "$" is escaped in Markdown (GitHub shows it plainly)
    assert "\\$0.0126 this run · \\$0.0252 for the task" in status
    body = world.gh.pulls(REPO)[0]["body"]
    assert "cost $0.0252" in body and "no money limit; set `budget.usd`" in body
    assert "### Budget" in summary and "tokens 66,000 of 2,000,000" in summary


def test_a_used_up_budget_is_named_in_the_status_comment_with_its_key(world: World) -> None:
    maintainer = world.tmp / "maintainer"
    git(world.tmp, "clone", "-q", str(world.origin), str(maintainer))
    (maintainer / ".github" / "ratchet.yml").write_text(
        CONFIG + "budget:\n  attempts: 1\n  usd: 5\n"
    )
    git(maintainer, "commit", "-qam", "one attempt per task")
    git(maintainer, "push", "-q", "origin", "main")
    world.model.script(FIX_ADD, IMPL_MUL)
    say(world, world.issue, "/agent next")
    calls = len(world.model.requests)
    _, outputs, summary = say(world, world.issue, "/agent next")
    assert outputs["outcome"] == "budget" and len(world.model.requests) == calls
    [status] = world.status_comments(world.issue)
    assert "budget used up" in status and "attempt budget (1)" in status
    assert "raise budget.attempts in .github/ratchet.yml" in status
    assert "attempts 1 of 1" in summary and "of $5.00" in summary


#: fixes add, and makes sub flaky: wrong on its first call in a fresh tree, right afterwards
FLAKY = proposal(
    "Fix add, cache sub",
    "calc/ops.py",
    "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b",
    "import pathlib\n\n_MARK = pathlib.Path(__file__).with_name('.sub-ran')\n\n\n"
    "def add(a, b):\n    return a + b\n\n\n"
    "def sub(a, b):\n    if not _MARK.exists():\n        _MARK.write_text('x')\n"
    "        return a + b\n    return a - b",
)
STEADY = proposal(
    "Make sub steady",
    "calc/ops.py",
    "    if not _MARK.exists():\n        _MARK.write_text('x')\n        return a + b\n"
    "    return a - b",
    "    return a - b",
)


def test_a_flaky_test_from_run_one_is_no_fix_in_run_two(world: World) -> None:
    world.model.script(FLAKY, STEADY)
    _, outputs, summary = say(world, world.issue, "/agent next")
    [first] = world.memory("attempt")
    # sub failed once and passed on the rerun: flaky, remembered for the repository
    assert outputs["outcome"] == "improved" and first["flaky"].endswith("test_sub")
    assert "test_sub" in summary.split("### Known flaky tests")[1]

    _, outputs, _ = say(world, world.issue, "/agent next")
    # a fresh runner: the baseline runs again on run 1's commit, where sub fails on its first
    # call; with the change it passes. Without the memory that is a fix ("improved"); known
    # flaky, it counts neither way (and its failing baseline is recorded: it is not green yet)
    assert outputs["outcome"] == "unchanged"
    assert world.memory("attempt")[-1]["flaky"].endswith("test_sub")
    say(world, world.issue, "/agent status")
    assert "test_sub`: last flaky" in replies(world, world.issue)[-1]
