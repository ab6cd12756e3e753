"""The `ratchet` command line. Each command is a function returning an exit code.

Exit codes: 0 a completed run (whatever the verdict), 1 a configuration or infrastructure
failure (after saying why and what to do), 2 a usage error, 3 a bug, 130 interrupted.
Heavy modules (GitPython, PyGithub, mem0, httpx) are imported inside the commands that use them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ratchet import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _add_memory_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--memory", choices=("auto", "mem0", "ledger", "local"), default=None,
        help="where memory is (default: `memory` in the config, else auto: Mem0 with "
        "MEM0_API_KEY, else the local file; `ledger` reads and writes the ratchet/ledger "
        "branch on origin, where CI keeps memory without a Mem0 key)",
    )  # fmt: skip


def _add_repo(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--repo",
        type=Path,
        default=Path("."),
        metavar="PATH",
        help="the git checkout to work on (default: the current directory)",
    )


#: command → (module, function); each module is imported only when its command runs
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("ratchet.commands.run", "cmd_run"),
    "action": ("ratchet.commands.action", "cmd_action"),
    "history": ("ratchet.commands.history", "cmd_history"),
    "status": ("ratchet.commands.steer", "cmd_status"),
    "forget": ("ratchet.commands.steer", "cmd_forget"),
    "stop": ("ratchet.commands.steer", "cmd_control"),
    "resume": ("ratchet.commands.steer", "cmd_control"),
    "memory": ("ratchet.commands.memory", "cmd_import_ledger"),
    "doctor": ("ratchet.commands.doctor", "cmd_doctor"),
    "plan": ("ratchet.commands.plan", "cmd_plan"),
    "evaluate": ("ratchet.commands.stages", "cmd_evaluate"),
    "demo": ("ratchet.commands.demo", "cmd_demo"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ratchet",
        description=(
            "A coding agent with a memory: each run asks MiniMax M3 for one change, tests it "
            "with your real test suite, remembers the attempt, and keeps only changes that "
            "do not regress."
        ),
    )
    parser.add_argument("--version", action="version", version=f"ratchet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run(sub)
    _add_action(sub)
    _add_history(sub)
    _add_status(sub)
    _add_forget(sub)
    _add_control(sub)
    _add_memory(sub)
    _add_doctor(sub)
    _add_plan(sub)
    _add_evaluate(sub)
    _add_demo(sub)
    return parser


def _add_run(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run the loop on a local checkout (commits on ratchet/<task>)",
        description="Run the loop on a local git checkout. Each iteration recalls "
        "memory, asks the model for one change, tests it, records it, and commits it "
        "on ratchet/<task> only if it does not regress.",
    )
    _add_repo(p)
    p.add_argument("--task", metavar="TEXT", help="what to build (default: `task` in the config)")
    p.add_argument(
        "--task-key",
        metavar="KEY",
        help="the task's key and branch suffix (default: a slug of the task text)",
    )
    p.add_argument(
        "--test-command",
        metavar="CMD",
        help="the command that runs the tests (default: config, else detected)",
    )
    p.add_argument(
        "--iterations",
        type=int,
        default=None,
        metavar="N",
        help="attempts to make in a row, stopping early when the suite is green or the "
        "model proposes nothing (default: `iterations` in the config, else 1)",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        metavar="M",
        help="no new attempt when it would not end within M minutes of the start "
        "(default: `max_minutes` in the config, else 20)",
    )
    p.add_argument(
        "--base-branch",
        metavar="NAME",
        help="branch to start from (default: config, else the checked-out branch)",
    )
    p.add_argument("--model", metavar="ID", help="model id (default: RATCHET_MODEL or MiniMax-M3)")
    p.add_argument(
        "--offline-playbook",
        type=Path,
        metavar="FILE",
        help="use the scripted offline stand-in instead of MiniMax (used by `ratchet "
        "demo`; proposals come from FILE, chosen by what memory holds)",
    )
    _add_memory_flag(p)
    p.add_argument("--quiet", action="store_true", help="print only the summary")


def _add_action(sub: Any) -> None:
    sub.add_parser(
        "action",
        help="the GitHub Actions entrypoint (reads the GITHUB_* environment)",
        description="Run as a GitHub Action: read the event, check who asked, bring the "
        "task branch onto a moved base, run up to `iterations` attempts, push each kept "
        "change to ratchet/<task>, open or update its pull request, and keep a status "
        "comment. Configured through the environment (see action.yml).",
    )


def _add_history(sub: Any) -> None:
    p = sub.add_parser(
        "history",
        help="show the remembered attempts",
        description="Show what memory holds for this repository.",
    )
    _add_repo(p)
    p.add_argument("--task", dest="task_key", metavar="KEY", help="only this task key")
    p.add_argument("--json", action="store_true", help="print a JSON list of records")
    _add_memory_flag(p)


def _add_status(sub: Any) -> None:
    p = sub.add_parser(
        "status",
        help="a task's attempts, budget and cost, flaky tests, paused or not",
        description="What `/agent status` replies: the task's attempts, what was kept, "
        "ideas that failed, reviewers' feedback in force, budget used and left, cost so far, "
        "the repository's known flaky tests, and whether the task is paused.",
    )
    _add_repo(p)
    _add_task(p)


def _add_task(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--task", dest="task_key", metavar="KEY",
        help="the task key (default: the key of `task` in the config)",
    )  # fmt: skip
    _add_memory_flag(p)


def _add_forget(sub: Any) -> None:
    p = sub.add_parser(
        "forget",
        help="stop an attempt (or all) from shaping prompts; --purge deletes records",
        description="`ratchet forget --task KEY N` (or `all`): attempt N (or everything "
        "the task remembered so far) stops shaping prompts and the repeat guard, as "
        "`/agent forget N` does; a forget record says who asked, and history keeps "
        "everything. `--purge --yes` deletes records for good instead (of one task, or "
        "all of this repository's).",
    )
    _add_repo(p)
    _add_task(p)
    p.add_argument("target", nargs="?", metavar="N|all", help="the attempt number, or all")
    p.add_argument("--purge", action="store_true", help="delete records for good")
    p.add_argument("--yes", action="store_true", help="with --purge: really delete")


def _add_control(sub: Any) -> None:
    stop = "pause a task (ratchet run, the schedule, reviews and /agent next do nothing)"
    for name, what in (("stop", stop), ("resume", "resume a paused task")):
        p = sub.add_parser(name, help=what, description=what[0].upper() + what[1:] + ".")
        _add_repo(p)
        _add_task(p)


def _add_memory(sub: Any) -> None:
    p = sub.add_parser(
        "memory",
        help="memory maintenance (import-ledger)",
        description="Memory maintenance commands.",
    )
    msub = p.add_subparsers(dest="memory_command", metavar="SUBCOMMAND")
    q = msub.add_parser(
        "import-ledger",
        help="copy the git ledger's records into Mem0",
        description="Copy every record of the ratchet/ledger branch into Mem0 "
        "(MEM0_API_KEY, MEM0_HOST). Idempotent: records already there are kept "
        "once.",
    )
    _add_repo(q)
    q.add_argument(
        "--no-fetch",
        action="store_true",
        help="use the local ratchet/ledger branch only (do not fetch origin)",
    )


def _add_doctor(sub: Any) -> None:
    p = sub.add_parser("doctor", help="check config, keys and reachability, and say what to fix",
                       description="Check git, the repository and its config, the test command, "
                       "the test sandbox, and (when their keys are set) MiniMax and Mem0 with "
                       "one cheap call each. Says what to fix; exits 1 if anything is wrong.")
    _add_repo(p)


def _add_plan(sub: Any) -> None:
    p = sub.add_parser(
        "plan",
        help="the due tasks as a JSON matrix for GitHub Actions (a fleet of tasks)",
        description="List the repository's tasks (`task` and `tasks:` in the config, open "
        "issues with the `task_label` label, open Ratchet pull requests), leave out the "
        "paused, finished and over-budget ones, and print the rest as a GitHub Actions "
        'matrix: {"include": [{"task": KEY}, ...]} (in Actions also the `matrix` and '
        "`count` outputs). One listing of the open issues, one read of the memory. Needs "
        "GITHUB_TOKEN.",
    )
    _add_repo(p)
    p.add_argument("--repository", metavar="OWNER/NAME",
                   help="the GitHub repository (default: GITHUB_REPOSITORY)")  # fmt: skip


def _add_evaluate(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate",
        help="the split workflow's evaluate job: judge a proposal with the real suite",
        description="In a clone of the proposal's repo.bundle (the job holds no secrets): "
        "apply the proposal's edits, run the test suite on the tip and on the change in the "
        "sandbox, judge, and write evaluation.json for the publish job.",
    )
    _add_repo(p)
    p.add_argument("--proposal", type=Path, metavar="DIR",
                   help="the directory holding proposal.json (default: "
                   "$RATCHET_ARTIFACTS/proposal)")  # fmt: skip
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="where to write evaluation.json (default: $RATCHET_ARTIFACTS/"
                   "evaluation)")  # fmt: skip


def _add_demo(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="the bundled recipe-app walkthrough (offline without keys)",
        description="Copy the bundled recipe app to a temporary git repository and "
        "run iterations there, each in a new process, to show memory at work. "
        "Uses MiniMax M3 when MINIMAX_API_KEY is set, else a labelled offline "
        "stand-in.",
    )
    p.add_argument("--iterations", type=int, default=7, metavar="N", help="default: 7")
    p.add_argument(
        "--dir",
        type=Path,
        metavar="PATH",
        help="work in PATH (kept afterwards) instead of a temporary directory",
    )
    p.add_argument(
        "--offline",
        action="store_true",
        help="use the offline stand-in even if MINIMAX_API_KEY is set",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    from ratchet import environment
    from ratchet.errors import RatchetError

    env = environment.capture()  # read once; no inherited GIT_DIR/GIT_CONFIG_* reaches git
    try:
        if args.command == "memory" and args.memory_command != "import-ledger":
            parser.parse_args(["memory", "--help"])
        if args.command not in COMMANDS:
            parser.error(f"unknown command {args.command}")
        module, function = COMMANDS[args.command]
        command: Callable[[argparse.Namespace, environment.Environment], int] = getattr(
            importlib.import_module(module), function
        )
        return command(args, env)
    except RatchetError as exc:
        _print_error(str(exc), exc.hint)
        return EXIT_FAIL
    except KeyboardInterrupt:
        print("ratchet: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: say so, with enough to report it
        import traceback

        from ratchet.redact import redact

        print(redact(traceback.format_exc()), file=sys.stderr)
        _print_error(
            f"unexpected error: {type(exc).__name__}: {exc}",
            "this is a bug in ratchet; please report it with the traceback above",
        )
        return EXIT_BUG
    finally:
        environment.release()


def _print_error(message: str, hint: str) -> None:
    from ratchet.redact import redact

    print(f"ratchet: error: {redact(message)}", file=sys.stderr)
    if hint:
        print(f"  hint: {redact(hint)}", file=sys.stderr)
    from ratchet.environment import current

    if current().in_actions:  # an annotation on the run's summary page
        from ratchet.github.actions import error

        error(redact(message + (f" — {hint}" if hint else "")), title="ratchet")
