"""End to end (#11): a fleet of tasks. `ratchet plan` lists the due ones from one API listing and
one memory read (fake GitHub through PyGithub, fake Mem0 through the Mem0 SDK), and three task
processes at once, as a matrix runs them, lose no record and open three pull requests."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ratchet.memory.mem0_store import Mem0Store
from ratchet.records import MemoryRecord
from tests.action_world import REPO, TOKEN, USER_ID, World
from tests.conftest import git, ratchet_env, run_ratchet
from tests.fakes.github_server import FakeGitHub
from tests.fakes.mem0_server import DEFAULT_KEY, FakeMem0Server
from tests.fakes.minimax_server import FakeMiniMax
from tests.scenarios import CONFIG, FIX_ADD, calc_files

pytestmark = pytest.mark.e2e

FLEET = CONFIG + """budget: {attempts: 2}
tasks:
  - {key: typing, task: Add type hints to calc/ops.py}
  - {key: docs, task: Document calc/ops.py}
  - {key: fix-a, task: Make add correct}
  - {key: fix-b, task: Make add correct (b)}
  - {key: fix-c, task: Make add correct (c)}
"""


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[World]:
    with FakeGitHub() as gh, FakeMiniMax() as model, FakeMem0Server() as mem0:
        yield World(tmp_path, gh, model, mem0, files=calc_files(FLEET))


def _remember(world: World, *records: MemoryRecord) -> None:
    """Seed memory as earlier runs left it, through Ratchet's own Mem0 store."""
    store = Mem0Store(DEFAULT_KEY, host=world.mem0.url, user_id=USER_ID,
                      state_dir=world.tmp / "seed-state")  # fmt: skip
    for r in records:
        store.add(r)


def _plan(world: World) -> tuple[subprocess.CompletedProcess[str], dict[str, str], str]:
    ws = world.tmp / "planner"
    if not ws.exists():
        git(world.tmp, "clone", "-q", str(world.origin), str(ws))
    out, summary = world.tmp / "plan-output", world.tmp / "plan-summary.md"
    out.write_text("")
    env = ratchet_env(
        world.tmp / "home", GITHUB_ACTIONS="true", GITHUB_REPOSITORY=REPO,
        GITHUB_API_URL=world.gh.api_url, GITHUB_SERVER_URL=world.gh.url, GITHUB_TOKEN=TOKEN,
        GITHUB_OUTPUT=str(out), GITHUB_STEP_SUMMARY=str(summary), MEM0_API_KEY=DEFAULT_KEY,
        MEM0_HOST=world.mem0.url,
    )  # fmt: skip
    proc = run_ratchet(["plan"], env, cwd=ws)
    from tests.action_world import parse_outputs

    return proc, parse_outputs(out.read_text()), summary.read_text() if summary.exists() else ""


def test_plan_lists_the_due_tasks_of_several_states(fleet: World) -> None:
    gh = fleet.gh
    due_issue = gh.create_issue(REPO, "Handle division by zero", as_user="alice",
                                labels=["ratchet"])  # fmt: skip
    spent = gh.create_issue(REPO, "Faster add", as_user="alice", labels=["ratchet"])
    gh.create_issue(REPO, "A question, not a task", as_user="bob")
    # a Ratchet PR for the unlabelled issue #1, whose review asked for changes
    gh.open_pr(REPO, head="ratchet/issue-1", title="Ratchet: calc",
               body="work\n\n<!-- ratchet:task=issue-1 -->", as_user="ratchet-bot")  # fmt: skip
    _remember(
        fleet,
        MemoryRecord(kind="control", task="typing", outcome="paused", actor="alice"),
        MemoryRecord(kind="outcome", task="docs", outcome="accepted"),
        MemoryRecord(kind="attempt", task=f"issue-{spent}", attempt=1, outcome="regressed"),
        MemoryRecord(kind="attempt", task=f"issue-{spent}", attempt=2, outcome="broken"),
        MemoryRecord(kind="attempt", task="issue-1", attempt=1, outcome="unchanged"),
        MemoryRecord(kind="feedback", task="issue-1", outcome="changes_requested",
                     detail="Review (changes_requested) by @alice"),
    )
    listings = len(gh.requests_to("GET", r"^/repos/octo/calc/issues$"))
    proc, outputs, summary = _plan(fleet)
    assert proc.returncode == 0, proc.stderr
    due = ["make-the-calculator-correct", "fix-a", "fix-b", "fix-c", f"issue-{due_issue}",
           "issue-1"]
    assert json.loads(proc.stdout) == {"include": [{"task": k} for k in due]}
    assert json.loads(outputs["matrix"]) == json.loads(proc.stdout)
    assert outputs["count"] == "6"
    assert "skip typing (tasks): paused by @alice" in proc.stderr
    assert "skip docs (tasks): finished: its pull request was merged" in proc.stderr
    assert f"skip issue-{spent} (issue): " in proc.stderr and "attempts" in proc.stderr
    assert "due  issue-1 (pull request): a review asked for changes" in proc.stderr
    assert "6 of 9 task(s) due" in proc.stderr
    assert "Ratchet plan: 6 of 9 task(s) due" in summary
    # one listing of the open issues, never one call per task
    assert len(gh.requests_to("GET", r"^/repos/octo/calc/issues$")) == listings + 1
    assert gh.requests_to("GET", r"^/repos/octo/calc/(issues|pulls)/\d+") == []


def test_plan_of_200_open_tasks_is_one_paginated_listing(fleet: World) -> None:
    for i in range(200):
        fleet.gh.create_issue(REPO, f"Task {i}", as_user="alice", labels=["ratchet"])
    proc, outputs, _ = _plan(fleet)
    assert proc.returncode == 0, proc.stderr
    assert outputs["count"] == "206"  # 200 issues, the config task and five `tasks:`
    pages = fleet.gh.requests_to("GET", r"^/repos/octo/calc/issues$")
    assert len(pages) == 3  # 201 open issues, 100 a page
    assert fleet.gh.requests_to("GET", r"^/repos/octo/calc/(issues|pulls)/\d+") == []


def test_plan_without_a_token_says_what_it_needs(tmp_path: Path) -> None:
    from tests.conftest import make_repo

    repo = make_repo(tmp_path / "r", calc_files())
    proc = run_ratchet(["plan", "--repo", str(repo)], ratchet_env(tmp_path / "h"))
    assert proc.returncode == 1
    assert "needs GITHUB_REPOSITORY (or --repository OWNER/NAME) and GITHUB_TOKEN" in proc.stderr


def test_three_tasks_at_once_lose_no_record_and_open_three_prs(fleet: World) -> None:
    fleet.model.script(FIX_ADD, FIX_ADD, FIX_ADD)
    payload = {"schedule": "23 3 * * *", "repository": fleet.repository()}
    procs = [fleet.start("schedule", payload, RATCHET_TASK_KEY=key)
             for key in ("fix-a", "fix-b", "fix-c")]  # fmt: skip
    for p in procs:
        assert p.wait(300) == 0
    pulls = fleet.gh.pulls(REPO)
    assert sorted(p["head"]["ref"] for p in pulls) == [
        "ratchet/fix-a", "ratchet/fix-b", "ratchet/fix-c"]
    attempts = fleet.memory("attempt")
    assert sorted((a["task"], a["outcome"]) for a in attempts) == [
        ("fix-a", "improved"), ("fix-b", "improved"), ("fix-c", "improved")]
    by_task = {a["task"]: a for a in attempts}
    for pr in pulls:
        key = pr["head"]["ref"].removeprefix("ratchet/")
        assert by_task[key]["pr"] == pr["number"]
        assert git(fleet.origin, "log", "-1", "--format=%s", pr["head"]["ref"]) == "Fix add"
    # the planned task's own text is the prompt's task
    prompts = [json.dumps(r.json) for r in fleet.model.requests]
    assert any("Make add correct (b)" in p for p in prompts)


def test_an_unknown_task_key_is_refused_before_any_model_call(fleet: World) -> None:
    payload = {"schedule": "23 3 * * *", "repository": fleet.repository()}
    proc, _outputs, _ = fleet.run("schedule", payload, RATCHET_TASK_KEY="nope")
    assert proc.returncode != 0
    assert "task 'nope' is neither an issue (issue-<N>) nor a task of the config" in (
        proc.stdout + proc.stderr)
    assert fleet.model.requests == []
