"""The edit engine on the defects benchmarks/bench_edits.py found on edits from real commits
(hunks of well-known Python projects with the mistakes models make), as table tests on code
written for them. Each case names the shape of the real hunk it stands for."""

from __future__ import annotations

import pytest

from ratchet.edits import apply_edits, apply_edits_with_stages
from ratchet.errors import EditError

PACKAGE_INIT = '''"""A toolkit for command-line programs."""

__version__ = "0.15.4"

from shutil import get_terminal_size as get_terminal_size

from . import colors as colors
'''


def test_a_trailing_blank_replace_keeps_is_not_written_twice() -> None:
    # a version bump: SEARCH left out every blank line, REPLACE kept them all, the one after
    # its last line included (the file's own, outside the lines SEARCH matched)
    search = ('"""A toolkit for command-line programs."""\n__version__ = "0.15.4"\n'
              "from shutil import get_terminal_size as get_terminal_size\n")
    replace = ('"""A toolkit for command-line programs."""\n\n__version__ = "0.16.0"\n\n'
               "from shutil import get_terminal_size as get_terminal_size\n\n")
    after, stages = apply_edits_with_stages("pkg/__init__.py", PACKAGE_INIT, [(search, replace)])
    assert stages == ["blank_lines"]
    assert after == PACKAGE_INIT.replace("0.15.4", "0.16.0")
