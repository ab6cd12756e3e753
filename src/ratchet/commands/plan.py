"""`ratchet plan`: the repository's due tasks as a GitHub Actions matrix (core/fleet.py).

One listing of the open issues and pull requests (labelled issues are tasks; Ratchet's pull
requests are found by their hidden task marker), one read of the memory, the config from the
base branch; then the JSON matrix on stdout (and, in Actions, as the ``matrix`` and ``count``
outputs, with a table in the job summary), and one line per task on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Callable

from ratchet.config import RepoConfig
from ratchet.core import fleet, keys
from ratchet.core.render import find_task_marker
from ratchet.environment import Environment
from ratchet.errors import ConfigError
from ratchet.github.models import IssueInfo
from ratchet.progress import Reporter
from ratchet.records import MemoryRecord
from ratchet.redact import redactor_from_env


def cmd_plan(args: argparse.Namespace, env: Environment) -> int:
    from ratchet.commands.wiring import open_memory
    from ratchet.github import actions
    from ratchet.github.client import GitHubClient
    from ratchet.session import RunOptions, build_settings
    from ratchet.workspace import git as gitops
    from ratchet.workspace.gitcmd import auth_env

    repository = args.repository or env.value("GITHUB_REPOSITORY")
    token = env.value("GITHUB_TOKEN") or env.value("INPUT_GITHUB_TOKEN")
    if not repository or not token:
        raise ConfigError(
            "ratchet plan lists the repository's issues: it needs GITHUB_REPOSITORY (or "
            "--repository OWNER/NAME) and GITHUB_TOKEN",
            "in Actions, pass `github_token`; locally: GITHUB_TOKEN=... ratchet plan "
            "--repository owner/name",
        )
    redact = redactor_from_env(env)
    reporter = Reporter(redact=redact, quiet=True)
    repo = gitops.open_repo(args.repo.resolve())
    settings = build_settings(RunOptions(repo=args.repo), repo, env, need_task=False)
    api = (env.value("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
    gh = GitHubClient(token, repository, api_url=api)
    issues = gh.open_issues()
    server = (env.value("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    store = open_memory(settings.config.memory, repo, reporter, env, auth_env(token, server))
    by_task: dict[str, list[MemoryRecord]] = defaultdict(list)
    for r in store.records(None):
        by_task[r.task].append(r)
    planned = fleet.plan(candidates(settings.config, issues), by_task, settings.limits,
                         settings.rate)  # fmt: skip
    matrix = fleet.matrix(planned)
    for p in planned:
        mark = "due " if p.due else "skip"
        print(redact(f"{mark} {p.key} ({p.source}): {p.why}"), file=sys.stderr)
    due = len(matrix["include"])
    print(f"ratchet: {due} of {len(planned)} task(s) due", file=sys.stderr)
    print(json.dumps(matrix, separators=(",", ":")))
    if env.in_actions:
        actions.set_outputs(env.value("GITHUB_OUTPUT"),
                            {"matrix": json.dumps(matrix), "count": due})  # fmt: skip
        actions.append_summary(env.value("GITHUB_STEP_SUMMARY"), summary(planned, redact))
    return 0


def candidates(cfg: RepoConfig, issues: list[IssueInfo]) -> list[fleet.Candidate]:
    """The tasks the config names, the open issues with the task label, and the open Ratchet
    pull requests, in that order."""
    out: list[fleet.Candidate] = []
    if cfg.task:
        out.append(fleet.Candidate(keys.slugify(cfg.task), "config", _first_line(cfg.task)))
    out += [fleet.Candidate(t.key, "tasks", _first_line(t.task)) for t in cfg.tasks]
    label = cfg.task_label.strip()
    for i in issues:
        if not i.is_pr and label and label in i.labels:
            out.append(fleet.Candidate(f"issue-{i.number}", "issue", i.title))
    for i in issues:
        key = find_task_marker(i.body) if i.is_pr else None
        if key is not None and keys.key_problem(key) is None:
            out.append(fleet.Candidate(key, "pull request", i.title))
    return out


def summary(planned: list[fleet.Planned], redact: Callable[[str], str]) -> str:
    """The plan as a Markdown table for the job summary (titles are untrusted: inert)."""
    from ratchet.core.markdown import code, inline

    due = sum(1 for p in planned if p.due)
    lines = [f"### Ratchet plan: {due} of {len(planned)} task(s) due", "",
             "| task | from | title | due | why |", "|---|---|---|---|---|"]
    for p in planned[:500]:
        lines.append(f"| {code(p.key, redact)} | {p.source} | {inline(p.title, redact, 80)} | "
                     f"{'yes' if p.due else 'no'} | {inline(p.why, redact)} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:120] if text.strip() else ""
