"""Mem0Store through the real mem0ai MemoryClient against the fake platform on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ratchet.errors import MemoryStoreError
from ratchet.memory.mem0_store import Mem0ConfigError, Mem0Store, parse_memory, record_metadata
from ratchet.records import MemoryRecord
from tests.fakes.mem0_server import DEFAULT_KEY, FakeMem0Server

UID = "ratchet:octo/app"
ADD = "/v3/memories/add/"
LIST = "/v3/memories/"
SEARCH = "/v3/memories/search/"
ROOT = Path(__file__).resolve().parents[2]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def server() -> Iterator[FakeMem0Server]:
    with FakeMem0Server() as srv:
        yield srv


def make_store(
    server: FakeMem0Server, tmp_path: Path, *, api_key: str = DEFAULT_KEY, **kw: Any
) -> Mem0Store:
    opts: dict[str, Any] = {
        "host": server.url,
        "user_id": UID,
        "state_dir": tmp_path / "state",
        "timeout": 0.5,
        "backoff_base": 0.0,
        "sleep": Sleeps(),
    }
    opts.update(kw)
    return Mem0Store(api_key, **opts)


def attempt(n: int, task: str = "issue-7", run: str = "run-1", **kw: Any) -> MemoryRecord:
    fields: dict[str, Any] = {
        "kind": "attempt",
        "task": task,
        "attempt": n,
        "outcome": "regressed",
        "title": f"idea {n}",
        "run_id": run,
        "created_at": f"2025-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.000000Z",
        "files": ("app/recipes.py",),
    }
    fields.update(kw)
    return MemoryRecord(**fields)


def seed_record(server: FakeMem0Server, rec: MemoryRecord, user_id: str = UID) -> str:
    return server.seed(rec.sentence(), user_id=user_id, metadata=record_metadata(rec))


# -- basic operations -------------------------------------------------------------------------


def test_add_records_search_update_delete_roundtrip(server: FakeMem0Server, tmp_path: Path) -> None:
    store = make_store(server, tmp_path)
    first = store.add(attempt(1, outcome="improved", title="filter recipes by time"))
    second = store.add(attempt(2, title="cache the recipe index"))
    store.add(attempt(1, task="issue-9"))
    assert first.id and second.id and first.id != second.id

    # the wire: infer=False, the entity id top-level, the key in flat metadata
    add_body = next(r.body for r in server.requests if r.path == ADD)
    assert add_body["infer"] is False and add_body["user_id"] == UID
    assert add_body["messages"][0]["role"] == "assistant"
    assert add_body["metadata"]["key"] == first.key and add_body["metadata"]["attempt"] == 1

    # a fresh store (next run) reads everything back from the platform
    fresh = make_store(server, tmp_path)
    got = fresh.records("issue-7")
    assert [(r.attempt, r.title, r.id) for r in got] == [
        (1, "filter recipes by time", first.id),
        (2, "cache the recipe index", second.id),
    ]
    assert got[0].files == ("app/recipes.py",) and fresh.skipped == 0
    assert len(fresh.records()) == 3

    hits = fresh.search("cache recipe index", limit=1)
    assert [h.id for h in hits] == [second.id]
    search_body = next(r.body for r in server.requests if r.path == SEARCH)
    assert search_body["filters"] == {"user_id": UID} and search_body["threshold"] == 0.0

    updated = fresh.update(got[0].replace(commit="abc123", pr=12))
    assert updated.id == first.id
    assert server.memories[first.id].metadata["commit"] == "abc123"
    assert [r.pr for r in make_store(server, tmp_path).records("issue-7")] == [12, None]

    assert fresh.delete([first.id, "no-such-id"]) == 1
    assert first.id not in server.memories
    assert ("DELETE", "/v1/memories/") not in [(r.method, r.path) for r in server.requests]
    assert [r.attempt for r in make_store(server, tmp_path).records("issue-7")] == [2]


def test_listing_sends_ids_in_filters_and_pages_to_the_end(
    server: FakeMem0Server, tmp_path: Path
) -> None:
    for n in range(1, 451):
        seed_record(server, attempt(n))
    seed_record(server, attempt(1, task="other"))
    store = make_store(server, tmp_path)
    got = store.records("issue-7")
    assert [r.attempt for r in got] == list(range(1, 451))
    lists = [r for r in server.requests if r.path == LIST and r.method == "POST"]
    assert [r.query for r in lists] == [{"page": str(p), "page_size": "200"} for p in (1, 2, 3)]
    assert lists[0].body == {
        "filters": {"AND": [{"user_id": UID}, {"metadata": {"task": "issue-7"}}]}
    }
    assert not store.truncated


def test_listing_is_bounded_and_keeps_the_newest(server: FakeMem0Server, tmp_path: Path) -> None:
    for n in range(1, 451):
        seed_record(server, attempt(n))
    store = make_store(server, tmp_path, max_records=250)
    got = store.records("issue-7")
    assert store.truncated
    assert [r.attempt for r in got] == list(range(201, 451))
    assert len([r for r in server.requests if r.path == LIST]) == 2


def test_foreign_handwritten_and_oversized_memories_are_skipped_and_counted(
    server: FakeMem0Server, tmp_path: Path
) -> None:
    seed_record(server, attempt(1))
    server.seed("The team prefers small pull requests.", user_id=UID)  # typed in the dashboard
    server.seed("a note", user_id=UID, metadata={"source": "zapier"})  # someone else's metadata
    server.seed("x" * 30_000, user_id=UID, metadata=record_metadata(attempt(2)))  # oversized
    seed_record(server, attempt(3), user_id="ratchet:someone/else")  # other namespace
    # an older schema: only kind and task, everything else defaulted
    server.seed("old", user_id=UID, metadata={"kind": "attempt", "task": "issue-7", "attempt": "4"})
    store = make_store(server, tmp_path)
    got = store.records()
    assert [(r.attempt, r.outcome) for r in got] == [(1, "regressed"), (4, "")]
    assert store.skipped == 3


def test_parse_memory_refuses_another_namespace() -> None:
    item = {
        "id": "m1",
        "user_id": "ratchet:x/y",
        "memory": "t",
        "metadata": record_metadata(attempt(1)),
    }
    with pytest.raises(ValueError, match="belongs to"):
        parse_memory(item, UID)
    assert parse_memory({**item, "user_id": UID}, UID).id == "m1"
    with pytest.raises(ValueError):
        parse_memory({**item, "user_id": UID, "metadata": None}, UID)


def test_feedback_with_empty_detail_keeps_its_key(server: FakeMem0Server, tmp_path: Path) -> None:
    rec = MemoryRecord(kind="outcome", task="issue-7", outcome="accepted", run_id="r9")
    stored = make_store(server, tmp_path).add(rec)
    [back] = make_store(server, tmp_path).records("issue-7")
    assert back.key == rec.key and back.id == stored.id


def test_search_skips_unknown_memories_and_empty_queries(
    server: FakeMem0Server, tmp_path: Path
) -> None:
    server.seed("recipe filter cooking time notes", user_id=UID)
    seed_record(server, attempt(1, title="recipe filter by cooking time"))
    store = make_store(server, tmp_path)
    assert [r.attempt for r in store.search("recipe filter cooking time", limit=5)] == [1]
    before = len(server.requests)
    assert store.search("   ") == [] and store.search("x", limit=0) == []
    assert len(server.requests) == before


# -- idempotency and consistency ---------------------------------------------------------------


def test_readding_the_same_key_never_duplicates(server: FakeMem0Server, tmp_path: Path) -> None:
    rec = attempt(1)
    store = make_store(server, tmp_path)
    a = store.add(rec)
    b = store.add(rec)
    c = make_store(server, tmp_path).add(rec)  # another process (a journal replay)
    assert a.id == b.id == c.id
    assert len(server.memories_of(UID)) == 1
    assert server.paths("POST").count(ADD) == 1


def test_a_write_whose_reply_was_lost_is_not_duplicated(
    server: FakeMem0Server, tmp_path: Path
) -> None:
    server.hang(2.0, path=ADD, apply=True)  # the write lands, the reply never comes in time
    sleeps = Sleeps()
    store = make_store(server, tmp_path, timeout=0.3, sleep=sleeps)
    stored = store.add(attempt(1))
    assert len(server.memories_of(UID)) == 1
    assert stored.id == next(iter(server.memories))
    assert len(sleeps) == 1


def test_own_writes_are_visible_without_read_after_write(
    server: FakeMem0Server, tmp_path: Path
) -> None:
    server.visibility_delay = 60.0
    store = make_store(server, tmp_path)
    stored = store.add(attempt(1))
    assert make_store(server, tmp_path).records("issue-7") == []  # the platform lags
    assert store.records("issue-7") == [stored]
    updated = store.update(stored.replace(commit="c0ffee"))
    assert store.records("issue-7") == [updated]


def test_update_finds_the_memory_by_key_when_the_id_is_unknown(
    server: FakeMem0Server, tmp_path: Path
) -> None:
    memory_id = seed_record(server, attempt(1))
    store = make_store(server, tmp_path)
    updated = store.update(attempt(1, commit="beef").replace(id="journal:whatever"))
    assert updated.id == memory_id
    assert server.memories[memory_id].metadata["commit"] == "beef"
    with pytest.raises(MemoryStoreError, match="no memory"):
        store.update(attempt(2))


# -- retries --------------------------------------------------------------------------------


def test_429_retry_after_is_honoured(server: FakeMem0Server, tmp_path: Path) -> None:
    sleeps = Sleeps()
    store = make_store(server, tmp_path, sleep=sleeps, backoff_base=1.0)
    server.fail(429, path=LIST, retry_after=7)
    assert store.records("issue-7") == []
    assert sleeps == [7]


def test_429_retry_after_is_capped(server: FakeMem0Server, tmp_path: Path) -> None:
    sleeps = Sleeps()
    store = make_store(server, tmp_path, sleep=sleeps, backoff_cap=5.0)
    server.fail(429, path=SEARCH, retry_after=3600)
    assert store.search("anything") == []
    assert sleeps == [5.0]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_retried_with_backoff(
    server: FakeMem0Server, tmp_path: Path, status: int
) -> None:
    sleeps = Sleeps()
    store = make_store(server, tmp_path, sleep=sleeps, backoff_base=1.0, backoff_cap=1.5)
    server.fail(status, times=2, path=ADD)
    assert store.add(attempt(1)).id
    assert len(server.memories_of(UID)) == 1
    assert server.paths("POST").count(ADD) == 3
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0 and 0.75 <= sleeps[1] <= 1.5  # capped, jittered


def test_exhausted_retries_raise_memory_store_error(server: FakeMem0Server, tmp_path: Path) -> None:
    sleeps = Sleeps()
    store = make_store(server, tmp_path, sleep=sleeps, max_attempts=3)
    server.fail(503, times=10, path=LIST)
    with pytest.raises(MemoryStoreError, match="after 3 attempts") as info:
        store.records("issue-7")
    assert "MEM0_HOST" in info.value.hint
    assert len(sleeps) == 2


def test_validation_errors_are_not_retried(server: FakeMem0Server, tmp_path: Path) -> None:
    sleeps = Sleeps()
    store = make_store(server, tmp_path, sleep=sleeps)
    server.fail(400, path=ADD)
    with pytest.raises(MemoryStoreError, match="refused"):
        store.add(attempt(1))
    assert sleeps == [] and server.paths("POST").count(ADD) == 1


def test_a_hung_request_times_out_and_is_retried(server: FakeMem0Server, tmp_path: Path) -> None:
    sleeps = Sleeps()
    store = make_store(server, tmp_path, timeout=0.2, sleep=sleeps, max_attempts=3)
    server.hang(5.0, times=1, path=LIST)
    assert store.records("issue-7") == []
    server.hang(5.0, times=3, path=LIST)
    with pytest.raises(MemoryStoreError, match="did not answer in time"):
        store.records("issue-7")
    assert len(sleeps) == 3


def test_a_dropped_connection_is_retried(server: FakeMem0Server, tmp_path: Path) -> None:
    sleeps = Sleeps()
    store = make_store(server, tmp_path, sleep=sleeps)
    server.drop(path=ADD)
    store.add(attempt(1))
    assert len(server.memories_of(UID)) == 1 and len(sleeps) == 1


# -- construction and ping ------------------------------------------------------------------


def test_wrong_key_is_a_clear_error_and_not_retried(server: FakeMem0Server, tmp_path: Path) -> None:
    sleeps = Sleeps()
    with pytest.raises(Mem0ConfigError, match="Mem0 rejected the API key") as info:
        make_store(server, tmp_path, api_key="m0-wrong-key-123456", sleep=sleeps)
    assert "MEM0_API_KEY" in info.value.hint and "MEM0_HOST" in info.value.hint
    assert "m0-wrong-key-123456" not in str(info.value)
    assert sleeps == [] and server.paths() == ["/v1/ping/"]


def test_unreachable_host_names_the_host(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nobody listens
    host = f"http://127.0.0.1:{port}"
    sleeps = Sleeps()
    with pytest.raises(MemoryStoreError, match=f"cannot connect to {host}") as info:
        Mem0Store(
            DEFAULT_KEY,
            host=host,
            user_id=UID,
            state_dir=tmp_path,
            timeout=0.5,
            max_attempts=2,
            backoff_base=0.0,
            sleep=sleeps,
        )
    assert len(sleeps) == 1
    assert not isinstance(info.value, Mem0ConfigError)  # transient: journal and go on


def test_a_host_that_is_not_the_platform_api(tmp_path: Path) -> None:
    with FakeMem0Server(ping_ids=False) as srv:
        with pytest.raises(Mem0ConfigError, match="does not answer like the Mem0") as info:
            make_store(srv, tmp_path)
    assert "MEM0_HOST" in info.value.hint


def test_construction_retries_a_transient_ping_failure(
    server: FakeMem0Server, tmp_path: Path
) -> None:
    sleeps = Sleeps()
    server.fail(503, path="/v1/ping/")
    store = make_store(server, tmp_path, sleep=sleeps)
    assert len(sleeps) == 1
    assert store.ping() == f"Mem0 at {server.url} (project proj_test): 0 memories for {UID}"


def test_ping_reports_failures(server: FakeMem0Server, tmp_path: Path) -> None:
    store = make_store(server, tmp_path, max_attempts=1)
    server.outage = True
    with pytest.raises(MemoryStoreError, match="HTTP 503"):
        store.ping()


def test_store_sets_up_the_sdk_environment_itself(server: FakeMem0Server, tmp_path: Path) -> None:
    """In a clean process (no MEM0_* variables, HOME elsewhere): telemetry off, MEM0_DIR under
    the state dir, nothing in ~/.mem0, and the SDK's package init (qdrant, numpy…) not run."""
    home = tmp_path / "home"
    home.mkdir()
    script = textwrap.dedent(
        f"""
        import json, os, sys
        from pathlib import Path
        import ratchet.memory.mem0_store as m
        assert "mem0" not in sys.modules, "mem0 imported eagerly"
        store = m.Mem0Store({DEFAULT_KEY!r}, host={server.url!r}, user_id={UID!r},
                            state_dir=Path({str(tmp_path / "state")!r}), timeout=5)
        store.add(m.MemoryRecord(kind="attempt", task="t", attempt=1, run_id="r"))
        import mem0.memory.telemetry as t
        print(json.dumps({{
            "telemetry": t.MEM0_TELEMETRY, "posthog": t.client_telemetry.posthog is not None,
            "mem0_dir": os.environ["MEM0_DIR"], "qdrant": "qdrant_client" in sys.modules,
            "oss_memory": "mem0.memory.main" in sys.modules,
        }}))
        # the deferred package init still gives everything `import mem0` normally gives
        import mem0
        from mem0 import Memory, MemoryClient
        assert MemoryClient is type(store._client) and Memory.__name__ == "Memory"
        assert mem0.client.main.MemoryClient is MemoryClient
        print("package-ok")
        """
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(ROOT / "src"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    *_, line, done = proc.stdout.strip().splitlines()
    assert done == "package-ok"
    report = json.loads(line)
    assert report == {
        "telemetry": False,
        "posthog": False,
        "mem0_dir": str(tmp_path / "state" / "mem0"),
        "qdrant": False,
        "oss_memory": False,
    }
    assert not (home / ".mem0").exists()
    assert (tmp_path / "state" / "mem0" / "config.json").exists()
    assert len(server.memories_of(UID)) == 1


# -- the fake itself speaks the platform contract (checked through the real SDK) -------------


def test_fake_platform_contract_through_the_sdk(server: FakeMem0Server, tmp_path: Path) -> None:
    from ratchet.memory.mem0_sdk import import_sdk

    memory_client, exc = import_sdk(tmp_path)
    client = memory_client(api_key=DEFAULT_KEY, host=server.url)
    try:
        queued = client.add("I like short functions", user_id="u1")  # infer defaults to true
        assert queued["status"] == "PENDING"
        event = client.client.get(f"/v1/event/{queued['event_id']}/").json()
        assert event["status"] == "SUCCEEDED" and len(event["results"]) == 1
        memory_id = event["results"][0]["id"]

        same = client.add(
            [{"role": "user", "content": "I like short functions"}], user_id="u1", infer=False
        )
        assert same["status"] == "SUCCEEDED" and same["results"] == []  # exact repeat deduped
        client.add("other", user_id="u2", infer=False, metadata={"k": "v"})

        with pytest.raises(ValueError):
            client.get_all(user_id="u1")  # the SDK insists on filters
        with pytest.raises(exc.ValidationError):
            client.get_all(filters={})
        with pytest.raises(exc.ValidationError):
            client.get_all(filters={"metadata": {"k": "v"}})  # no entity id
        with pytest.raises(exc.ValidationError):
            client.get_all(filters={"user_id": "u1", "bogus": 1})
        both = {"OR": [{"user_id": "u1"}, {"user_id": "u2"}]}
        assert client.get_all(filters=both)["count"] == 2
        assert client.get_all(filters={"user_id": {"in": ["u2"]}})["count"] == 1
        assert (
            client.get_all(filters={"AND": [{"user_id": "*"}, {"NOT": [{"user_id": "u2"}]}]})[
                "count"
            ]
            == 1
        )
        assert client.get_all(filters={"user_id": "u2", "metadata": {"k": "v"}})["count"] == 1
        assert client.get_all(filters={"user_id": "u2", "metadata": {"k": "w"}})["count"] == 0
        with pytest.raises(exc.MemoryNotFoundError):
            client.get_all(filters={"user_id": "u1"}, page=5, page_size=10)

        hits = client.search("short functions", filters={"user_id": "u1"}, threshold=0.5)
        assert [h["id"] for h in hits["results"]] == [memory_id] and hits["results"][0][
            "score"
        ] == 1
        assert client.search("nothing alike", filters={"user_id": "u1"})["results"] == []

        client.update(memory_id, text="I like tiny functions")
        assert client.get(memory_id)["memory"] == "I like tiny functions"
        assert [h["event"] for h in client.history(memory_id)] == ["ADD", "UPDATE"]
        client.delete_all(user_id="u2")
        assert server.memories_of("u2") == []
        client.delete(memory_id)
        with pytest.raises(exc.MemoryNotFoundError):
            client.get(memory_id)
    finally:
        client.client.close()
