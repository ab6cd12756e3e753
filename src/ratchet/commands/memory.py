"""`ratchet memory import-ledger`: copy the git ledger into Mem0, idempotently."""

from __future__ import annotations

import argparse

from ratchet.environment import Environment
from ratchet.errors import ConfigError


def cmd_import_ledger(args: argparse.Namespace, env: Environment) -> int:
    from ratchet.config import check_url
    from ratchet.memory.ledger import LedgerStore
    from ratchet.memory.mem0_store import Mem0ConfigError, Mem0Store
    from ratchet.memory.namespace import repo_namespace
    from ratchet.workspace import git as gitops

    key = env.mem0_api_key
    if not key:
        raise ConfigError("MEM0_API_KEY is not set", "export MEM0_API_KEY=<your Mem0 key>")
    repo = gitops.open_repo(args.repo.resolve())
    root = repo.working_dir
    ledger = LedgerStore(
        args.repo.resolve(), remote=None if args.no_fetch else "origin", push=False
    )
    records = ledger.records()
    host = check_url("MEM0_HOST", env.mem0_host)
    user_id = repo_namespace(args.repo.resolve(), env)
    try:
        store = Mem0Store(key, host=host, user_id=user_id, state_dir=gitops.state_dir(repo))
    except Mem0ConfigError as exc:
        raise ConfigError(str(exc), exc.hint) from exc
    for rec in records:
        stored = store.add(rec)
        if rec.commit or rec.pr is not None:
            store.update(rec.replace(id=stored.id))
    skipped = f", {ledger.skipped} unreadable line(s) skipped" if ledger.skipped else ""
    print(f"Imported {len(records)} ledger record(s) of {root} into Mem0 as {user_id}{skipped}.")
    return 0
