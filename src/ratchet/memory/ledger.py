"""The git ledger: memory as an append-only JSON-lines file on a branch of the repository itself.

No service, no key: in CI without Mem0 the records live in ``ledger.jsonl`` on ``ratchet/ledger``,
pushed to ``origin``; it is also the journal of last resort when Mem0 is down.

Only git *plumbing* is used (hash-object, mktree, commit-tree, update-ref, fetch, push, cat-file),
so the user's HEAD, index and working tree are never touched and a detached CI checkout works.

The line format and its fold are in ``ratchet.core.ledger_format``.
"""

from __future__ import annotations

import random
import re
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ratchet.core import keys
from ratchet.core.ledger_format import (
    MAX_LINE_BYTES,
    MAX_LINES,
    Entry,
    Folded,
    add_line,
    compact,
    delete_line,
    fold,
    merge_lines,
    record_id,
)
from ratchet.core.retry import Backoff
from ratchet.errors import GitError, MemoryStoreError
from ratchet.memory.rank import rank
from ratchet.records import MemoryRecord, now_iso, sort_key
from ratchet.workspace.gitcmd import git

__all__ = ["LedgerStore", "fold", "merge_lines", "record_id"]

MAX_BYTES = 64 * 1024 * 1024
_BLOB_CACHE = 8  # parsed ledger versions kept per store
_PATH_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$")
_RACE_MARKERS = (
    "[rejected]",
    "fetch first",
    "non-fast-forward",
    "cannot lock ref",
    "failed to lock",
    "failed to update ref",
    "incorrect old value",
)
Mutation = Callable[[Folded], list[str]]


class LedgerStore:
    """A MemoryStore on a git branch (see the module docstring).

    ``remote`` None, or a name that is not a configured remote, keeps the ledger local.
    ``push=False`` commits locally without fetching or pushing on writes (reads still fetch once);
    :meth:`sync` publishes later. ``git_env`` is passed to every git command (e.g. ``auth_env``).
    Lost push races are retried ``max_retries`` times with jittered sleeps of about
    ``retry_delay`` seconds, doubling; after that a write raises MemoryStoreError.
    """

    name = "ledger"

    def __init__(
        self,
        repo: Path,
        *,
        remote: str | None = "origin",
        branch: str = keys.LEDGER_BRANCH,
        path: str = "ledger.jsonl",
        push: bool = True,
        git_env: Mapping[str, str] | None = None,
        max_retries: int = 5,
        retry_delay: float = 0.2,
        max_lines: int = MAX_LINES,
        max_line_bytes: int = MAX_LINE_BYTES,
        max_bytes: int = MAX_BYTES,
        timeout: float = 120,
    ) -> None:
        self.repo = Path(repo)
        self.branch = branch
        self.path = path
        self.push = push
        self.max_retries = max_retries
        self.retry_delay = retry_delay
        self.max_lines = max_lines
        self.max_line_bytes = max_line_bytes
        self.max_bytes = max_bytes
        self.timeout = timeout
        #: lines skipped by the last read (invalid, oversized, unparseable, over the line cap)
        self.skipped = 0
        #: pushes rejected because another writer got there first (each was retried)
        self.lost_races = 0
        self._env = dict(git_env or {})
        self._lock = threading.RLock()
        self._rng = random.Random()
        self._fetched = False
        self._blobs: dict[str, tuple[list[str], int]] = {}
        self._cache: tuple[tuple[str | None, str | None], list[MemoryRecord], int] | None = None
        if not _PATH_RE.match(path):
            raise MemoryStoreError(
                f"ledger path {path!r} must be a plain file name", hint="e.g. ledger.jsonl"
            )
        if remote is not None and (not remote or remote.startswith("-") or "\n" in remote):
            raise MemoryStoreError(f"invalid remote name {remote!r}")
        self._ref = f"refs/heads/{branch}"
        try:
            self._git("check-ref-format", self._ref)
        except MemoryStoreError as exc:
            raise MemoryStoreError(f"invalid ledger branch name {branch!r}") from exc
        try:
            self._git("rev-parse", "--git-dir")
        except MemoryStoreError as exc:
            raise MemoryStoreError(
                f"{self.repo} is not a git repository: {exc}",
                hint="Run Ratchet inside a git checkout or pick another memory backend.",
            ) from exc
        self.remote = self._configured(remote)
        self._tracking = f"refs/remotes/{self.remote}/{branch}" if self.remote else ""

    # -- MemoryStore ----------------------------------------------------------------------------
    def records(self, task: str | None = None) -> list[MemoryRecord]:
        """Every live record (of ``task``, or all), sorted by (attempt, created_at, id).
        Raises MemoryStoreError when git or the remote fails."""
        with self._lock:
            recs = self._read()
        if task is not None:
            recs = [r for r in recs if r.task == task]
        return list(recs)

    def search(self, query: str, limit: int = 5) -> list[MemoryRecord]:
        """Up to ``limit`` records sharing the most words with ``query``; ties go to the newer
        record, then the smaller id. An empty query returns the newest records."""
        return rank(self.records(), query, limit)

    def add(self, record: MemoryRecord) -> MemoryRecord:
        """Store ``record`` unless a record with its key exists (or was deleted); return the stored
        record with ``id`` set. Raises MemoryStoreError when the ledger cannot be written."""
        rid = record_id(record.key)
        existing: list[Entry] = []

        def mutate(state: Folded) -> list[str]:
            existing.clear()
            if rid in state.live:
                existing.append(state.live[rid])
                return []
            if rid in state.dead:
                return []
            return [add_line(record, rid, now_iso())]

        with self._lock:
            self._write(mutate, f"ratchet: remember {record.kind} {record.task} ({rid[:12]})")
        if existing:
            try:
                return MemoryRecord.from_metadata(
                    existing[0].metadata, id=rid, text=existing[0].text
                )
            except ValueError:
                pass
        return record.replace(id=rid)

    def update(self, record: MemoryRecord) -> MemoryRecord:
        """Append a newer version of ``record.id`` (or of its key's id when ``id`` is empty) and
        return the record with ``id`` set. A deleted id stays deleted; an unchanged record is not
        written again. Raises MemoryStoreError when the ledger cannot be written."""
        rid = record.id or record_id(record.key)

        def mutate(state: Folded) -> list[str]:
            if rid in state.dead:
                return []
            cur = state.live.get(rid)
            if cur is None:
                return [add_line(record, rid, now_iso())]
            if cur.metadata == record.to_metadata() and cur.text == record.sentence():
                return []
            return [add_line(record, rid, now_iso(), rev=cur.rev + 1, key=cur.key)]

        with self._lock:
            self._write(mutate, f"ratchet: update {record.kind} {record.task} ({rid[:12]})")
        return record.replace(id=rid)

    def delete(self, ids: list[str]) -> int:
        """Tombstone the live records among ``ids``; return how many were deleted.
        Raises MemoryStoreError when the ledger cannot be written."""
        wanted = list(dict.fromkeys(ids))
        lines: list[str] = []

        def mutate(state: Folded) -> list[str]:
            at = now_iso()
            lines[:] = [delete_line(i, at) for i in wanted if i in state.live]
            return list(lines)

        with self._lock:
            self._write(mutate, f"ratchet: forget {len(wanted)} record(s)")
        return len(lines)

    def sync(self) -> bool:
        """Publish ledger commits made with ``push=False`` (merging with the remote first).
        Returns True when something was pushed. Raises MemoryStoreError on failure."""
        if not self.remote:
            return False
        with self._lock:
            return self._write(lambda state: [], "ratchet: merge ledger", publish=True)

    # -- reading --------------------------------------------------------------------------------
    def _read(self) -> list[MemoryRecord]:
        if self.remote and not self._fetched:
            self._fetch()
            self._fetched = True
        local, remote = self._tips()
        if self._cache is not None and self._cache[0] == (local, remote):
            self.skipped = self._cache[2]
            return self._cache[1]
        lines, dropped = self._merged(self._heads(local, remote))
        state = fold(lines)
        skipped = dropped + state.invalid
        recs: list[MemoryRecord] = []
        for entry in state.live.values():
            try:
                recs.append(
                    MemoryRecord.from_metadata(entry.metadata, id=entry.id, text=entry.text)
                )
            except ValueError:
                skipped += 1
        recs.sort(key=lambda r: (sort_key(r), r.id))
        self._cache = ((local, remote), recs, skipped)
        self.skipped = skipped
        return recs

    def _tips(self) -> tuple[str | None, str | None]:
        local = self._tip(self._ref)
        remote = self._tip(self._tracking) if self._tracking else None
        return local, remote

    def _heads(self, local: str | None, remote: str | None) -> list[str]:
        """The tips that are not already contained in the other one (0, 1 or 2 commits)."""
        heads = [t for t in dict.fromkeys((local, remote)) if t]
        if len(heads) == 2:
            if self._is_ancestor(heads[1], heads[0]):
                return [heads[0]]
            if self._is_ancestor(heads[0], heads[1]):
                return [heads[1]]
        return heads

    def _merged(self, heads: list[str], cap: bool = True) -> tuple[list[str], int]:
        """The union of the heads' lines and how many lines the caps dropped. With ``cap`` the
        union is cut to the newest ``max_lines`` (reading); writers compact instead."""
        sides = [self._lines(h) for h in heads]
        merged = merge_lines(*(s for s, _ in sides))
        dropped = sum(d for _, d in sides)
        if cap and len(merged) > self.max_lines:
            dropped += len(merged) - self.max_lines
            merged = merged[-self.max_lines :]
        return merged, dropped

    def _lines(self, commit: str) -> tuple[list[str], int]:
        """The ledger lines at ``commit`` (cached: commits are immutable) and how many were
        dropped for being too long or over the line cap."""
        cached = self._blobs.get(commit)
        if cached is not None:
            return cached
        blob = self._git("rev-parse", "--verify", "--quiet", f"{commit}:{self.path}", check=False)
        if blob.returncode != 0:
            self._remember(commit, [], 0)
            return [], 0
        sha = blob.stdout.strip()
        size = int(self._git("cat-file", "-s", sha).stdout.strip() or 0)
        if size > self.max_bytes:
            raise MemoryStoreError(
                f"the ledger at {commit[:12]} is {size} bytes (limit {self.max_bytes})",
                hint=f"Forget old tasks (ratchet forget) or delete the {self.branch} branch.",
            )
        text = self._git("cat-file", "blob", sha).stdout
        lines: list[str] = []
        dropped = 0
        for raw in text.split("\n"):
            line = raw.strip()
            if not line:
                continue
            if len(line.encode("utf-8")) > self.max_line_bytes:
                dropped += 1
                continue
            lines.append(line)
        if len(lines) > self.max_lines:
            dropped += len(lines) - self.max_lines
            lines = lines[-self.max_lines :]
        self._remember(commit, lines, dropped)
        return lines, dropped

    def _remember(self, commit: str, lines: list[str], dropped: int) -> None:
        self._blobs[commit] = (lines, dropped)
        while len(self._blobs) > _BLOB_CACHE:
            del self._blobs[next(iter(self._blobs))]

    # -- writing --------------------------------------------------------------------------------
    def _write(self, mutate: Mutation, message: str, publish: bool = False) -> bool:
        """Fetch, fold, append what ``mutate`` returns, commit, push; retry lost races.
        Returns True when a commit was written (or pushed, for ``publish``)."""
        pushing = bool(self.remote) and (self.push or publish)
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._sleep(attempt)
            local = self._tip(self._ref)
            if pushing:
                remote = self._fetch()
            else:
                remote = self._tip(self._tracking) if self._tracking else None
            heads = self._heads(local, remote)
            lines, _ = self._merged(heads, cap=False)
            new = mutate(fold(lines))
            unpublished = bool(local) and local in heads and local != remote
            if not new and not (publish and unpublished):
                return False
            content = merge_lines(lines, new)
            if len(content) > self.max_lines:
                content = compact(content)
                if len(content) > self.max_lines:
                    raise MemoryStoreError(
                        f"the ledger holds more than {self.max_lines} live records",
                        hint="Forget old tasks with `ratchet forget`.",
                    )
            if not new and local is not None and heads == [local] and content == lines:
                # publishing local commits that already hold everything (``heads`` holds only
                # non-empty tips, so ``heads == [local]`` already implies a local tip)
                commit = local
            else:
                commit = self._commit(content, heads, message)
            if pushing:
                if not self._push(commit):
                    self.lost_races += 1
                    continue
                self._git("update-ref", self._tracking, commit)
                self._git("update-ref", "-m", message, self._ref, commit, local or "", check=False)
                self._fetched = True
                return True
            cas = self._git(
                "update-ref", "-m", message, self._ref, commit, local or "", check=False
            )
            if cas.returncode == 0:
                return True
            # another writer in this clone moved the ref between our read and our update
        where = f"{self.remote}/{self.branch}" if pushing else self._ref
        raise MemoryStoreError(
            f"could not write the ledger {where}: still losing the race after "
            f"{self.max_retries + 1} attempts",
            hint="Another run keeps writing the ledger; journal the record and retry later.",
        )

    def _commit(self, lines: list[str], parents: list[str], message: str) -> str:
        """Commit ``lines`` as the ledger file on top of ``parents`` (other files of the first
        parent's tree are kept). Returns the new commit id."""
        content = "".join(line + "\n" for line in lines)
        blob = self._git("hash-object", "-w", "--stdin", input=content).stdout.strip()
        entries: list[str] = []
        if parents:
            listing = self._git("ls-tree", "-z", parents[0]).stdout
            entries = [e for e in listing.split("\0") if e and e.split("\t", 1)[-1] != self.path]
        entries.append(f"100644 blob {blob}\t{self.path}")
        tree = self._git("mktree", "-z", input="".join(e + "\0" for e in entries)).stdout.strip()
        args = ["commit-tree", tree]
        for p in parents:
            args += ["-p", p]
        commit = self._git(*args, "-m", message).stdout.strip()
        self._remember(commit, lines, 0)
        return commit

    def _push(self, commit: str) -> bool:
        """Push ``commit`` to the remote ledger branch. True on success, False when another
        writer won the race; raises MemoryStoreError on any other failure."""
        assert self.remote
        res = self._git(
            "push", "--porcelain", "--no-verify", self.remote, f"{commit}:{self._ref}", check=False
        )
        if res.returncode == 0:
            return True
        out = res.stdout + "\n" + res.stderr
        if any(m in out for m in _RACE_MARKERS):
            return False
        refused = [line for line in res.stdout.splitlines() if line.startswith("!")]
        why = _tail("\n".join([*refused, res.stderr]))
        raise MemoryStoreError(
            f"pushing the ledger to {self.remote} failed: {why}",
            hint="Check that the token may push to the repository (contents: write).",
        )

    def _fetch(self) -> str | None:
        """Fetch the remote ledger branch into its tracking ref; return its tip (None when the
        remote has no ledger yet). Raises MemoryStoreError when the remote is unreachable."""
        assert self.remote
        refspec = f"+{self._ref}:{self._tracking}"
        res = self._git(
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-recurse-submodules",
            "--no-write-fetch-head",
            self.remote,
            refspec,
            check=False,
        )
        if res.returncode != 0:
            if "couldn't find remote ref" not in res.stderr:
                raise MemoryStoreError(
                    f"fetching the ledger from {self.remote} failed: {_tail(res.stderr)}",
                    hint="Check the remote URL and the token's read access.",
                )
            self._git("update-ref", "-d", self._tracking, check=False)
            return None
        return self._tip(self._tracking)

    # -- small git helpers ----------------------------------------------------------------------
    def _git(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        try:
            return git(
                self.repo, *args, env=self._env, input=input, check=check, timeout=self.timeout
            )
        except GitError as exc:
            raise MemoryStoreError(f"ledger: {exc}", hint=exc.hint) from exc

    def _tip(self, ref: str) -> str | None:
        res = self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        if res.returncode != 0:
            return None
        return res.stdout.strip() or None

    def _is_ancestor(self, a: str, b: str) -> bool:
        res = self._git("merge-base", "--is-ancestor", a, b, check=False)
        if res.returncode not in (0, 1):
            raise MemoryStoreError(f"ledger: git merge-base failed: {_tail(res.stderr)}")
        return res.returncode == 0

    def _configured(self, remote: str | None) -> str | None:
        if remote is None:
            return None
        res = self._git("config", "--get", f"remote.{remote}.url", check=False)
        return remote if res.returncode == 0 and res.stdout.strip() else None

    def _sleep(self, attempt: int) -> None:
        if self.retry_delay > 0:
            policy = Backoff(self.retry_delay, 16 * self.retry_delay)
            time.sleep(policy.delay(attempt, self._rng))


def _tail(text: str, n: int = 500) -> str:
    return text.strip()[-n:]
