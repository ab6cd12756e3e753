"""Ranking the repository's files for the prompt, without reading them: which tracked paths
the evidence names, what they import, which names match the task, which files are skipped
(vendored, generated, lock, secret) and the outline of the tree. Pure: text in, paths out;
``workspace/context.py`` reads the files and fills the budget.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Sequence
from functools import lru_cache

from ratchet.sanitize import cap

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


STOPWORDS = frozenset(
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
    "defines {name}, which the task names",
    "raises {name}, which a failing test expects",
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


(
    T_NEEDED,
    T_TASK,
    T_TASK_DEFINES,
    T_RAISES,
    T_OUTPUT,
    T_DEFINES,
    T_MENTIONED,
    T_TESTS,
    T_HINTED,
    T_IMPORT,
    T_NAME,
    T_PROJECT,
    T_NEXT,
    T_SOURCE,
) = range(len(REASONS))


EXPLICIT = T_IMPORT  # tiers below this are shown even when they must be shown in part


PATH_TOKEN = re.compile(r"[\w.@+/-]*[\w-]\.[A-Za-z0-9]{1,10}\b")


MODULE_TOKEN = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b")


PY_IMPORT = re.compile(
    r"^\s*(?:from\s+(\.*[\w.]*)\s+import\s+([\w, ()*]+)|import\s+([\w.]+))", re.M
)


JS_IMPORT = re.compile(r"""(?:from\s+|require\(\s*|import\s*\(?\s*)['"](\.{1,2}/[^'"]+)['"]""")


def normalise(files: Iterable[str]) -> list[str]:
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


class Index:
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


class Ranker:
    def __init__(self, index: Index, root: str) -> None:
        self.index = index
        self.root = root.replace("\\", "/").rstrip("/")

    def mentioned(self, text: str) -> list[str]:
        """Tracked files named in ``text`` (paths, ``path:line``, absolute traceback paths,
        dotted module names): most often named first, then by first mention."""
        counts: dict[str, int] = {}
        for m in PATH_TOKEN.finditer(text):
            for p in self.index.resolve(m.group(0), self.root):
                counts[p] = counts.get(p, 0) + 1
        for m in MODULE_TOKEN.finditer(text):
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


def merge_ranks(
    asked: Sequence[str],
    ranked: list[tuple[str, int]],
    defines: Sequence[tuple[str, str]],
    task_names: Collection[str] = (),
    raises: Sequence[tuple[str, str]] = (),
) -> list[tuple[str, int, str]]:
    """(path, tier, detail) in tier order: asked, task, files defining what the task names in
    code, files raising what a failing test expects, output, other defining files, tests ..."""
    out: dict[str, tuple[int, str]] = {}
    for p in asked:
        out.setdefault(p, (T_NEEDED, ""))
    for p, tier in ranked:
        out.setdefault(p, (tier, ""))
    for p, name in raises:
        if not is_skipped(p) and (p not in out or out[p][0] > T_RAISES):
            out[p] = (T_RAISES, f"`{name}`")
    for p, name in defines:
        tier = T_TASK_DEFINES if name in task_names else T_DEFINES
        if not is_skipped(p) and (p not in out or out[p][0] > tier):
            out[p] = (tier, f"`{name}`")
    return sorted(((p, t, d) for p, (t, d) in out.items()), key=lambda x: x[1])


def related_first(index: Index, first: Iterable[str]) -> list[str]:
    """``first``, then the sources in the directories of its first 20, then every source
    (non-test first, shallow first); each once, skipped files left out."""
    head = list(dict.fromkeys(first))
    order = list(head)
    for p in head[:20]:
        parent = p.rsplit("/", 1)[0] if "/" in p else ""
        order += [q for q in index.by_dir.get(parent, []) if q.endswith(SOURCE_SUFFIXES)]
    order += sorted(
        (p for p in index.tracked if p.endswith(SOURCE_SUFFIXES)),
        key=lambda p: (is_test_path(p), p.count("/"), p),
    )
    return [p for p in dict.fromkeys(order) if not is_skipped(p)]


def map_order(
    index: Index, ranked: Sequence[tuple[str, int, str]], defines: Sequence[tuple[str, str]]
) -> list[str]:
    """Files for the symbol map: the ranked ones and the defining ones, then related ones."""
    return related_first(index, [p for p, _t, _d in ranked] + [p for p, _n in defines])


def words_of(text: str) -> frozenset[str]:
    """Lower-case words of ``text`` (camelCase and snake_case split, plural ``s`` dropped),
    without stop words."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text).lower()
    words = set()
    for w in re.findall(r"[a-z][a-z0-9]{2,}", text.replace("_", " ")):
        if w not in STOPWORDS:
            words.add(w[:-1] if w.endswith("s") and len(w) > 3 else w)
    return frozenset(words)


@lru_cache(maxsize=8192)
def dir_words(directory: str) -> frozenset[str]:
    return words_of(directory)


def name_matches(index: Index, task_text: str, limit: int) -> list[str]:
    """Source files whose names share words with the task's prose (file name words count
    double), best first; sources before tests, shallow before deep."""
    words = words_of(PATH_TOKEN.sub(" ", task_text[:20_000]))
    if not words:
        return []
    scored: list[tuple[int, bool, int, str]] = []
    for p in index.tracked:
        if not p.endswith(SOURCE_SUFFIXES):
            continue
        parent, _, name = p.rpartition("/")
        score = 2 * len(words_of(name.rsplit(".", 1)[0]) & words)
        score += len(dir_words(parent) & words)
        if score and not is_skipped(p):
            scored.append((-score, is_test_path(p), p.count("/"), p))
    scored.sort()
    return [p for *_, p in scored[:limit]]


def imports_of(path: str, content: str, index: Index) -> list[str]:
    """Tracked files ``content`` (of file ``path``) imports, in order of appearance."""
    out: list[str] = []
    pkg = path.rsplit("/", 1)[0] if "/" in path else ""
    if path.endswith(".py"):
        for m in PY_IMPORT.finditer(content[:200_000]):
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
        for m in JS_IMPORT.finditer(content[:200_000]):
            target = os.path.normpath(os.path.join(pkg, m.group(1))).replace("\\", "/")
            for ext in ("", ".ts", ".tsx", ".js", ".jsx", ".mjs", "/index.ts", "/index.js"):
                if target + ext in index.set:
                    out.append(target + ext)
                    break
    return list(dict.fromkeys(out))


def tree_outline(tracked: list[str], limit: int) -> str:
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
