"""End to end (#12): the split workflow as three separate processes with separate environments
and the artifacts on disk between them: propose (model key and memory, a read-only token),
evaluate (no secrets at all, in a clone of the proposal's bundle), publish (write token and
memory, no model key). A publish given a tampered artifact refuses and pushes nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.action_world import REPO, World, parse_outputs
from tests.conftest import git, ratchet_env, run_ratchet
from tests.scenarios import FIX_ADD

pytestmark = pytest.mark.e2e

READ_TOKEN = "ghs_readONLYtoken0123456789abcdefgh"
BRANCH = "ratchet/make-the-calculator-correct"


def _dispatch(world: World) -> dict[str, Any]:
    return {"inputs": {}, "ref": "refs/heads/main", "repository": world.repository(),
            "sender": world.user("alice")}  # fmt: skip


def _action(world: World, stage: str, art: Path, **env: str) -> tuple[
    subprocess.CompletedProcess[str], dict[str, str]
]:
    base, ws, out, _summary = world.prepare("workflow_dispatch", _dispatch(world))
    base.update(RATCHET_STAGE=stage, RATCHET_ARTIFACTS=str(art), **env)
    for name in [k for k, v in base.items() if v == ""]:
        del base[name]  # "" means: this job does not hold it
    proc = run_ratchet(["action"], base, cwd=ws, timeout=600)
    return proc, parse_outputs(out.read_text() if out.exists() else "")


def _propose(world: World, art: Path) -> None:
    world.gh.add_token(READ_TOKEN, "github-actions[bot]", installation=True, permissions={
        "contents": "read", "issues": "read", "pull-requests": "read"})
    proc, outputs = _action(world, "propose", art / "proposal", GITHUB_TOKEN=READ_TOKEN)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert outputs["outcome"] == "proposed" and outputs["proposed"] == "true"


def _evaluate(world: World, art: Path) -> subprocess.CompletedProcess[str]:
    ws = world.tmp / "evaluate" / "calc"
    git(world.tmp, "clone", "-q", "--branch", "ratchet-split-tip",
        str(art / "proposal" / "repo.bundle"), str(ws))  # fmt: skip
    env = ratchet_env(world.tmp / "evaluate-home")  # no token, no key
    return run_ratchet(["evaluate", "--repo", str(ws), "--proposal", str(art / "proposal"),
                        "--out", str(art / "evaluation")], env, timeout=600)  # fmt: skip


def test_propose_evaluate_publish_in_three_processes(world: World) -> None:
    art = world.tmp / "artifacts"
    world.model.script(FIX_ADD)
    _propose(world, art)
    assert len(world.model.requests) == 1
    assert world.memory("attempt") == []  # recorded by publish, with its verdict
    assert world.gh.pulls(REPO) == []  # the propose job cannot write
    proposal = json.loads((art / "proposal" / "proposal.json").read_text())
    assert proposal["title"] == "Fix add" and len(proposal["patch_sha256"]) == 64

    evaluated = _evaluate(world, art)
    assert evaluated.returncode == 0, evaluated.stderr
    evaluation = json.loads((art / "evaluation" / "evaluation.json").read_text())
    assert evaluation["outcome"] == "improved"
    assert evaluation["patch_sha256"] == proposal["patch_sha256"]

    proc, outputs = _action(world, "publish", art, MINIMAX_API_KEY="")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert len(world.model.requests) == 1  # publish never asks the model
    [pr] = world.gh.pulls(REPO)
    assert pr["head"]["ref"] == BRANCH and outputs["outcome"] == "improved"
    assert git(world.origin, "log", "-1", "--format=%s", BRANCH) == "Fix add"
    [attempt] = world.memory("attempt")
    assert (attempt["outcome"], attempt["pr"]) == ("improved", pr["number"])
    assert attempt["commit"] == git(world.origin, "rev-parse", BRANCH)


@pytest.mark.parametrize("tamper", ["edits", "evaluation"])
def test_a_tampered_artifact_is_refused_and_nothing_is_pushed(world: World, tamper: str) -> None:
    art = world.tmp / "artifacts"
    world.model.script(FIX_ADD)
    _propose(world, art)
    assert _evaluate(world, art).returncode == 0
    if tamper == "edits":  # after the evaluation: push something else than what was judged
        path = art / "proposal" / "proposal.json"
        data = json.loads(path.read_text())
        data["edits"][0]["replace"] = "def add(a, b):\n    return __import__('os').getcwd()"
        path.write_text(json.dumps(data))
    else:  # an evaluation of another patch
        path = art / "evaluation" / "evaluation.json"
        data = json.loads(path.read_text())
        data["patch_sha256"] = "0" * 64
        path.write_text(json.dumps(data))
    proc, outputs = _action(world, "publish", art, MINIMAX_API_KEY="")
    assert proc.returncode != 0
    assert "refusing to publish" in proc.stderr + proc.stdout
    assert outputs["outcome"] == "error"
    assert world.gh.pulls(REPO) == []
    assert git(world.origin, "branch", "--list", BRANCH) == ""
    assert world.memory("attempt") == []
