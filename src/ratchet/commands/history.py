"""`ratchet history` (what memory holds, with what it cost) and `ratchet forget --purge`
(deleting records for good; `ratchet forget N|all` only records a forget, see steer.py)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from ratchet.core import money, steering
from ratchet.environment import Environment
from ratchet.memory.base import MemoryStore
from ratchet.progress import Reporter
from ratchet.records import MemoryRecord
from ratchet.redact import redactor_from_env

JSON_FIELDS = (
    "id",
    "kind",
    "task",
    "attempt",
    "title",
    "outcome",
    "score_before",
    "score_after",
    "patch_sha256",
    "files",
    "failing",
    "detail",
    "branch",
    "pr",
    "commit",
    "run_id",
    "created_at",
    "tokens",
    "tokens_in",
    "tokens_out",
    "cost_usd",
    "flaky",
    "actor",
    "schema",
)


def _open(args: argparse.Namespace, reporter: Reporter, env: Environment) -> MemoryStore:
    from ratchet.commands.wiring import open_memory
    from ratchet.session import RunOptions, build_settings
    from ratchet.workspace import git as gitops

    repo = gitops.open_repo(args.repo.resolve())
    opts = RunOptions(repo=args.repo, memory=args.memory)
    settings = build_settings(opts, repo, env, need_task=False)
    return open_memory(settings.config.memory, repo, reporter, env)


def record_json(r: MemoryRecord) -> dict[str, object]:
    d = {k: getattr(r, k) for k in JSON_FIELDS}
    d["files"] = list(r.files)
    d["failing"] = list(r.failing)
    d["flaky"] = list(r.flaky)
    return d


def cmd_history(args: argparse.Namespace, env: Environment) -> int:
    redact = redactor_from_env(env)
    reporter = Reporter(redact=redact, quiet=True)
    store = _open(args, reporter, env)
    records = store.records(args.task_key)
    if args.json:
        print(redact(json.dumps([record_json(r) for r in records], indent=2)))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if not records:
        console.print(
            f"No remembered attempts{' for ' + args.task_key if args.task_key else ''}"
            f" (memory: {store.name})."
        )
        return 0
    tasks = sorted({r.task for r in records})
    forgotten = _forgotten_by_task(records)
    title = f"Ratchet memory ({store.name})"
    if len(tasks) == 1:
        title += f" — task {tasks[0]}"
    table = Table(title=title, title_justify="left")
    cols = ["#", "outcome", "score", "title / note", "cost", "commit", "when"]
    if len(tasks) > 1:
        cols.insert(0, "task")
    for col in cols:
        table.add_column(col, overflow="fold", no_wrap=col in ("#", "score", "commit"))
    for r in sorted(records, key=lambda r: (r.task, r.created_at)):  # stable: ties keep order
        score = (
            f"{r.score_before}→{r.score_after}"
            if r.score_before is not None and r.score_after is not None
            else ""
        )
        row = [
            str(r.attempt) if r.kind == "attempt" else r.kind,
            r.outcome + (" (forgotten)" if forgotten(r) else ""),
            score,
            redact(r.title or r.detail[:80]),
            money.usd(r.cost_usd) if r.cost_usd is not None else "",
            r.commit[:7],
            r.created_at[5:16].replace("T", " "),
        ]
        if len(tasks) > 1:
            row.insert(0, r.task)
        table.add_row(*row)
    console.print(table)
    for task in tasks:
        mine = [r for r in records if r.task == task]
        spent = money.spent(mine)
        console.print(
            f"{task}: {spent.attempts} attempt(s), {spent.tokens:,} tokens, cost "
            f"{money.usd(spent.usd)}"
            + (f" (+{spent.unpriced_tokens:,} tokens without a price)" if spent.unpriced_tokens
               else "")  # fmt: skip
        )
    return 0


def _forgotten_by_task(records: list[MemoryRecord]) -> Callable[[MemoryRecord], bool]:
    states = {
        t: steering.state_of([r for r in records if r.task == t]) for t in {r.task for r in records}
    }
    return lambda r: steering.is_forgotten(r, states[r.task])


def purge(args: argparse.Namespace, env: Environment) -> int:
    """Delete records for good (``ratchet forget --purge``); asks for --yes."""
    redact = redactor_from_env(env)
    reporter = Reporter(redact=redact)
    store = _open(args, reporter, env)
    records = store.records(args.task_key)
    what = f"task {args.task_key}" if args.task_key else "this repository"
    if not records:
        print(f"Nothing remembered for {what} (memory: {store.name}).")
        return 0
    if not args.yes:
        print(
            f"ratchet: this would delete {len(records)} record(s) for {what} from {store.name} "
            "memory for good; re-run with --yes to delete them (`ratchet forget --task KEY N` "
            "only stops attempt N from shaping prompts, and keeps the history)",
            file=sys.stderr,
        )
        return 2
    n = store.delete([r.id for r in records])
    print(f"Deleted {n} record(s) for {what} from {store.name} memory.", file=sys.stdout)
    return 0
