"""Task keys and the branches they name: one rule, used everywhere.

A task key names a task in memory, in markers and in its branch ``ratchet/<key>``, so it must be
a usable git branch component: lowercase letters, digits, ``-``, ``.`` and ``_``, at most 64
characters, starting with a letter or digit, no ``..``, not ending in ``.`` or ``.lock``. The key
``ledger`` is reserved: ``ratchet/ledger`` holds the memory ledger.
"""

from __future__ import annotations

import re

PREFIX = "ratchet/"
RESERVED = frozenset({"ledger"})
LEDGER_BRANCH = PREFIX + "ledger"
MAX_LENGTH = 64
_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be a task key (one clause), or None when it can."""
    if not isinstance(key, str) or not key:
        return "it is empty"
    if key in RESERVED:
        return f"it is reserved ({PREFIX}{key} holds Ratchet's memory)"
    if not _KEY.match(key) or ".." in key or key.endswith((".lock", ".")):
        return "it is not usable as a branch name"
    return None


def is_task_key(key: str) -> bool:
    return key_problem(key) is None


def branch_of(key: str) -> str:
    """The task's branch. Raises ValueError for a key that is not a task key."""
    problem = key_problem(key)
    if problem is not None:
        raise ValueError(f"task key {key!r}: {problem}")
    return PREFIX + key


def key_of(branch: str) -> str | None:
    """The task key of a task branch (``ratchet/<key>``, ``refs/heads/`` allowed), else None."""
    if not isinstance(branch, str):
        return None
    branch = branch.removeprefix("refs/heads/")
    if not branch.startswith(PREFIX):
        return None
    key = branch[len(PREFIX) :]
    return key if is_task_key(key) else None


def slugify(text: str, limit: int = 48) -> str:
    """A task key from free text: lowercase, a-z0-9 and dashes, at most ``limit`` chars."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > limit:
        cut = slug[: limit + 1]
        slug = cut[: cut.rfind("-")] if "-" in cut[limit // 2 :] else slug[:limit]
    slug = slug.rstrip("-") or "task"
    return slug if slug not in RESERVED else slug + "-task"
