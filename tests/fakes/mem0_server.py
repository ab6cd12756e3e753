"""A faithful fake of the Mem0 platform REST API on 127.0.0.1, for the real ``MemoryClient``.

Implements the contract the ``mem0ai`` 2.2.1 SDK speaks (see the Mem0 notes, §1.4):

    GET    /v1/ping/                     -> {status, org_id, project_id, user_email}
    POST   /v3/memories/add/             infer false: stored verbatim, SUCCEEDED + results;
                                         infer true (default): PENDING + an event
    POST   /v3/memories/?page&page_size  filters (required) -> {count, next, previous, results}
    POST   /v3/memories/search/          token-overlap score, threshold, top_k
    GET|PUT|DELETE /v1/memories/{id}/
    DELETE /v1/memories/?user_id=...     (also agent_id/app_id/run_id; "*" is a wildcard)
    GET    /v1/memories/{id}/history/
    GET    /v1/event/{id}/

Auth is ``Authorization: Token <key>``; anything else gets ``401 {"detail": "Invalid API key"}``.

Fault injection, for testing retries and durability:
    ``fail(status, times, path, retry_after)``  answer with an HTTP error
    ``hang(seconds, times, path, apply)``       hold the request (optionally after applying it)
    ``drop(times, path)``                       close the connection without an answer
    ``outage = True``                           every request gets 503
    ``visibility_delay = s``                    new memories stay invisible to list/search for s

The server runs in a background thread (``with FakeMem0Server() as s: ... s.url``), so it keeps
serving while the test thread waits on a subprocess. Change state through the API or
``seed()`` (``memories`` is for reading: listings are cached until the next change).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_KEY = "m0-test-key"
ENTITY_FIELDS = ("user_id", "agent_id", "app_id", "run_id")
TIME_FIELDS = ("created_at", "updated_at", "timestamp", "expiration_date")
FILTER_KEYS = frozenset(
    {"AND", "OR", "NOT", *ENTITY_FIELDS, *TIME_FIELDS}
    | {"text", "categories", "metadata", "keywords_search", "memory_ids", "keywords"}
)
_TOKEN = re.compile(r"[a-z0-9]+")


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


@dataclass
class Fault:
    kind: str  # "status" | "hang" | "drop"
    times: int = 1
    path: str | None = None  # exact path (e.g. "/v3/memories/add/"), or None for any
    method: str | None = None
    status: int = 503
    retry_after: str | None = None
    seconds: float = 5.0
    apply: bool = False  # hang: process the request first, then hang
    after: int = 0  # let this many matching requests through first

    def matches(self, method: str, path: str) -> bool:
        return (self.path is None or self.path == path) and (
            self.method is None or self.method == method
        )


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    status: int = 0  # 0: no answer was sent (dropped or hung)


@dataclass
class StoredMemory:
    id: str
    memory: str
    user_id: str | None
    agent_id: str | None
    app_id: str | None
    run_id: str | None
    metadata: dict[str, Any] | None
    categories: list[str]
    created_at: str
    updated_at: str
    seq: int
    visible_at: float
    expiration_date: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "memory": self.memory,
            "user_id": self.user_id,
            "agent_id": self.agent_id,
            "app_id": self.app_id,
            "run_id": self.run_id,
            "metadata": self.metadata,
            "categories": list(self.categories),
            "expiration_date": self.expiration_date,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


class FakeMem0Server:
    """The fake platform. State: ``memories`` (id -> memory), ``events``, ``requests``."""

    def __init__(
        self,
        api_key: str = DEFAULT_KEY,
        *,
        org_id: str = "org_test",
        project_id: str = "proj_test",
        ping_ids: bool = True,
    ) -> None:
        self.api_key = api_key
        self.org_id = org_id
        self.project_id = project_id
        self.ping_ids = ping_ids  # False: ping lacks org_id/project_id (a wrong host)
        self.memories: dict[str, StoredMemory] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.outage = False
        self.visibility_delay = 0.0
        self.lock = threading.RLock()
        self._seq = 0
        self._version = 0  # bumped on every change; keys the listing cache
        self._list_cache: tuple[str, int, float, list[StoredMemory]] | None = None
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> FakeMem0Server:
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # wakes hung handlers
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeMem0Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- fault injection ----------------------------------------------------------------
    def fail(
        self,
        status: int = 503,
        *,
        times: int = 1,
        path: str | None = None,
        method: str | None = None,
        retry_after: str | int | None = None,
        after: int = 0,
    ) -> None:
        """Answer ``times`` matching requests (after letting ``after`` through) with
        ``status``, with a ``Retry-After`` header if given."""
        ra = None if retry_after is None else str(retry_after)
        with self.lock:
            self.faults.append(Fault("status", times, path, method, status, ra, after=after))

    def hang(
        self,
        seconds: float,
        *,
        times: int = 1,
        path: str | None = None,
        method: str | None = None,
        apply: bool = False,
        after: int = 0,
    ) -> None:
        """Hold ``times`` matching requests (after letting ``after`` through) for ``seconds``,
        then answer normally. ``apply=True`` processes the request before hanging (the write
        lands, the reply is late)."""
        with self.lock:
            self.faults.append(
                Fault("hang", times, path, method, seconds=seconds, apply=apply, after=after)
            )

    def drop(
        self,
        *,
        times: int = 1,
        path: str | None = None,
        method: str | None = None,
        after: int = 0,
    ) -> None:
        """Close the connection of ``times`` matching requests (after letting ``after``
        through) without an answer."""
        with self.lock:
            self.faults.append(Fault("drop", times, path, method, after=after))

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    # -- helpers for tests ----------------------------------------------------------------
    def seed(
        self,
        text: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        created_at: str | None = None,
    ) -> str:
        """Store a memory directly (as if written by someone else); return its id."""
        with self.lock:
            mem = self._new_memory(text, {"user_id": user_id, "agent_id": agent_id}, metadata)
            if created_at:
                mem.created_at = mem.updated_at = created_at
                self._version += 1
            return mem.id

    def memories_of(self, user_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m.public() for m in self.memories.values() if m.user_id == user_id]

    def paths(self, method: str | None = None) -> list[str]:
        return [r.path for r in self.requests if method is None or r.method == method]

    # -- request dispatch -----------------------------------------------------------------
    def dispatch(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> tuple[int, Any]:
        if headers.get("authorization", "") != f"Token {self.api_key}":
            return 401, {"detail": "Invalid API key"}
        routes: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"/v1/ping/", self._ping),
            ("POST", r"/v3/memories/add/", self._add),
            ("POST", r"/v3/memories/search/", self._search),
            ("POST", r"/v3/memories/", self._list),
            ("DELETE", r"/v1/memories/", self._delete_all),
            ("GET", r"/v1/memories/(?P<id>[^/]+)/history/", self._history),
            ("GET", r"/v1/memories/(?P<id>[^/]+)/", self._get),
            ("PUT", r"/v1/memories/(?P<id>[^/]+)/", self._update),
            ("DELETE", r"/v1/memories/(?P<id>[^/]+)/", self._delete),
            ("GET", r"/v1/event/(?P<id>[^/]+)/", self._event),
        ]
        path_known = False
        for verb, pattern, fn in routes:
            match = re.fullmatch(pattern, path)
            if match is None:
                continue
            path_known = True
            if verb != method:
                continue
            args = {k: unquote(v) for k, v in match.groupdict().items()}
            try:
                with self.lock:
                    return 200, fn(query=query, body=body, headers=headers, **args)
            except ApiError as e:
                return e.status, e.body
        if path_known:
            return 405, {"detail": f'Method "{method}" not allowed.'}
        return 404, {"detail": "Not found."}

    def _ping(self, **_: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"status": "ok", "user_email": None}
        if self.ping_ids:
            out.update(org_id=self.org_id, project_id=self.project_id)
        return out

    def _new_memory(
        self, text: str, ids: dict[str, Any], metadata: dict[str, Any] | None
    ) -> StoredMemory:
        self._seq += 1
        now = _now_iso()
        mem = StoredMemory(
            id=str(uuid.uuid4()),
            memory=text,
            metadata=metadata,
            categories=[],
            created_at=now,
            updated_at=now,
            seq=self._seq,
            visible_at=time.monotonic() + self.visibility_delay,
            **{k: ids.get(k) for k in ENTITY_FIELDS},
        )
        mem.history.append(self._history_entry(mem, "ADD", None, text))
        self.memories[mem.id] = mem
        self._version += 1
        return mem

    def _history_entry(
        self, mem: StoredMemory, event: str, old: str | None, new: str | None
    ) -> dict[str, Any]:
        now = _now_iso()
        return {
            "id": str(uuid.uuid4()),
            "memory_id": mem.id,
            "input": [],
            "old_memory": old,
            "new_memory": new,
            "event": event,
            "user_id": mem.user_id,
            "agent_id": mem.agent_id,
            "app_id": mem.app_id,
            "metadata": mem.metadata,
            "categories": list(mem.categories),
            "created_at": now,
            "updated_at": now,
        }

    def _add(self, body: Any, **_: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, {"detail": "Invalid JSON body"})
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ApiError(400, {"messages": ["This field is required."]})
        for m in messages:
            if not isinstance(m, dict) or not isinstance(m.get("content"), str):
                raise ApiError(400, {"messages": ["Each message needs role and content."]})
        filters = body.get("filters") if isinstance(body.get("filters"), dict) else {}
        ids = {k: body.get(k) or filters.get(k) for k in ENTITY_FIELDS}
        if not any(isinstance(v, str) and v for v in ids.values()):
            raise ApiError(
                400, {"detail": "At least one of user_id, agent_id, app_id, run_id is required."}
            )
        metadata = body.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise ApiError(400, {"metadata": ["Must be a JSON object."]})
        results = []
        for m in messages:
            if m.get("role") == "system" or not m["content"].strip():
                continue
            text = m["content"]
            duplicate = any(
                old.memory == text and all(getattr(old, k) == ids.get(k) for k in ENTITY_FIELDS)
                for old in self.memories.values()
            )
            if duplicate:
                continue
            mem = self._new_memory(text, ids, dict(metadata) if metadata else None)
            results.append({"id": mem.id, "data": {"memory": text}, "event": "ADD"})
        event_id = str(uuid.uuid4())
        self.events[event_id] = {
            "id": event_id,
            "event_type": "ADD",
            "status": "SUCCEEDED",
            "payload": body,
            "results": results,
            "error": None,
            "latency": 0.001,
            "created_at": _now_iso(),
            "updated_at": _now_iso(),
        }
        if body.get("infer", True) is False:
            return {
                "message": "Memories stored successfully",
                "status": "SUCCEEDED",
                "event_id": event_id,
                "results": results,
            }
        return {
            "message": "Memory processing has been queued for background execution",
            "status": "PENDING",
            "event_id": event_id,
        }

    def _visible(self) -> list[StoredMemory]:
        now = time.monotonic()
        return [m for m in self.memories.values() if m.visible_at <= now]

    def _list(self, query: dict[str, str], body: Any, headers: dict[str, str], **_: Any) -> Any:
        filters = body.get("filters") if isinstance(body, dict) else None
        _check_filters(filters)
        page = _int_param(query.get("page", "1"), "page")
        size = _int_param(query.get("page_size", "100"), "page_size")
        if page < 1 or not 1 <= size <= 200:
            raise ApiError(400, {"detail": "page must be >= 1 and page_size between 1 and 200"})
        assert isinstance(filters, dict)
        hits = self._listing(filters)
        pages = max(1, -(-len(hits) // size))
        if page > pages:
            raise ApiError(404, {"detail": "Invalid page."})
        base = f"http://{headers.get('host', '127.0.0.1')}/v3/memories/"
        return {
            "count": len(hits),
            "next": f"{base}?page={page + 1}&page_size={size}" if page < pages else None,
            "previous": f"{base}?page={page - 1}&page_size={size}" if page > 1 else None,
            "results": [m.public() for m in hits[(page - 1) * size : page * size]],
        }

    def _listing(self, filters: dict[str, Any]) -> list[StoredMemory]:
        """Visible memories matching ``filters``, newest first (cached while nothing changes,
        so paging through a large listing stays linear)."""
        cache_key = f"{len(self.memories)}:{json.dumps(filters, sort_keys=True)}"
        now = time.monotonic()
        cached = self._list_cache
        if cached and cached[:2] == (cache_key, self._version) and now < cached[2]:
            return cached[3]
        hits = [m for m in self._visible() if _match(m, filters)]
        hits.sort(key=lambda m: m.seq, reverse=True)
        pending = [m.visible_at for m in self.memories.values() if m.visible_at > now]
        self._list_cache = (cache_key, self._version, min(pending, default=float("inf")), hits)
        return hits

    def _search(self, body: Any, **_: Any) -> Any:
        if not isinstance(body, dict) or not str(body.get("query") or "").strip():
            raise ApiError(400, {"detail": "query is required"})
        filters = body.get("filters")
        _check_filters(filters, need_entity=False)
        top_k = body.get("top_k", 10)
        threshold = body.get("threshold", 0.1)
        if not isinstance(top_k, int) or not 1 <= top_k <= 1000:
            raise ApiError(400, {"top_k": ["Must be between 1 and 1000."]})
        if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
            raise ApiError(400, {"threshold": ["Must be between 0 and 1."]})
        qtokens = set(_TOKEN.findall(str(body["query"]).lower()))
        scored = []
        for m in self._visible():
            if not _match(m, filters):
                continue
            mtokens = set(_TOKEN.findall(m.memory.lower()))
            score = len(qtokens & mtokens) / len(qtokens) if qtokens else 0.0
            if score >= threshold:
                scored.append((score, m))
        scored.sort(key=lambda sm: (-sm[0], -sm[1].seq))
        results = []
        for score, m in scored[:top_k]:
            item = m.public()
            item["score"] = round(score, 6)
            item["score_breakdown"] = {"semantic": 0.0, "bm25": round(score, 6), "entity": 0.0}
            results.append(item)
        return {"results": results}

    def _get_memory(self, id: str) -> StoredMemory:
        mem = self.memories.get(id)
        if mem is None:
            raise ApiError(404, {"error": "Memory not found"})
        return mem

    def _get(self, id: str, **_: Any) -> Any:
        return self._get_memory(id).public()

    def _update(self, id: str, body: Any, **_: Any) -> Any:
        mem = self._get_memory(id)
        if not isinstance(body, dict) or not (
            set(body) & {"text", "metadata", "timestamp", "expiration_date"}
        ):
            raise ApiError(400, {"detail": "Nothing to update"})
        old = mem.memory
        if isinstance(body.get("text"), str):
            mem.memory = body["text"]
        if "metadata" in body:
            if body["metadata"] is not None and not isinstance(body["metadata"], dict):
                raise ApiError(400, {"metadata": ["Must be a JSON object."]})
            mem.metadata = body["metadata"]
        if "expiration_date" in body:
            mem.expiration_date = body["expiration_date"]
        mem.updated_at = _now_iso()
        mem.history.append(self._history_entry(mem, "UPDATE", old, mem.memory))
        self._version += 1
        return mem.public()

    def _delete(self, id: str, **_: Any) -> Any:
        mem = self._get_memory(id)
        del self.memories[id]
        self._version += 1
        mem.history.append(self._history_entry(mem, "DELETE", mem.memory, None))
        return {"message": "Memory deleted successfully!", "cascade_count": 0}

    def _delete_all(self, query: dict[str, str], **_: Any) -> Any:
        given = {k: v for k, v in query.items() if k in ENTITY_FIELDS and v}
        if not given:
            raise ApiError(400, {"detail": "At least one filter is required to delete memories."})
        doomed = [
            m.id
            for m in self.memories.values()
            if all(
                (getattr(m, k) is not None) if v == "*" else getattr(m, k) == v
                for k, v in given.items()
            )
        ]
        for mid in doomed:
            del self.memories[mid]
        self._version += 1
        return {"message": "Delete in progress...", "event_id": str(uuid.uuid4())}

    def _history(self, id: str, **_: Any) -> Any:
        mem = self.memories.get(id)
        if mem is None:
            raise ApiError(404, {"error": "Memory not found"})
        return list(mem.history)

    def _event(self, id: str, **_: Any) -> Any:
        event = self.events.get(id)
        if event is None:
            raise ApiError(404, {"detail": "Event not found"})
        return event


# -- filters ---------------------------------------------------------------------------------


def _int_param(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, {name: ["A valid integer is required."]}) from None


def _check_filters(filters: Any, *, need_entity: bool = True) -> None:
    if not isinstance(filters, dict) or not filters:
        raise ApiError(400, {"detail": "Filters are required and cannot be empty"})
    _check_keys(filters)
    if need_entity and not _has_entity(filters):
        raise ApiError(
            400,
            {"detail": "Filters must include at least one of user_id, agent_id, app_id, run_id"},
        )


def _check_keys(node: Any) -> None:
    if not isinstance(node, dict):
        raise ApiError(400, {"detail": "Each filter must be an object"})
    for key, value in node.items():
        if key not in FILTER_KEYS:
            raise ApiError(400, {"detail": f"Invalid filter key: {key}"})
        if key in ("AND", "OR", "NOT"):
            if not isinstance(value, list):
                raise ApiError(400, {"detail": f"{key} takes a list"})
            for child in value:
                _check_keys(child)


def _has_entity(node: dict[str, Any]) -> bool:
    for key, value in node.items():
        if key in ENTITY_FIELDS and _positive(value):
            return True
        if key == "AND" and any(_has_entity(c) for c in value):
            return True
        if key == "OR" and value and all(_has_entity(c) for c in value):
            return True
    return False


def _positive(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value)
    return isinstance(value, dict) and ("eq" in value or "in" in value)


def _match(mem: StoredMemory, node: dict[str, Any]) -> bool:
    """Sibling keys are ANDed. An object with both AND and OR drops the OR (as documented)."""
    for key, value in node.items():
        if key == "OR" and "AND" in node:
            continue
        if not _match_key(mem, key, value):
            return False
    return True


def _match_key(mem: StoredMemory, key: str, value: Any) -> bool:
    if key == "AND":
        return all(_match(mem, c) for c in value)
    if key == "OR":
        return any(_match(mem, c) for c in value)
    if key == "NOT":
        return not any(_match(mem, c) for c in value)
    if key in ENTITY_FIELDS:
        return _compare(getattr(mem, key), value, ("eq", "ne", "in"))
    if key in TIME_FIELDS:
        actual = mem.created_at if key == "timestamp" else getattr(mem, key)
        return _compare(actual, value, ("eq", "ne", "in", "gt", "gte", "lt", "lte"))
    if key == "metadata":
        if not isinstance(value, dict):
            raise ApiError(400, {"detail": "metadata filter must be an object"})
        meta = mem.metadata or {}
        return all(
            _compare(meta.get(k), v, ("eq", "ne", "contains"), missing=k not in meta)
            for k, v in value.items()
        )
    if key == "memory_ids":
        return mem.id in (value if isinstance(value, list) else [value])
    if key == "categories":
        if isinstance(value, dict) and "in" in value:
            return bool(set(mem.categories) & set(value["in"]))
        if isinstance(value, dict) and "contains" in value:
            return value["contains"] in mem.categories
        return value in mem.categories
    # text / keywords / keywords_search
    text = mem.memory
    if isinstance(value, dict):
        if "contains" in value:
            return str(value["contains"]) in text
        if "icontains" in value:
            return str(value["icontains"]).lower() in text.lower()
        raise ApiError(400, {"detail": f"Unsupported operator for {key}"})
    return str(value).lower() in text.lower()


def _compare(actual: Any, cond: Any, ops: tuple[str, ...], *, missing: bool = False) -> bool:
    if cond == "*":
        return actual is not None and not missing
    if not isinstance(cond, dict):
        return not missing and actual == cond
    for op, expected in cond.items():
        if op not in ops:
            raise ApiError(400, {"detail": f"Unsupported operator: {op}"})
        if op == "eq" and (missing or actual != expected):
            return False
        if op == "ne" and not missing and actual == expected:
            return False
        if op == "in" and (missing or actual not in (expected or [])):
            return False
        if op == "contains" and (missing or str(expected) not in str(actual)):
            return False
        if op in ("gt", "gte", "lt", "lte"):
            if actual is None:
                return False
            a, e = str(actual), str(expected)
            ok = {"gt": a > e, "gte": a >= e, "lt": a < e, "lte": a <= e}[op]
            if not ok:
                return False
    return True


# -- HTTP plumbing ---------------------------------------------------------------------------


def _make_handler(server: FakeMem0Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

        def _handle(self) -> None:
            split = urlsplit(self.path)
            path = split.path
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            headers = {k.lower(): v for k, v in self.headers.items()}
            entry = Request(self.command, path, query, body, headers)
            with server.lock:
                server.requests.append(entry)

            if server.outage:
                return self._send(entry, 503, {"detail": "Service Unavailable"})
            fault = server._take_fault(self.command, path)
            if fault is not None and fault.kind == "drop":
                self.close_connection = True
                return
            if fault is not None and fault.kind == "status":
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return self._send(entry, fault.status, {"detail": f"HTTP {fault.status}"}, extra)
            if fault is not None and fault.kind == "hang" and not fault.apply:
                if server._stop.wait(fault.seconds):
                    return
            status, payload = server.dispatch(self.command, path, query, body, headers)
            if fault is not None and fault.kind == "hang" and fault.apply:
                if server._stop.wait(fault.seconds):
                    return
            self._send(entry, status, payload)

        def _send(
            self, entry: Request, status: int, payload: Any, extra: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
                entry.status = status
            except OSError:  # the client gave up (timeout) and closed the socket
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    return Handler
