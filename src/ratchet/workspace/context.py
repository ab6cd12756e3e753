"""The repository context the model reads: a tree outline, a map of symbols and the most
relevant files — whole when they fit, else the regions the evidence points at.

``build_context`` ranks tracked files by evidence, strongest first: files the model asked to
see, files named in the task, files raising an exception a failing test expects
(``pytest.raises(X)``), files named in the failing test output (tracebacks, ``path:line``),
files that define a name the evidence points at (a traceback frame, what the failing tests
call, a code name in the task), test files of failing tests, files earlier attempts changed,
then files imported by those, files whose names match the task's words, project files
(README, pyproject) and neighbours. A file too large to show whole is shown as
regions (:mod:`ratchet.workspace.regions`): whole definitions around the lines and names of
the evidence (:mod:`ratchet.workspace.evidence`), with their enclosing class/def lines and
``⋮`` markers where the file goes on. A map of the symbols of related files
(:mod:`ratchet.workspace.symbols`) tells the model what else exists.

It reads (through :mod:`ratchet.workspace.reader`) a bounded number of files (shown ones
whole, up to 1 MB; a bounded head of up to :data:`MAX_SCAN_FILES` others for the symbol map),
never follows symlinks out of the repository, and skips binary, huge, vendored, generated,
lock and secret files. Output fits ``budget`` characters and is deterministic for the same
inputs and file contents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ratchet.sanitize import cap, fence_for, quote_block
from ratchet.workspace import namesakes
from ratchet.workspace import regions as regions_mod
from ratchet.workspace.evidence import (
    Evidence,
    by_relevance,
    from_output,
    from_task,
    from_tests,
    from_words,
)
from ratchet.workspace.ranking import (
    EXPLICIT,
    PROJECT_FILES,
    REASONS,
    SOURCE_SUFFIXES,
    T_DEFINES,
    T_IMPORT,
    T_MENTIONED,
    T_NAME,
    T_NEXT,
    T_OUTPUT,
    T_PROJECT,
    T_SOURCE,
    Index,
    Ranker,
    imports_of,
    is_skipped,
    is_test_path,
    map_order,
    merge_ranks,
    name_matches,
    normalise,
    related_first,
    tree_outline,
)
from ratchet.workspace.reader import HUGE_BYTES, FileText, Reader
from ratchet.workspace.symbols import MAX_SCAN_BYTES, SymbolMap

MAX_FILES_SHOWN = 40
FILE_SHARE = 0.4  # one file may take at most this share of the budget
OUTLINE_SHARE = 6  # the outline takes at most budget // OUTLINE_SHARE characters
MIN_USEFUL_HEAD = 1200  # a truncated head shorter than this is not worth showing
MAX_SCAN_FILES = 1500  # files whose head is scanned for the symbol map
MAP_SHARE = 8  # the symbol map takes at most budget // MAP_SHARE characters
MAX_NEEDED = 8  # items the model may ask to see in one request
WEAK_REGIONS = 6000  # a file's regions grow past this only on strong evidence
SMALL_HELPER = 20  # lines: what a shown callee calls is shown too when at most this long
#: a small module a strongly ranked file imports is shown right after it when the shown code
#: uses a name it defines (constants, regexes and helpers often live there), if it is at most
#: this large
EARLY_IMPORT = 2500


@dataclass(frozen=True)
class RepoContext:
    """The rendered context and the paths whose contents it shows, in order."""

    text: str
    included: tuple[str, ...]


def build_context(
    root: Path,
    files: Sequence[str],
    *,
    task_text: str,
    failing_tests: Sequence[str] = (),
    failure_output: str = "",
    hinted_files: Sequence[str] = (),
    budget: int = 40000,
    needed: Sequence[str] = (),
) -> RepoContext:
    """Return the repository context for ``root`` within ``budget`` characters.

    ``files`` are the tracked paths relative to ``root`` (``git ls-files``). ``needed`` holds
    what the model asked to see (``path``, ``path:name`` or ``name``). Unreadable, vanished,
    binary or unsafe files are skipped silently. Raises nothing for bad input."""
    budget = max(budget, 0)
    tracked = normalise(files)
    index = Index(tracked)
    outline = tree_outline(tracked, min(budget // OUTLINE_SHARE, 8000))
    ranker = Ranker(index, str(Path(root).resolve()))
    ranked = ranker.explicit(task_text, failing_tests, failure_output, hinted_files)
    reader = Reader(Path(root))

    def resolve(path: str) -> list[str]:
        return index.resolve(path, ranker.root)

    ev = Evidence()
    asked = _asked_for(needed, resolve, ev)
    # names, most telling first: traceback frames, code names in the task, defined names
    # that share words with the task and the failing tests' names, what the tests call
    failing_tests = by_relevance(failing_tests, task_text[:2000])
    from_output(failure_output, resolve, ev, task=task_text[:2000])
    from_task(task_text, ev)
    symbols = _symbol_map(reader, index, ranked, ev)
    test_names = [t.split("::")[-1].split("[")[0] for t in failing_tests[:20]]
    source_names = [n for n, paths in symbols.defined_in.items()
                    if any(not is_test_path(p) for p in paths)]
    from_words([task_text[:2000], *test_names], source_names, ev)
    from_tests(failing_tests, _test_sources(reader, index, failing_tests), ev)
    defines, raises = _definers_and_raisers(symbols, ev)
    # a file the output names only as a module (a repr, an import line) is weaker evidence
    # than a file with a line in a traceback, or one defining a name the evidence points at
    ranked = [(p, T_MENTIONED if t == T_OUTPUT and p not in ev.lines else t) for p, t in ranked]
    merged = merge_ranks(asked, ranked, defines, ev.task_names, raises)
    for path, line in namesakes.lines(reader, [p for p, _t, _d in merged], test_names):
        ev.add_line(path, line)
    map_text = symbols.outline(
        map_order(index, merged, defines), min(budget // MAP_SHARE, 6000)
    )
    header = f"Repository layout ({len(tracked)} tracked files):\n{outline}"
    if map_text:
        header += (
            "\n\nDefinitions in related files (`name(args)`; a class lists its methods):\n"
            + map_text
        )
    room = budget - len(header) - 2
    blocks, included = _fill(reader, index, merged, task_text, room, budget, ev)
    return RepoContext(cap(_document(header, blocks, included), budget), tuple(included))


def _definers_and_raisers(
    symbols: SymbolMap, ev: Evidence
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(path, name) of the source files defining the names of the evidence, and of those
    raising an exception a failing test expects (their raise lines join the evidence)."""
    names = ev.strong + [n for n in ev.names if n not in ev.strong]
    defines = [(p, n) for p, n in symbols.definers(names) if not is_test_path(p)]
    raises = []
    for p, line, n in symbols.raisers(ev.expected):
        if not is_test_path(p):
            raises.append((p, n))
            ev.add_line(p, line)
    return defines, raises


def _asked_for(
    needed: Sequence[str], resolve: Callable[[str], list[str]], ev: Evidence
) -> list[str]:
    """The files the model asked to see (``path``, ``path:name`` or ``name``); the names go to
    the evidence."""
    asked: list[str] = []
    for item in list(needed)[:MAX_NEEDED]:
        path, _, name = item.strip().partition(":")
        hits = resolve(path) if path else []
        if hits:
            asked += hits[:1]
            if name.strip():
                ev.add_name(name.strip().split(".")[-1].split("(")[0])
        elif item.strip():
            ev.add_name(item.strip().split(".")[-1].split("(")[0].split(":")[-1])
    return asked


def _document(header: str, blocks: list[str], included: list[str]) -> str:
    if not blocks:
        return header
    intro = (
        f"Relevant files ({len(included)} shown, most relevant first; contents are "
        f"exact, copy `search` text from them; a line starting with {regions_mod.MARK} "
        "marks lines of the file that are not shown and is not part of the file):"
    )
    return header + "\n\n" + intro + "\n\n" + "\n\n".join(blocks)


# -- path policy ---------------------------------------------------------------------------


# -- ranking -------------------------------------------------------------------------------


def _symbol_map(
    reader: Reader, index: Index, ranked: Sequence[tuple[str, int]], ev: Evidence
) -> SymbolMap:
    """Scan the heads of up to :data:`MAX_SCAN_FILES` source files, related ones first."""
    symbols = SymbolMap()
    order = related_first(index, [p for p, _t in ranked] + list(ev.lines))
    for p in [p for p in order if p.endswith(SOURCE_SUFFIXES)][:MAX_SCAN_FILES]:
        text = reader.head(p, MAX_SCAN_BYTES)
        if text is not None:
            symbols.add(p, text)
    return symbols



def _test_sources(
    reader: Reader, index: Index, failing_tests: Sequence[str]
) -> dict[str, str]:
    """The text of the failing tests' files (a few), keyed by the path as the ids spell it."""
    out: dict[str, str] = {}
    for test_id in failing_tests[:50]:
        file = test_id.split("::", 1)[0]
        if file in out or len(out) >= 10:
            continue
        hits = index.resolve(file)
        if hits:
            f = reader.read(hits[0], HUGE_BYTES, allow_head=True, count=False)
            if f is not None:
                out[file] = f.text
    return out


def _render(
    path: str, reason: str, f: FileText, limit: int, truncate: bool, ev: Evidence | None = None
) -> str | None:
    """The block for one file, at most ``limit`` characters: the whole file; or (when
    ``truncate``) the regions the evidence points at, else its head with a truncation note;
    None if nothing useful fits."""
    lang = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    head = f"### {path} ({reason})"
    block = f"{head}\n{quote_block(f.text, lang)}"
    if f.complete and len(block) <= limit:
        return block
    if not truncate:
        return None
    if ev is not None:
        shown = _regions_block(path, reason, f, limit, lang, ev)
        if shown is not None:
            return shown
    total_lines = f.text.count("\n") + (0 if f.text.endswith("\n") else 1)
    room = limit - len(head) - 120 - 2 * _fence_len(f.text)
    if room < MIN_USEFUL_HEAD:
        return None
    text = f.text[:room]
    cut = text.rfind("\n")
    if cut > 0:
        text = text[: cut + 1]
    shown_lines = text.count("\n")
    if f.complete:
        note = f"... (truncated: first {shown_lines} of {total_lines} lines shown)"
    else:
        note = f"... (truncated: first {shown_lines} lines of a {f.size} byte file shown)"
    block = f"{head}\n{quote_block(text, lang)}\n{note}"
    return block if len(block) <= limit else None


def _regions_block(
    path: str, reason: str, f: FileText, limit: int, lang: str, ev: Evidence
) -> str | None:
    """The file as the regions the evidence points at, as many as fit in ``limit``, most
    telling first; None when the evidence names nothing in this file."""
    lines = f.text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    defs = regions_mod.definitions(path, f.text)
    # most telling first: lines the output names, definitions of strong names, where those
    # are used, then definitions of the names the failing tests call
    n = len(lines)
    weak = [x for x in ev.names if x not in ev.strong]
    groups = regions_mod.choose(n, defs, ev.lines.get(path, []), ev.strong)
    groups += regions_mod.choose(n, defs, regions_mod.uses(lines, defs, ev.strong), [])
    weak_groups = regions_mod.choose(n, defs, [], weak)
    groups += weak_groups
    if not groups:
        return None
    head_span = regions_mod.head_span(lines, defs)
    total = len(lines)
    taken: list[tuple[int, int]] = []
    best: str | None = None

    def attempt(spans: list[tuple[int, int]]) -> str | None:
        body = regions_mod.render(lines, regions_mod.merge(spans), defs)
        count = sum(b - a + 1 for a, b in regions_mod.merge(spans))
        text = (f"### {path} ({reason}; {total} lines, only the regions that matter shown, "
                f"{count} lines)\n{quote_block(body, lang)}")
        return text if len(text) <= limit else None

    strong_groups = len(groups) - len(weak_groups)
    for number, group in enumerate(groups):
        block = attempt(taken + group)
        if block is None:
            continue
        if number >= strong_groups and best is not None and len(block) > WEAK_REGIONS:
            continue  # what the tests call is a weak hint: a little of it, not the budget
        taken += group
        best = block
    if best is None:
        return None
    best = _add_callees(lines, defs, taken, attempt) or best
    if head_span is not None:
        block = attempt([head_span, *taken])
        if block is not None:
            best = block
    return best


def _add_callees(
    lines: Sequence[str],
    defs: Sequence[regions_mod.Definition],
    taken: list[tuple[int, int]],
    attempt: Callable[[list[tuple[int, int]]], str | None],
) -> str | None:
    """Add to ``taken`` (in place) what the shown code calls in this file, small definitions
    first, while ``attempt`` says it fits: one level, and a second one for small helpers (a
    wrapper class the shown code builds). The last block that fitted, or None."""
    best = None
    for level in range(2):
        called = regions_mod.choose(len(lines), defs, [], regions_mod.callees(lines, defs, taken))
        fresh = [g for g in called if not all(any(a <= x and y <= b for a, b in taken)
                                              for x, y in g)]
        fresh.sort(key=lambda g: sum(b - a + 1 for a, b in g))
        for group in fresh:
            if level and sum(b - a + 1 for a, b in group) > SMALL_HELPER:
                break
            block = attempt(taken + group)
            if block is not None:
                taken += group
                best = block
    return best


_EARLY = "early:"  # the detail of an import offered right after the file importing it
_IMPORT_STATEMENT = re.compile(
    r"^[ \t]*(?:from[ \t]+\S+[ \t]+import[ \t]*\([^)]*\)|(?:from|import)[ \t][^\n]*)", re.M
)
_TOP_NAME = re.compile(r"^(?:(?:async\s+)?def|class)\s+(\w+)|^(\w+)\s*(?::[^=\n]*)?=", re.M)


class _SmallImports:
    """The small modules (at most :data:`EARLY_IMPORT` bytes) that shown code may use, each
    read once: the names it defines, and its module name."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self._names: dict[str, frozenset[str]] = {}

    def names(self, path: str) -> frozenset[str]:
        """What ``path`` defines (empty when it is not a small module)."""
        if path not in self._names:
            found: set[str] = set()
            if 0 <= self.reader.size(path) <= EARLY_IMPORT:
                text = self.reader.head(path, EARLY_IMPORT) or ""
                found = {a or b for a, b in _TOP_NAME.findall(text)} - {"__all__"}
                found.add(path.rsplit("/", 1)[-1].split(".")[0])
            self._names[path] = frozenset(found)
        return self._names[path]

    def used(self, path: str, words: set[str]) -> bool:
        """Whether code with ``words`` (see :func:`_code_words`) uses the small module."""
        return bool(self.names(path) & words)

    def room(self, index: Index, path: str, text: str, limit: int) -> int:
        """Characters to keep free after ``path`` (shown in part) for the small modules it
        imports and uses: at most a quarter of ``limit``."""
        words = _code_words(text)
        need = sum(self.reader.size(imp) + len(imp) + 80  # its header and fences
                   for imp in imports_of(path, text, index) if self.used(imp, words))
        return min(need, limit // 4)


def _code_words(text: str) -> set[str]:
    """The identifiers of ``text`` outside its import statements."""
    return set(re.findall(r"[A-Za-z_]\w*", _IMPORT_STATEMENT.sub("", text)))


def _fence_len(text: str) -> int:
    """The length of one fence ``quote_block`` puts around ``text``, plus room for its info
    string and newline."""
    return len(fence_for(text)) + 10


def _fill(
    reader: Reader,
    index: Index,
    explicit: list[tuple[str, int, str]],
    task_text: str,
    room: int,
    budget: int,
    ev: Evidence | None = None,
) -> tuple[list[str], list[str]]:
    """Add file blocks in rank order while they fit; returns (blocks, included paths)."""
    share = max(int(budget * FILE_SHARE), MIN_USEFUL_HEAD + 400)
    blocks: list[str] = []
    included: list[str] = []
    seen: set[str] = set()
    contents: dict[str, str] = {}
    shown_words: dict[str, set[str]] = {}  # of the files whose small imports are offered early
    small = _SmallImports(reader)
    used = 0

    def offer(path: str, tier: int, detail: str = "") -> None:
        nonlocal used
        if path in seen or len(included) >= MAX_FILES_SHOWN or is_skipped(path):
            return
        left = room - used - 2
        early = detail.startswith(_EARLY)
        if early and not small.used(path, shown_words.get(detail[len(_EARLY):], set())):
            return  # offered again later, as an ordinary import
        seen.add(path)
        truncate = tier < EXPLICIT
        limit = min(share, left) if truncate else left
        if limit < 200:
            return
        f = reader.read(path, limit, allow_head=truncate)
        if f is None or (not truncate and not f.text.strip()):
            return
        reason = REASONS[tier].format(
            name=detail if detail and not early else "a name the evidence points at"
        )
        if truncate and tier < T_DEFINES and (not f.complete or len(f.text) > limit):
            # leave room for the small modules it uses, shown right after it
            limit -= small.room(index, path, f.text, limit)
        block = _render(path, reason, f, limit, truncate, ev)
        if block is None:
            return
        blocks.append(block)
        included.append(path)
        contents[path] = f.text
        if tier < T_DEFINES:
            shown_words[path] = _code_words(block)
        used += len(block) + 2

    for path, tier, detail in _candidates(index, explicit, included, contents, task_text):
        offer(path, tier, detail)
    return blocks, included


def _candidates(
    index: Index,
    explicit: list[tuple[str, int, str]],
    included: list[str],
    contents: dict[str, str],
    task_text: str,
) -> Iterator[tuple[str, int, str]]:
    """Files to offer, best first: the ranked ones, then (from what was shown so far) their
    imports, name matches, project files, neighbours, and shallow sources as a last resort."""
    for path, tier, detail in explicit:
        yield path, tier, detail
        if tier < T_DEFINES and path in contents:  # its small imports, right after it
            for imp in imports_of(path, contents[path], index):
                yield imp, T_IMPORT, _EARLY + path
    for path in list(included):  # one level of imports, in order
        for imp in imports_of(path, contents[path], index):
            yield imp, T_IMPORT, ""
    for path in name_matches(index, task_text, 30):
        yield path, T_NAME, ""
    for name in PROJECT_FILES:
        if name in index.set:
            yield name, T_PROJECT, ""
    for path in list(included):
        if "/" in path and not is_test_path(path):
            for p in index.by_dir.get(path.rsplit("/", 1)[0], [])[:20]:
                if p.endswith(SOURCE_SUFFIXES) and not is_test_path(p):
                    yield p, T_NEXT, ""
    if len(included) < 3:
        shallow = sorted(
            (p for p in index.tracked if p.endswith(SOURCE_SUFFIXES) and not is_test_path(p)),
            key=lambda p: (p.count("/"), p),
        )
        for p in shallow[:50]:
            yield p, T_SOURCE, ""
