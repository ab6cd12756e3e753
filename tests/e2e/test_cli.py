"""The command line as a user meets it: --help/--version, history, forget, doctor, memory
import-ledger and the demo, each run as the `ratchet` executable."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ratchet.memory.ledger import LedgerStore
from ratchet.memory.local import LocalStore
from ratchet.records import MemoryRecord
from tests.conftest import git, make_repo, ratchet_env, run_ratchet
from tests.fakes.mem0_server import DEFAULT_KEY, FakeMem0Server
from tests.fakes.minimax_server import FakeMiniMax


def rec(task: str, n: int, outcome: str = "improved") -> MemoryRecord:
    return MemoryRecord(
        kind="attempt",
        task=task,
        attempt=n,
        outcome=outcome,
        run_id="r1",
        title=f"step {n}",
        score_before=10 * n,
        score_after=10 * n + 5,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "proj", {"a.py": "x = 1\n", "tests/test_a.py": "def test_a():\n    pass\n"}
    )


def test_version_and_help_everywhere(tmp_path: Path) -> None:
    env = ratchet_env(tmp_path / "h")
    out = run_ratchet(["--version"], env)
    assert out.returncode == 0 and re.match(r"ratchet \d+\.\d+\.\d+", out.stdout)
    for cmd in ("run", "action", "history", "status", "forget", "stop", "resume", "doctor",
                "plan", "evaluate", "demo", "memory"):
        out = run_ratchet([cmd, "--help"], env)
        assert out.returncode == 0 and "usage: ratchet" in out.stdout, cmd
    mod = subprocess.run(
        [sys.executable, "-m", "ratchet", "--version"], capture_output=True, text=True, env=env
    )
    assert mod.returncode == 0 and mod.stdout.startswith("ratchet ")
    assert run_ratchet([], env).returncode == 2


def test_history_table_json_and_forget(repo: Path, tmp_path: Path) -> None:
    env = ratchet_env(tmp_path / "h")
    store = LocalStore(repo / ".git" / "ratchet" / "memory.jsonl")
    for n in (1, 2):
        store.add(rec("task-a", n))
    store.add(rec("task-b", 1, "regressed"))
    table = run_ratchet(["history", "--repo", str(repo)], env)
    assert table.returncode == 0 and "step 2" in table.stdout and "task-b" in table.stdout
    data = json.loads(
        run_ratchet(["history", "--repo", str(repo), "--json", "--task", "task-a"], env).stdout
    )
    assert [r["attempt"] for r in data] == [1, 2]
    for field in (
        "task",
        "attempt",
        "title",
        "outcome",
        "score_before",
        "score_after",
        "patch_sha256",
        "created_at",
    ):
        assert field in data[0]
    # forget without a target says what it needs; nothing changes
    vague = run_ratchet(["forget", "--repo", str(repo), "--task", "task-a"], env)
    assert vague.returncode == 1 and "attempt number or `all`" in vague.stderr
    # forget N records who asked; the attempt stays in history, marked
    soft = run_ratchet(["forget", "--repo", str(repo), "--task", "task-a", "1"], env)
    assert soft.returncode == 0 and "Forgot attempt 1" in soft.stdout, soft.stderr
    forgets = [r for r in store.records("task-a") if r.kind == "forget"]
    assert [(r.attempt, r.actor.endswith("(ratchet CLI)")) for r in forgets] == [(1, True)]
    table = run_ratchet(["history", "--repo", str(repo), "--task", "task-a"], env)
    assert "(forgotten)" in table.stdout and "forgot attempt 1 at the request of" in table.stdout
    again = run_ratchet(["forget", "--repo", str(repo), "--task", "task-a", "1"], env)
    assert again.returncode == 1 and "already forgotten" in again.stdout
    # --purge deletes for good, and asks for --yes first
    refused = run_ratchet(["forget", "--repo", str(repo), "--task", "task-a", "--purge"], env)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert len(store.records()) == 4
    done = run_ratchet(
        ["forget", "--repo", str(repo), "--task", "task-a", "--purge", "--yes"], env
    )
    assert done.returncode == 0 and "Deleted 3" in done.stdout
    assert [r.task for r in store.records()] == ["task-b"]


def test_doctor_reports_what_to_fix(repo: Path, tmp_path: Path) -> None:
    env = ratchet_env(tmp_path / "h")
    out = run_ratchet(["doctor", "--repo", str(repo)], env)
    assert "repository" in out.stdout and "MINIMAX_API_KEY is not set" in out.stdout
    assert "test command" in out.stdout and "python -m pytest" in out.stdout
    assert "test limits: processes 4096" in " ".join(out.stdout.split())
    with FakeMiniMax() as model, FakeMem0Server() as mem0:
        good = {
            **env,
            "MINIMAX_API_KEY": "k",
            "MINIMAX_BASE_URL": model.url,
            "MEM0_API_KEY": DEFAULT_KEY,
            "MEM0_HOST": mem0.url,
        }
        out = run_ratchet(["doctor", "--repo", str(repo)], good)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "All checks passed" in out.stdout
        bad = {**good, "MEM0_API_KEY": "wrong"}
        out = run_ratchet(["doctor", "--repo", str(repo)], bad)
        assert out.returncode == 1 and "Mem0" in out.stdout and "fix:" in out.stdout
    bad_cfg = make_repo(tmp_path / "bad", {".github/ratchet.yml": "memory: redis\n"})
    out = run_ratchet(["doctor", "--repo", str(bad_cfg)], env)
    assert out.returncode == 1 and "'memory'" in out.stdout


def test_import_ledger_into_mem0_is_idempotent(repo: Path, tmp_path: Path) -> None:
    ledger = LedgerStore(repo, remote=None)
    for n in (1, 2, 3):
        ledger.add(rec("task-a", n))
    with FakeMem0Server() as mem0:
        env = ratchet_env(tmp_path / "h", MEM0_API_KEY=DEFAULT_KEY, MEM0_HOST=mem0.url)
        for _ in range(2):
            out = run_ratchet(["memory", "import-ledger", "--repo", str(repo), "--no-fetch"], env)
            assert out.returncode == 0, out.stderr
            assert "Imported 3" in out.stdout
        mems = mem0.memories_of("ratchet:local/proj")
    assert sorted(int(m["metadata"]["attempt"]) for m in mems) == [1, 2, 3]


def test_stop_status_run_and_resume_as_a_user_types_them(repo: Path, tmp_path: Path) -> None:
    env = ratchet_env(tmp_path / "h")
    store = LocalStore(repo / ".git" / "ratchet" / "memory.jsonl")
    store.add(rec("task-a", 1))
    cli = ["--repo", str(repo), "--task"]
    stop = run_ratchet(["stop", *cli, "task-a"], env)
    assert stop.returncode == 0 and "Paused by" in stop.stdout, stop.stderr
    assert "ratchet resume --task task-a" in stop.stdout and "no memory" not in stop.stderr
    again = run_ratchet(["stop", *cli, "task-a"], env)
    assert again.returncode == 1 and "already paused" in again.stdout
    status = run_ratchet(["status", *cli, "task-a"], env)
    assert status.returncode == 0 and "⏸️ paused" in status.stdout and "step 1" in status.stdout
    with FakeMiniMax() as model:
        paused = run_ratchet(
            ["run", "--repo", str(repo), "--task", "x", "--task-key", "task-a",
             "--test-command", "true"],
            {**env, "MINIMAX_API_KEY": "k", "MINIMAX_BASE_URL": model.url},
        )  # fmt: skip
        assert paused.returncode == 0 and "is paused" in paused.stdout, paused.stderr
        assert model.requests == []
    go = run_ratchet(["resume", *cli, "task-a"], env)
    assert go.returncode == 0 and "Resumed by" in go.stdout
    assert run_ratchet(["resume", *cli, "task-a"], env).returncode == 1  # not paused
    assert [r.outcome for r in store.records("task-a") if r.kind == "control"] == [
        "paused", "resumed"
    ]
    # a mistyped key is no silent success: the note names the tasks memory has
    typo = run_ratchet(["stop", *cli, "task-aa"], env)
    assert "task task-aa has no memory yet (memory: local); tasks with memory: task-a" in (
        typo.stderr
    )


def test_a_money_budget_needs_a_price_for_the_model(tmp_path: Path) -> None:
    config = "budget:\n  usd: 5\n"
    repo = make_repo(tmp_path / "p", {".github/ratchet.yml": config, "a.py": "x = 1\n"})
    env = ratchet_env(tmp_path / "h", RATCHET_MODEL="acme-coder-9", MINIMAX_API_KEY="k")
    for args in (["run", "--task", "x", "--test-command", "true"], ["status", "--task", "t"]):
        out = run_ratchet([*args, "--repo", str(repo)], env)
        assert out.returncode == 1, out.stdout + out.stderr
        assert "budget.usd is set, but model 'acme-coder-9' has no price" in out.stderr
        assert "pricing: {acme-coder-9: {input:" in out.stderr
    (repo / ".github" / "ratchet.yml").write_text(
        config + "pricing:\n  acme-coder-9: {input: 1, output: 2}\n"
    )
    git(repo, "commit", "-qam", "price it")
    out = run_ratchet(["status", "--task", "t", "--repo", str(repo)], env)
    assert out.returncode == 0 and "cost $0.0000 of $5.00" in out.stdout, out.stderr


@pytest.mark.e2e
def test_demo_runs_offline_and_the_score_rises(tmp_path: Path) -> None:
    work = tmp_path / "demo"
    out = run_ratchet(
        ["demo", "--iterations", "3", "--dir", str(work)], ratchet_env(tmp_path / "h"), timeout=600
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "OFFLINE STAND-IN" in out.stdout
    assert out.stdout.count("a new process") == 3
    history = json.loads(
        run_ratchet(["history", "--repo", str(work), "--json"], ratchet_env(tmp_path / "h")).stdout
    )
    kept = [r for r in history if r["outcome"] == "improved"]
    seen = [(r["attempt"], r["outcome"], r["title"], r["detail"][:200]) for r in history]
    assert len(history) == 3 and len(kept) >= 2, (seen, out.stdout[-4000:])
    scores = [history[0]["score_before"]] + [r["score_after"] for r in kept]
    assert scores == sorted(scores) and scores[-1] > scores[0]
    assert git(work, "rev-list", "--count", f"main..ratchet/{history[0]['task']}") == str(len(kept))


def test_the_cli_steers_a_task_whose_memory_is_cis_ledger(repo: Path, tmp_path: Path) -> None:
    """CI without a Mem0 key keeps memory on origin's ratchet/ledger branch; a local `ratchet
    stop` reaches it with --memory ledger, and without it says where to look."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "HEAD:main")
    runner = tmp_path / "runner"  # the CI job's checkout
    git(tmp_path, "clone", "-q", str(origin), str(runner))
    LedgerStore(runner).add(rec("issue-5", 1))
    env = ratchet_env(tmp_path / "h")
    cli = ["--repo", str(repo), "--task", "issue-5"]

    local = run_ratchet(["stop", *cli], env)
    assert "has no memory yet (memory: local)" in local.stderr
    assert "pass --memory ledger" in local.stderr
    run_ratchet(["resume", *cli], env)  # undo the local pause, which CI never sees

    out = run_ratchet(["stop", *cli, "--memory", "ledger"], env)
    assert out.returncode == 0 and "Paused by" in out.stdout, out.stderr
    assert "no memory yet" not in out.stderr
    ci = LedgerStore(runner).records("issue-5")  # what the next CI job reads from origin
    assert [r.outcome for r in ci if r.kind == "control"] == ["paused"]
    status = run_ratchet(["status", *cli, "--memory", "ledger"], env)
    assert "⏸️ paused" in status.stdout, status.stderr
    history = run_ratchet(["history", "--repo", str(repo), "--memory", "ledger", "--json"], env)
    assert {r["task"] for r in json.loads(history.stdout)} == {"issue-5"}
