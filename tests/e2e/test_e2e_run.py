"""End to end: three `ratchet run` processes on a real git repository, a scripted fake MiniMax
on 127.0.0.1, the real test suite, and the local memory. Asserts only what a user can observe:
commits on the task branch, `ratchet history --json`, the prompts the model received, and the
untouched checkout."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import (
    NONE_RUNG_ENV,
    VENV_BIN,
    WHY_MISSING,
    git,
    isolating_sandbox,
    make_repo,
    ratchet_env,
    run_ratchet,
)
from tests.fakes.minimax_server import BaseRespError, FakeMiniMax, Reply
from tests.scenarios import BREAK_SUB, CONFIG, FIX_ADD, IMPL_MUL, OPS, TESTS, proposal

pytestmark = pytest.mark.e2e

SECRET = "sk-test-secret-value-0042"

SECRET_PROBE = """import os
from pathlib import Path


def test_no_secret_is_visible():
    secret = "sk-test-secret-" + "value-0042"
    assert all(secret not in v for v in os.environ.values())
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            assert secret.encode() not in env.read_bytes(), env
        except OSError:
            pass
"""

@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "calc-repo",
        {
            "calc/__init__.py": "",
            "calc/ops.py": OPS,
            "tests/test_ops.py": TESTS,
            ".github/ratchet.yml": CONFIG,
            "pytest.ini": "[pytest]\npythonpath = .\n",
        },
    )


def history(repo: Path, env: dict[str, str]) -> list[dict[str, object]]:
    out = run_ratchet(["history", "--repo", str(repo), "--json"], env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_three_runs_ratchet_forward(repo: Path, tmp_path: Path) -> None:
    with FakeMiniMax() as fake:
        fake.script(FIX_ADD, BREAK_SUB, BREAK_SUB, IMPL_MUL)
        env = ratchet_env(tmp_path / "home", MINIMAX_API_KEY=SECRET, MINIMAX_BASE_URL=fake.url)

        first = run_ratchet(["run", "--repo", str(repo)], env)
        assert first.returncode == 0, first.stderr
        assert "improved" in first.stderr
        second = run_ratchet(["run", "--repo", str(repo)], env)
        assert second.returncode == 0, second.stderr
        assert "regressed" in second.stderr
        third = run_ratchet(["run", "--repo", str(repo)], env)
        assert third.returncode == 0, third.stderr
        requests = [r.json for r in fake.requests]

    branch = "ratchet/make-the-calculator-correct"
    # commits: only the two non-regressing changes, with their Ratchet-* trailers
    subjects = git(repo, "log", "--format=%s", f"main..{branch}").splitlines()
    assert subjects == ["Implement mul", "Fix add"]
    body = git(repo, "log", "-1", "--format=%B", branch)
    assert "Ratchet-Attempt: 4" in body and "Ratchet-Score: 66 -> 100" in body
    final = git(repo, "show", f"{branch}:calc/ops.py")
    assert "return a + b" in final and "return a * b" in final
    assert "def sub(a, b):\n    return a - b" in final  # the regression never landed

    # memory: every attempt, including the regressed one and the refused repeat
    recs = history(repo, env)
    assert [(r["attempt"], r["outcome"]) for r in recs] == [
        (1, "improved"),
        (2, "regressed"),
        (3, "repeat"),
        (4, "improved"),
    ]
    assert recs[0]["score_before"] == 33 and recs[0]["score_after"] == 66
    assert recs[1]["score_after"] == 33 and recs[1]["commit"] == ""
    assert recs[2]["patch_sha256"] == recs[1]["patch_sha256"]
    assert recs[3]["commit"] and recs[3]["score_after"] == 100

    # the prompts carried the earlier attempts; the repeat was refused before any test ran
    assert len(requests) == 4
    prompt3 = json.dumps(requests[2]["messages"])
    assert "Make sub symmetric" in prompt3 and "regressed" in prompt3 and "Fix add" in prompt3
    retry = json.dumps(requests[3]["messages"])
    assert "identical to attempt 2" in retry

    # tokens are counted once per model call: the summary of run 3 is the sum of its attempts
    import re

    shown = int(re.search(r"tokens: (\d+)", third.stdout).group(1))
    assert shown == recs[2]["tokens"] + recs[3]["tokens"] and recs[2]["tokens"] > 0

    # the secret never reached the test command, and no output leaked it
    for out in (first, second, third):
        assert SECRET not in out.stdout + out.stderr

    # the user's checkout is untouched
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(repo, "status", "--porcelain") == ""
    assert (repo / "calc" / "ops.py").read_text() == OPS


@pytest.mark.skipif(not isolating_sandbox(), reason=WHY_MISSING["bwrap"])
def test_the_tests_cannot_see_the_key(repo: Path, tmp_path: Path) -> None:
    """The model's code runs in the sandbox: neither its environment nor any process's
    /proc/<pid>/environ holds the MiniMax key Ratchet itself was given."""
    (repo / "tests" / "test_secret.py").write_text(SECRET_PROBE)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "secret probe")
    with FakeMiniMax() as fake:
        fake.script(FIX_ADD)
        env = ratchet_env(tmp_path / "home", MINIMAX_API_KEY=SECRET, MINIMAX_BASE_URL=fake.url)
        out = run_ratchet(["run", "--repo", str(repo)], env)
    assert out.returncode == 0, out.stderr
    recs = history(repo, env)
    assert [(r["outcome"], r["score_before"], r["score_after"]) for r in recs] == [
        ("improved", 50, 75)
    ]
    assert SECRET not in out.stdout + out.stderr


def test_missing_key_and_not_a_repo_fail_clearly(tmp_path: Path, repo: Path) -> None:
    env = ratchet_env(tmp_path / "home")
    out = run_ratchet(["run", "--repo", str(repo)], env)
    assert out.returncode == 1
    assert "MINIMAX_API_KEY is not set" in out.stderr and "hint:" in out.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    out = run_ratchet(["run", "--repo", str(plain), "--task", "x"], {**env, "MINIMAX_API_KEY": "k"})
    assert out.returncode == 1 and "not a git repository" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {".github/ratchet.yml": "tset_command: pytest\n", "a.py": ""})
    out = run_ratchet(
        ["run", "--repo", str(repo)], ratchet_env(tmp_path / "h", MINIMAX_API_KEY="k")
    )
    assert out.returncode == 1
    assert "tset_command" in out.stderr and "allowed keys" in out.stderr


def test_a_refused_key_records_an_error(tmp_path: Path, repo: Path) -> None:
    """A ModelError from the real client: recorded as ``error``, exit 1 with the hint, nothing
    committed. (Retries of an unreachable API are measured in test_minimax_client.)"""
    with FakeMiniMax() as fake:
        fake.script(BaseRespError(2049, "invalid api key"))
        env = ratchet_env(tmp_path / "home", MINIMAX_API_KEY="k", MINIMAX_BASE_URL=fake.url)
        out = run_ratchet(["run", "--repo", str(repo)], env)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert "MiniMax" in out.stderr and "hint:" in out.stderr and "region" in out.stderr
    recs = history(repo, env)
    assert [r["outcome"] for r in recs] == ["error"]
    assert git(repo, "log", "--format=%s", "main..ratchet/make-the-calculator-correct") == ""


def test_malformed_reply_after_repair_is_invalid(tmp_path: Path, repo: Path) -> None:
    bad = Reply(content='I think we should fix add. {"title": ')
    with FakeMiniMax() as fake:
        fake.script(bad, bad)
        env = ratchet_env(tmp_path / "home", MINIMAX_API_KEY="k", MINIMAX_BASE_URL=fake.url)
        out = run_ratchet(["run", "--repo", str(repo)], env)
        assert len(fake.requests) == 2  # the reply, then exactly one repair call
        repair = json.dumps(fake.requests[1].json["messages"])
    assert out.returncode == 0, out.stderr
    assert "I think we should fix add" in repair
    assert [r["outcome"] for r in history(repo, env)] == ["invalid"]


def test_a_missing_test_command_is_named(tmp_path: Path) -> None:
    files = {"a.py": "x = 1\n", ".github/ratchet.yml": "task: t\ntest_command: no-such-cmd-xyz\n"}
    repo = make_repo(tmp_path / "r", files)
    env = ratchet_env(tmp_path / "h", MINIMAX_API_KEY="k", MINIMAX_BASE_URL="http://127.0.0.1:9")
    out = run_ratchet(["run", "--repo", str(repo)], env)
    assert out.returncode == 1 and "test command was not found" in out.stderr
    # (a suite that hangs on the base commit: tests/test_driver.py)


def test_unrelated_non_python_repository(tmp_path: Path) -> None:
    """A shell project whose test command prints only a summary line: counts decide."""
    lib = 'greet() {\n  echo "Hello, $1"\n}\n\nshout() {\n  echo "$1"\n}\n'
    tests = (
        ". ./lib.sh\npass=0; fail=0\n"
        'check() { if [ "$1" = "$2" ]; then pass=$((pass+1)); else fail=$((fail+1)); '
        'echo "FAIL: $1 != $2"; fi; }\n'
        'check "$(greet Ann)" "Hello, Ann"\n'
        'check "$(shout hey)" "HEY"\n'
        'check "$(shout Ok)" "OK"\n'
        'echo "$pass passed, $fail failed"\n[ "$fail" -eq 0 ]\n'
    )
    repo = make_repo(tmp_path / "shell-tool", {"lib.sh": lib, "run_tests.sh": tests})
    fix = proposal(
        "Make shout upper-case",
        "lib.sh",
        'shout() {\n  echo "$1"\n}',
        "shout() {\n  echo \"$1\" | tr '[:lower:]' '[:upper:]'\n}",
    )
    with FakeMiniMax() as fake:
        fake.script(fix)
        env = ratchet_env(tmp_path / "home", MINIMAX_API_KEY="k", MINIMAX_BASE_URL=fake.url)
        out = run_ratchet(
            [
                "run",
                "--repo",
                str(repo),
                "--task",
                "Shout in capitals",
                "--test-command",
                "sh run_tests.sh",
                "--task-key",
                "shout",
            ],
            env,
        )
    assert out.returncode == 0, out.stderr
    recs = history(repo, env)
    assert [(r["outcome"], r["score_before"], r["score_after"]) for r in recs] == [
        ("improved", 33, 100)
    ]
    assert git(repo, "log", "-1", "--format=%s", "ratchet/shout") == "Make shout upper-case"


def test_setup_command_runs_before_the_tests(tmp_path: Path) -> None:
    check = (
        'if [ -f build.txt ]; then echo "1 passed, 0 failed"; '
        'else echo "0 passed, 1 failed"; exit 1; fi\n'
    )
    repo = make_repo(
        tmp_path / "built",
        {
            "t.sh": check,
            ".github/ratchet.yml": (
                "task: t\nsetup_command: echo built > build.txt\ntest_command: sh t.sh\n"
            ),
        },
    )
    with FakeMiniMax() as fake:
        fake.script(Reply(content='{"no_change": true, "reason": "all tests pass"}'))
        env = ratchet_env(tmp_path / "home", MINIMAX_API_KEY="k", MINIMAX_BASE_URL=fake.url)
        out = run_ratchet(["run", "--repo", str(repo)], env)
    assert out.returncode == 0, out.stderr
    assert [(r["outcome"], r["score_before"]) for r in history(repo, env)] == [("no_change", 100)]
    assert not (repo / "build.txt").exists()  # it ran in a copy, not in the checkout


def test_a_change_that_writes_a_secret_is_refused(tmp_path: Path, repo: Path) -> None:
    leak = proposal(
        "Log the key",
        "calc/ops.py",
        "def add(a, b):\n    return a - b",
        f"def add(a, b):\n    KEY = {SECRET!r}\n    return a + b",
    )
    with FakeMiniMax() as fake:
        fake.script(leak, Reply(content='{"no_change": true, "reason": "done"}'))
        env = ratchet_env(tmp_path / "home", MINIMAX_API_KEY=SECRET, MINIMAX_BASE_URL=fake.url)
        out = run_ratchet(["run", "--repo", str(repo)], env)
    assert out.returncode == 0, out.stderr
    recs = history(repo, env)
    assert [r["outcome"] for r in recs] == ["invalid", "no_change"]
    assert "credential" in recs[0]["detail"]
    assert SECRET not in json.dumps(recs) and SECRET not in out.stdout + out.stderr
    assert git(repo, "log", "--format=%s", "main..ratchet/make-the-calculator-correct") == ""


def test_the_model_may_ask_once_to_see_code(tmp_path: Path) -> None:
    filler = "".join(
        f"def helper_{i}(value):\n    return value * {i} + {i} ** 2 - len(str(value)) // 3\n\n\n"
        for i in range(400)
    )
    big = filler + "def mul(a, b):\n    raise NotImplementedError\n"
    repo = make_repo(
        tmp_path / "big",
        {
            "calc/__init__.py": "",
            "calc/ops.py": big,
            "tests/test_ops.py": "from calc.ops import mul\n\n\ndef test_mul():\n"
            "    assert mul(4, 3) == 12\n",
            "pytest.ini": "[pytest]\npythonpath = .\n",
        },
    )
    need = Reply(content=json.dumps({"need": ["calc/ops.py:helper_377"], "reason": "helpers"}))
    with FakeMiniMax() as fake:
        fake.script(need, IMPL_MUL)
        env = ratchet_env(tmp_path / "home", MINIMAX_API_KEY="k", MINIMAX_BASE_URL=fake.url)
        out = run_ratchet(["run", "--repo", str(repo), "--task", "Implement mul",
                           "--test-command", "python -m pytest -q"], env)
        prompts = [json.dumps(r.json["messages"]) for r in fake.requests]
    assert out.returncode == 0, out.stderr
    assert "the model asks to see: calc/ops.py:helper_377" in out.stderr
    assert len(prompts) == 2
    assert "def helper_377(value)" not in prompts[0]
    assert "def helper_377(value)" in prompts[1] and "You asked to see" in prompts[1]
    recs = history(repo, env)
    assert [r["outcome"] for r in recs] == ["improved"]
    assert "asked to see: calc/ops.py:helper_377" in recs[0]["detail"]
    assert recs[0]["tokens"] > 0


def test_a_weak_sandbox_with_credentials_present_fails_closed(repo: Path, tmp_path: Path) -> None:
    # a PATH without bwrap and unshare: `auto` can only pick the none rung, where a test could
    # read this process's environment through /proc/$PPID/environ
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("git", "python3", "python", "sh", "env"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    with FakeMiniMax() as fake:
        fake.script(FIX_ADD)
        env = ratchet_env(tmp_path / "home", MINIMAX_API_KEY=SECRET, MINIMAX_BASE_URL=fake.url,
                          PATH=f"{VENV_BIN}:{bin_dir}", RATCHET_SANDBOX="")  # fmt: skip
        out = run_ratchet(["run", "--repo", str(repo)], env)
        assert out.returncode == 1, out.stdout + out.stderr
        assert "'none' sandbox" in out.stderr and "MINIMAX_API_KEY" in out.stderr
        assert "nothing was run" in out.stderr and "RATCHET_SANDBOX=none" in out.stderr
        assert fake.requests == [] and SECRET not in out.stderr + out.stdout
        assert git(repo, "branch", "--list", "ratchet/*") == ""
        # naming the rung accepts the risk
        accepted = run_ratchet(["run", "--repo", str(repo)],
                               {**env, "RATCHET_SANDBOX": "none", **NONE_RUNG_ENV})
        assert accepted.returncode == 0, accepted.stderr
        assert len(fake.requests) == 1


def test_run_iterations_stop_at_green(repo: Path, tmp_path: Path) -> None:
    """`--iterations 5`: two fixes (a regression between them is discarded), then the suite is
    green and the run stops without asking again; `iterations:` in the config is the default."""
    with FakeMiniMax() as fake:
        fake.script(FIX_ADD, BREAK_SUB, IMPL_MUL, FIX_ADD)
        env = ratchet_env(tmp_path / "home", MINIMAX_API_KEY="k", MINIMAX_BASE_URL=fake.url)
        out = run_ratchet(["run", "--repo", str(repo), "--iterations", "5"], env)
        assert out.returncode == 0, out.stderr
        assert len(fake.requests) == 3
    log = git(repo, "log", "--format=%s", "main..ratchet/make-the-calculator-correct")
    assert log.splitlines() == ["Implement mul", "Fix add"]
    assert "stopped after 3 iteration(s): the test suite is green" in out.stderr
    bad = run_ratchet(["run", "--repo", str(repo), "--iterations", "0"], env)
    assert bad.returncode == 1 and "--iterations must be between 1 and 100" in bad.stderr
