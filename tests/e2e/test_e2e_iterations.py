"""End to end (#11): one Action run makes several attempts in a row, pushes each kept one as
soon as it is committed, and stops at green; a job killed mid-run loses nothing it pushed."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.action_world import REPO, World
from tests.conftest import git
from tests.fakes.github_server import FakeGitHub
from tests.fakes.mem0_server import FakeMem0Server
from tests.fakes.minimax_server import FakeMiniMax, Hang, Reply
from tests.scenarios import BREAK_SUB, FIX_ADD, FIX_NEG, IMPL_MUL, calc3_files

pytestmark = pytest.mark.e2e


@pytest.fixture
def world3(tmp_path: Path) -> Iterator[World]:
    """The calculator with three failing tests (add, mul, neg)."""
    with FakeGitHub() as gh, FakeMiniMax() as model, FakeMem0Server() as mem0:
        yield World(tmp_path, gh, model, mem0, files=calc3_files())


def _commits(world: World, branch: str) -> list[str]:
    return git(world.origin, "log", "--format=%s", f"main..{branch}").splitlines()


def test_four_iterations_push_three_fixes_and_stop_at_green(world3: World) -> None:
    # a regression between the fixes: discarded, remembered, and the run goes on
    world3.model.script(FIX_ADD, BREAK_SUB, IMPL_MUL, FIX_NEG, FIX_ADD)
    payload = world3.comment(world3.issue, "/agent next", "alice")
    proc, outputs, summary = world3.run("issue_comment", payload, RATCHET_ITERATIONS="5")
    assert proc.returncode == 0, proc.stderr + proc.stdout

    assert len(world3.model.requests) == 4  # the fifth reply is never asked for: green
    assert _commits(world3, "ratchet/issue-1") == ["Fix neg", "Implement mul", "Fix add"]
    attempts = world3.memory("attempt")
    pr = world3.gh.pulls(REPO)
    assert len(pr) == 1
    assert [(a["attempt"], a["outcome"]) for a in attempts] == [
        (1, "improved"), (2, "regressed"), (3, "improved"), (4, "improved")]
    kept = [a for a in attempts if a["outcome"] == "improved"]
    assert all(a["commit"] and a["pr"] == pr[0]["number"] for a in kept)
    assert outputs["outcome"] == "improved"
    assert outputs["iterations"] == "4" and outputs["commits"] == "3"
    status = world3.status_comments(world3.issue)
    assert len(status) == 1
    assert "Stopped after 4 of up to 5 iterations: the test suite is green" in status[0]
    assert "2. regressed: Make sub symmetric" in status[0]
    assert "This run" in summary and "4. improved: Fix neg" in summary
    assert "Fix neg" in pr[0]["body"]


def test_an_iteration_with_nothing_to_propose_ends_the_run(world3: World) -> None:
    no_change = Reply(content='{"no_change": true, "reason": "nothing left"}')
    world3.model.script(FIX_ADD, no_change, IMPL_MUL)
    payload = world3.comment(world3.issue, "/agent next", "alice")
    proc, outputs, _ = world3.run("issue_comment", payload, RATCHET_ITERATIONS="4")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert len(world3.model.requests) == 2
    assert _commits(world3, "ratchet/issue-1") == ["Fix add"]
    assert outputs["iterations"] == "2" and outputs["outcome"] == "improved"
    assert "the model proposed no further change" in world3.status_comments(world3.issue)[0]


def test_a_job_killed_after_the_second_commit_keeps_both(world3: World) -> None:
    asked_third = threading.Event()

    def third(_body: Any) -> Hang:
        asked_third.set()
        return Hang(120)

    world3.model.script(FIX_ADD, IMPL_MUL, third)
    payload = world3.comment(world3.issue, "/agent next", "alice")
    proc = world3.start("issue_comment", payload, RATCHET_ITERATIONS="4")
    try:
        assert asked_third.wait(240), "the third iteration never asked the model"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # as a runner ends a job at its timeout
        proc.wait(30)

    assert _commits(world3, "ratchet/issue-1") == ["Implement mul", "Fix add"]
    tips = [a["commit"] for a in world3.memory("attempt")]
    assert len(tips) == 2 and tips[1] == git(world3.origin, "rev-parse", "ratchet/issue-1")
    assert len(world3.gh.pulls(REPO)) == 1

    # the next run goes on from there: the third fix, then green
    world3.model.script(FIX_NEG)
    proc2, outputs, _ = world3.run(
        "issue_comment", world3.comment(world3.issue, "/agent next", "alice"),
        RATCHET_ITERATIONS="4",
    )
    assert proc2.returncode == 0, proc2.stderr + proc2.stdout
    assert _commits(world3, "ratchet/issue-1")[0] == "Fix neg"
    assert outputs["iterations"] == "1" and outputs["commits"] == "1"


def test_a_bad_iterations_input_names_the_input_and_the_fix(world3: World) -> None:
    payload = world3.comment(world3.issue, "/agent next", "alice")
    proc, outputs, _ = world3.run("issue_comment", payload, RATCHET_ITERATIONS="lots")
    assert proc.returncode != 0
    assert "the action input iterations: 'lots' is not a whole number from 1 to 100" in (
        proc.stderr + proc.stdout)
    assert len(world3.model.requests) == 0
