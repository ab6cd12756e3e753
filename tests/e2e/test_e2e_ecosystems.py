"""End to end, one small real project per test runner: `ratchet run` judges a change that fixes
one test and breaks another as regressed (and commits nothing), and the real fix as improved
(and commits it). The runners run for real (a runner whose toolchain is missing is skipped with
the reason); the model is the scripted fake MiniMax on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git, ratchet_env, run_ratchet
from tests.fakes.minimax_server import FakeMiniMax
from tests.projects import ALL, PYTEST, Project, build, reply, user_env_for

pytestmark = pytest.mark.e2e


def _history(repo: Path, env: dict[str, str]) -> list[dict[str, object]]:
    out = run_ratchet(["history", "--repo", str(repo), "--json"], env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize("project", ALL, ids=[p.name for p in ALL])
def test_fix_one_break_one_regresses_and_the_real_fix_is_committed(
    project: Project, tmp_path: Path
) -> None:
    repo = build(project, tmp_path / "calc")
    args = ["run", "--repo", str(repo), "--task", "Make add correct", "--task-key", "calc",
            "--test-command", project.command]
    with FakeMiniMax() as fake:
        fake.script(
            reply("Fix add and simplify sub", project.fix, project.breaks),
            reply("Fix add", project.fix),
        )
        env = ratchet_env(tmp_path / "home", MINIMAX_API_KEY="k", MINIMAX_BASE_URL=fake.url,
                          **user_env_for(project))
        first = run_ratchet(args, env, timeout=600)
        assert first.returncode == 0, first.stderr
        second = run_ratchet(args, env, timeout=600)
        assert second.returncode == 0, second.stderr

    # the header names the runner and says the results are per test
    assert f"runner: {project.runner}" in first.stderr, first.stderr
    assert "per-test results from" in first.stderr
    recs = _history(repo, env)
    assert [r["outcome"] for r in recs] == ["regressed", "improved"], (first.stderr,
                                                                       second.stderr)
    assert "1 regression" in str(recs[0]["detail"]) and "(fixed " in str(recs[0]["detail"])
    assert recs[0]["commit"] == "" and recs[1]["commit"]
    assert "counts only" not in str(recs[1]["detail"])
    assert (recs[1]["score_before"], recs[1]["score_after"]) != (None, None)
    assert recs[1]["score_after"] > recs[1]["score_before"]
    assert git(repo, "log", "--format=%s", "main..ratchet/calc").splitlines() == ["Fix add"]
    # the checkout (and what its CI prepared) is untouched
    assert git(repo, "status", "--porcelain") == ""


def test_ids_with_the_trees_path_compare_equal(tmp_path: Path) -> None:
    """Replaying a real fix on a suite whose parametrised ids contain the tree's absolute path
    (as psf/requests has) is an improvement, not a regression of 'vanished' tests."""
    repo = build(PYTEST, tmp_path / "calc")
    with FakeMiniMax() as fake:
        fake.script(reply("Fix add", PYTEST.fix))
        env = ratchet_env(tmp_path / "home", MINIMAX_API_KEY="k", MINIMAX_BASE_URL=fake.url)
        out = run_ratchet(["run", "--repo", str(repo), "--task", "Fix add", "--task-key", "p",
                           "--test-command", PYTEST.command], env)
    assert out.returncode == 0, out.stderr
    recs = _history(repo, env)
    assert [(r["outcome"], r["detail"]) for r in recs] == [
        ("improved", "fixed 1 test, no regressions")
    ]
