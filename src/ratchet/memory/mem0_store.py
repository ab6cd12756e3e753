"""The Mem0 platform backend, through the official ``mem0ai`` SDK's ``MemoryClient``.

One Mem0 entity per repository (``user_id = ratchet:<owner>/<repo>``); every record is written
with ``infer=False`` (verbatim, synchronous, no LLM cost) as a readable sentence plus flat
metadata carrying the record's fields and its idempotency ``key``.

What the SDK does not do, this module does (see the Mem0 notes for the traps):
  * the SDK is imported lazily, after ``MEM0_TELEMETRY=false`` and ``MEM0_DIR`` are set (both
    are read at import time), and without the package ``__init__`` (which drags in the
    open-source ``Memory``: qdrant, numpy, … ~2 s) unless something else already imported it;
  * every request has a timeout (an injected ``httpx.Client``);
  * 429 (honouring Retry-After), 408/5xx and transport errors are retried with capped
    exponential backoff and jitter; other 4xx are not; the end result is a MemoryStoreError;
  * ids go in ``filters`` for listing and search; listing is paged to the end;
  * re-adding a record with the same key never creates a second memory;
  * the records this process wrote are kept, so reading them back never depends on the
    platform's read-after-write consistency.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ratchet.core.retry import Backoff, parse_retry_after
from ratchet.environment import DEFAULT_MEM0_HOST, current
from ratchet.errors import Mem0ConfigError, MemoryStoreError
from ratchet.memory.mem0_sdk import import_sdk
from ratchet.records import MemoryRecord, sort_key
from ratchet.redact import Redactor

if TYPE_CHECKING:
    import httpx

PAGE_SIZE = 200  # the platform's maximum page size
MAX_TEXT = 20_000  # a memory longer than this is not one of ours
MAX_QUERY = 1_000
KEY_HINT = (
    "Check MEM0_API_KEY (an API key of your Mem0 project, from app.mem0.ai) and MEM0_HOST "
    f"(default {DEFAULT_MEM0_HOST})."
)
_JOURNAL_PREFIX = "journal:"

_RNG = random.Random()  # backoff jitter
log = logging.getLogger(__name__)
T = TypeVar("T")


def parse_memory(item: Any, user_id: str) -> MemoryRecord:
    """The MemoryRecord stored in one Mem0 memory object; ValueError if it is not ours
    (another entity's, hand-written without our metadata, oversized, malformed)."""
    if not isinstance(item, dict):
        raise ValueError("memory is not an object")
    owner = item.get("user_id")
    if owner not in (None, "", user_id):
        raise ValueError(f"memory belongs to {owner!r}")
    text = item.get("memory")
    text = text if isinstance(text, str) else ""
    if len(text) > MAX_TEXT:
        raise ValueError("memory text is too large")
    meta = item.get("metadata")
    if not isinstance(meta, dict):
        raise ValueError("memory has no metadata")
    # our own records carry ``detail``; the text only stands in for it on hand-written ones
    # (passing it for ours would turn an empty detail into the sentence and change the key)
    text = "" if "detail" in meta else text
    return MemoryRecord.from_metadata(meta, id=str(item.get("id") or ""), text=text)


def record_metadata(record: MemoryRecord) -> dict[str, object]:
    """What is stored as a memory's metadata: the record's fields plus its ``key``."""
    return {**record.to_metadata(), "key": record.key}


# -- the store ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    message: str
    retryable: bool
    status: int | None = None
    retry_after: float | None = None
    auth: bool = False


class Mem0Store:
    """MemoryStore on the Mem0 platform. Construction checks the key (GET /v1/ping/).

    The constructor raises Mem0ConfigError (a MemoryStoreError) when the key is rejected or
    the host is not the Mem0 API, and MemoryStoreError when it cannot be reached; every
    method raises MemoryStoreError when the platform fails after the bounded retries.
    ``skipped`` / ``truncated`` describe the last ``records()`` call (memories that were not
    ours; listing stopped at ``max_records``).
    """

    name = "mem0"

    def __init__(
        self,
        api_key: str,
        *,
        host: str = DEFAULT_MEM0_HOST,
        user_id: str,
        state_dir: Path,
        timeout: float = 30.0,
        max_attempts: int = 4,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        max_records: int = 5000,
    ) -> None:
        api_key = (api_key or "").strip()  # secrets pasted with a trailing newline
        if not api_key:
            raise Mem0ConfigError("MEM0_API_KEY is empty", KEY_HINT)
        if not user_id or any(c.isspace() for c in user_id):
            raise Mem0ConfigError(f"invalid Mem0 user_id {user_id!r}", "use repo_namespace()")
        self.host = (host or DEFAULT_MEM0_HOST).rstrip("/")
        self.user_id = user_id
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_records = max(1, max_records)
        self.skipped = 0
        self.truncated = False
        self._sleep = sleep
        self._redact = Redactor([api_key])
        self._written: dict[str, MemoryRecord] = {}
        self._last_status: int | None = None
        self._last_retry_after: float | None = None

        try:
            memory_client, self._exc = import_sdk(state_dir)
        except ImportError as exc:
            raise Mem0ConfigError(
                f"the Mem0 SDK is not installed ({exc})", "pip install 'mem0ai>=2.2,<3'"
            ) from exc
        except OSError as exc:  # MEM0_DIR not writable
            raise Mem0ConfigError(
                f"the Mem0 SDK could not set up {current().vars.get('MEM0_DIR')}: {exc}",
                "set MEM0_DIR to a writable directory",
            ) from exc
        import httpx

        self._httpx = httpx
        self._http = httpx.Client(timeout=timeout, event_hooks={"response": [self._observe]})
        try:
            self._client = self._call(
                "connection check",
                lambda: memory_client(api_key=api_key, host=self.host, client=self._http),
            )
        except BaseException:
            self._http.close()
            raise

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> Mem0Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ping(self) -> str:
        """One cheap authenticated call; return a one-line description for ``ratchet doctor``.
        Raises MemoryStoreError (with a hint saying what to fix) when it fails."""
        reply = self._call(
            "ping",
            lambda: self._client.get_all(filters={"user_id": self.user_id}, page=1, page_size=1),
        )
        count = reply.get("count") if isinstance(reply, dict) else None
        project = getattr(self._client, "project_id", None) or "?"
        return (
            f"Mem0 at {self.host} (project {project}): "
            f"{count if isinstance(count, int) else '?'} memories for {self.user_id}"
        )

    # -- MemoryStore ------------------------------------------------------------------------
    def records(self, task: str | None = None) -> list[MemoryRecord]:
        """Every record of ``task`` (or all), oldest attempt first; at most ``max_records``
        stored ones (the newest), plus everything this process wrote."""
        filters: dict[str, Any] = {"user_id": self.user_id}
        if task is not None:
            filters = {"AND": [{"user_id": self.user_id}, {"metadata": {"task": task}}]}
        items, self.truncated = self._list(filters, self.max_records)
        found: dict[str, MemoryRecord] = {}
        skipped = 0
        for item in items:
            try:
                rec = parse_memory(item, self.user_id)
            except ValueError:
                skipped += 1
                continue
            if task is not None and rec.task != task:
                skipped += 1
                continue
            found.setdefault(rec.key, rec)
        self.skipped = skipped
        if skipped:
            log.warning("mem0: skipped %d memories that are not Ratchet records", skipped)
        if self.truncated:
            log.warning("mem0: more than %d memories; only the newest are used", self.max_records)
        newest = sorted(found.values(), key=lambda r: r.created_at)[-self.max_records :]
        merged = {r.key: r for r in newest}
        for rec in self._written.values():
            if task is None or rec.task == task:
                merged[rec.key] = rec
        return sorted(merged.values(), key=sort_key)

    def search(self, query: str, limit: int = 5) -> list[MemoryRecord]:
        """The ``limit`` most relevant records of this repository for ``query``, best first."""
        text = " ".join(query.split())[:MAX_QUERY]
        if not text or limit <= 0:
            return []
        reply = self._call(
            "search",
            lambda: self._client.search(
                text,
                filters={"user_id": self.user_id},
                top_k=min(1000, limit * 2),  # room for memories that are not ours
                threshold=0.0,
            ),
        )
        items = reply.get("results") if isinstance(reply, dict) else reply
        out: list[MemoryRecord] = []
        seen: set[str] = set()
        for item in items if isinstance(items, list) else []:
            try:
                rec = parse_memory(item, self.user_id)
            except ValueError:
                continue
            if rec.key not in seen:
                seen.add(rec.key)
                out.append(self._written.get(rec.key, rec))
        return out[:limit]

    def add(self, record: MemoryRecord) -> MemoryRecord:
        """Store ``record`` once per key and return it with its Mem0 id.

        Before writing, the platform is asked for a memory with the same key (so a retry, or a
        journal replay of a write that landed but whose reply was lost, does not duplicate
        it). The id is empty only if Mem0 deduplicated the text and the existing memory is
        not visible yet; ``update`` then finds it by key.
        """
        known = self._written.get(record.key)
        if known is not None:
            return known
        stored = self._call("add", lambda: self._add_once(record))
        self._written[record.key] = stored
        return stored

    def update(self, record: MemoryRecord) -> MemoryRecord:
        """Rewrite the memory of ``record`` (found by id, else by key) with its new fields."""
        memory_id = record.id
        if not memory_id or memory_id.startswith(_JOURNAL_PREFIX):
            found = self._call("update", lambda: self._find_by_key(record.key))
            if found is None:
                raise MemoryStoreError(
                    f"Mem0 has no memory for {record.key!r} to update",
                    "add the record first",
                )
            memory_id = found
        self._call(
            "update",
            lambda: self._client.update(
                memory_id, text=record.sentence(), metadata=record_metadata(record)
            ),
        )
        stored = record.replace(id=memory_id)
        self._written[record.key] = stored
        return stored

    def delete(self, ids: list[str]) -> int:
        """Delete memories one by one (never ``delete_all(filters=...)``, which the SDK
        mis-encodes); return how many existed and were deleted."""
        deleted = 0
        for memory_id in ids:
            if not memory_id or memory_id.startswith(_JOURNAL_PREFIX):
                continue
            reply = self._call(
                "delete", functools.partial(self._client.delete, memory_id), missing_ok=True
            )
            if reply is not None:
                deleted += 1
        gone = set(ids)
        self._written = {k: r for k, r in self._written.items() if r.id not in gone}
        return deleted

    # -- platform calls (retried by the caller) ----------------------------------------------
    def _list(self, filters: dict[str, Any], limit: int) -> tuple[list[dict[str, Any]], bool]:
        """All memories matching ``filters`` (newest first, as the platform lists them), and
        whether listing stopped at ``limit`` before the end."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            reply = self._call(
                "list",
                functools.partial(
                    self._client.get_all, filters=filters, page=page, page_size=PAGE_SIZE
                ),
            )
            if isinstance(reply, list):  # an unpaginated reply
                return [i for i in reply if isinstance(i, dict)][:limit], len(reply) > limit
            if not isinstance(reply, dict):
                raise MemoryStoreError(f"Mem0 listing returned {type(reply).__name__}")
            results = reply.get("results")
            results = results if isinstance(results, list) else []
            items.extend(i for i in results if isinstance(i, dict))
            if not reply.get("next") or not results:
                return items, False
            if len(items) >= limit:
                return items, True
            page += 1

    def _find_by_key(self, key: str) -> str | None:
        """The id of the memory whose metadata key is ``key``, or None."""
        reply = self._client.get_all(
            filters={"AND": [{"user_id": self.user_id}, {"metadata": {"key": key}}]},
            page=1,
            page_size=10,
        )
        items = reply.get("results") if isinstance(reply, dict) else reply
        for item in items if isinstance(items, list) else []:
            meta = item.get("metadata") if isinstance(item, dict) else None
            if isinstance(meta, dict) and meta.get("key") == key and item.get("id"):
                if item.get("user_id") in (None, "", self.user_id):
                    return str(item["id"])
        return None

    def _add_once(self, record: MemoryRecord) -> MemoryRecord:
        existing = self._find_by_key(record.key)
        if existing is not None:
            return record.replace(id=existing)
        reply = self._client.add(
            [{"role": "assistant", "content": record.sentence()}],
            user_id=self.user_id,
            infer=False,
            metadata=record_metadata(record),
        )
        results = reply.get("results") if isinstance(reply, dict) else None
        for item in results if isinstance(results, list) else []:
            if isinstance(item, dict) and item.get("id"):
                return record.replace(id=str(item["id"]))
        # nothing added: Mem0 deduplicated an identical text (an earlier write landed)
        return record.replace(id=self._find_by_key(record.key) or "")

    # -- retries ----------------------------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], T], *, missing_ok: bool = False) -> T:
        """Run ``fn`` with bounded retries on transient failures; MemoryStoreError otherwise.
        With ``missing_ok`` a 404 returns None instead of raising."""
        attempt = 0
        while True:
            attempt += 1
            self._last_status = None
            self._last_retry_after = None
            try:
                return fn()
            except MemoryStoreError:
                raise
            except Exception as exc:
                failure = self._classify(exc)
                if missing_ok and failure.status == 404:
                    return None  # type: ignore[return-value]
                if not failure.retryable or attempt >= self.max_attempts:
                    raise self._error(what, failure, attempt) from exc
                delay = self._delay(attempt, failure.retry_after)
                log.warning(
                    "mem0 %s: %s; retrying in %.1fs (attempt %d of %d)",
                    what,
                    self._redact(failure.message),
                    delay,
                    attempt + 1,
                    self.max_attempts,
                )
                self._sleep(delay)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        policy = Backoff(self.backoff_base, self.backoff_cap)
        return policy.delay(attempt, _RNG, retry_after=retry_after)

    def _observe(self, response: httpx.Response) -> None:
        """httpx response hook: remember the status (the SDK's constructor hides it)."""
        self._last_status = response.status_code
        self._last_retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())

    def _classify(self, exc: Exception) -> _Failure:
        exc_mod = self._exc
        if isinstance(exc, exc_mod.MemoryError):
            info = exc.debug_info if isinstance(exc.debug_info, dict) else {}
            status = info.get("status_code")
            status = status if isinstance(status, int) else None
            message = f"HTTP {status}: {exc.message}" if status else str(exc.message)
            if isinstance(exc, exc_mod.RateLimitError) or status == 429:
                retry_after = info.get("retry_after")
                if not isinstance(retry_after, int | float):
                    retry_after = self._last_retry_after
                return _Failure(message, True, 429, retry_after)
            if isinstance(exc, exc_mod.NetworkError) or status == 408 or (status or 0) >= 500:
                return _Failure(self._network_message(exc, message), True, status)
            auth = isinstance(exc, exc_mod.AuthenticationError)
            return _Failure(message, False, status, auth=auth)
        if isinstance(exc, self._httpx.TransportError):  # the constructor's ping is unwrapped
            return _Failure(self._network_message(exc, str(exc)), True)
        if isinstance(exc, ValueError) and self._last_status is not None:
            status = self._last_status  # the constructor turned an HTTP error into ValueError
            retryable = status in (408, 429) or status >= 500
            auth = status in (401, 403)
            return _Failure(str(exc), retryable, status, self._last_retry_after, auth=auth)
        return _Failure(f"{type(exc).__name__}: {exc}", False)

    def _network_message(self, exc: Exception, message: str) -> str:
        if isinstance(exc, self._httpx.ConnectError) or "Connection failed" in message:
            return f"cannot connect to {self.host} ({message})"
        if isinstance(exc, self._httpx.TimeoutException) or "timed out" in message:
            return f"{self.host} did not answer in time ({message})"
        return message

    def _error(self, what: str, failure: _Failure, attempts: int) -> MemoryStoreError:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        detail = self._redact(failure.message)
        if failure.auth:
            return Mem0ConfigError(f"Mem0 rejected the API key ({detail})", KEY_HINT)
        if "org_id and project_id" in failure.message:
            return Mem0ConfigError(
                f"{self.host} does not answer like the Mem0 platform API "
                "(its ping reply has no org_id/project_id)",
                "MEM0_HOST must be the platform API base URL, e.g. https://api.mem0.ai "
                "(the self-hosted Mem0 server speaks a different protocol).",
            )
        if failure.retryable:
            return MemoryStoreError(
                f"Mem0 {what} failed{tries}: {detail}",
                f"Mem0 at {self.host} is unreachable or overloaded; check MEM0_HOST and the "
                "network, or try again later.",
            )
        return MemoryStoreError(
            f"Mem0 {what} was refused: {detail}",
            "This looks like a bug or an incompatible Mem0 API; please report it.",
        )

