"""Pick and open the memory backend for a run (the `memory` key of .github/ratchet.yml).

- ``mem0``: the Mem0 platform through MemoryClient, wrapped so a failed write is journaled and
  replayed on the next run (in GitHub Actions the journal is the git ledger, since the runner's
  disk does not survive the job; elsewhere a file under ``.git/ratchet``).
- ``ledger``: the append-only ledger on branch ``ratchet/ledger`` of the repository itself,
  pushed to origin; what CI remembers without a Mem0 key.
- ``local``: a file under ``.git/ratchet``; for local runs.
- ``auto``: mem0 if ``MEM0_API_KEY`` is set, else ledger inside GitHub Actions, else local.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from ratchet.environment import Environment
from ratchet.errors import ConfigError, MemoryStoreError
from ratchet.memory.base import MemoryStore
from ratchet.memory.local import LocalStore


def choose_backend(configured: str, env: Environment) -> str:
    """auto → mem0 if MEM0_API_KEY is set, else ledger in GitHub Actions, else local."""
    if configured != "auto":
        return configured
    if env.mem0_api_key:
        return "mem0"
    if env.in_actions:
        return "ledger"
    return "local"


def open_store(
    backend: str,
    *,
    repo_path: Path,
    state_dir: Path,
    env: Environment,
    warn: Callable[[str], None] = print,
    git_env: Mapping[str, str] | None = None,
) -> MemoryStore:
    """Open ``backend``; a store that can fail (mem0, ledger) is wrapped in a DurableStore and
    its journal is replayed first. ``env`` holds the Mem0 key and host, tells whether this is
    GitHub Actions and names the repository. Raises ConfigError for a configuration the user
    must fix."""
    if backend == "local":
        return LocalStore(state_dir / "memory.jsonl")
    if backend == "ledger":
        from ratchet.memory.durable import DurableStore
        from ratchet.memory.journal import Journal
        from ratchet.memory.ledger import LedgerStore

        ledger = LedgerStore(repo_path, git_env=git_env)
        store = DurableStore(ledger, Journal(state_dir / "ledger-journal.jsonl"), on_warning=warn)
        store.replay()
        return store
    if backend == "mem0":
        return open_mem0(
            repo_path=repo_path, state_dir=state_dir, env=env, warn=warn, git_env=git_env
        )
    raise ConfigError(f"unknown memory backend {backend!r}", "use auto, mem0, ledger or local")


def open_mem0(
    *,
    repo_path: Path,
    state_dir: Path,
    env: Environment,
    warn: Callable[[str], None],
    git_env: Mapping[str, str] | None,
) -> MemoryStore:
    """Mem0 behind a DurableStore whose journal is replayed first."""
    from ratchet.config import check_url
    from ratchet.memory.durable import DurableStore, UnavailableStore
    from ratchet.memory.journal import Journal, RecordJournal
    from ratchet.memory.mem0_store import Mem0ConfigError, Mem0Store
    from ratchet.memory.namespace import repo_namespace

    key = env.mem0_api_key
    if not key:
        raise ConfigError(
            "memory: mem0 needs MEM0_API_KEY",
            "set the MEM0_API_KEY secret, or use `memory: ledger` / `memory: local`",
        )
    host = check_url("MEM0_HOST", env.mem0_host)
    user_id = repo_namespace(repo_path, env)
    try:
        primary: MemoryStore = Mem0Store(key, host=host, user_id=user_id, state_dir=state_dir)
    except Mem0ConfigError as exc:
        raise ConfigError(str(exc), exc.hint) from exc
    except MemoryStoreError as exc:
        primary = UnavailableStore("mem0", exc)
    local_journal = Journal(state_dir / "mem0-journal.jsonl")
    journal: RecordJournal = local_journal
    # a copy of every record, read when Mem0 is down: the ledger in CI (the runner's disk does
    # not survive the job), a file under .git/ratchet elsewhere
    mirror: MemoryStore = LocalStore(state_dir / "mem0-mirror.jsonl")
    if env.in_actions:
        from ratchet.memory.ledger import LedgerStore
        from ratchet.memory.ledger_journal import LedgerJournal

        journal = LedgerJournal(
            LedgerStore(repo_path, git_env=git_env, path="mem0-journal.jsonl"), local_journal
        )
        mirror = LedgerStore(repo_path, git_env=git_env)
    store = DurableStore(primary, journal, mirror=mirror, on_warning=warn)
    written, pending = store.replay()
    if written:
        warn(f"replayed {written} journaled record(s) into Mem0")
    return store
