"""A map of the repository's symbols: which file defines which class or function, and a
compact outline per file for the prompt.

One regular-expression pass per file (``def``/``class``/``function``/``func``/``fn``/``struct``
... at the start of a line), over a bounded number of files and bytes, so it costs tens of
milliseconds on a large repository. The outline shows, per file, its top-level definitions and
the methods of its classes, in file order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

MAX_SCAN_BYTES = 96 * 1024  # of each file
_DEF = re.compile(
    r"^(?P<indent>[ \t]*)(?:export\s+)?(?:default\s+)?(?:pub(?:\([\w:]+\))?\s+)?"
    r"(?:(?:public|private|protected|static|abstract|final)\s+)*(?:async\s+)?"
    r"(?P<kind>def|class|function\*?|func|fn|struct|enum|trait|interface|module|impl)\s+"
    r"(?:\([^)\n]*\)\s*)?(?P<name>[A-Za-z_$][\w$]*)(?P<rest>[^\n]{0,120})",
    re.M,
)
_CONSTANT = re.compile(
    r"^(?:export\s+)?(?:(?:const|let|var|static|pub\s+const|pub\s+static)\s+)?"
    r"(?P<name>[A-Z_][A-Z0-9_]{2,})\s*(?::[^=\n]+)?=(?!=)",
    re.M,
)
#: where an exception is raised or thrown: ``raise X(`` / ``raise pkg.X`` / ``throw new X(``
_RAISE = re.compile(
    r"(?<![\w$.])(?:raise|throw\s+new)\s+(?:[A-Za-z_$][\w$]*\.)*(?P<name>[A-Za-z_$][\w$]*)"
)
_CLASSY = frozenset({"class", "struct", "enum", "trait", "interface", "module", "impl"})


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: str
    line: int
    indent: int
    signature: str  # the rest of the defining line, shortened


@dataclass
class SymbolMap:
    """``files``: path → its symbols in order; ``defined_in``: name → paths, in scan order;
    ``raised_in``: exception name → (path, line) of the statements raising it, in scan order."""

    files: dict[str, list[Symbol]] = field(default_factory=dict)
    defined_in: dict[str, list[str]] = field(default_factory=dict)
    raised_in: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def add(self, path: str, text: str) -> None:
        symbols: list[Symbol] = []
        head = text[:MAX_SCAN_BYTES]
        for m in _DEF.finditer(head):
            line = head.count("\n", 0, m.start()) + 1
            indent = len(m["indent"].expandtabs(4))
            sig = _signature(m["kind"], m["rest"])
            symbols.append(Symbol(m["name"], m["kind"], line, indent, sig))
            paths = self.defined_in.setdefault(m["name"], [])
            if path not in paths:
                paths.append(path)
        for m in _CONSTANT.finditer(head):  # module constants: names only, not in the outline
            paths = self.defined_in.setdefault(m["name"], [])
            if path not in paths:
                paths.append(path)
        for m in _RAISE.finditer(head):
            sites = self.raised_in.setdefault(m["name"], [])
            if len(sites) < 20:
                sites.append((path, head.count("\n", 0, m.start()) + 1))
        self.files[path] = symbols

    def definers(self, names: Iterable[str], limit: int = 3) -> list[tuple[str, str]]:
        """(path, name) of the files defining each of ``names`` (skipping names defined in
        more than ``limit`` files: too common to point anywhere), in the names' order."""
        out: list[tuple[str, str]] = []
        for name in names:
            paths = self.defined_in.get(name, [])
            if 0 < len(paths) <= limit:
                out += [(p, name) for p in paths]
        return out

    def raisers(self, names: Iterable[str], limit: int = 4) -> list[tuple[str, int, str]]:
        """(path, line, name) of the statements raising each of ``names``, at most ``limit``
        per name (skipping names raised in more places: too common to point anywhere)."""
        out: list[tuple[str, int, str]] = []
        for name in names:
            sites = self.raised_in.get(name, [])
            if 0 < len(sites) <= limit:
                out += [(p, line, name) for p, line in sites]
        return out

    def outline(self, paths: Iterable[str], limit: int) -> str:
        """One line per file: its definitions, methods nested in their class."""
        lines: list[str] = []
        size = 0
        for path in paths:
            symbols = self.files.get(path)
            if not symbols:
                continue
            line = f"{path}: {_file_outline(symbols)}"
            if len(line) > 400:  # not sanitize.clip: 397 characters and "…" (398, not 400),
                line = line[:397] + "…"  # as the outlines in prompts have always been cut
            if size + len(line) + 1 > limit:
                break
            lines.append(line)
            size += len(line) + 1
        return "\n".join(lines)


def _signature(kind: str, rest: str) -> str:
    if kind in _CLASSY:
        base = re.match(r"\s*(\([^)]*\)|<[^>]*>|\s+extends\s+[\w.]+)", rest)
        return base.group(1).strip() if base else ""
    args = re.match(r"\s*(\([^)]*\)?)", rest)
    if not args:
        return ""
    text = args.group(1)
    # not sanitize.clip: the ellipsis goes inside the parentheses, so the signature stays closed
    return text if len(text) <= 60 else text[:57] + "…)"


def _file_outline(symbols: list[Symbol]) -> str:
    parts: list[str] = []
    stack: list[tuple[int, list[str]]] = []  # (class indent, its member parts)
    for s in symbols:
        while stack and s.indent <= stack[-1][0]:
            stack.pop()
        label = f"{s.name}{s.signature}" if s.kind not in _CLASSY else f"{s.kind} {s.name}"
        if stack:
            stack[-1][1].append(s.name)
            continue
        if s.kind in _CLASSY:
            members: list[str] = []
            parts.append((label, members))  # type: ignore[arg-type]
            stack.append((s.indent, members))
        else:
            parts.append(label)
    rendered = []
    for part in parts:
        if isinstance(part, tuple):
            label, members = part
            shown = ", ".join(members[:12]) + (", …" if len(members) > 12 else "")
            rendered.append(f"{label}({shown})" if members else label)
        else:
            rendered.append(part)
    return "; ".join(rendered)


def build(texts: Mapping[str, str]) -> SymbolMap:
    symbols = SymbolMap()
    for path, text in texts.items():
        symbols.add(path, text)
    return symbols
