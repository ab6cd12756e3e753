"""`ratchet demo`: the bundled recipe app, improved over several runs, each a new process.

It proves restart continuity with real tests, real git and real memory: every iteration is a
separate `ratchet run` process that knows only what memory holds.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from ratchet.core import keys
from ratchet.core.outcome import is_kept
from ratchet.environment import Environment
from ratchet.errors import ConfigError, RatchetError


def bundled(name: str) -> Path:
    """A file bundled with Ratchet: in the wheel (ratchet/_examples) or the source checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_examples" / name, here.parent.parent / "examples" / name):
        if candidate.exists():
            return candidate
    raise RatchetError(f"the bundled example {name} is missing", "reinstall ratchet-agent")


_DEMO_AUTHOR = {
    "GIT_AUTHOR_NAME": "Demo",
    "GIT_AUTHOR_EMAIL": "demo@example.invalid",
    "GIT_COMMITTER_NAME": "Demo",
    "GIT_COMMITTER_EMAIL": "demo@example.invalid",
}


def _git(cwd: Path, *args: str) -> None:
    from ratchet.workspace.gitcmd import git

    git(cwd, *args, env=_DEMO_AUTHOR)


def prepare(dest: Path) -> Path:
    """Copy the recipe app to ``dest`` and make it a git repository with one commit."""
    app = bundled("recipe-app")
    if dest.exists() and any(dest.iterdir()):
        raise ConfigError(f"{dest} is not empty", "pass an empty or new directory with --dir")
    shutil.copytree(
        app,
        dest,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc"),
    )
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "recipe app: starting point")
    return dest


def cmd_demo(args: argparse.Namespace, env: Environment) -> int:
    console = Console(highlight=False)
    online = bool(env.minimax_api_key) and not args.offline
    if args.iterations < 1:
        raise ConfigError("--iterations must be at least 1", "e.g. --iterations 4")
    keep = args.dir is not None
    work = args.dir.resolve() if keep else Path(tempfile.mkdtemp(prefix="ratchet-demo-"))
    try:
        repo = prepare(work)
        console.rule("[bold]Ratchet demo: the recipe app")
        console.print(f"repository: {repo}")
        if online:
            console.print("model: MiniMax M3 (MINIMAX_API_KEY is set)")
        else:
            console.print(
                "[yellow]model: OFFLINE STAND-IN[/] — no MINIMAX_API_KEY, so proposals "
                "come from a scripted playbook, chosen by what memory holds. Tests, git "
                "and memory are real."
            )
        base = [sys.executable, "-m", "ratchet"]
        # the recipe app's tests run with the interpreter running Ratchet (which has pytest),
        # so the demo works on a machine without a `python` command or a global pytest
        tests = f"{shlex.quote(sys.executable)} -m pytest -q"
        run_cmd = [*base, "run", "--repo", str(repo), "--test-command", tests]
        if not online:
            run_cmd += ["--offline-playbook", str(bundled("recipe-app.playbook.json"))]
        failures = 0
        for i in range(1, args.iterations + 1):
            console.rule(f"[bold]iteration {i} of {args.iterations} — a new process")
            proc = subprocess.run(run_cmd, cwd=repo)
            if proc.returncode != 0:
                failures += 1
                console.print(f"[red]iteration {i} failed (exit {proc.returncode})[/]")
                break
            _score_history(console, base, repo)
        console.rule("[bold]what memory holds now")
        subprocess.run([*base, "history", "--repo", str(repo)], cwd=repo)
        from ratchet.workspace.gitcmd import git

        branch = keys.branch_of(_task_key(base, repo))
        log = git(repo, "log", "--oneline", f"main..{branch}", "--", check=False)
        if log.stdout:
            console.rule("[bold]commits on the task branch")
            console.print(log.stdout.rstrip(), markup=False)
        if keep:
            console.print(
                f"\nThe demo repository is kept at {repo}; run `ratchet run --repo "
                f"{repo}{'' if online else ' --offline-playbook ...'}` to continue."
            )
        return 1 if failures else 0
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def _history(base: list[str], repo: Path) -> list[dict[str, object]]:
    out = subprocess.run(
        [*base, "history", "--repo", str(repo), "--json"], capture_output=True, text=True
    )
    try:
        return json.loads(out.stdout) if out.returncode == 0 else []
    except ValueError:
        return []


def _task_key(base: list[str], repo: Path) -> str:
    recs = _history(base, repo)
    return str(recs[-1]["task"]) if recs else "main"


def _score_history(console: Console, base: list[str], repo: Path) -> None:
    recs = [r for r in _history(base, repo) if r.get("kind") == "attempt"]
    steps = []
    for r in recs:
        if r.get("score_after") is not None:
            mark = "" if is_kept(str(r.get("outcome"))) else "✗"
            steps.append(f"{r['score_after']}{mark}")
    if steps:
        first = recs[0].get("score_before")
        console.print(
            f"score history: {first} → " + " → ".join(steps) + "   (✗ = recorded, not committed)"
        )
