"""The world the Action's end-to-end tests run in: a repository on the fake GitHub (driven by
the real PyGithub), its bare origin, the fake MiniMax and Mem0 on 127.0.0.1, and one
`ratchet action` process per event, each in a fresh clone (a new runner)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import git, make_repo, ratchet_env, ratchet_exe, run_ratchet
from tests.fakes.github_server import FakeGitHub
from tests.fakes.mem0_server import DEFAULT_KEY, FakeMem0Server
from tests.fakes.minimax_server import FakeMiniMax
from tests.scenarios import calc_files

REPO = "octo/calc"
TOKEN = "ghs_actionsTOKEN0123456789abcdef"
USER_ID = "ratchet:octo/calc"


class World:
    """A repository on the fake GitHub, its bare origin, and the services the action uses."""

    def __init__(
        self, tmp: Path, gh: FakeGitHub, model: FakeMiniMax, mem0: FakeMem0Server,
        files: dict[str, str] | None = None,
    ) -> None:
        self.tmp, self.gh, self.model, self.mem0 = tmp, gh, model, mem0
        seed = make_repo(tmp / "seed", files if files is not None else calc_files())
        self.origin = tmp / "origin.git"
        git(tmp, "clone", "-q", "--bare", str(seed), str(self.origin))
        self.repo_id = gh.add_repo(REPO, git_dir=self.origin)
        gh.add_actions_token(TOKEN)
        self.users = {}
        for login, role in (("alice", "write"), ("bob", "read")):
            self.users[login] = gh.add_user(login)
            gh.set_permission(REPO, login, role)
        self.issue = gh.create_issue(
            REPO, "Make the calculator correct", "add and mul give wrong answers", as_user="alice"
        )
        self.runs = 0

    def user(self, login: str) -> dict[str, Any]:
        return {"login": login, "id": self.users[login], "type": "User"}

    def repository(self) -> dict[str, Any]:
        return {
            "id": self.repo_id,
            "full_name": REPO,
            "default_branch": "main",
            "name": "calc",
            "owner": {"login": "octo"},
        }

    def comment(self, number: int, body: str, login: str) -> dict[str, Any]:
        cid = self.gh.add_comment(REPO, number, body, as_user=login)
        return {
            "action": "created",
            "issue": self.gh.issue_payload(REPO, number),
            "comment": {"id": cid, "body": body, "user": self.user(login)},
            "repository": self.repository(),
            "sender": self.user(login),
        }

    def pr_event(self, number: int, action: str, **extra: Any) -> dict[str, Any]:
        pr = next(p for p in self.gh.pulls(REPO) if p["number"] == number)
        return {"action": action, "pull_request": pr, "repository": self.repository(), **extra}

    def run(
        self, event: str, payload: dict[str, Any], *, mem0: bool = True, **extra_env: str
    ) -> tuple[subprocess.CompletedProcess[str], dict[str, str], str]:
        """One `ratchet action` process for ``event``, to its end: (process, outputs, summary)."""
        env, ws, out_file, summary = self.prepare(event, payload, mem0=mem0, **extra_env)
        proc = run_ratchet(["action"], env, cwd=ws, timeout=600)
        outputs = parse_outputs(out_file.read_text() if out_file.exists() else "")
        return proc, outputs, summary.read_text() if summary.exists() else ""

    def start(self, event: str, payload: dict[str, Any], **extra_env: str) -> subprocess.Popen:
        """The same process, started and left running (its own process group, to be killed
        as a runner kills a job)."""
        env, ws, _out, _summary = self.prepare(event, payload, **extra_env)
        return subprocess.Popen(
            [*ratchet_exe(), "action"], env=env, cwd=ws, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def prepare(
        self, event: str, payload: dict[str, Any], *, mem0: bool = True, **extra_env: str
    ) -> tuple[dict[str, str], Path, Path, Path]:
        """A new runner for one event: (environment, workspace clone, output file, summary)."""
        self.runs += 1
        ws = self.tmp / f"runner{self.runs}" / "calc"
        git(self.tmp, "clone", "-q", str(self.origin), str(ws))
        event_path = self.tmp / f"event{self.runs}.json"
        event_path.write_text(json.dumps(payload))
        out_file = self.tmp / f"output{self.runs}"
        summary = self.tmp / f"summary{self.runs}.md"
        env = ratchet_env(
            self.tmp / "home",
            GITHUB_ACTIONS="true",
            GITHUB_EVENT_NAME=event,
            GITHUB_EVENT_PATH=str(event_path),
            GITHUB_REPOSITORY=REPO,
            GITHUB_API_URL=self.gh.api_url,
            GITHUB_SERVER_URL=self.gh.url,
            RATCHET_GITHUB_THROTTLE="0",  # the fake has no secondary rate limits to respect
            GITHUB_WORKSPACE=str(ws),
            GITHUB_RUN_ID=str(1000 + self.runs),
            GITHUB_RUN_ATTEMPT="1",
            GITHUB_OUTPUT=str(out_file),
            GITHUB_STEP_SUMMARY=str(summary),
            GITHUB_TOKEN=TOKEN,
            MINIMAX_API_KEY="mm-key-secret",
            MINIMAX_BASE_URL=self.model.url,
            MEM0_API_KEY=DEFAULT_KEY,
            MEM0_HOST=self.mem0.url,
            **extra_env,
        )
        if not mem0:  # CI without a Mem0 key: memory lives on the ratchet/ledger branch
            del env["MEM0_API_KEY"], env["MEM0_HOST"]
        return env, ws, out_file, summary

    def memory(self, kind: str | None = None) -> list[dict[str, Any]]:
        mems = [m["metadata"] for m in self.mem0.memories_of(USER_ID)]
        return sorted(
            (m for m in mems if kind is None or m.get("kind") == kind),
            key=lambda m: (int(m.get("attempt") or 0), m.get("created_at", "")),
        )

    def status_comments(self, number: int) -> list[str]:
        return [c["body"] for c in self.gh.comments(REPO, number) if "ratchet:status" in c["body"]]


def parse_outputs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            name, delim = line.split("<<", 1)
            value = []
            for v in lines:
                if v == delim:
                    break
                value.append(v)
            out[name] = "\n".join(value)
        elif "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out
