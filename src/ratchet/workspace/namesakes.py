"""The function a failing test is named after: ``test_pre_init_with_kw_only`` points at the code
whose identifiers spell ``pre_init`` and ``kw_only`` (``pre_init_args``, ``call_pre_init``),
even when neither the task nor the test's body names it. Pure but for the reads it is given."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from ratchet.workspace import regions
from ratchet.workspace.ranking import SOURCE_SUFFIXES, is_test_path
from ratchet.workspace.reader import HUGE_BYTES, Reader

FRAGMENT_TESTS = 3  # failing tests whose names' compounds point at a function
FRAGMENT_FILES = 8  # ranked source files searched for it

#: words that do not join a compound in a test's name (``test_pre_init_with_kw_only``)
_JOINERS = frozenset("test tests with without and or of the a an to in on for by is are when "
                     "if not no should can does do from into at as its it".split())
MAX_FRAGMENT_LINES = 30  # lines of one definition that the fragments of a test name mark


def name_fragments(test_name: str) -> frozenset[str]:
    """The compounds of a snake_case test name as code spells them: adjacent words that no
    joining word separates (``test_pre_init_with_mixture_of_defaults_and_kw_only`` →
    ``pre_init``, ``kw_only``). Prose names (``it("adds two")``) have none."""
    words = [w for w in test_name.lower().split("_") if w]
    return frozenset(
        f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)
        if a not in _JOINERS and b not in _JOINERS and not a.isdigit() and not b.isdigit()
    )


def fragment_uses(
    lines: Sequence[str], defs: Sequence[regions.Definition], fragments: frozenset[str]
) -> tuple[int, int, list[int]]:
    """The function whose body spells most of ``fragments`` in its identifiers (``pre_init``
    in ``pre_init_args``, ``call_pre_init``): (distinct fragments, lines holding one, those
    lines, at most :data:`MAX_FRAGMENT_LINES`; a nested function's lines are its own); (0, 0,
    []) when none spells two. What a test is named after is often the code it exercises,
    even when nothing there is named like the test."""
    if len(fragments) < 2:
        return 0, 0, []
    wrapped = {f"_{f}_" for f in fragments}
    best: tuple[int, int, list[int]] = (0, 0, [])
    for d in defs:
        if d.kind != "def":
            continue
        # a nested function's lines count for it, not for the one around it
        inner = [(o.start, o.end) for o in defs
                 if o is not d and o.kind == "def" and d.start < o.start and o.end <= d.end]
        found: set[str] = set()
        hits, marked = 0, []
        for i in range(d.start, min(d.end, len(lines)) + 1):
            if any(a <= i <= b for a, b in inner):
                continue
            here = {w for ident in _IDENT.findall(lines[i - 1]) for w in wrapped
                    if w in f"_{ident.lower()}_"}
            if here:
                found |= here
                hits += 1
                marked.append(i)
        if len(found) >= 2 and (len(found), hits) > best[:2]:
            best = (len(found), hits, marked[:MAX_FRAGMENT_LINES])
    return best



_IDENT = re.compile(r"[A-Za-z_]\w*")


def lines(reader: Reader, ranked: Sequence[str], test_names: Sequence[str]) -> Iterator[
    tuple[str, int]
]:
    """(path, line) for each of the first failing tests: the lines of the function in the
    first ranked source files whose identifiers spell most compounds of the test's name."""
    sources = [p for p in ranked if p.endswith(SOURCE_SUFFIXES) and not is_test_path(p)]
    texts: dict[str, tuple[list[str], list[regions.Definition]]] = {}
    for name in list(dict.fromkeys(test_names))[:FRAGMENT_TESTS]:
        fragments = name_fragments(name)
        if len(fragments) < 2:
            continue
        best: tuple[int, int, list[int]] = (0, 0, [])
        where = ""
        for path in sources[:FRAGMENT_FILES]:
            if path not in texts:
                f = reader.read(path, HUGE_BYTES, allow_head=True, count=False)
                text = f.text if f is not None else ""
                texts[path] = (text.split("\n"), regions.definitions(path, text))
            found = fragment_uses(*texts[path], fragments)
            if found[:2] > best[:2]:
                best, where = found, path
        for line in best[2]:
            yield where, line
