"""What the evidence points at: file lines and code names, most telling first.

* **Locations** from the failing test output: Python tracebacks (``File "x.py", line 12, in f``),
  pytest's short form (``src/x.py:12: in f``, ``x.py:12: AssertionError``), JavaScript stacks
  (``at f (src/a.js:10:5)``), Go, Rust and compiler ``path:line:col`` lines. The deepest frame of
  a traceback is the most telling, so each traceback is read innermost first.
* **Names**: the functions of those frames; what the failing tests call (their bodies: Python
  via :mod:`ast`, other languages by a scan of the test's block); names in the task text that
  look like code (``snake_case``, ``camelCase``, ``Dotted.names``, ``backticked``, ``call()``).

Pure: the caller passes the text of the test files it has read.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

_PY_FRAME = re.compile(r'File "(?P<path>[^"\n]+)", line (?P<line>\d+)(?:, in (?P<func>[\w<>.]+))?')
_PYTEST_FRAME = re.compile(
    r"^(?P<path>[\w./\\@+-]+\.py):(?P<line>\d+):(?: in (?P<func>[\w<>.]+)| \w+)", re.M
)
_JS_FRAME = re.compile(
    r"\bat (?:(?:async )?(?P<func>[\w.$<>\[\] ]+?) \()?(?:file://)?(?P<path>[^\s():]+\.\w+)"
    r":(?P<line>\d+):\d+\)?"
)
_GENERIC = re.compile(
    r"(?<![\w/.-])(?P<path>(?:[\w@+-]+/)*[\w@+.-]+\.(?:py|js|jsx|ts|tsx|mjs|cjs|go|rs|java|kt|"
    r"rb|php|cs|c|h|cc|cpp|hpp|swift|scala)):(?P<line>\d+)(?::\d+)?"
)
_CODE_WORD = re.compile(r"`([^`\n]{2,80})`|\b([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+)\b|"
                        r"\b([A-Za-z_]\w*)\(|\b([a-z]+_[a-z0-9_]+|[a-z]+[A-Z]\w*|"
                        r"_[A-Za-z]\w*|[A-Z][a-z]+[A-Z]\w*)\b")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_NOT_NAMES = frozenset(dir(builtins)) | frozenset(
    "self cls assert pytest raises mark fixture param approx mock patch monkeypatch tmp_path "
    "capsys caplog expect toBe toEqual describe it test assertEqual assertTrue assertFalse "
    "assertIn assertRaises assertIsNone assertIsNotNone equal strictEqual deepEqual ok "
    "require console log setattr getattr t Fatal Fatalf Errorf Error Run assert_eq assert_ne "
    "unwrap expect_err new to from into clone len push join format str list dict set "
    "return await async function const let var".split()
)


@dataclass
class Evidence:
    """``lines``: path → line numbers (most telling first); ``names``: code names in order."""

    lines: dict[str, list[int]] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    #: names from tracebacks and the task (where they are used is worth showing too)
    strong: list[str] = field(default_factory=list)
    #: names the task writes as code (`name`, name(), a.b): their definitions rank high
    task_names: list[str] = field(default_factory=list)
    #: exceptions a failing test expects (``pytest.raises(X)``, ``assertRaises(X)``,
    #: ``toThrow(X)``): where the code raises them is likely where it fails to
    expected: list[str] = field(default_factory=list)

    def add_line(self, path: str, line: int) -> None:
        seen = self.lines.setdefault(path, [])
        if line not in seen:
            seen.append(line)

    def add_name(self, name: str, strong: bool = False) -> None:
        name = name.strip()
        if not name or name in _NOT_NAMES or len(name) < 2:
            return
        if name not in self.names:
            self.names.append(name)
        if strong and name not in self.strong:
            self.strong.append(name)


Resolve = Callable[[str], list[str]]


def _tracebacks(output: str) -> list[list[re.Match[str]]]:
    """Python frames grouped per traceback, in order."""
    groups: list[list[re.Match[str]]] = []
    current: list[re.Match[str]] = []
    for line in output.splitlines():
        if line.startswith("Traceback (most recent call last)") and current:
            groups.append(current)
            current = []
        m = _PY_FRAME.search(line)
        if m:
            current.append(m)
    if current:
        groups.append(current)
    return groups


_SECTION = re.compile(r"^_{3,} (?P<title>.+?) _{3,}$", re.M)


def _sections(text: str, task_words: set[str]) -> list[tuple[int, str]]:
    """The output split into pytest's per-failure sections (``____ test_x ____``) with the
    number of words each test's name shares with the task, those sharing most first; the whole
    text (score 0) if there are no sections."""
    marks = list(_SECTION.finditer(text))
    if not marks:
        return [(0, text)]
    parts = [(0, text[: marks[0].start()])] if marks[0].start() else []
    scored = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        score = len(words_of(m["title"]) & task_words) if task_words else 0
        scored.append((-score, i, text[m.start() : end]))
    return [(-neg, p) for neg, _i, p in sorted(scored)] + parts


def from_output(
    output: str, resolve: Resolve, evidence: Evidence | None = None, task: str = ""
) -> Evidence:
    """Locations and frame names in failing test output (``resolve`` maps a path as printed
    to tracked paths). Failures whose test name shares words with ``task`` come first; when
    some do, the others' frames are weak evidence (names, not lines): they are often the
    environment's (no network in the sandbox), not the bug's."""
    ev = evidence or Evidence()
    text = output[-200_000:]
    sections = _sections(text, words_of(task) if task else set())
    relevant = any(score > 0 for score, _s in sections)
    for score, section in sections:
        weak = relevant and score == 0
        _section_frames(section, resolve, ev, weak)
    return ev


def _section_frames(section: str, resolve: Resolve, ev: Evidence, weak: bool) -> None:
    frames: list[tuple[str, int, str]] = []
    for group in _tracebacks(section):
        frames += [(m["path"], int(m["line"]), m["func"] or "") for m in reversed(group)]
    found = list(_PYTEST_FRAME.finditer(section))
    frames += [(m["path"], int(m["line"]), m["func"] or "") for m in reversed(found)]
    for m in _JS_FRAME.finditer(section):
        func = (m["func"] or "").split(".")[-1].strip()
        frames.append((m["path"], int(m["line"]), func))
    for m in _GENERIC.finditer(section):
        frames.append((m["path"], int(m["line"]), ""))
    for path, line, func in frames:
        if not weak:
            for p in resolve(path):
                ev.add_line(p, line)
        if func and not func.startswith("<") and not func.startswith(("test_", "test")):
            ev.add_name(func.split(".")[-1], strong=not weak)


def by_relevance(test_ids: Sequence[str], task: str) -> list[str]:
    """``test_ids`` with those whose names share the most words with ``task`` first."""
    wanted = words_of(task)
    return [t for _s, _i, t in sorted(
        (-len(words_of(t.split("::", 1)[-1]) & wanted), i, t) for i, t in enumerate(test_ids)
    )]


def from_task(task_text: str, evidence: Evidence | None = None) -> Evidence:
    """Code-looking names in the task's prose."""
    ev = evidence or Evidence()
    for m in _CODE_WORD.finditer(task_text[:20_000]):
        raw = next(g for g in m.groups() if g)
        for part in _IDENT.findall(raw)[-2:]:
            ev.add_name(part, strong=True)
            if part in ev.names and part not in ev.task_names:
                ev.task_names.append(part)
    return ev


_EXPECTS = frozenset({"raises", "assertRaises", "assertRaisesRegex", "assertRaisesRegexp"})
_JS_EXPECTS = re.compile(r"\.(?:toThrow|toThrowError|rejects\.toThrow)\(\s*([A-Z][\w$]*)")


def _expected(call: ast.Call) -> str | None:
    """``X`` of ``pytest.raises(X)`` / ``self.assertRaises(pkg.X)``, else None."""
    f = call.func
    called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
    if called not in _EXPECTS or not call.args:
        return None
    arg = call.args[0]
    first = arg.elts[0] if isinstance(arg, ast.Tuple) and arg.elts else arg
    if isinstance(first, ast.Attribute):
        return first.attr
    return first.id if isinstance(first, ast.Name) else None


def _py_test_calls(source: str, name: str, klass: str | None) -> list[str] | None:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    scopes: Iterable[ast.AST] = tree.body
    if klass:
        scopes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == klass]
        scopes = [s for c in scopes for s in c.body]  # type: ignore[attr-defined]
    for node in scopes:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            names: list[str] = []
            for sub in ast.walk(node):
                if isinstance(sub, ast.Call):
                    f = sub.func
                    expected = _expected(sub)
                    if expected is not None:
                        names.append(f"raise:{expected}")
                    if isinstance(f, ast.Name):
                        names.append(f.id)
                    elif isinstance(f, ast.Attribute):
                        names.append(f.attr)
                elif isinstance(sub, ast.Attribute):
                    names.append(sub.attr)
            return names
    return None


def _block_calls(source: str, title: str) -> list[str]:
    """Names called in the block of a test found by its title (JS, Go, Rust ...), and
    ``raise:X`` for each exception it expects thrown."""
    lines = source.split("\n")
    at = next((i for i, line in enumerate(lines) if title and title in line), None)
    if at is None:
        return []
    depth, opened, body = 0, False, []
    for line in lines[at : at + 400]:
        body.append(line)
        depth += line.count("{") - line.count("}")
        opened = opened or "{" in line
        if opened and depth <= 0:
            break
    text = "\n".join(body)
    calls = re.findall(r"\.?([A-Za-z_$][\w$]*)\s*\(", text)
    return calls + [f"raise:{x}" for x in _JS_EXPECTS.findall(text)]


def from_tests(
    failing: Sequence[str], sources: Mapping[str, str], evidence: Evidence | None = None
) -> Evidence:
    """What the failing tests call, and the exceptions they expect (as ``expected``).
    ``failing`` holds test ids (``tests/t.py::TestK::test_a[x]``, ``src/a.test.js::suite >
    name``, ``pkg::TestX``); ``sources`` the text of their files."""
    ev = evidence or Evidence()
    for test_id in failing[:20]:
        file, _, rest = test_id.partition("::")
        source = sources.get(file)
        if source is None or not rest:
            continue
        rest = rest.split("[", 1)[0]
        names: list[str] | None = None
        if file.endswith(".py"):
            parts = rest.split("::")
            names = _py_test_calls(source, parts[-1], parts[0] if len(parts) > 1 else None)
        if names is None:
            names = _block_calls(source, rest.split(" > ")[-1].split("/")[0])
        for n in names:
            if n.startswith("raise:"):
                if n[6:] not in ev.expected:
                    ev.expected.append(n[6:])
            else:
                ev.add_name(n)
    return ev


_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|_+|\W+")
_PLAIN_STOP = frozenset(
    "the and for with that this from into when then than should would could must not add "
    "fix fixes fixed make use all any are was were has have had its our your can new old get "
    "set via per one two each some more less test tests file files code bug issue task "
    "please also only just like want need does did done what which who how why where there "
    "here them they will shall may might let lets none true false self return value values "
    "data item items name names type types error errors case cases check".split()
)


def words_of(text: str) -> set[str]:
    """Lower-case words of identifiers and prose (``_format_deprecated_label`` → format,
    deprecated, label), plurals and ``-ing``/``-ed`` endings folded."""
    out = set()
    for w in _SPLIT.split(text):
        w = w.lower()
        if len(w) < 3 or not w.isalpha() or w in _PLAIN_STOP:
            continue
        for suffix in ("ing", "ed", "s"):
            if w.endswith(suffix) and not w.endswith("ss") and len(w) - len(suffix) >= 4:
                w = w[: -len(suffix)]
                break
        out.add(w)
    return out


_SUFFIXES = ("s", "es", "ed", "er", "ers", "ing", "ion", "ions", "ity", "ities", "ation",
             "ations", "ment", "ments", "ness", "able", "ible")


def _shares_stem(word: str, wanted: set[str]) -> bool:
    """``word`` and a wanted word are the same word inflected: the shorter has 5+ letters and
    the longer is it plus a common suffix (``valid`` / ``validity``, ``complete`` /
    ``completion``); ``multi`` / ``multiline`` is not."""
    if len(word) < 5:
        return False
    for w in wanted:
        short, long_ = (word, w) if len(word) <= len(w) else (w, word)
        if len(short) < 5 or long_ == short:
            continue
        for base in (short, short[:-1] if short.endswith("e") else short):
            if long_.startswith(base) and long_[len(base) :] in _SUFFIXES:
                return True
    return False


def from_words(
    texts: Sequence[str], defined: Iterable[str], evidence: Evidence | None = None, limit: int = 8
) -> Evidence:
    """Defined names whose words the task and the failing tests' names share (at least two
    words; or one, when it is a rare word among the defined names or the whole of a one-word
    name of 5+ letters), best first. Words of 5+ letters match their inflections."""
    ev = evidence or Evidence()
    wanted = set().union(*(words_of(t) for t in texts)) if texts else set()
    if not wanted:
        return ev
    names = sorted(set(defined))
    split = {name: words_of(name) for name in names}
    df: dict[str, int] = {}
    for mine in split.values():
        for w in mine:
            df[w] = df.get(w, 0) + 1
    scored: list[tuple[int, int, str, bool]] = []
    for name in names:
        mine = split[name]
        common = {m for m in mine if m in wanted or _shares_stem(m, wanted)}
        hits = len(common)
        rare = any(df.get(w, 0) <= 3 and len(w) >= 4 for w in common)
        if hits >= 2 or (hits == 1 and rare):
            scored.append((-hits, len(mine) - hits, name, True))
        elif hits == 1 and len(mine) == 1 and len(name.strip("_")) >= 5:
            scored.append((-hits, len(mine) - hits, name, False))
    for _h, _extra, name, strong in sorted(scored)[:limit]:
        ev.add_name(name, strong=strong)
    return ev
