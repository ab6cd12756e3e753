"""The edit engine on the two defects edits from real commits showed, as table and property
tests: blank lines the model left out of SEARCH (and REPLACE) are the file's, and stay; a typo
in a line the edit removes is not "already applied" while the old block is still there.

The property tests generate edits from code written for them (seeded, so a failure repeats):
each edit changes one line of a span; the model's copy of the span drops blank lines or has a
one-character slip. The engine must then either produce exactly the file with that one change
(no line outside the change touched, blank lines included) or refuse — never anything else."""

from __future__ import annotations

import random

import pytest

from ratchet.edits import apply_edits, apply_edits_with_stages
from ratchet.errors import EditError

INIT = '''"""A command-line toolkit."""

from .core import Argument as Argument
from .core import Command as Command
from .decorators import option as option


__version__ = "8.1.7"


def __getattr__(name: str) -> object:
    import warnings

    if name == "BaseCommand":
        warnings.warn("BaseCommand is deprecated", DeprecationWarning, stacklevel=2)
        return Command

    raise AttributeError(name)
'''


def test_blank_lines_both_sides_left_out_stay_in_the_file() -> None:
    # SEARCH and REPLACE both omit the two blank lines before __version__
    search = 'from .decorators import option as option\n__version__ = "8.1.7"\n'
    replace = 'from .decorators import option as option\n__version__ = "8.2.0"\n'
    after, stages = apply_edits_with_stages("click/__init__.py", INIT, [(search, replace)])
    assert after == INIT.replace('"8.1.7"', '"8.2.0"')
    assert stages == ["blank_lines"]


@pytest.mark.parametrize(
    ("search", "replace"),
    [
        # SEARCH keeps one of the two blank lines, REPLACE the same: the file keeps two
        ('option as option\n\n__version__ = "8.1.7"\n',
         'option as option\n\n__version__ = "8.2.0"\n'),
        # SEARCH keeps one, REPLACE copies the file's two: still two, not three
        ('option as option\n\n__version__ = "8.1.7"\n',
         'option as option\n\n\n__version__ = "8.2.0"\n'),
        # SEARCH keeps none, REPLACE copies the file's two
        ('option as option\n__version__ = "8.1.7"\n',
         'option as option\n\n\n__version__ = "8.2.0"\n'),
    ],
)
def test_partial_blank_runs_take_the_files_layout(search: str, replace: str) -> None:
    search = "from .decorators import " + search
    replace = "from .decorators import " + replace
    assert apply_edits("click/__init__.py", INIT, [(search, replace)]) == INIT.replace(
        '"8.1.7"', '"8.2.0"'
    )


def test_replace_may_still_change_the_blank_lines_on_purpose() -> None:
    search = 'option as option\n\n\n__version__ = "8.1.7"\n'
    replace = 'option as option\n\n__version__ = "8.1.7"\n'  # exact SEARCH: one blank removed
    after = apply_edits("m.py", INIT, [("from .decorators import " + search,
                                        "from .decorators import " + replace)])
    assert 'option as option\n\n__version__' in after


def test_a_typo_in_a_removed_line_is_not_already_applied() -> None:
    # the edit removes the deprecated branch; SEARCH has a slip in a line it removes
    search = (
        '    if name == "BaseCommand":\n'
        '        warnings.warn("BaseCommand is deprecatd", DeprecationWarning, stacklevel=2)\n'
        "        return Command\n"
        "\n"
        "    raise AttributeError(name)\n"
    )
    replace = "    raise AttributeError(name)\n"
    after = apply_edits("click/__init__.py", INIT, [(search, replace)])
    assert "BaseCommand" not in after and after.endswith("    import warnings\n\n"
                                                          "    raise AttributeError(name)\n")


def test_a_resent_edit_is_still_already_applied() -> None:
    once = apply_edits("m.py", INIT, [('__version__ = "8.1.7"\n', '__version__ = "8.2.0"\n')])
    with pytest.raises(EditError) as err:
        apply_edits("m.py", once, [('__version__ = "8.1.7"\n', '__version__ = "8.2.0"\n')])
    assert err.value.category == "already_applied"
    # and with a slip in the re-sent SEARCH
    slipped = ('from .decorators import option as opton\n\n\n__version__ = "8.1.7"\n',
               'from .decorators import option as option\n\n\n__version__ = "8.2.0"\n')
    with pytest.raises(EditError) as err:
        apply_edits("m.py", once, [slipped])
    assert err.value.category == "already_applied"


# --------------------------------------------------------------------------- properties

CODE = [
    "import os",
    "import sys",
    "",
    "",
    "DEFAULT_TIMEOUT = 30",
    "",
    "",
    "class Client:",
    '    """Talks to the server."""',
    "",
    "    retries = 3",
    "",
    "    def __init__(self, url, timeout=DEFAULT_TIMEOUT):",
    "        self.url = url.rstrip('/')",
    "        self.timeout = timeout",
    "",
    "",
    "    def get(self, path):",
    "        full = self.url + '/' + path.lstrip('/')",
    "        for attempt in range(self.retries):",
    "            response = self._send('GET', full)",
    "",
    "            if response.ok:",
    "                return response",
    "        raise RuntimeError(f'gave up on {full}')",
    "",
    "    def _send(self, method, url):",
    "        return os.environ.get('FAKE_RESPONSE', method + ' ' + url)",
    "",
    "",
    "def main(argv=None):",
    "    argv = sys.argv[1:] if argv is None else argv",
    "",
    "    client = Client(argv[0])",
    "    print(client.get(argv[1]))",
]


def _spans(rng: random.Random) -> tuple[int, int]:
    content = [i for i, line in enumerate(CODE) if line.strip()]
    a = rng.randrange(len(content) - 2)
    b = min(len(content) - 1, a + rng.randint(1, 4))
    return content[a], content[b] + 1


@pytest.mark.parametrize("seed", range(8))
def test_blank_lines_left_out_never_move_or_vanish(seed: int) -> None:
    rng = random.Random(seed)
    text = "\n".join(CODE) + "\n"
    checked = 0
    for _ in range(150):
        start, end = _spans(rng)
        span = CODE[start:end]
        blanks = [i for i, line in enumerate(span) if not line.strip()]
        if not blanks:
            continue
        target = rng.choice([i for i, line in enumerate(span) if line.strip()])
        changed = list(span)
        changed[target] = span[target] + "  # reviewed"
        dropped = set(rng.sample(blanks, rng.randint(1, len(blanks))))
        search = [line for i, line in enumerate(span) if i not in dropped]
        mode = rng.choice(["both", "search_only"])
        replace = [line for i, line in enumerate(changed) if i not in dropped or mode != "both"]
        expected = "\n".join(CODE[:start] + changed + CODE[end:]) + "\n"
        try:
            after = apply_edits("client.py", text, [("\n".join(search) + "\n",
                                                     "\n".join(replace) + "\n")])
        except EditError as exc:
            assert exc.category in ("ambiguous", "not_found"), exc
            continue
        assert after == expected, (search, replace)
        checked += 1
    assert checked > 60


@pytest.mark.parametrize("seed", range(8))
def test_a_slip_in_a_removed_line_is_never_already_applied(seed: int) -> None:
    rng = random.Random(100 + seed)
    text = "\n".join(CODE) + "\n"
    applied = 0
    for _ in range(150):
        start, end = _spans(rng)
        span = CODE[start:end]
        victims = [i for i, line in enumerate(span) if len(line.strip()) > 10]
        if not victims:
            continue
        v = rng.choice(victims)
        new = list(span)
        if rng.random() < 0.5:
            del new[v]
        else:
            new[v] = span[v].replace("self", "this", 1) + "  # reworked"
        slip = list(span)
        at = rng.randrange(len(span[v]) - len(span[v].lstrip()), len(span[v]))
        slip[v] = span[v][:at] + ("q" if span[v][at] != "q" else "z") + span[v][at + 1 :]
        search, replace = "\n".join(slip) + "\n", "\n".join(new) + "\n"
        if not "\n".join(new).strip():
            continue
        try:
            after = apply_edits("client.txt", text, [(search, replace)])
        except EditError as exc:
            assert exc.category != "already_applied", (search, replace)
            continue
        assert after == "\n".join(CODE[:start] + new + CODE[end:]) + "\n", (search, replace)
        applied += 1
    assert applied > 40
