"""Replay a real upstream bug fix as the model's reply, through `ratchet run` on the project's
real test suite: is the fix judged `improved` and committed (and, with --break-edit, is the fix
plus a break judged `regressed` first)?

The task's tree is the fix commit's parent plus the fix's own test files (so the suite has the
failing test the fix makes pass); the offline playbook holds the fix's other hunks as SEARCH/
REPLACE edits (2-3 lines of context, as `git diff` shows them), and, with --break-edit, a first
step that adds a breaking edit to the same fix. Nothing here reaches the network: the project's
dependencies are prepared by --setup (e.g. `npm ci`, a virtual environment), as its CI would.

    python benchmarks/replay_fix.py --mirror /work/.mirror/spf13+pflag/repo --commit 298bcdf \\
        --dir /tmp/replay/pflag --tests '*_test.go' --test-command 'go test ./...'

Run again with the same --dir to start over from the prepared tree (memory and task branch
are cleared). Results of the runs made so far are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

KEY = "replay"
GIT_ID = ["-c", "user.name=replay", "-c", "user.email=replay@localhost"]


def _git(repo: Path, *args: str, check: bool = True) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=check, text=True,
                          capture_output=True).stdout  # fmt: skip


def hunks(repo: Path, parent: str, commit: str, path: str) -> list[dict[str, str]]:
    """The commit's change to ``path`` as SEARCH/REPLACE edits, one per diff hunk."""
    out: list[dict[str, str]] = []
    for line in _git(repo, "diff", "-U3", parent, commit, "--", path).splitlines(keepends=True):
        if line.startswith("@@"):
            out.append({"path": path, "search": "", "replace": ""})
        elif out and not line.startswith("\\"):
            tag, body = line[:1], line[1:]
            if tag in " -":
                out[-1]["search"] += body
            if tag in " +":
                out[-1]["replace"] += body
    return out


def prepare(args: argparse.Namespace, repo: Path) -> None:
    """The parent of the fix plus the fix's test files, on branch main, set up by --setup."""
    _git(Path.cwd(), "clone", "-q", args.mirror, str(repo))
    parent = _git(repo, "rev-parse", f"{args.commit}^").strip()
    _git(repo, "checkout", "-q", "-B", "main", parent)
    for path in _changed(repo, args)[0]:
        _git(repo, "checkout", args.commit, "--", path)
    _git(repo, *GIT_ID, "commit", "-q", "--allow-empty", "-am", "The fix's tests")
    if args.setup:
        done = subprocess.run(args.setup, shell=True, cwd=repo)
        print(f"setup exited {done.returncode}", file=sys.stderr)


def _changed(repo: Path, args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """(the fix's test files, its other files)."""
    names = _git(repo, "diff", "--name-only", f"{args.commit}^", args.commit).split()
    globs = args.tests.split(",")
    tests = [p for p in names if any(fnmatch.fnmatch(p, g) for g in globs)]
    return tests, [p for p in names if p not in tests]


def reset(repo: Path) -> None:
    """No memory, no task branch, no worktree: a first run."""
    shutil.rmtree(repo / ".git" / "ratchet", ignore_errors=True)
    _git(repo, "worktree", "prune")
    _git(repo, "branch", "-D", f"ratchet/{KEY}", check=False)


def playbook(repo: Path, args: argparse.Namespace) -> dict[str, object]:
    _tests, others = _changed(repo, args)
    edits = [h for p in others for h in hunks(repo, f"{args.commit}^", args.commit, p)]
    subject = _git(repo, "log", "-1", "--format=%s", args.commit).strip()
    steps: list[dict[str, object]] = []
    if args.break_edit:
        steps.append({"id": "break", "title": f"{subject} (and a tidy-up)", "requires": [],
                      "rationale": "the fix and a change that breaks a passing test",
                      "edits": edits + json.loads(args.break_edit)})  # fmt: skip
    steps.append({"id": "fix", "title": subject, "rationale": "the upstream fix",
                  "requires": [], "edits": edits})  # fmt: skip
    return {"steps": steps, "task": subject}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", required=True, help="a clone (or bare mirror) of the project")
    ap.add_argument("--commit", required=True, help="the upstream fix")
    ap.add_argument("--dir", required=True, type=Path, help="where the task's checkout lives")
    ap.add_argument("--tests", default="test/*,tests/*,*_test.go,*.test.*,*.spec.*",
                    help="comma-separated globs of the fix's test files")  # fmt: skip
    ap.add_argument("--test-command", required=True)
    ap.add_argument("--setup", default="", help="prepares the checkout once (npm ci, a venv)")
    ap.add_argument("--break-edit", default="", help="JSON list of edits that break a test")
    ap.add_argument("--ratchet", default=str(Path(sys.executable).parent / "ratchet"))
    args = ap.parse_args()
    repo = args.dir / "repo"
    if repo.exists():
        reset(repo)
    else:
        prepare(args, repo)
    book = playbook(repo, args)
    (args.dir / "playbook.json").write_text(json.dumps(book, indent=1))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINIMAX_", "GITHUB_"))}
    steps = str(len(book["steps"]))  # type: ignore[arg-type]
    run = subprocess.run(
        [args.ratchet, "run", "--repo", str(repo), "--task", str(book["task"]), "--task-key",
         KEY, "--test-command", args.test_command, "--iterations", steps,
         "--offline-playbook", str(args.dir / "playbook.json")], env=env,
    )  # fmt: skip
    subprocess.run([args.ratchet, "history", "--repo", str(repo)], env=env)
    return run.returncode


if __name__ == "__main__":
    raise SystemExit(main())
