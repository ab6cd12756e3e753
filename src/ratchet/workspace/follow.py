"""The task branch follows its base: when other work was merged into the base branch since the
task branch was cut, the task's commits are carried onto the new base tip.

Three ways, tried in order, in a scratch worktree (the task's own worktree and the user's
checkout are never touched):

* **rebased**: every commit cherry-picks cleanly (git's three-way merge);
* **rebuilt**: some do not; each commit is replayed instead as the SEARCH/REPLACE edits of its
  diff through the edit engine (which finds a block that moved, or whose neighbours changed:
  git refuses a change next to a line the base changed; where the base rewrote a neighbour,
  the block is tried with context on the other side only). The replayed change must remove and
  add exactly the lines the commit did, so a line both sides changed is a conflict, never
  overwritten; a commit that no longer applies is dropped, the ones after it kept if theirs do;
* **restarted**: none could be carried over; the branch starts again from the new base, and the
  memory of what worked guides the next attempts.

The caller judges the new tip against the new base with the real suite before it is used.
"""

from __future__ import annotations

import difflib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ratchet.errors import EditError, GitError
from ratchet.workspace.gitcmd import git

CURRENT = "current"  # the base has not moved: nothing to do
REBASED = "rebased"
REBUILT = "rebuilt"
RESTARTED = "restarted"
#: lines of context (before, after) around each changed block of a rebuilt commit, most
#: first; then context on one side only, where the base rewrote the lines on the other side
#: beyond what the edit engine takes for a slip; none last. A block with little context can
#: match uniquely in the wrong place (another function's same line): :func:`in_place` refuses
#: a result that changes anything outside the windows the commit's own neighbours now occupy
CONTEXTS = ((2, 2), (1, 1), (0, 2), (2, 0), (0, 1), (1, 0), (0, 0))


@dataclass(frozen=True)
class Followed:
    """How the task branch met its new base: ``how`` (one of the words above), the new tip,
    and the subjects of the task's commits carried over and dropped."""

    how: str
    tip: str
    carried: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()


def follow(root: Path, tip: str, base_sha: str) -> Followed:
    """The task branch at ``tip`` carried onto ``base_sha`` (``root``: the repository)."""
    if tip == base_sha or _is_ancestor(root, base_sha, tip):
        return Followed(CURRENT, tip)
    fork = git(root, "merge-base", base_sha, tip).stdout.strip()
    commits = git(root, "rev-list", "--reverse", "--no-merges", f"{fork}..{tip}").stdout.split()
    if not commits:
        return Followed(RESTARTED, base_sha)
    subjects = [_subject(root, c) for c in commits]
    scratch = Path(tempfile.mkdtemp(prefix="ratchet-follow-"))
    wt = scratch / "tree"
    try:
        git(root, "worktree", "add", "--detach", "--force", str(wt), base_sha)
        if all(_picks(wt, c) for c in commits):
            return Followed(REBASED, _head(wt), tuple(subjects))
        git(wt, "cherry-pick", "--abort", check=False)
        git(wt, "reset", "--hard", "--quiet", base_sha)
        carried: list[str] = []
        dropped: list[str] = []
        for c, subject in zip(commits, subjects, strict=True):
            (carried if _rebuild(root, wt, c) else dropped).append(subject)
        if not carried:
            return Followed(RESTARTED, base_sha, (), tuple(dropped))
        return Followed(REBUILT, _head(wt), tuple(carried), tuple(dropped))
    finally:
        git(root, "worktree", "remove", "--force", str(wt), check=False)
        shutil.rmtree(scratch, ignore_errors=True)
        git(root, "worktree", "prune", check=False)


def _is_ancestor(root: Path, a: str, b: str) -> bool:
    return git(root, "merge-base", "--is-ancestor", a, b, check=False).returncode == 0


def _subject(root: Path, commit: str) -> str:
    return git(root, "log", "-1", "--format=%s", commit).stdout.strip()


def _head(wt: Path) -> str:
    return git(wt, "rev-parse", "HEAD").stdout.strip()


def _picks(wt: Path, commit: str) -> bool:
    return git(wt, "cherry-pick", "--allow-empty", "--no-edit", commit,
               check=False).returncode == 0  # fmt: skip


def _rebuild(root: Path, wt: Path, commit: str) -> bool:
    """Replay ``commit`` on the worktree's HEAD as edits; commit it with its own message.
    False (and the worktree unchanged) when any of its files no longer takes the change."""
    changed = git(root, "diff-tree", "--no-commit-id", "--no-renames", "-r", "--name-status",
                  f"{commit}^", commit).stdout.splitlines()  # fmt: skip
    try:
        for line in changed:
            status, _, path = line.partition("\t")
            _replay_file(root, wt, commit, status[:1], path)
        git(wt, "add", "-A")
        git(wt, "commit", "--quiet", "--no-verify", "--allow-empty", "-C", commit)
        return True
    except (EditError, GitError, OSError, UnicodeDecodeError):
        git(wt, "reset", "--hard", "--quiet", "HEAD", check=False)
        git(wt, "clean", "-fdq", check=False)
        return False


def _replay_file(root: Path, wt: Path, commit: str, status: str, path: str) -> None:
    from ratchet.edits.engine import apply_edits

    target = wt / path
    old = _show(root, f"{commit}^", path) if status != "A" else None
    new = _show(root, commit, path) if status != "D" else None
    current = target.read_text(encoding="utf-8") if target.is_file() else None
    if status == "D":
        if current is not None and current != old:
            raise EditError(f"{path} changed on the base", "not_found", path)
        target.unlink(missing_ok=True)
        return
    assert new is not None
    if status == "A" or old is None:
        if current is not None and current != new:
            raise EditError(f"{path} exists on the base", "exists", path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(new, encoding="utf-8")
        return
    if current is None:
        raise EditError(f"{path} is gone from the base", "missing_file", path)
    refusal: EditError | None = None
    for before, after in CONTEXTS:  # less context where the base changed lines around a block
        try:
            text = apply_edits(path, current, hunks(old, new, before, after))
        except EditError as exc:
            refusal = refusal or exc
            continue
        if changed_lines(current, text) != changed_lines(old, new):
            # the engine placed the block over lines the base changed too (a real conflict):
            # the task's version would silently undo the base's
            raise EditError(f"{path}: the base changed the lines this commit changes",
                            "not_found", path)  # fmt: skip
        if not in_place(old, new, current, text):
            # a look-alike block elsewhere (another function with the same lines)
            raise EditError(f"{path}: the change no longer has a certain place", "not_found",
                            path)  # fmt: skip
        target.write_text(text, encoding="utf-8")
        return
    assert refusal is not None
    raise refusal


def _show(root: Path, commit: str, path: str) -> str:
    return git(root, "show", f"{commit}:{path}").stdout


def hunks(old: str, new: str, before: int = 2, after: int | None = None
          ) -> list[tuple[str, str]]:  # fmt: skip
    """The change from ``old`` to ``new`` as (search, replace) blocks, each with ``before``
    unchanged lines with code above it and ``after`` (default: as many) below, with the blank
    lines among them (blank lines alone place nothing: two functions end alike), in file
    order; blocks closer than that share their context and never overlap."""
    after = before if after is None else after
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    codes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    changes = [op for op in codes if op[0] != "equal"]
    out: list[tuple[str, str]] = []
    last = 0  # where the previous block ended in ``a``
    k = 0
    while k < len(changes):
        first = k
        while k + 1 < len(changes) and _reach(a, changes[k][2], after) >= _back(
                a, changes[k + 1][1], before, 0):  # fmt: skip
            k += 1  # the next change starts within this one's context: one block
        i1, i2 = changes[first][1], changes[k][2]
        lo = _back(a, i1, before, last)
        hi = _reach(a, i2, after) if k + 1 == len(changes) else min(
            _reach(a, i2, after), changes[k + 1][1])
        j1, j2 = changes[first][3] - (i1 - lo), changes[k][4] + (hi - i2)
        out.append(("".join(a[lo:hi]), "".join(b[j1:j2])))
        last, k = hi, k + 1
    return out


def _back(lines: list[str], i: int, count: int, floor: int) -> int:
    """The index ``count`` lines with code above ``i`` (not below ``floor``)."""
    seen = 0
    while i > floor and seen < count:
        i -= 1
        seen += bool(lines[i].strip())
    return i


def _reach(lines: list[str], i: int, count: int) -> int:
    """The index just past ``count`` lines with code from ``i`` on."""
    seen = 0
    while i < len(lines) and seen < count:
        seen += bool(lines[i].strip())
        i += 1
    return i


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    """The lines ``new`` removes from ``old`` and the lines it adds, each sorted."""
    a, b = old.splitlines(), new.splitlines()
    removed: list[str] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    return sorted(removed), sorted(added)


def in_place(old: str, new: str, current: str, result: str) -> bool:
    """Whether ``result`` changes ``current`` only where ``old`` → ``new`` changed ``old``:
    each changed run of ``current`` lies between the lines that surround one of the
    commit's changes, as those lines sit in ``current`` (the base may have moved them)."""
    o, c = old.splitlines(), current.splitlines()
    moved: dict[int, int] = {}
    for a, b, n in difflib.SequenceMatcher(None, o, c, autojunk=False).get_matching_blocks():
        moved.update((a + k, b + k) for k in range(n))
    windows = []
    for tag, i1, i2, _j1, _j2 in difflib.SequenceMatcher(
        None, o, new.splitlines(), autojunk=False
    ).get_opcodes():
        if tag != "equal":
            lo = max((moved[i] for i in moved if i < i1), default=-1)
            hi = min((moved[i] for i in moved if i >= i2), default=len(c))
            windows.append((lo, hi))
    for tag, a1, a2, _b1, _b2 in difflib.SequenceMatcher(
        None, c, result.splitlines(), autojunk=False
    ).get_opcodes():
        if tag != "equal" and not any(lo < a1 and a2 <= hi if a2 > a1 else lo < a1 <= hi
                                      for lo, hi in windows):  # fmt: skip
            return False
    return True
