"""ratchet.memory.ledger: the git-branch memory, with real git, a local bare origin and clones."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from ratchet.core.ledger_format import fold, merge_lines, record_id
from ratchet.errors import MemoryStoreError
from ratchet.memory.base import MemoryStore
from ratchet.memory.ledger import LedgerStore
from ratchet.records import MemoryRecord
from tests.conftest import plain_git

BRANCH = "refs/heads/ratchet/ledger"


@dataclass
class World:
    tmp: Path
    origin: Path
    a: Path
    b: Path

    def clone(self, name: str, *extra: str) -> Path:
        path = self.tmp / name
        plain_git(self.tmp, "clone", "-q", *extra, str(self.origin), str(path))
        return path

    def store(self, repo: Path, **kw: object) -> LedgerStore:
        kw.setdefault("retry_delay", 0.001)
        return LedgerStore(repo, **kw)  # type: ignore[arg-type]

    def remote_lines(self) -> list[str]:
        text = plain_git(self.origin, "show", "ratchet/ledger:ledger.jsonl")
        return [line for line in text.splitlines() if line]


@pytest.fixture
def world(tmp_path: Path) -> World:
    seed = tmp_path / "seed"
    seed.mkdir()
    plain_git(seed, "init", "-q", "-b", "main")
    (seed / "app.py").write_text("print('hi')\n")
    plain_git(seed, "add", "app.py")
    plain_git(seed, "commit", "-q", "-m", "init")
    origin = tmp_path / "origin.git"
    plain_git(tmp_path, "clone", "-q", "--bare", str(seed), str(origin))
    w = World(tmp_path, origin, tmp_path / "a", tmp_path / "b")
    w.clone("a")
    w.clone("b")
    return w


def rec(task: str = "t1", attempt: int = 1, run_id: str = "run-1", **kw: object) -> MemoryRecord:
    fields: dict[str, object] = {
        "outcome": "improved",
        "title": f"attempt {attempt} on {task}",
        "created_at": f"2026-01-0{min(attempt, 9)}T00:00:00.000000Z",
    }
    fields.update(kw)
    return MemoryRecord(kind="attempt", task=task, attempt=attempt, run_id=run_id, **fields)  # type: ignore[arg-type]


def commits(repo: Path, ref: str = BRANCH) -> int:
    return int(plain_git(repo, "rev-list", "--count", ref).strip())


# -- basics -------------------------------------------------------------------------------------


def test_is_a_memory_store(world: World) -> None:
    store: MemoryStore = world.store(world.a)
    assert store.name == "ledger"


def test_add_read_sort_and_filter(world: World) -> None:
    store = world.store(world.a)
    for attempt in (3, 1, 2):
        stored = store.add(rec(attempt=attempt))
        assert stored.id == record_id(stored.key)
    store.add(rec(task="other", attempt=1))
    got = store.records("t1")
    assert [r.attempt for r in got] == [1, 2, 3]
    assert all(r.task == "t1" and r.id for r in got)
    assert got[0].title == "attempt 1 on t1" and got[0].outcome == "improved"
    assert len(store.records()) == 4
    assert store.skipped == 0
    # each line has the documented shape
    line = json.loads(world.remote_lines()[0])
    assert line["op"] == "add" and line["id"] == got[2].id
    assert line["key"] == rec(attempt=3).key and line["text"] == rec(attempt=3).sentence()
    assert line["metadata"] == rec(attempt=3).to_metadata()


def test_add_is_idempotent_by_key(world: World) -> None:
    store = world.store(world.a)
    first = store.add(rec())
    n = commits(world.origin)
    again = store.add(rec(title="a retried write of the same attempt"))
    assert again.id == first.id
    assert again.title == first.title  # the stored record comes back
    assert commits(world.origin) == n
    assert len(store.records()) == 1


def test_persists_across_instances_and_clones(world: World) -> None:
    world.store(world.a).add(rec(detail="remember me"))
    assert world.store(world.a).records()[0].detail == "remember me"
    fresh = world.clone("fresh")
    got = world.store(fresh).records("t1")
    assert [r.detail for r in got] == ["remember me"]
    # and the other existing clone sees it once it reads (a fetch per store instance)
    assert len(world.store(world.b).records()) == 1


def test_works_in_a_bare_ci_checkout(world: World) -> None:
    bare = world.clone("ci.git", "--bare")
    plain_git(bare, "remote", "set-url", "origin", str(world.origin))
    store = world.store(bare)
    store.add(rec())
    assert [r.attempt for r in world.store(world.a).records()] == [1]


def test_git_env_reaches_every_command(world: World) -> None:
    env = {"GIT_AUTHOR_NAME": "Env Author", "GIT_AUTHOR_EMAIL": "env@example.com"}
    world.store(world.a, git_env=env).add(rec())
    assert plain_git(world.origin, "log", "-1", "--format=%an", "ratchet/ledger").strip() == (
        "Env Author"
    )


def test_cached_reads_refresh_after_writes(world: World) -> None:
    a = world.store(world.a)
    assert a.records() == []
    world.store(world.b).add(rec(attempt=1))
    assert a.records() == []  # one fetch per instance: the cached view
    a.add(rec(attempt=2))  # a write fetches and merges
    assert [r.attempt for r in a.records()] == [1, 2]


# -- the user's checkout is never touched --------------------------------------------------------


def test_users_head_index_and_worktree_are_untouched(world: World) -> None:
    repo = world.a
    head = plain_git(repo, "rev-parse", "HEAD")
    symref = plain_git(repo, "symbolic-ref", "HEAD")
    assert plain_git(repo, "status", "--porcelain") == ""
    store = world.store(repo)
    r = store.add(rec())
    store.update(r.replace(commit="abc123"))
    store.delete([r.id])
    store.add(rec(attempt=2))
    assert plain_git(repo, "status", "--porcelain") == ""
    assert plain_git(repo, "rev-parse", "HEAD") == head
    assert plain_git(repo, "symbolic-ref", "HEAD") == symref
    assert sorted(os.listdir(repo)) == [".git", "app.py"]
    # with work in progress: staged and unstaged changes survive exactly
    (repo / "app.py").write_text("print('wip')\n")
    (repo / "new.py").write_text("x = 1\n")
    plain_git(repo, "add", "new.py")
    before = plain_git(repo, "status", "--porcelain")
    staged = plain_git(repo, "diff", "--cached")
    store.add(rec(attempt=3))
    assert plain_git(repo, "status", "--porcelain") == before
    assert plain_git(repo, "diff", "--cached") == staged
    assert (repo / "app.py").read_text() == "print('wip')\n"
    assert plain_git(repo, "rev-parse", "HEAD") == head


def test_planted_hooks_do_not_run(world: World) -> None:
    repo = world.a
    marker = world.tmp / "marker"
    script = f"#!/bin/sh\necho \"$0\" >> {marker}\n"
    custom = world.tmp / "custom-hooks"
    custom.mkdir()
    for d in (repo / ".git" / "hooks", custom):
        for name in ("reference-transaction", "pre-push", "post-commit", "pre-commit"):
            hook = d / name
            hook.write_text(script)
            hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    monitor = world.tmp / "fsmonitor.sh"
    monitor.write_text(script)
    monitor.chmod(0o755)
    plain_git(repo, "config", "core.hooksPath", str(custom))
    plain_git(repo, "config", "core.fsmonitor", str(monitor))
    store = world.store(repo)
    r = store.add(rec())
    store.update(r.replace(pr=7))
    store.delete([r.id])
    assert not marker.exists()
    plain_git(repo, "update-ref", "refs/heads/control", "HEAD")  # control: the hooks are live
    assert marker.exists()


# -- concurrency ---------------------------------------------------------------------------------


def test_two_clones_commit_offline_then_both_push(world: World) -> None:
    a = world.store(world.a, push=False)
    b = world.store(world.b, push=False)
    a.add(rec(attempt=1, run_id="A"))
    b.add(rec(attempt=1, run_id="B"))
    assert plain_git(world.origin, "branch", "--list", "ratchet/ledger") == ""
    assert a.sync() is True
    assert b.sync() is True  # B fetches A's ledger, merges both line sets, pushes
    assert b.sync() is False  # nothing left to publish
    parents = plain_git(world.origin, "log", "-1", "--format=%P", "ratchet/ledger").split()
    assert len(parents) == 2  # a real merge of the two histories
    fresh = world.store(world.clone("fresh"))
    assert sorted(r.run_id for r in fresh.records()) == ["A", "B"]


def test_lost_push_race_refetches_merges_and_retries(world: World) -> None:
    a = world.store(world.a)
    b = world.store(world.b)
    real_fetch = b._fetch
    calls = {"n": 0}

    def stale_fetch() -> str | None:
        tip = real_fetch()
        calls["n"] += 1
        if calls["n"] == 1:  # A pushes right after B looked: B's push will be rejected
            a.add(rec(attempt=1, run_id="A"))
        return tip

    b._fetch = stale_fetch  # type: ignore[method-assign]
    b.add(rec(attempt=1, run_id="B"))
    assert b.lost_races == 1
    assert calls["n"] == 2
    fresh = world.store(world.clone("fresh"))
    assert sorted(r.run_id for r in fresh.records()) == ["A", "B"]
    assert sorted(r.run_id for r in b.records()) == ["A", "B"]


def test_gives_up_after_the_retry_bound(world: World) -> None:
    a = world.store(world.a)
    b = world.store(world.b, max_retries=2)
    real_fetch = b._fetch
    counter = iter(range(100, 200))

    def always_stale() -> str | None:
        tip = real_fetch()
        a.add(rec(attempt=next(counter), run_id="A"))
        return tip

    b._fetch = always_stale  # type: ignore[method-assign]
    with pytest.raises(MemoryStoreError, match="race"):
        b.add(rec(run_id="B"))
    assert b.lost_races == 3
    assert all(r.run_id == "A" for r in world.store(world.a).records())


def test_threaded_appends_from_two_clones_all_survive(world: World) -> None:
    errors: list[BaseException] = []

    def writer(repo: Path, who: str) -> None:
        try:
            store = world.store(repo, max_retries=60, retry_delay=0.002)
            for i in range(10):
                store.add(rec(task="race", attempt=i, run_id=who))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(world.a, "A")),
        threading.Thread(target=writer, args=(world.b, "B")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = world.store(world.clone("fresh")).records("race")
    assert sorted((r.run_id, r.attempt) for r in got) == sorted(
        (who, i) for who in "AB" for i in range(10)
    )
    assert len(world.remote_lines()) == 20


def test_threaded_local_writers_in_one_clone(world: World) -> None:
    errors: list[BaseException] = []

    def writer(who: str) -> None:
        try:
            store = world.store(world.a, remote=None, max_retries=200, retry_delay=0.001)
            for i in range(10):
                store.add(rec(task="local", attempt=i, run_id=who))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in "XY"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(world.store(world.a, remote=None).records("local")) == 20


# -- update, delete, tombstones ------------------------------------------------------------------


def test_update_appends_a_newer_version(world: World) -> None:
    store = world.store(world.a)
    r = store.add(rec())
    updated = store.update(r.replace(commit="deadbeef", pr=12))
    assert updated.id == r.id
    got = world.store(world.b).records()
    assert len(got) == 1 and got[0].commit == "deadbeef" and got[0].pr == 12
    lines = [json.loads(line) for line in world.remote_lines()]
    assert [(x["id"], x["rev"]) for x in lines] == [(r.id, 0), (r.id, 1)]
    n = commits(world.origin)
    store.update(updated)  # unchanged: nothing new
    assert commits(world.origin) == n


def test_delete_writes_tombstones_that_win(world: World) -> None:
    store = world.store(world.a)
    keep = store.add(rec(attempt=1))
    gone = store.add(rec(attempt=2))
    assert store.delete([gone.id, gone.id, "unknown"]) == 1
    assert [r.id for r in store.records()] == [keep.id]
    assert store.delete([gone.id]) == 0
    store.add(rec(attempt=2))  # re-adding a forgotten key does not resurrect it
    store.update(gone.replace(pr=3))
    assert [r.id for r in world.store(world.b).records()] == [keep.id]
    tomb = [json.loads(x) for x in world.remote_lines() if '"delete"' in x]
    assert tomb and tomb[0]["id"] == gone.id and set(tomb[0]) == {"op", "id", "at"}


def test_tombstone_wins_over_a_concurrent_update(world: World) -> None:
    a = world.store(world.a)
    r = a.add(rec())
    b = world.store(world.b, push=False)
    assert len(b.records()) == 1
    a.delete([r.id])
    b.update(r.replace(commit="c0ffee"))  # B, offline, still thinks the record is live
    b.sync()
    assert world.store(world.clone("fresh")).records() == []


# -- hostile or damaged ledgers ------------------------------------------------------------------


def write_raw_ledger(repo: Path, text: str) -> None:
    """Commit ``text`` as the ledger with plain git and push it."""
    blob = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        cwd=repo, input=text, capture_output=True, text=True, check=True,
    ).stdout.strip()
    tree = subprocess.run(
        ["git", "mktree"],
        cwd=repo, input=f"100644 blob {blob}\tledger.jsonl\n", capture_output=True, text=True,
        check=True,
    ).stdout.strip()
    commit = plain_git(repo, "commit-tree", tree, "-m", "raw").strip()
    plain_git(repo, "push", "-q", "origin", f"{commit}:{BRANCH}")


def test_corrupted_lines_are_skipped_and_counted(world: World) -> None:
    good = rec(attempt=1)
    good_line = json.dumps(
        {"op": "add", "id": record_id(good.key), "key": good.key, "text": good.sentence(),
         "metadata": good.to_metadata()}
    )
    bad = [
        "this is not json",
        "[1, 2, 3]",
        '{"op": "add", "id": "x1", "metadata": {"kind": "bogus", "task": "t1"}}',  # not ours
        '{"op": "add", "id": "x2", "metadata": "flat"}',
        '{"op": "frobnicate", "id": "x3"}',
        '{"op": "add", "id": "x4", "rev": "9", "metadata": {}}',
        json.dumps({"op": "add", "id": "x5", "metadata": {"kind": "attempt", "task": "t1",
                                                          "detail": "x" * 5000}}),  # too long
    ]
    write_raw_ledger(world.a, "\n".join([bad[0], good_line, *bad[1:]]) + "\n\n")
    store = world.store(world.b, max_line_bytes=4096)
    got = store.records()
    assert [r.id for r in got] == [record_id(good.key)]
    assert store.skipped == len(bad)
    # writing still works on top of the damaged ledger and keeps the good record
    store.add(rec(attempt=2))
    assert [r.attempt for r in world.store(world.a).records()] == [1, 2]


def test_oversized_ledger_is_refused(world: World) -> None:
    write_raw_ledger(world.a, "x" * 5000 + "\n")
    with pytest.raises(MemoryStoreError, match="bytes"):
        world.store(world.b, max_bytes=1000).records()


def test_compacts_when_over_the_line_cap(world: World) -> None:
    store = world.store(world.a, max_lines=6)
    r = store.add(rec(attempt=1))
    for pr in range(1, 6):
        r = store.update(r.replace(pr=pr))
    store.add(rec(attempt=2))
    store.delete([store.add(rec(attempt=3)).id])
    assert len(world.remote_lines()) <= 6
    got = world.store(world.b).records()
    assert [(x.attempt, x.pr) for x in got] == [(1, 5), (2, None)]
    for attempt in range(4, 12):
        try:
            store.add(rec(attempt=attempt))
        except MemoryStoreError as exc:
            assert "live records" in str(exc)
            break
    else:
        pytest.fail("the ledger grew past its cap")


# -- local only, failures, configuration ---------------------------------------------------------


def test_local_only_without_a_remote(world: World) -> None:
    for store in (world.store(world.a, remote=None), world.store(world.a, remote="upstream")):
        assert store.remote is None
        store.add(rec(run_id=f"local-{id(store)}"))
        assert store.sync() is False
    assert commits(world.a) == 2
    assert plain_git(world.origin, "branch", "--list", "ratchet/ledger") == ""


def test_push_false_commits_locally_only(world: World) -> None:
    store = world.store(world.a, push=False)
    store.add(rec())
    assert commits(world.a) == 1
    assert plain_git(world.origin, "branch", "--list", "ratchet/ledger") == ""


def test_unreachable_remote_is_a_memory_store_error(world: World) -> None:
    plain_git(world.a, "remote", "set-url", "origin", str(world.tmp / "nowhere.git"))
    store = world.store(world.a)
    with pytest.raises(MemoryStoreError, match="fetching the ledger"):
        store.add(rec())
    assert plain_git(world.a, "rev-parse", "--verify", "--quiet", BRANCH, check=False) == ""


def test_rejected_push_that_is_not_a_race_fails_fast(world: World) -> None:
    # the remote's own policy (like a protected-branch rule on GitHub) declines every push
    hook = world.origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected by policy' >&2\nexit 1\n")
    hook.chmod(0o755)
    store = world.store(world.a)
    with pytest.raises(MemoryStoreError, match="pushing the ledger") as info:
        store.add(rec())
    assert "pre-receive hook declined" in str(info.value)
    assert store.lost_races == 0
    assert plain_git(world.a, "rev-parse", "--verify", "--quiet", BRANCH, check=False) == ""


def test_bad_configuration_is_refused(world: World, tmp_path: Path) -> None:
    with pytest.raises(MemoryStoreError, match="plain file name"):
        LedgerStore(world.a, path="dir/ledger.jsonl")
    with pytest.raises(MemoryStoreError, match="branch"):
        LedgerStore(world.a, branch="bad..name")
    with pytest.raises(MemoryStoreError, match="remote"):
        LedgerStore(world.a, remote="--upload-pack=evil")
    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    with pytest.raises(MemoryStoreError, match="not a git repository"):
        LedgerStore(plain)


# -- search and the pure fold ---------------------------------------------------------------------


def test_search_scores_token_overlap_deterministically(world: World) -> None:
    store = world.store(world.a)
    store.add(rec(task="t1", attempt=1, title="filter recipes by cooking time"))
    store.add(rec(task="t2", attempt=1, title="add cooking time field", files=("app/models.py",)))
    store.add(rec(task="t3", attempt=1, title="fix logging"))
    store.add(rec(task="t4", attempt=2, title="cooking units"))
    hits = store.search("cooking time filter", limit=3)
    assert [h.task for h in hits] == ["t1", "t2", "t4"]
    assert [h.task for h in store.search("models.py")] == ["t2"]
    assert store.search("nothing matches zzz") == []
    # an empty query: newest first, ties by id
    same_day = sorted((record_id(rec(task=t).key), t) for t in ("t1", "t2", "t3"))
    assert [h.task for h in store.search("", limit=3)] == ["t4", same_day[0][1], same_day[1][1]]
    assert store.search("cooking", limit=0) == []


def test_fold_is_order_independent_and_tombstones_win() -> None:
    def line(op: str, rid: str, rev: int = 0, at: str = "2026", pr: int = 0) -> str:
        meta = {"kind": "attempt", "task": "t", "pr": pr}
        if op == "delete":
            return json.dumps({"op": "delete", "id": rid})
        return json.dumps({"op": "add", "id": rid, "rev": rev, "at": at, "metadata": meta})

    lines = [line("add", "a"), line("add", "a", rev=1, pr=5), line("add", "b"), line("delete", "b")]
    for order in (lines, lines[::-1], [lines[2], lines[0], lines[3], lines[1]]):
        state = fold(order)
        assert set(state.live) == {"a"} and state.live["a"].metadata["pr"] == 5
        assert state.dead == {"b"}
    assert merge_lines(["x", "y"], ["y", "z"], ["x"]) == ["x", "y", "z"]
