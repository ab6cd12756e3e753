"""End to end: durable memory across processes and machines.

- Mem0: three `ratchet run` processes against the fake Mem0 platform (real MemoryClient);
  a run during an outage finishes, and the next run replays its record exactly once.
- Ledger: CI without a Mem0 key remembers through `ratchet/ledger` on origin, so a run on a
  fresh clone (a new machine) continues from what an earlier machine tried.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git, make_repo, ratchet_env, run_ratchet
from tests.fakes.mem0_server import DEFAULT_KEY, FakeMem0Server
from tests.fakes.minimax_server import FakeMiniMax
from tests.scenarios import BREAK_SUB, CONFIG, FIX_ADD, IMPL_MUL, calc_files

pytestmark = pytest.mark.e2e




def attempts(fake: FakeMem0Server, user_id: str) -> list[tuple[int, str]]:
    mems = [m for m in fake.memories_of(user_id) if (m["metadata"] or {}).get("kind") == "attempt"]
    return sorted((int(m["metadata"]["attempt"]), m["metadata"]["outcome"]) for m in mems)


def test_mem0_runs_continue_and_survive_an_outage(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "calc-repo", calc_files())
    user_id = "ratchet:local/calc-repo"
    with FakeMiniMax() as model, FakeMem0Server() as mem0:
        model.script(FIX_ADD, BREAK_SUB, IMPL_MUL)
        env = ratchet_env(
            tmp_path / "home",
            MINIMAX_API_KEY="k",
            MINIMAX_BASE_URL=model.url,
            MEM0_API_KEY=DEFAULT_KEY,
            MEM0_HOST=mem0.url,
        )
        first = run_ratchet(["run", "--repo", str(repo)], env)
        assert first.returncode == 0, first.stderr
        assert "memory: mem0" in first.stderr
        assert attempts(mem0, user_id) == [(1, "improved")]

        mem0.outage = True  # Mem0 is down for the whole second run
        second = run_ratchet(["run", "--repo", str(repo)], env)
        assert second.returncode == 0, second.stderr
        assert "journal" in second.stderr
        assert attempts(mem0, user_id) == [(1, "improved")]

        mem0.outage = False
        third = run_ratchet(["run", "--repo", str(repo)], env)
        assert third.returncode == 0, third.stderr
        assert attempts(mem0, user_id) == [(1, "improved"), (2, "regressed"), (3, "improved")]
        prompt3 = json.dumps(model.requests[2].json["messages"])
        history = run_ratchet(["history", "--repo", str(repo), "--json"], env)
    # the third prompt knew about the attempt made during the outage
    assert "Make sub symmetric" in prompt3 and "regressed" in prompt3
    recs = json.loads(history.stdout)
    assert [(r["attempt"], r["outcome"]) for r in recs] == [
        (1, "improved"),
        (2, "regressed"),
        (3, "improved"),
    ]
    assert all(r["id"] and not r["id"].startswith("journal:") for r in recs)


def test_wrong_mem0_key_is_a_clear_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "calc-repo", calc_files())
    with FakeMem0Server() as mem0:
        env = ratchet_env(
            tmp_path / "home", MINIMAX_API_KEY="k", MEM0_API_KEY="wrong-key", MEM0_HOST=mem0.url
        )
        out = run_ratchet(["run", "--repo", str(repo)], env)
    assert out.returncode == 1
    assert "MEM0_API_KEY" in out.stderr and "Traceback" not in out.stderr


def test_ledger_carries_memory_to_a_new_machine(tmp_path: Path) -> None:
    config = CONFIG + "memory: ledger\n"
    seed = make_repo(tmp_path / "seed", calc_files(config))
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(origin))
    machine_a = tmp_path / "a" / "calc"
    machine_b = tmp_path / "b" / "calc"
    git(tmp_path, "clone", "-q", str(origin), str(machine_a))
    with FakeMiniMax() as model:
        model.script(BREAK_SUB, FIX_ADD)
        env = ratchet_env(tmp_path / "home", MINIMAX_API_KEY="k", MINIMAX_BASE_URL=model.url)
        first = run_ratchet(["run", "--repo", str(machine_a)], env)
        assert first.returncode == 0, first.stderr
        assert "memory: ledger" in first.stderr
        git(tmp_path, "clone", "-q", str(origin), str(machine_b))  # a fresh machine
        second = run_ratchet(["run", "--repo", str(machine_b)], env)
        assert second.returncode == 0, second.stderr
        prompt2 = json.dumps(model.requests[1].json["messages"])
    assert "Make sub symmetric" in prompt2 and "regressed" in prompt2
    assert "ratchet/ledger" in git(origin, "branch", "--list", "ratchet/ledger")
    out = run_ratchet(["history", "--repo", str(machine_a), "--json"], env)
    assert [(r["attempt"], r["outcome"]) for r in json.loads(out.stdout)] == [
        (1, "regressed"),
        (2, "improved"),
    ]
    # the user's checkouts stay as they were
    assert git(machine_a, "status", "--porcelain") == ""
    assert git(machine_b, "rev-parse", "--abbrev-ref", "HEAD") == "main"
