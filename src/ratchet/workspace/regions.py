"""The parts of a large file worth showing the model: whole definitions around the evidence.

A file too large to show whole is shown as *regions*: the definitions (functions, methods,
classes) that the evidence points at — lines named by tracebacks and test output, names from
the task, the failing tests and the traceback frames — each whole (never cut mid-function),
with the header line of every enclosing class or function, the file's head (imports) when it
fits, and a marker line ``⋮ (lines a–b not shown)`` wherever the file goes on. Nearby regions
merge. Everything here is pure and deterministic.

Definitions come from :mod:`ast` for Python and from a conservative line scan for other
languages (``function``/``class``/``def``/``func``/``fn`` ... starts; braces or indentation
give the end). A file the scan cannot read simply has no definitions: its regions are then
windows around the evidence lines.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: a definition longer than this is shown as its header plus a window around the evidence
MAX_REGION_LINES = 150
WINDOW = 25  # lines around an evidence line outside any (small enough) definition
MERGE_GAP = 4  # regions closer than this many lines are joined
HEAD_LINES = 40  # at most this much of the file's head (imports, constants)
MARK = "⋮"


@dataclass(frozen=True)
class Definition:
    """``name`` defined from line ``start`` (decorators included) to ``end`` (1-based,
    inclusive); ``header`` is the last line of its signature; ``depth`` its nesting."""

    name: str
    kind: str  # "class" | "def"
    start: int
    end: int
    header: int
    depth: int = 0


# -- finding definitions ----------------------------------------------------------------


def definitions(path: str, text: str) -> list[Definition]:
    """The definitions in ``text`` (the content of ``path``), in order of their start."""
    if path.endswith((".py", ".pyi")):
        found = _python(text)
        if found is not None:
            return found
    return _scan(path, text)


def _python(text: str) -> list[Definition] | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    out: list[Definition] = []

    def visit(body: Iterable[ast.stmt], depth: int) -> None:
        for node in body:
            if depth == 0 and isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):  # a module constant, e.g. a template
                        end = node.end_lineno or node.lineno
                        out.append(Definition(target.id, "var", node.lineno, end, node.lineno))
                continue
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([d.lineno for d in node.decorator_list] + [node.lineno])
                header = node.body[0].lineno - 1 if node.body else node.lineno
                header = max(node.lineno, header)
                kind = "class" if isinstance(node, ast.ClassDef) else "def"
                end = node.end_lineno or node.lineno
                out.append(Definition(node.name, kind, start, end, header, depth))
                visit(node.body, depth + 1)
            elif isinstance(node, ast.If | ast.Try | ast.With | ast.For | ast.While):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        visit([n for n in inner if isinstance(n, ast.stmt)], depth)
                        for h in inner:
                            if isinstance(h, ast.ExceptHandler):
                                visit(h.body, depth)

    visit(tree.body, 0)
    return sorted(out, key=lambda d: (d.start, d.depth))


_KEYWORDS = frozenset(
    "if for while switch catch return function else do try with new typeof await yield "
    "match loop unsafe sizeof when".split()
)
_STARTS = [
    # JavaScript / TypeScript
    re.compile(
        r"^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)"
    ),
    re.compile(r"^\s*(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+([A-Za-z_$][\w$]*)"),
    re.compile(
        r"^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*"
        r"(?:async\s+)?(?:function\b|\([^)]*\)\s*(?::[^=]+)?=>|[A-Za-z_$][\w$]*\s*=>)"
    ),
    re.compile(
        r"^\s+(?:public\s+|private\s+|protected\s+|static\s+|async\s+|get\s+|set\s+|"
        r"override\s+|readonly\s+)*\*?([A-Za-z_$][\w$]*)\s*\([^;]*\)\s*(?::\s*[^{;]+)?\{\s*$"
    ),
    # Go
    re.compile(r"^func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)"),
    re.compile(r"^type\s+([A-Za-z_]\w*)\s+(?:struct|interface)\b"),
    # Rust
    re.compile(r"^\s*(?:pub(?:\([\w:]+\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?"
               r"(?:extern\s+\"\w+\"\s+)?fn\s+([A-Za-z_]\w*)"),
    re.compile(
        r"^\s*(?:pub(?:\([\w:]+\))?\s+)?(?:struct|enum|trait|union|mod)\s+([A-Za-z_]\w*)"
    ),
    re.compile(r"^\s*impl(?:<[^>]*>)?\s+(?:[\w:<>, ]+\s+for\s+)?([A-Za-z_]\w*)"),
    # Java, C#, Kotlin, Scala, PHP
    re.compile(
        r"^\s*(?:[\w@]+\s+)*(?:class|interface|enum|record|object|trait)\s+([A-Za-z_]\w*)"
    ),
    re.compile(r"^\s*(?:[\w@]+\s+)*(?:fun|def|function)\s+([A-Za-z_]\w*)"),
    re.compile(
        r"^\s+(?:(?:public|private|protected|static|final|abstract|synchronized|override|"
        r"virtual|internal|async)\s+)+[\w<>\[\],.? ]+\s+([A-Za-z_]\w*)\s*\([^;]*$"
    ),
    # Ruby, Python-like fallbacks
    re.compile(r"^\s*def\s+(?:self\.)?([A-Za-z_]\w*[?!]?)"),
    re.compile(r"^\s*(?:class|module)\s+([A-Z]\w*)"),
]
_SCAN_SUFFIXES = (
    ".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".go", ".rs", ".java", ".kt", ".kts",
    ".scala", ".cs", ".php", ".rb", ".swift", ".c", ".h", ".cc", ".cpp", ".hpp", ".py",
)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _brace_end(lines: Sequence[str], i: int, limit: int = 3000) -> int | None:
    """The line (0-based) where the braces opened at/after line ``i`` close; None if no
    brace opens within a few lines or they never close."""
    depth = 0
    opened = False
    for j in range(i, min(len(lines), i + limit)):
        line = re.sub(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"|`[^`]*`", "", lines[j])
        line = line.split("//", 1)[0]
        for c in line:
            if c == "{":
                depth += 1
                opened = True
            elif c == "}":
                depth -= 1
                if opened and depth <= 0:
                    return j
        if not opened and j >= i + 3:
            return None
    return None


def _scan(path: str, text: str) -> list[Definition]:
    if not path.endswith(_SCAN_SUFFIXES):
        return []
    lines = text.split("\n")
    starts: list[tuple[int, str, str]] = []
    for i, line in enumerate(lines[:50_000]):
        if not line.strip() or line.lstrip().startswith(("//", "#", "*", "/*")):
            continue
        for rx in _STARTS:
            m = rx.match(line)
            if m and m.group(1) not in _KEYWORDS:
                kind = "class" if re.search(r"\b(class|struct|interface|enum|trait|impl|"
                                            r"module|object|record|type)\b", line) else "def"
                starts.append((i, m.group(1), kind))
                break
    out: list[Definition] = []
    ruby = path.endswith(".rb")
    for n, (i, name, kind) in enumerate(starts):
        end = None if ruby else _brace_end(lines, i)
        if end is None:  # indentation: up to the next line at the same or a lower indent
            base = _indent(lines[i])
            end = i
            for j in range(i + 1, min(len(lines), i + 3000)):
                if not lines[j].strip():
                    continue
                if _indent(lines[j]) <= base:
                    end = j if ruby and lines[j].strip().startswith("end") else j - 1
                    break
                end = j
            else:
                end = len(lines) - 1 if n + 1 >= len(starts) else starts[n + 1][0] - 1
        out.append(Definition(name, kind, i + 1, max(i, end) + 1, i + 1, _indent(lines[i])))
    # depth: how many earlier definitions contain this one
    result = []
    for d in out:
        depth = sum(1 for o in out if o is not d and o.start <= d.start and o.end >= d.end
                    and (o.start, -o.end) < (d.start, -d.end))
        result.append(Definition(d.name, d.kind, d.start, d.end, d.header, depth))
    return result


# -- choosing and rendering regions -------------------------------------------------------


def innermost(defs: Sequence[Definition], line: int) -> Definition | None:
    """The smallest definition containing ``line``."""
    best = None
    for d in defs:
        if d.start <= line <= d.end and (best is None or d.end - d.start < best.end - best.start):
            best = d
    return best


def enclosing(defs: Sequence[Definition], span: tuple[int, int]) -> list[Definition]:
    """Definitions that contain ``span`` strictly (their header lines frame the region)."""
    a, b = span
    return [d for d in defs if d.start < a and d.end >= b]


def _span_for(
    defs: Sequence[Definition], d: Definition, focus: int | None
) -> list[tuple[int, int]]:
    """Spans showing ``d``: whole when small enough; else its header, plus a window around
    ``focus`` widened to the whole small definition inside ``d`` that holds it."""
    if d.end - d.start + 1 <= MAX_REGION_LINES:
        return [(d.start, d.end)]
    spans = [(d.start, d.header)]
    if focus is None and d.kind == "class":
        return spans  # a large class: its header (the map lists its methods)
    if focus is not None:
        lo = max(d.start, focus - WINDOW)
        hi = min(d.end, focus + WINDOW)
        small = [x for x in defs if x is not d and d.start <= x.start and x.end <= d.end
                 and x.end - x.start + 1 <= MAX_REGION_LINES]
        inner = innermost(small, focus)
        if inner is not None:
            lo, hi = min(lo, inner.start), max(hi, inner.end)
        spans.append((lo, hi))
    else:
        spans.append((d.start, min(d.end, d.header + MAX_REGION_LINES // 2)))
    return spans


def choose(
    total_lines: int,
    defs: Sequence[Definition],
    lines_of_interest: Sequence[int],
    symbols: Sequence[str],
) -> list[list[tuple[int, int]]]:
    """Candidate regions, most wanted first: one list of line spans (1-based, inclusive) per
    piece of evidence — lines first (in the given order), then definitions named by
    ``symbols`` (in that order)."""
    wanted: list[list[tuple[int, int]]] = []
    for line in lines_of_interest:
        if not 1 <= line <= total_lines:
            continue
        d = innermost(defs, line)
        if d is None:
            wanted.append([(max(1, line - WINDOW), min(total_lines, line + WINDOW))])
        else:
            wanted.append(_span_for(defs, d, line))
    by_name: dict[str, list[Definition]] = {}
    for d in defs:
        by_name.setdefault(d.name, []).append(d)
    for name in symbols:
        for d in by_name.get(name, [])[:3]:
            wanted.append(_span_for(defs, d, None))
    return wanted


def uses(
    lines: Sequence[str], defs: Sequence[Definition], names: Sequence[str], per_name: int = 4
) -> list[int]:
    """Lines (1-based) that use one of ``names`` outside its own definition line: where a
    function the evidence names is called is often where the bug is."""
    out: list[int] = []
    starts = {(d.name, d.start) for d in defs}
    for name in names[:12]:
        rx = re.compile(rf"(?<![\w$]){re.escape(name)}(?![\w$])")
        found = 0
        for i, line in enumerate(lines, 1):
            if rx.search(line) and (name, i) not in starts and not _defines(line, name):
                out.append(i)
                found += 1
                if found >= per_name:
                    break
    return out


def callees(
    lines: Sequence[str], defs: Sequence[Definition], spans: Sequence[tuple[int, int]]
) -> list[str]:
    """Names of this file's functions and classes that the lines of ``spans`` call (a class
    is called to construct it), in order."""
    own = {d.name for d in defs if d.kind in ("def", "class")}
    out: list[str] = []
    for a, b in spans:
        for line in lines[a - 1 : b]:
            for name in re.findall(r"([A-Za-z_$][\w$]*)\s*\(", line):
                if name in own and name not in out and not _defines(line, name):
                    out.append(name)
    return out


def _defines(line: str, name: str) -> bool:
    return bool(re.match(rf"\s*(?:async\s+)?(?:def|class|function|func|fn)\s+{re.escape(name)}\b",
                         line))


def merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + MERGE_GAP:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def head_span(lines: Sequence[str], defs: Sequence[Definition]) -> tuple[int, int] | None:
    """The file's head — imports and constants before the first definition, at most
    :data:`HEAD_LINES` lines."""
    first = min((d.start for d in defs), default=len(lines) + 1)
    end = min(first - 1, HEAD_LINES, len(lines))
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    return (1, end) if end >= 1 else None


def render(
    lines: Sequence[str], spans: Sequence[tuple[int, int]], defs: Sequence[Definition]
) -> str:
    """The text of ``spans`` (merged first) with the header lines of their enclosing
    definitions and a marker for every stretch left out."""
    shown: list[tuple[int, int]] = []
    for span in spans:
        shown.append(span)
        for d in enclosing(defs, span):
            shown.append((d.start, d.header))
    merged = merge(shown)
    out: list[str] = []
    at = 1
    total = len(lines)
    for a, b in merged:
        if a > at:
            out.append(_marker(at, a - 1))
        out.extend(lines[a - 1 : b])
        at = b + 1
    if at <= total:
        out.append(_marker(at, total))
    return "\n".join(out)


def _marker(a: int, b: int) -> str:
    return f"{MARK} (line {a} not shown)" if a == b else f"{MARK} (lines {a}-{b} not shown)"
