"""The ledger's format: one JSON object per line, folded into records. Pure.

Format, one JSON object per line::

    {"op":"add","id":ID,"key":KEY,"rev":N,"at":TIME,"text":SENTENCE,"metadata":{...}}
    {"op":"delete","id":ID,"at":TIME}

``ID`` is a hash of the record key, so adds are idempotent. ``update`` appends the same id with a
higher ``rev``. Reading folds the lines: per id the highest ``(rev, at, line hash)`` wins and any
tombstone beats every version. That fold is order-independent, so merging two writers is a plain
union of their lines; that is how concurrent runs both survive: a push that loses the race
fetches, unions, commits with both tips as parents and retries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from ratchet.records import MemoryRecord

MAX_LINES = 50_000
MAX_LINE_BYTES = 64 * 1024


def record_id(key: str) -> str:
    """The stable ledger id of a record key (32 hex characters of its SHA-256)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _dumps(obj: dict[str, object]) -> str:
    # ASCII-only: no raw U+2028 or other exotic line breaks can ever split a line
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def add_line(
    record: MemoryRecord, rid: str, at: str, rev: int = 0, key: str | None = None
) -> str:
    """The ledger line storing ``record`` as version ``rev`` of id ``rid``, written at ``at``."""
    return _dumps(
        {
            "op": "add",
            "id": rid,
            "key": record.key if key is None else key,
            "rev": rev,
            "at": at,
            "text": record.sentence(),
            "metadata": record.to_metadata(),
        }
    )


def delete_line(rid: str, at: str) -> str:
    """The tombstone line for id ``rid``, written at ``at``."""
    return _dumps({"op": "delete", "id": rid, "at": at})


def merge_lines(*sides: Iterable[str]) -> list[str]:
    """Order-preserving union of line lists (first side first), exact duplicates dropped."""
    return list(dict.fromkeys(line for side in sides for line in side))


@dataclass(frozen=True)
class Entry:
    """The winning version of one id."""

    id: str
    key: str
    rev: int
    at: str
    text: str
    metadata: dict[str, object]
    line: str

    @property
    def rank(self) -> tuple[int, str, str]:
        return (self.rev, self.at, hashlib.sha256(self.line.encode()).hexdigest())


@dataclass
class Folded:
    """The state a list of ledger lines describes."""

    live: dict[str, Entry] = field(default_factory=dict)  # id -> winning version, no tombstone
    dead: set[str] = field(default_factory=set)  # tombstoned ids
    invalid: int = 0  # lines that are not ledger entries


def fold(lines: Iterable[str]) -> Folded:
    """Fold ledger lines into their state; the result does not depend on line order."""
    out = Folded()
    versions: dict[str, Entry] = {}
    for line in lines:
        entry = _parse(line)
        if entry is None:
            out.invalid += 1
        elif isinstance(entry, str):
            out.dead.add(entry)
        else:
            prev = versions.get(entry.id)
            if prev is None or entry.rank > prev.rank:
                versions[entry.id] = entry
    out.live = {i: e for i, e in versions.items() if i not in out.dead}
    return out


def _parse(line: str) -> Entry | str | None:
    """An add line → Entry, a tombstone → its id, anything else → None."""
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    rid = obj.get("id")
    if not isinstance(rid, str) or not 0 < len(rid) <= 100:
        return None
    op = obj.get("op")
    if op == "delete":
        return rid
    meta = obj.get("metadata")
    rev = obj.get("rev", 0)
    if op != "add" or not isinstance(meta, dict):
        return None
    if isinstance(rev, bool) or not isinstance(rev, int):
        return None
    at, key, text = obj.get("at", ""), obj.get("key", ""), obj.get("text", "")
    if not all(isinstance(v, str) for v in (at, key, text)):
        return None
    return Entry(rid, key, rev, at, text, meta, line)


def compact(lines: list[str]) -> list[str]:
    """The same state in fewer lines: winning versions and one tombstone per deleted id, in the
    order they first appear."""
    state = fold(lines)
    keep = {e.line for e in state.live.values()}
    out: list[str] = []
    dead_seen: set[str] = set()
    for line in lines:
        if line in keep:
            out.append(line)
            continue
        entry = _parse(line)
        if isinstance(entry, str) and entry not in dead_seen:
            dead_seen.add(entry)
            out.append(line)
    return out
