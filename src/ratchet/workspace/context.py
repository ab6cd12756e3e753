"""The repository context the model reads: a tree outline, a map of symbols and the most
relevant files — whole when they fit, else the regions the evidence points at.

``build_context`` ranks tracked files by evidence, strongest first: files the model asked to
see, files named in the task, files named in the failing test output (tracebacks,
``path:line``), files that define a name the evidence points at (a traceback frame, what the
failing tests call, a code name in the task), test files of failing tests, files earlier
attempts changed, then files imported by those, files whose names match the task's words,
project files (README, pyproject) and neighbours. A file too large to show whole is shown as
regions (:mod:`ratchet.workspace.regions`): whole definitions around the lines and names of
the evidence (:mod:`ratchet.workspace.evidence`), with their enclosing class/def lines and
``⋮`` markers where the file goes on. A map of the symbols of related files
(:mod:`ratchet.workspace.symbols`) tells the model what else exists.

It reads a bounded number of files (shown ones whole, up to 1 MB; a bounded head of up to
:data:`MAX_SCAN_FILES` others for the symbol map), never follows symlinks out of the
repository, and skips binary, huge, vendored, generated, lock and secret files. Output fits
``budget`` characters and is deterministic for the same inputs and file contents.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ratchet.sanitize import cap, quote_block
from ratchet.workspace import regions as regions_mod
from ratchet.workspace.evidence import (
    Evidence,
    by_relevance,
    from_output,
    from_task,
    from_tests,
    from_words,
)
from ratchet.workspace.symbols import MAX_SCAN_BYTES, SymbolMap

HUGE_BYTES = 1_000_000  # larger files are never read in full
MAX_FILES_SHOWN = 40
MAX_FILES_READ = 200  # files opened per call, shown or not
FILE_SHARE = 0.4  # one file may take at most this share of the budget
OUTLINE_SHARE = 6  # the outline takes at most budget // OUTLINE_SHARE characters
MIN_USEFUL_HEAD = 1200  # a truncated head shorter than this is not worth showing
MAX_SCAN_FILES = 1500  # files whose head is scanned for the symbol map
MAP_SHARE = 8  # the symbol map takes at most budget // MAP_SHARE characters
MAX_NEEDED = 8  # items the model may ask to see in one request
WEAK_REGIONS = 6000  # a file's regions grow past this only on strong evidence

SKIP_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", "node_modules", "bower_components", ".venv", "venv",
        "__pycache__", "dist", "build", ".tox", ".nox", ".mypy_cache", ".pytest_cache",
        ".ruff_cache", "site-packages", "vendor", "vendored", "third_party", ".eggs",
        "htmlcov", ".next", ".nuxt", ".cache", ".gradle", ".idea", ".vscode", "coverage",
    }
)  # fmt: skip
SKIP_NAMES = frozenset(
    {
        "package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "go.sum",
        ".npmrc", ".pypirc", ".netrc", ".git-credentials", "credentials.json", ".DS_Store",
        "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519",
    }
)  # fmt: skip
SKIP_SUFFIXES = (
    ".lock", ".min.js", ".min.css", ".map", ".bundle.js", "_pb2.py", ".pb.go",
    # secrets and keys
    ".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".kdbx", ".gpg", ".asc",
    # binary
    ".pyc", ".pyo", ".so", ".dll", ".dylib", ".exe", ".bin", ".o", ".a", ".class", ".jar",
    ".wasm", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".ico", ".tif", ".tiff",
    ".svgz", ".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst", ".whl",
    ".egg", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp3", ".mp4", ".wav", ".ogg",
    ".mov", ".avi", ".webm", ".sqlite", ".sqlite3", ".db", ".pkl", ".pickle", ".npy",
    ".npz", ".parquet", ".h5", ".onnx", ".pt", ".ckpt", ".safetensors", ".xlsx", ".xls",
    ".docx", ".pptx", ".psd", ".dmg", ".iso",
)  # fmt: skip
PROJECT_FILES = (
    "README.md", "README.rst", "README.txt", "README", "pyproject.toml", "setup.cfg",
    "setup.py", "package.json", "Cargo.toml", "go.mod", "Makefile",
)  # fmt: skip
SOURCE_SUFFIXES = (
    ".py", ".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".go", ".rs", ".rb", ".java",
    ".kt", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".php", ".swift", ".scala", ".sh",
)  # fmt: skip
_STOPWORDS = frozenset(
    "the and for with that this from into when then than should would could must not "
    "add fix make use all any are was were has have had its it's our your their can "
    "new old get set via per one two each some more less test tests file files code "
    "bug issue task please also only just like want need does did done what which who "
    "how why where there here them they will shall may might let lets page src lib "
    "init main".split()
)

REASONS = (
    "you asked to see it",
    "named in the task",
    "named in the failing test output",
    "defines {name}",
    "mentioned in the failing test output",
    "test file of a failing test",
    "changed by an earlier attempt",
    "imported by a file above",
    "name matches the task",
    "project file",
    "next to a file above",
    "source file",
)
(T_NEEDED, T_TASK, T_OUTPUT, T_DEFINES, T_MENTIONED, T_TESTS, T_HINTED, T_IMPORT, T_NAME,
 T_PROJECT, T_NEXT, T_SOURCE) = range(len(REASONS))
_EXPLICIT = T_IMPORT  # tiers below this are shown even when they must be shown in part

_PATH_TOKEN = re.compile(r"[\w.@+/-]*[\w-]\.[A-Za-z0-9]{1,10}\b")
_MODULE_TOKEN = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b")
_PY_IMPORT = re.compile(
    r"^\s*(?:from\s+(\.*[\w.]*)\s+import\s+([\w, ()*]+)|import\s+([\w.]+))", re.M
)
_JS_IMPORT = re.compile(r"""(?:from\s+|require\(\s*|import\s*\(?\s*)['"](\.{1,2}/[^'"]+)['"]""")


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
    tracked = _normalise(files)
    index = _Index(tracked)
    outline = _outline(tracked, min(budget // OUTLINE_SHARE, 8000))
    ranker = _Ranker(index, str(Path(root).resolve()))
    ranked = ranker.explicit(task_text, failing_tests, failure_output, hinted_files)
    reader = _Reader(Path(root))

    def resolve(path: str) -> list[str]:
        return index.resolve(path, ranker.root)

    ev = Evidence()
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
    # names, most telling first: traceback frames, code names in the task, defined names
    # that share words with the task and the failing tests' names, what the tests call
    failing_tests = by_relevance(failing_tests, task_text[:2000])
    from_output(failure_output, resolve, ev, task=task_text[:2000])
    from_task(task_text, ev)
    symbols = _symbol_map(Path(root), index, ranked, ev)
    test_names = [t.split("::")[-1].split("[")[0] for t in failing_tests[:20]]
    source_names = [n for n, paths in symbols.defined_in.items()
                    if any(not is_test_path(p) for p in paths)]
    from_words([task_text[:2000], *test_names], source_names, ev)
    from_tests(failing_tests, _test_sources(reader, index, failing_tests), ev)
    names = ev.strong + [n for n in ev.names if n not in ev.strong]
    defines = [(p, n) for p, n in symbols.definers(names) if not is_test_path(p)]
    # a file the output names only as a module (a repr, an import line) is weaker evidence
    # than a file with a line in a traceback, or one defining a name the evidence points at
    ranked = [(p, T_MENTIONED if t == T_OUTPUT and p not in ev.lines else t) for p, t in ranked]
    merged = _merge_ranks(asked, ranked, defines)
    map_text = symbols.outline(
        _map_order(index, merged, defines), min(budget // MAP_SHARE, 6000)
    )
    header = f"Repository layout ({len(tracked)} tracked files):\n{outline}"
    if map_text:
        header += (
            "\n\nDefinitions in related files (`name(args)`; a class lists its methods):\n"
            + map_text
        )
    room = budget - len(header) - 2
    blocks, included = _fill(reader, index, merged, task_text, room, budget, ev)
    if blocks:
        intro = (
            f"Relevant files ({len(included)} shown, most relevant first; contents are "
            f"exact, copy `search` text from them; a line starting with {regions_mod.MARK} "
            "marks lines of the file that are not shown and is not part of the file):"
        )
        text = header + "\n\n" + intro + "\n\n" + "\n\n".join(blocks)
    else:
        text = header
    return RepoContext(cap(text, budget), tuple(included))


# -- path policy ---------------------------------------------------------------------------


def _normalise(files: Iterable[str]) -> list[str]:
    out: set[str] = set()
    for f in files:
        p = f.strip().replace("\\", "/")
        while p.startswith("./"):
            p = p[2:]
        if not p or p.startswith("/") or "\x00" in p:
            continue
        parts = p.split("/")
        if any(part in ("", ".", "..") for part in parts):
            continue
        out.add(p)
    return sorted(out)


def is_skipped(path: str) -> bool:
    """True if ``path`` should never be shown: vendored, generated, lock, binary, secret."""
    parts = path.split("/")
    if any(p in SKIP_DIRS or p.endswith(".egg-info") for p in parts[:-1]):
        return True
    name = parts[-1]
    lower = name.lower()
    if name in SKIP_NAMES or lower == ".env" or lower.startswith(".env."):
        return True
    if lower.startswith(("id_rsa", "id_ed25519", "secrets.")):
        return True
    return lower.endswith(SKIP_SUFFIXES)


def is_test_path(path: str) -> bool:
    """True if ``path`` looks like a test file or test configuration."""
    parts = path.lower().split("/")
    name = parts[-1]
    if any(p in ("tests", "test", "__tests__", "spec", "testing") for p in parts[:-1]):
        return True
    stem = name.split(".", 1)[0]
    return (
        name == "conftest.py"
        or stem.startswith("test_")
        or stem.endswith("_test")
        or ".test." in name
        or ".spec." in name
    )


# -- ranking -------------------------------------------------------------------------------


class _Index:
    """Tracked paths with lookups by basename (built once per call, paths only)."""

    def __init__(self, tracked: list[str]) -> None:
        self.tracked = tracked
        self.set = frozenset(tracked)
        self.by_base: dict[str, list[str]] = {}
        self.by_dir: dict[str, list[str]] = {}
        for p in tracked:
            parent, _, base = p.rpartition("/")
            self.by_base.setdefault(base, []).append(p)
            self.by_dir.setdefault(parent, []).append(p)

    def resolve(self, token: str, root: str = "") -> list[str]:
        """Tracked paths a path-like ``token`` names: exact, absolute under ``root``, a
        longer path ending in a tracked one, or a unique-enough partial path/basename."""
        t = token.replace("\\", "/").strip("'\"`()[]<>,;")
        if root and t.startswith(root + "/"):
            t = t[len(root) + 1 :]
        while t.startswith("./"):
            t = t[2:]
        if t in self.set:
            return [t]
        base = t.rsplit("/", 1)[-1]
        cands = self.by_base.get(base, [])
        if not cands:
            return []
        full = [p for p in cands if t.endswith("/" + p)]
        if full:
            return [max(full, key=len)]
        partial = [p for p in cands if p.endswith("/" + t.lstrip("/"))]
        return partial if 0 < len(partial) <= 3 else []

    def module(self, name: str, package: str = "") -> list[str]:
        """Tracked files for a dotted module name (dropping up to two trailing attributes)."""
        parts = name.split(".")
        for drop in range(min(3, len(parts))):
            mod = parts[: len(parts) - drop]
            if not mod:
                break
            rel = "/".join(mod)
            prefixes = (package + "/",) if package else ("", "src/", "lib/")
            for pre in prefixes:
                for cand in (f"{pre}{rel}.py", f"{pre}{rel}/__init__.py"):
                    if cand in self.set:
                        return [cand]
        return []


class _Ranker:
    def __init__(self, index: _Index, root: str) -> None:
        self.index = index
        self.root = root.replace("\\", "/").rstrip("/")

    def mentioned(self, text: str) -> list[str]:
        """Tracked files named in ``text`` (paths, ``path:line``, absolute traceback paths,
        dotted module names): most often named first, then by first mention."""
        counts: dict[str, int] = {}
        for m in _PATH_TOKEN.finditer(text):
            for p in self.index.resolve(m.group(0), self.root):
                counts[p] = counts.get(p, 0) + 1
        for m in _MODULE_TOKEN.finditer(text):
            for p in self.index.module(m.group(0)):
                counts[p] = counts.get(p, 0) + 1
        first = {p: i for i, p in enumerate(counts)}
        return sorted(counts, key=lambda p: (-counts[p], first[p]))

    def explicit(
        self,
        task_text: str,
        failing_tests: Sequence[str],
        failure_output: str,
        hinted: Sequence[str],
    ) -> list[tuple[str, int]]:
        """(path, tier) for the explicit tiers, each path once, strongest tier first."""
        out: dict[str, int] = {}

        def add(paths: Iterable[str], tier: int) -> None:
            for p in paths:
                if p not in out and not is_skipped(p):
                    out[p] = tier

        add(self.mentioned(task_text[:100_000]), T_TASK)
        test_ids = "\n".join(t.split("::", 1)[0] for t in failing_tests[:500])
        output = failure_output[-200_000:]
        named = self.mentioned(output + "\n" + test_ids)
        add((p for p in named if not is_test_path(p)), T_OUTPUT)
        tests = self.mentioned(test_ids)
        add(tests, T_TESTS)
        add((p for p in named if is_test_path(p)), T_TESTS)
        add((p for h in hinted for p in self.index.resolve(h)), T_HINTED)
        return list(out.items())


def _merge_ranks(
    asked: Sequence[str], ranked: list[tuple[str, int]], defines: Sequence[tuple[str, str]]
) -> list[tuple[str, int, str]]:
    """(path, tier, detail) in tier order: asked, task, output, defining files, tests ..."""
    out: dict[str, tuple[int, str]] = {}
    for p in asked:
        out.setdefault(p, (T_NEEDED, ""))
    for p, tier in ranked:
        out.setdefault(p, (tier, ""))
    for p, name in defines:
        if not is_skipped(p) and (p not in out or out[p][0] > T_DEFINES):
            out[p] = (T_DEFINES, f"`{name}`")
    return sorted(((p, t, d) for p, (t, d) in out.items()), key=lambda x: x[1])


def _related_first(index: _Index, first: Iterable[str]) -> list[str]:
    """``first``, then the sources in the directories of its first 20, then every source
    (non-test first, shallow first); each once, skipped files left out."""
    head = list(dict.fromkeys(first))
    order = list(head)
    for p in head[:20]:
        parent = p.rsplit("/", 1)[0] if "/" in p else ""
        order += [q for q in index.by_dir.get(parent, []) if q.endswith(SOURCE_SUFFIXES)]
    order += sorted((p for p in index.tracked if p.endswith(SOURCE_SUFFIXES)),
                    key=lambda p: (is_test_path(p), p.count("/"), p))
    return [p for p in dict.fromkeys(order) if not is_skipped(p)]


def _map_order(
    index: _Index, ranked: Sequence[tuple[str, int, str]], defines: Sequence[tuple[str, str]]
) -> list[str]:
    """Files for the symbol map: the ranked ones and the defining ones, then related ones."""
    return _related_first(index, [p for p, _t, _d in ranked] + [p for p, _n in defines])


def _symbol_map(
    root: Path, index: _Index, ranked: Sequence[tuple[str, int]], ev: Evidence
) -> SymbolMap:
    """Scan the heads of up to :data:`MAX_SCAN_FILES` source files, related ones first."""
    symbols = SymbolMap()
    real_root = os.path.realpath(root)
    order = _related_first(index, [p for p, _t in ranked] + list(ev.lines))
    for p in [p for p in order if p.endswith(SOURCE_SUFFIXES)][:MAX_SCAN_FILES]:
        text = _read_head(root, real_root, p, MAX_SCAN_BYTES)
        if text is not None:
            symbols.add(p, text)
    return symbols


def _read_head(root: Path, real_root: str, rel: str, limit: int) -> str | None:
    full = os.path.join(root, rel)
    try:
        if not stat.S_ISREG(os.lstat(full).st_mode):
            return None
        if not os.path.realpath(full).startswith(real_root + os.sep):
            return None
        with open(full, "rb") as fh:
            data = fh.read(limit)
    except OSError:
        return None
    if b"\x00" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def _test_sources(
    reader: _Reader, index: _Index, failing_tests: Sequence[str]
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


def _words(text: str) -> frozenset[str]:
    """Lower-case words of ``text`` (camelCase and snake_case split, plural ``s`` dropped),
    without stop words."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text).lower()
    words = set()
    for w in re.findall(r"[a-z][a-z0-9]{2,}", text.replace("_", " ")):
        if w not in _STOPWORDS:
            words.add(w[:-1] if w.endswith("s") and len(w) > 3 else w)
    return frozenset(words)


@lru_cache(maxsize=8192)
def _dir_words(directory: str) -> frozenset[str]:
    return _words(directory)


def _name_matches(index: _Index, task_text: str, limit: int) -> list[str]:
    """Source files whose names share words with the task's prose (file name words count
    double), best first; sources before tests, shallow before deep."""
    words = _words(_PATH_TOKEN.sub(" ", task_text[:20_000]))
    if not words:
        return []
    scored: list[tuple[int, bool, int, str]] = []
    for p in index.tracked:
        if not p.endswith(SOURCE_SUFFIXES):
            continue
        parent, _, name = p.rpartition("/")
        score = 2 * len(_words(name.rsplit(".", 1)[0]) & words)
        score += len(_dir_words(parent) & words)
        if score and not is_skipped(p):
            scored.append((-score, is_test_path(p), p.count("/"), p))
    scored.sort()
    return [p for *_, p in scored[:limit]]


def _imports(path: str, content: str, index: _Index) -> list[str]:
    """Tracked files ``content`` (of file ``path``) imports, in order of appearance."""
    out: list[str] = []
    pkg = path.rsplit("/", 1)[0] if "/" in path else ""
    if path.endswith(".py"):
        for m in _PY_IMPORT.finditer(content[:200_000]):
            mod, names, plain = m.group(1), m.group(2), m.group(3)
            if plain:
                out += index.module(plain)
                continue
            dots = len(mod) - len(mod.lstrip("."))
            rest = mod[dots:]
            if dots:
                base = pkg.split("/") if pkg else []
                base = base[: len(base) - (dots - 1)] if dots > 1 else base
                package = "/".join(base)
                found = index.module(rest, package) if rest else []
                if not found or not rest:  # `from . import x` names modules
                    for n in re.findall(r"\w+", names or ""):
                        sub = f"{rest}.{n}" if rest else n
                        found += index.module(sub, package)
                out += found
            else:
                found = index.module(rest)
                if not found or found[0].endswith("__init__.py"):
                    for n in re.findall(r"\w+", names or ""):
                        found += index.module(f"{rest}.{n}")
                out += found
    elif path.endswith((".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs")):
        for m in _JS_IMPORT.finditer(content[:200_000]):
            target = os.path.normpath(os.path.join(pkg, m.group(1))).replace("\\", "/")
            for ext in ("", ".ts", ".tsx", ".js", ".jsx", ".mjs", "/index.ts", "/index.js"):
                if target + ext in index.set:
                    out.append(target + ext)
                    break
    return list(dict.fromkeys(out))


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    text: str
    complete: bool
    size: int


class _Reader:
    """Reads tracked files safely: regular files inside the root only, UTF-8 text only."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.opened = 0

    def read(
        self, rel: str, max_chars: int, allow_head: bool, count: bool = True
    ) -> _File | None:
        if count and self.opened >= MAX_FILES_READ:
            return None
        full = os.path.join(self.root, rel)
        try:
            st = os.lstat(full)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None  # symlinks, directories, devices
        if not allow_head and st.st_size > min(HUGE_BYTES, 2 * max_chars):
            return None  # cannot fit whole; only explicit files are shown truncated
        real = os.path.realpath(full)
        if not real.startswith(self.real_root + os.sep):
            return None
        want = min(st.st_size, max(max_chars, 0) * 4 + 4, HUGE_BYTES)
        if allow_head:
            want = min(st.st_size, HUGE_BYTES)  # regions may come from anywhere in the file
        self.opened += 1 if count else 0
        try:
            with open(full, "rb") as fh:
                data = fh.read(want)
        except OSError:
            return None
        if b"\x00" in data[:8192]:
            return None
        partial = len(data) < st.st_size
        text = _decode(data, partial)
        if text is None:
            return None
        text = text.removeprefix("\ufeff").replace("\r\n", "\n")
        return _File(text, not partial, st.st_size)


def _decode(data: bytes, partial: bool) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        if partial and e.start >= len(data) - 3:  # cut inside a multi-byte character
            return data[: e.start].decode("utf-8", errors="strict")
        return None


def _render(
    path: str, reason: str, f: _File, limit: int, truncate: bool, ev: Evidence | None = None
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
    path: str, reason: str, f: _File, limit: int, lang: str, ev: Evidence
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
    # then what the shown code calls in this file (one level), while it fits
    for group in regions_mod.choose(n, defs, [], regions_mod.callees(lines, defs, taken)):
        block = attempt(taken + group)
        if block is not None:
            taken += group
            best = block
    if head_span is not None:
        block = attempt([head_span, *taken])
        if block is not None:
            best = block
    return best


def _fence_len(text: str) -> int:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return max(3, longest + 1) + 10


def _fill(
    reader: _Reader,
    index: _Index,
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
    used = 0

    def offer(path: str, tier: int, detail: str = "") -> None:
        nonlocal used
        if path in seen or len(included) >= MAX_FILES_SHOWN or is_skipped(path):
            return
        seen.add(path)
        left = room - used - 2
        truncate = tier < _EXPLICIT
        limit = min(share, left) if truncate else left
        if limit < 200:
            return
        f = reader.read(path, limit, allow_head=truncate)
        if f is None or (not truncate and not f.text.strip()):
            return
        reason = REASONS[tier].format(name=detail or "a name the evidence points at")
        block = _render(path, reason, f, limit, truncate, ev)
        if block is None:
            return
        blocks.append(block)
        included.append(path)
        contents[path] = f.text
        used += len(block) + 2

    for path, tier, detail in explicit:
        offer(path, tier, detail)
    for path in list(included):  # one level of imports, in order
        for imp in _imports(path, contents[path], index):
            offer(imp, T_IMPORT)
    for path in _name_matches(index, task_text, 30):
        offer(path, T_NAME)
    for name in PROJECT_FILES:
        if name in index.set:
            offer(name, T_PROJECT)
    for path in list(included):
        if "/" in path and not is_test_path(path):
            for p in index.by_dir.get(path.rsplit("/", 1)[0], [])[:20]:
                if p.endswith(SOURCE_SUFFIXES) and not is_test_path(p):
                    offer(p, T_NEXT)
    if len(included) < 3:
        shallow = sorted(
            (p for p in index.tracked if p.endswith(SOURCE_SUFFIXES) and not is_test_path(p)),
            key=lambda p: (p.count("/"), p),
        )
        for p in shallow[:50]:
            offer(p, T_SOURCE)
    return blocks, included


# -- outline -------------------------------------------------------------------------------


def _outline(tracked: list[str], limit: int) -> str:
    """A listing of every file when it fits in ``limit``; else directories with file
    counts, as deep as fits; never longer than ``limit``."""
    if not tracked:
        return "(no tracked files)"
    full = "\n".join(tracked)
    if len(full) <= limit:
        return full
    counts: dict[str, int] = {}
    root_files: list[str] = []
    for p in tracked:
        parts = p.split("/")
        if len(parts) == 1:
            root_files.append(p)
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            counts[d] = counts.get(d, 0) + 1
    dirs = sorted(counts, key=lambda d: d.split("/"))
    best = ""
    for depth in range(1, 8):
        lines = []
        for d in dirs:
            parts = d.split("/")
            if len(parts) > depth or any(p in SKIP_DIRS for p in parts[:-1]):
                continue
            note = ", not shown" if parts[-1] in SKIP_DIRS else ""
            lines.append(f"{'  ' * (len(parts) - 1)}{parts[-1]}/ ({counts[d]} files{note})")
        if len(root_files) <= 40:
            lines += root_files
        else:
            lines.append(f"({len(root_files)} files at the top level)")
        text = "\n".join(lines)
        if len(text) > limit:
            if not best:
                best = cap(text, limit)
            break
        best = text
        if all(len(d.split("/")) <= depth for d in dirs):
            break
    return best
