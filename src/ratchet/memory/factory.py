"""Pick and open the memory backend for a run (DESIGN.md §3 `memory`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from ratchet.errors import ConfigError
from ratchet.memory.base import MemoryStore
from ratchet.memory.local import LocalStore


def choose_backend(configured: str, environ: Mapping[str, str]) -> str:
    """auto → mem0 if MEM0_API_KEY is set, else ledger in CI, else local."""
    if configured != "auto":
        return configured
    if environ.get("MEM0_API_KEY", "").strip():
        return "mem0"
    if environ.get("GITHUB_ACTIONS") == "true":
        return "ledger"
    return "local"


def open_store(
    backend: str,
    *,
    repo_path: Path,
    state_dir: Path,
    environ: Mapping[str, str] | None = None,
    warn: Callable[[str], None] = print,
) -> MemoryStore:
    env = os.environ if environ is None else environ
    if backend == "local":
        return LocalStore(state_dir / "memory.jsonl")
    raise ConfigError(
        f"memory backend {backend!r} is not available in this build",
        "set `memory: local` in .github/ratchet.yml",
    )
