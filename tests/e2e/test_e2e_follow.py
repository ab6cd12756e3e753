"""End to end (#11): the task branch follows its base. Between two Action runs someone merges
into main; the next run rebases the task's commits (or, when they conflict, rebuilds or restarts
the task and says so), judges the carried-over branch against the new base with the suite, and
updates the one PR with a leased push."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.action_world import REPO, World
from tests.conftest import git
from tests.fakes.github_server import FakeGitHub
from tests.fakes.mem0_server import FakeMem0Server
from tests.fakes.minimax_server import FakeMiniMax
from tests.scenarios import FIX_ADD, IMPL_MUL, OPS, TESTS, calc_files, proposal

pytestmark = pytest.mark.e2e


def _merge_into_main(world: World, path: str, text: str, message: str) -> str:
    """Someone else's commit on origin's main (as a merged pull request leaves it)."""
    clone = world.tmp / f"someone-{message.split()[0].lower()}"
    git(world.tmp, "clone", "-q", str(world.origin), str(clone))
    (clone / path).write_text(text)
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", message)
    git(clone, "push", "-q", "origin", "HEAD:main")
    return git(clone, "rev-parse", "HEAD")


def _first_run(world: World) -> str:
    world.model.script(FIX_ADD)
    proc, outputs, _ = world.run("issue_comment", world.comment(world.issue, "/agent next",
                                                                 "alice"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert outputs["outcome"] == "improved"
    return git(world.origin, "rev-parse", "ratchet/issue-1")


def _subjects(world: World, base: str) -> list[str]:
    return git(world.origin, "log", "--format=%s", f"{base}..ratchet/issue-1").splitlines()


def _ops(world: World) -> str:
    return (world.tmp / "seed" / "calc" / "ops.py").read_text()


def test_an_unrelated_merge_into_main_rebases_the_task(world: World) -> None:
    old_tip = _first_run(world)
    main = _merge_into_main(world, "README.md", "A calculator.\n", "Docs for the calculator")
    world.model.script(IMPL_MUL)
    proc, outputs, summary = world.run(
        "issue_comment", world.comment(world.issue, "/agent next", "alice"))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert git(world.origin, "merge-base", "--is-ancestor", main, "ratchet/issue-1") == ""
    assert _subjects(world, main) == ["Implement mul", "Fix add"]
    assert git(world.origin, "rev-parse", "ratchet/issue-1~1") != old_tip  # rewritten
    [moved] = world.memory("branch")
    assert moved["outcome"] == "rebased"
    status = world.status_comments(world.issue)[0]
    assert "the task's 1 commit(s) were rebased onto the new tip of the base branch" in status
    pulls = world.gh.pulls(REPO)
    assert len(pulls) == 1 and pulls[0]["head"]["sha"] == git(
        world.origin, "rev-parse", "ratchet/issue-1")
    assert "rebased onto" in summary


DOCUMENTED = OPS.replace("def add(a, b):\n", 'def add(a, b):\n    """Add two numbers.\n\n'
                         '    Works for ints and floats alike.\n    """\n')


@pytest.fixture
def documented(tmp_path: Path) -> Iterator[World]:
    """The calculator whose add has a docstring (the line above the one the fix changes)."""
    with FakeGitHub() as gh, FakeMiniMax() as model, FakeMem0Server() as mem0:
        files = {**calc_files(), "calc/ops.py": DOCUMENTED}
        yield World(tmp_path, gh, model, mem0, files=files)


def test_a_merge_next_to_the_task_s_line_rebuilds_the_task(documented: World) -> None:
    """git cannot rebase (main changed the line right above the task's change); the edit
    engine finds the block, keeps main's line, and the suite, against the new base, says the
    rebuilt change still improves it."""
    world = documented
    world.model.script(proposal("Fix add", "calc/ops.py", "    return a - b\n\n\ndef sub",
                                "    return a + b\n\n\ndef sub"))  # fmt: skip
    proc, _o, _s = world.run("issue_comment", world.comment(world.issue, "/agent next", "alice"))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    main = _merge_into_main(world, "calc/ops.py", DOCUMENTED.replace(
        '    """\n    return a - b', '    """  # see #12\n    return a - b', 1), "Refer to #12")
    world.model.script(IMPL_MUL)
    proc, _outputs, _ = world.run(
        "issue_comment", world.comment(world.issue, "/agent next", "alice"))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert _subjects(world, main) == ["Implement mul", "Fix add"]
    ops = git(world.origin, "show", "ratchet/issue-1:calc/ops.py")
    assert '    """  # see #12\n    return a + b' in ops
    [moved] = world.memory("branch")
    assert moved["outcome"] == "rebuilt"
    assert "git could not rebase cleanly" in world.status_comments(world.issue)[0]


def test_a_conflicting_merge_restarts_the_task_and_says_so(world: World) -> None:
    _first_run(world)
    rewritten = _ops(world).replace("    return a - b", "    total = a\n    total -= b\n"
                                    "    return total", 1)  # fmt: skip
    main = _merge_into_main(world, "calc/ops.py", rewritten, "Rewrite add")
    world.model.script(proposal("Fix add again", "calc/ops.py", "    total -= b",
                                "    total += b"))  # fmt: skip
    proc, _outputs, _ = world.run(
        "issue_comment", world.comment(world.issue, "/agent next", "alice"))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert _subjects(world, main) == ["Fix add again"]
    assert git(world.origin, "rev-parse", "ratchet/issue-1~1") == main
    [moved] = world.memory("branch")
    assert moved["outcome"] == "restarted" and '"Fix add"' in moved["detail"]
    assert "regress" not in moved["detail"]  # dropped, not misplaced and then refused
    status = world.status_comments(world.issue)[0]
    assert "none of the task's changes apply to the new tip of the base branch" in status
    # the model heard about it: the prompt's memory says the branch was restarted
    prompt = str(world.model.requests[-1].json)
    assert "Task branch RESTARTED" in prompt


def test_a_rebase_the_new_tests_reject_restarts_the_task(world: World) -> None:
    """main gains a test the task's kept change fails: the rebased branch would regress, so
    the task starts again from the new base instead of pushing it."""
    _first_run(world)
    tests = TESTS + "\n\ndef test_add_is_subtraction_for_now():\n    assert add(5, 3) == 2\n"
    main = _merge_into_main(world, "tests/test_ops.py", tests, "Pin the current add")
    world.model.script(IMPL_MUL)
    proc, _outputs, _ = world.run(
        "issue_comment", world.comment(world.issue, "/agent next", "alice"))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert _subjects(world, main) == ["Implement mul"]
    [moved] = world.memory("branch")
    assert moved["outcome"] == "restarted" and "regressed" in moved["detail"]
    assert "test_add_is_subtraction_for_now" in moved["detail"]


def test_a_branch_whose_base_has_not_moved_is_not_rewritten(world: World) -> None:
    tip = _first_run(world)
    world.model.script(IMPL_MUL)
    proc, _outputs, _ = world.run(
        "issue_comment", world.comment(world.issue, "/agent next", "alice"))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert git(world.origin, "rev-parse", "ratchet/issue-1~1") == tip
    assert world.memory("branch") == []

