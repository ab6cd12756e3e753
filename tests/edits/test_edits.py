"""The pure edit engine: the matching ladder, refusals and the bytes it must keep."""

from __future__ import annotations

import inspect
import json
import random
import textwrap

import pytest

from ratchet.edits import apply_edits, apply_edits_with_stages, check_path
from ratchet.errors import EditError
from ratchet.types import Edit


def refused(category: str, path: str, before: str | None, edits: list) -> EditError:
    with pytest.raises(EditError) as info:
        apply_edits(path, before, edits)
    assert info.value.category == category, str(info.value)
    assert info.value.path == check_path(path) if category != "unsafe_path" else True
    return info.value


def stage_of(path: str, before: str, edits: list) -> tuple[str, list[str]]:
    return apply_edits_with_stages(path, before, edits)


GREETER = '''\
import os


class Greeter:
    """Say hello."""

    def __init__(self, name):
        self.name = name

    def greet(self):
        msg = "Hello, " + self.name
        return msg

    def shout(self):
        return self.greet().upper()
'''


# --- input shapes ---------------------------------------------------------------------------


def test_accepts_edit_objects_mappings_and_tuples_alike() -> None:
    search, replace = '        msg = "Hello, " + self.name\n', '        msg = f"Hi {self.name}"\n'
    by_edit = apply_edits("g.py", GREETER, [Edit("ignored.py", search, replace)])
    by_map = apply_edits("g.py", GREETER, [{"path": "x", "search": search, "replace": replace}])
    by_tuple = apply_edits("g.py", GREETER, [(search, replace)])
    assert by_edit == by_map == by_tuple
    assert 'msg = f"Hi {self.name}"' in by_edit


def test_refuses_empty_batch_and_non_string_fields() -> None:
    refused("invalid", "g.py", GREETER, [])
    refused("invalid", "g.py", GREETER, [{"search": "import os", "replace": None}])
    refused("invalid", "g.py", GREETER, [("only one",)])


# --- stage 1: exact ---------------------------------------------------------------------------


def test_exact_multi_hunk_python_edit() -> None:
    after, stages = stage_of(
        "g.py",
        GREETER,
        [
            ("import os\n", "import os\nimport sys\n"),
            (
                '    def greet(self):\n        msg = "Hello, " + self.name\n        return msg\n',
                "    def greet(self, punct='!'):\n"
                '        msg = "Hello, " + self.name + punct\n'
                "        return msg\n",
            ),
            (
                "        return self.greet().upper()\n",
                "        return self.greet().upper()\n\n    def whisper(self):\n"
                "        return self.greet().lower()\n",
            ),
        ],
    )
    assert stages == ["exact", "exact", "exact"]
    assert after.startswith("import os\nimport sys\n\n\nclass Greeter:")
    assert "def greet(self, punct='!'):" in after
    assert after.endswith("    def whisper(self):\n        return self.greet().lower()\n")


def test_sub_line_fragment_is_replaced_in_place() -> None:
    after = apply_edits("g.py", GREETER, [('"Hello, "', '"Hi, "')])
    assert '        msg = "Hi, " + self.name\n' in after


def test_edits_apply_in_order_to_the_previous_result() -> None:
    after = apply_edits(
        "g.py", GREETER, [('"Hello, "', '"Hey, "'), ('msg = "Hey, "', 'msg = "Hey there, "')]
    )
    assert 'msg = "Hey there, " + self.name' in after


def test_later_search_against_pre_batch_text_is_explained() -> None:
    err = refused(
        "not_found",
        "g.py",
        GREETER,
        [
            ('        msg = "Hello, " + self.name\n', '        msg = "Yo, " + self.name\n'),
            ('        msg = "Hello, " + self.name\n        return msg\n', "        return 1\n"),
        ],
    )
    assert "Edit 2 of 2" in str(err)
    assert "before the earlier edits" in str(err)


def test_trailing_newline_mismatch_does_not_join_or_split_lines() -> None:
    src = "a = 1\nb = 2\nc = 3\n"
    assert apply_edits("m.py", src, [("b = 2", "b = 20\n")]) == "a = 1\nb = 20\nc = 3\n"
    assert apply_edits("m.py", src, [("b = 2\n", "b = 20")]) == "a = 1\nb = 20\nc = 3\n"


def test_empty_replace_deletes_whole_lines() -> None:
    src = "import os\nimport sys\nimport re\n"
    assert apply_edits("m.py", src, [("import sys\n", "")]) == "import os\nimport re\n"
    assert apply_edits("m.py", src, [("import sys", "")]) == "import os\nimport re\n"
    indented = "def f():\n    x = 1\n    y = 2\n    return x\n"
    assert apply_edits("m.py", indented, [("y = 2", "")]) == "def f():\n    x = 1\n    return x\n"


def test_unique_whole_line_hit_beats_sub_line_hits() -> None:
    src = "def f(s):\n    return result.strip()\n\ndef g():\n    return result\n"
    after = apply_edits("m.py", src, [("    return result\n", "    return result or None\n")])
    assert after.endswith("def g():\n    return result or None\n")
    assert "return result.strip()" in after


# --- ambiguity --------------------------------------------------------------------------------

DUPLICATES = """\
def load(path):
    with open(path) as fh:
        data = fh.read()
    return data


def load_backup(path):
    with open(path) as fh:
        data = fh.read()
    return data
"""


def test_duplicate_blocks_are_ambiguous_with_line_numbers() -> None:
    err = refused(
        "ambiguous",
        "io.py",
        DUPLICATES,
        [("    with open(path) as fh:\n        data = fh.read()\n", "    data = read(path)\n")],
    )
    assert "2 places" in str(err)
    assert "lines 2, 8" in str(err)
    assert "more unchanged lines" in str(err)


def test_more_context_resolves_the_duplicate() -> None:
    after = apply_edits(
        "io.py",
        DUPLICATES,
        [
            (
                "def load_backup(path):\n    with open(path) as fh:\n        data = fh.read()\n",
                "def load_backup(path):\n    with open(path, encoding='utf-8') as fh:\n"
                "        data = fh.read()\n",
            )
        ],
    )
    assert after.count("encoding='utf-8'") == 1
    assert after.index("encoding") > after.index("def load_backup")


def test_ambiguous_at_indentation_stage_is_refused_not_first_taken() -> None:
    src = (
        "class A:\n    def size(self):\n        return len(self.items)\n\n"
        "class B:\n    def size(self):\n        return len(self.items)\n"
    )
    # The model dropped the indentation: both methods match after the shift.
    err = refused(
        "ambiguous",
        "ab.py",
        src,
        [("def size(self):\n    return len(self.items)\n", "def size(self):\n    return 0\n")],
    )
    assert "lines 2, 6" in str(err)


def test_ambiguous_at_blank_line_stage() -> None:
    src = "x = 1\n\ny = 2\nz = 0\nx = 1\n\ny = 2\n"
    refused("ambiguous", "m.py", src, [("x = 1\ny = 2\n", "x = 1\ny = 3\n")])


def test_fuzzy_match_with_a_close_rival_is_ambiguous() -> None:
    block = (
        "    for item in items:\n"
        "        if item.price > limit:\n"
        "            expensive.append(item)\n"
    )
    src = "def a(items, limit, expensive):\n" + block + "\n\ndef b(items, limit, expensive):\n"
    src += block.replace("price", "prices")
    typo = block.replace("expensive.append", "expensiv.append")
    refused("ambiguous", "m.py", src, [(typo, typo.replace("append", "insert"))])


def test_batch_is_all_or_nothing_and_names_the_failing_edit() -> None:
    err = refused(
        "ambiguous",
        "io.py",
        DUPLICATES,
        [("def load(path):\n", "def load(path, mode='r'):\n"), ("    return data\n", "")],
    )
    assert str(err).startswith("Edit 2 of 2 for `io.py`")
    assert "No edit in this batch was applied" in str(err)


# --- stages 2-4: whitespace tolerance ---------------------------------------------------------


def test_model_adds_trailing_spaces() -> None:
    after, stages = stage_of(
        "g.py",
        GREETER,
        [
            (
                '    def greet(self):  \n        msg = "Hello, " + self.name \n',
                '    def greet(self):  \n        msg = "Hey, " + self.name  \n',
            )
        ],
    )
    assert stages == ["trailing_whitespace"]
    assert '        msg = "Hey, " + self.name\n' in after  # no trailing spaces written
    assert "    def greet(self):\n" in after


def test_model_drops_indentation_and_replace_is_reindented() -> None:
    after, stages = stage_of(
        "g.py",
        GREETER,
        [
            (
                'def greet(self):\n    msg = "Hello, " + self.name\n    return msg\n',
                'def greet(self):\n    msg = "Hello, " + self.name\n    if not self.name:\n'
                '        return "Hello!"\n    return msg\n',
            )
        ],
    )
    assert stages == ["indentation"]
    assert (
        '    def greet(self):\n        msg = "Hello, " + self.name\n'
        '        if not self.name:\n            return "Hello!"\n        return msg\n'
    ) in after


def test_model_over_indents() -> None:
    src = "def f(x):\n    if x:\n        return 1\n    return 0\n"
    after = apply_edits(
        "f.py",
        src,
        [("        if x:\n            return 1\n", "        if x > 0:\n            return 1\n")],
    )
    assert after == "def f(x):\n    if x > 0:\n        return 1\n    return 0\n"


GO = """\
package main

import "fmt"

func main() {
\tfor i := 0; i < 3; i++ {
\t\tfmt.Println(i)
\t}
}
"""


def test_tab_indented_go_model_uses_spaces() -> None:
    after, stages = stage_of(
        "main.go",
        GO,
        [
            (
                "    for i := 0; i < 3; i++ {\n        fmt.Println(i)\n    }\n",
                "    for i := 0; i < 3; i++ {\n        if i%2 == 0 {\n"
                "            fmt.Println(i)\n        }\n    }\n",
            )
        ],
    )
    assert stages == ["indentation"]
    assert "\tfor i := 0; i < 3; i++ {\n\t\tif i%2 == 0 {\n\t\t\tfmt.Println(i)\n\t\t}\n\t}\n" in (
        after
    )
    assert "    " not in after


def test_tab_indented_go_model_drops_a_tab_level() -> None:
    after = apply_edits(
        "main.go", GO, [("fmt.Println(i)\n}\n", "fmt.Println(i, i*i)\n}\n")]
    )  # exact would fail: the model's "}" line has no tab
    assert "\t\tfmt.Println(i, i*i)\n\t}\n" in after


def test_makefile_recipe_keeps_tabs_when_model_writes_spaces() -> None:
    src = "test:\n\tpytest -q\n\nlint:\n\truff check .\n"
    after = apply_edits(
        "Makefile",
        src,
        [("test:\n    pytest -q\n", "test:\n    pytest -q -x\n    coverage report\n")],
    )
    assert after == "test:\n\tpytest -q -x\n\tcoverage report\n\nlint:\n\truff check .\n"


def test_model_omits_a_blank_line_and_file_keeps_it() -> None:
    after, stages = stage_of(
        "g.py",
        GREETER,
        [
            (
                "        self.name = name\n    def greet(self):\n",
                "        self.name = name.strip()\n    def greet(self):\n",
            )
        ],
    )
    assert stages == ["blank_lines"]
    assert "        self.name = name.strip()\n\n    def greet(self):\n" in after


def test_model_adds_a_blank_line_that_is_not_in_the_file() -> None:
    src = "def f():\n    a = 1\n    b = 2\n    return a + b\n"
    after = apply_edits("f.py", src, [("    a = 1\n\n    b = 2\n", "    a = 10\n\n    b = 2\n")])
    assert after == "def f():\n    a = 10\n    b = 2\n    return a + b\n"


def test_spurious_leading_blank_line_in_search() -> None:
    src = "import os\nimport sys\n\nVALUE = 1\n"
    after = apply_edits("m.py", src, [("\nimport sys\n", "\nimport sys\nimport re\n")])
    assert after == "import os\nimport sys\nimport re\n\nVALUE = 1\n"


def test_dropped_indentation_plus_missing_blank_line() -> None:
    after = apply_edits(
        "g.py",
        GREETER,
        [("    return msg\ndef shout(self):\n", "    return msg.strip()\ndef shout(self):\n")],
    )
    assert "        return msg.strip()\n\n    def shout(self):\n" in after


def test_two_space_indented_file_gets_two_space_shift() -> None:
    src = "def f(x):\n  if x:\n    return 1\n  return 0\n"
    after = apply_edits("f.py", src, [("if x:\n  return 1\n", "if x:\n  print(x)\n  return 1\n")])
    assert after == "def f(x):\n  if x:\n    print(x)\n    return 1\n  return 0\n"


# --- stage 6: fuzzy and the 3-way splice ------------------------------------------------------


def test_one_character_typo_in_context_keeps_the_file_line() -> None:
    after, stages = stage_of(
        "g.py",
        GREETER,
        [
            (
                '    def greet(slef):\n        msg = "Hello, " + self.name\n        return msg\n',
                '    def greet(slef):\n        msg = "Hello, " + self.name.title()\n'
                "        return msg\n",
            )
        ],
    )
    assert stages[0].startswith("fuzzy")
    assert "    def greet(self):\n" in after  # the file's context line, not the typo
    assert "slef" not in after
    assert 'msg = "Hello, " + self.name.title()' in after


def test_fuzzy_with_dropped_indentation_reindents_new_lines() -> None:
    after = apply_edits(
        "g.py",
        GREETER,
        [
            (
                'def greet(self):\n    msg = "Helo, " + self.name\n    return msg\n',
                'def greet(self):\n    msg = "Hello, " + self.name\n    log(msg)\n    return msg\n',
            )
        ],
    )
    assert '        msg = "Hello, " + self.name\n        log(msg)\n        return msg\n' in after


def test_fuzzy_keeps_a_line_the_model_left_out_of_context() -> None:
    src = textwrap.dedent(
        """\
        def total(items):
            subtotal = sum(i.price for i in items)
            # tax is applied per region
            tax = subtotal * RATE
            shipping = 5 if subtotal < 50 else 0
            return subtotal + tax + shipping
        """
    )
    after = apply_edits(
        "t.py",
        src,
        [
            (
                "    subtotal = sum(i.price for i in items)\n    tax = subtotal * RATE\n"
                "    shipping = 5 if subtotal < 50 else 0\n"
                "    return subtotal + tax + shipping\n",
                "    subtotal = sum(i.price for i in items)\n    tax = subtotal * RATE\n"
                "    shipping = 5 if subtotal < 50 else 0\n"
                "    return round(subtotal + tax + shipping, 2)\n",
            )
        ],
    )
    assert "    # tax is applied per region\n" in after
    assert after.endswith("    return round(subtotal + tax + shipping, 2)\n")


def test_fuzzy_refuses_when_the_changed_line_differs_in_the_file() -> None:
    src = textwrap.dedent(
        """\
        def connect(host, port):
            sock = socket.create_connection((host, port), timeout=30)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        """
    )
    err = refused(
        "not_found",
        "c.py",
        src,
        [
            (
                "def connect(host, port):\n    sock = make_conn(host)\n"
                "    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)\n"
                "    return sock\n",
                "def connect(host, port):\n    sock = make_conn(host, port)\n"
                "    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)\n"
                "    return sock\n",
            )
        ],
    )
    assert "Copy SEARCH exactly" in str(err)


def test_short_search_with_a_typo_is_not_fuzzy_matched() -> None:
    refused("not_found", "m.py", "x = compute(1)\ny = 2\n", [("x = compute(l)", "x = compute(2)")])


def test_fuzzy_not_applied_when_too_different() -> None:
    refused(
        "not_found",
        "g.py",
        GREETER,
        [("    def greet(self, other):\n        return other.name + self.name\n", "pass\n")],
    )


# --- elision ----------------------------------------------------------------------------------

LONG = """\
def process(records, config):
    results = []
    seen = set()
    for record in records:
        key = record.get("id")
        if key in seen:
            continue
        seen.add(key)
        value = record.get("value", 0)
        if config.scale:
            value *= config.scale
        if config.offset:
            value += config.offset
        results.append((key, value))
    results.sort()
    return results
"""


def test_elided_long_function_changes_top_and_bottom() -> None:
    after, stages = stage_of(
        "p.py",
        LONG,
        [
            (
                "def process(records, config):\n    results = []\n    ...\n"
                "    results.sort()\n    return results\n",
                "def process(records, config, reverse=False):\n    results = []\n    ...\n"
                "    results.sort(reverse=reverse)\n    return results\n",
            )
        ],
    )
    assert stages[0].startswith("elision")
    assert after.startswith("def process(records, config, reverse=False):\n    results = []\n")
    assert "        results.append((key, value))\n    results.sort(reverse=reverse)\n" in after
    assert after.count("\n") == LONG.count("\n")


def test_elision_with_existing_code_comments() -> None:
    after = apply_edits(
        "p.py",
        LONG,
        [
            (
                "    seen = set()\n    # ... existing code ...\n"
                "        results.append((key, value))\n",
                "    seen: set[str] = set()\n    # ... existing code ...\n"
                "        results.append((key, round(value, 2)))\n",
            )
        ],
    )
    assert "    seen: set[str] = set()\n" in after
    assert "        results.append((key, round(value, 2)))\n" in after
    assert "existing code" not in after


def test_unpaired_elision_is_explained() -> None:
    err = refused(
        "not_found",
        "p.py",
        LONG,
        [
            (
                "def process(records, config):\n    ...\n    return results\n",
                "def process(records, config):\n    return sorted(results)\n",
            )
        ],
    )
    assert "do not pair up" in str(err)


def test_literal_ellipsis_body_in_a_stub_is_not_elision() -> None:
    src = "class P(Protocol):\n    def f(self) -> int:\n        ...\n\n    def g(self) -> str:\n"
    src += "        ...\n"
    after = apply_edits(
        "p.pyi",
        src,
        [("    def f(self) -> int:\n        ...\n", "    def f(self) -> float:\n        ...\n")],
    )
    assert "def f(self) -> float:\n        ...\n" in after


def test_lazy_placeholder_in_replace_is_refused() -> None:
    err = refused(
        "invalid",
        "p.py",
        LONG,
        [(LONG, "def process(records, config):\n    # ... rest of the function unchanged\n")],
    )
    assert "placeholder" in str(err)


# --- already applied --------------------------------------------------------------------------


def test_already_applied_when_only_replace_is_found() -> None:
    edit = ('        msg = "Hello, " + self.name\n', '        msg = "Hi, " + self.name\n')
    once = apply_edits("g.py", GREETER, [edit])
    err = refused("already_applied", "g.py", once, [edit])
    assert "already" in str(err)


def test_already_applied_append_is_not_duplicated() -> None:
    edit = ("import os\n", "import os\nimport sys\n")
    once = apply_edits("g.py", GREETER, [edit])
    refused("already_applied", "g.py", once, [edit])


def test_already_applied_with_whitespace_noise() -> None:
    edit = (
        'def greet(self):\n    msg = "Hello, " + self.name\n    return msg\n',
        'def greet(self):\n    msg = "Hi, " + self.name\n    return msg\n',
    )
    once = apply_edits("g.py", GREETER, [edit])
    refused("already_applied", "g.py", once, [edit])


# --- create, missing, exists, no-op -----------------------------------------------------------


def test_create_missing_file_with_empty_search() -> None:
    assert apply_edits("pkg/new.py", None, [("", "VALUE = 1\n")]) == "VALUE = 1\n"


def test_create_then_edit_in_one_batch() -> None:
    after = apply_edits("new.py", None, [("", "A = 1\nB = 2\n"), ("B = 2", "B = 3")])
    assert after == "A = 1\nB = 3\n"


def test_create_an_empty_file() -> None:
    assert apply_edits("pkg/__init__.py", None, [("", "")]) == ""


def test_empty_search_on_existing_file_is_refused() -> None:
    err = refused("exists", "g.py", GREETER, [("", "x = 1\n")])
    assert "already exists" in str(err)
    refused("exists", "new.py", None, [("", "a\n"), ("", "b\n")])


def test_empty_search_fills_an_empty_existing_file() -> None:
    assert apply_edits("pkg/__init__.py", "", [("", "from .core import run\n")]) == (
        "from .core import run\n"
    )


def test_non_empty_search_on_missing_file() -> None:
    err = refused("missing_file", "nope.py", None, [("x = 1", "x = 2")])
    assert "does not exist" in str(err)


def test_identical_search_and_replace_is_a_no_op() -> None:
    refused("no_op", "g.py", GREETER, [("import os\n", "import os\n")])


def test_edit_that_changes_nothing_after_merge_is_a_no_op() -> None:
    # Only trailing whitespace differs; the tolerant stage keeps the file's bytes.
    refused("no_op", "g.py", GREETER, [("import os  \n", "import os \n")])


# --- line endings, BOM, final newline ---------------------------------------------------------


def test_crlf_file_stays_crlf_including_new_lines() -> None:
    src = GREETER.replace("\n", "\r\n")
    after = apply_edits(
        "g.py",
        src,
        [
            (
                "    def shout(self):\r\n",
                "    def yell(self):\r\n        return 1\r\n\r\n    def shout(self):\n",
            )
        ],
    )
    assert "\n" not in after.replace("\r\n", "")
    assert "    def yell(self):\r\n        return 1\r\n\r\n    def shout(self):\r\n" in after


def test_crlf_file_with_tolerant_match() -> None:
    src = GREETER.replace("\n", "\r\n")
    after = apply_edits(
        "g.py",
        src,
        [
            (
                "def shout(self):\n    return self.greet().upper()\n",
                "def shout(self):\n    return self.greet().upper() + '!'\n",
            )
        ],
    )
    assert after.endswith("    def shout(self):\r\n        return self.greet().upper() + '!'\r\n")
    assert after.count("\r\n") == after.count("\n")


def test_bom_is_kept() -> None:
    src = "\ufeffname = 'x'\nvalue = 1\n"
    after = apply_edits("b.py", src, [("value = 1", "value = 2")])
    assert after == "\ufeffname = 'x'\nvalue = 2\n"
    assert apply_edits("b.py", src, [("\ufeffname = 'x'", "name = 'y'")]).startswith("\ufeffname")


def test_missing_final_newline_is_kept() -> None:
    src = "a = 1\nb = 2"
    assert apply_edits("m.py", src, [("b = 2\n", "b = 3\n")]) == "a = 1\nb = 3"
    assert apply_edits("m.py", src, [("b = 2", "b = 2\nc = 3\n")]) == "a = 1\nb = 2\nc = 3"


def test_present_final_newline_is_kept() -> None:
    src = "a = 1\nb = 2\n"
    assert apply_edits("m.py", src, [("a = 1\nb = 2\n", "a = 1\nb = 3")]) == "a = 1\nb = 3\n"


def test_mixed_line_endings_keep_untouched_lines() -> None:
    src = "one\r\ntwo\nthree\r\nfour\r\n"
    after = apply_edits("m.txt", src, [("two\nthree\n", "two\nTHREE\n")])
    assert after.startswith("one\r\ntwo\n")
    assert after.endswith("four\r\n")
    assert "THREE" in after


# --- binary, syntax gate, controls ------------------------------------------------------------


def test_binary_before_or_replace_is_refused() -> None:
    refused("binary", "a.bin", "abc\x00def\n", [("abc", "x")])
    refused("binary", "a.txt", "abc\n", [("abc", "a\x00c")])


def test_python_syntax_error_is_refused_with_line() -> None:
    err = refused(
        "syntax_error", "g.py", GREETER, [("        return msg\n", "        return msg)\n")]
    )
    assert "line 12" in str(err)
    assert "return msg)" in str(err)


def test_python_indentation_error_is_refused() -> None:
    err = refused("syntax_error", "g.py", GREETER, [("        return msg\n", "      return msg\n")])
    assert "IndentationError" in str(err) or "indent" in str(err)


def test_already_broken_python_may_still_be_edited() -> None:
    src = "def f(:\n    return 1\n"
    assert apply_edits("b.py", src, [("return 1", "return 2")]) == "def f(:\n    return 2\n"


def test_new_python_file_must_parse() -> None:
    refused("syntax_error", "new.py", None, [("", "def f(\n")])


def test_json_and_toml_are_gated() -> None:
    data = json.dumps({"name": "app", "version": "1.0"}, indent=2) + "\n"
    ok = apply_edits("package-data.json", data, [('"1.0"', '"1.1"')])
    assert json.loads(ok)["version"] == "1.1"
    refused("syntax_error", "data.json", data, [('"1.0"\n', '"1.0",\n')])
    toml = '[tool.app]\nname = "x"\n'
    refused("syntax_error", "conf.toml", toml, [('name = "x"', 'name = "x')])
    assert apply_edits("conf.toml", toml, [('"x"', '"y"')]) == '[tool.app]\nname = "y"\n'


def test_bidi_controls_are_refused() -> None:
    refused("invalid", "m.py", "x = 1\n", [("x = 1", "x = 1  # \u202eevil")])


# --- refusal messages -------------------------------------------------------------------------


def test_not_found_shows_closest_lines_with_context() -> None:
    err = refused(
        "not_found",
        "p.py",
        LONG,
        [
            (
                "        if config.scaling_enabled and value:\n"
                "            value = value * config.scaling_factor\n",
                "pass\n",
            )
        ],
    )
    text = str(err)
    assert "Did you mean these lines" in text
    assert "        if config.scale:\n            value *= config.scale\n" in text
    assert "lines 5-" in text
    assert "No edit in this batch was applied" in text


def test_not_found_with_nothing_similar_says_so() -> None:
    err = refused("not_found", "g.py", GREETER, [("zzzz qqqq wwww\nvvvv xxxx yyyy\n", "a\n")])
    assert "right file" in str(err)


# --- paths (pure checks) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/etc/passwd",
        "C:/x.py",
        "src\\x.py",
        "../x.py",
        "a/../../x.py",
        "a/../b.py",
        ".git/config",
        ".GIT/hooks/pre-commit",
        "sub/.Git/config",
        ".git./config",
        "git~1/config",
        "a\x00b.py",
        "a\nb.py",
        "dir/",
        "~/x.py",
        " a.py",
        "a\u202eb.py",
        "a/./",
    ],
)
def test_unsafe_paths_are_refused(path: str) -> None:
    err = refused("unsafe_path", path, "x\n", [("x", "y")])
    assert "refused" in str(err)


def test_paths_are_normalised() -> None:
    assert check_path("./src//pkg/./mod.py") == "src/pkg/mod.py"
    assert check_path(".github/x.yml") == ".github/x.yml"
    assert check_path("a/.gitignore") == "a/.gitignore"


# --- robustness on real code: simulated model slips must land like the exact edit ------------


def _blocks(source: str, size: int, rng: random.Random, count: int) -> list[tuple[int, int]]:
    lines = source.split("\n")
    starts = [
        i
        for i in range(len(lines) - size)
        if lines[i].startswith("        ") and all(line.strip() for line in lines[i : i + 2])
    ]
    return [(s, s + size) for s in rng.sample(starts, count)]


@pytest.mark.parametrize("slip", ["dedent", "trailing", "no_blank", "tabs"])
def test_simulated_model_slips_on_stdlib_source(slip: str) -> None:
    source = inspect.getsource(textwrap)
    lines = source.split("\n")
    rng = random.Random(1234)
    checked = 0
    for start, end in _blocks(source, 6, rng, 12):
        block = lines[start:end]
        search = "\n".join(block) + "\n"
        if source.count(search) != 1:
            continue
        indent = block[0][: len(block[0]) - len(block[0].lstrip())]
        replace_lines = block[:3] + [indent + "# ratchet"] + block[3:]
        replace = "\n".join(replace_lines) + "\n"
        expected = apply_edits("textwrap.py", source, [(search, replace)])
        if slip == "dedent":
            cut = min(len(x) - len(x.lstrip()) for x in block if x.strip())
            s2 = "\n".join(x[cut:] for x in block) + "\n"
            r2 = "\n".join(x[cut:] for x in replace_lines) + "\n"
        elif slip == "trailing":
            s2 = "\n".join(x + "  " for x in block) + "\n"
            r2 = replace
        elif slip == "no_blank":
            if all(x.strip() for x in block):
                continue
            s2 = "\n".join(x for x in block if x.strip()) + "\n"
            r2 = "\n".join(x for x in replace_lines if x.strip()) + "\n"
        else:
            s2 = "\n".join(x.replace("    ", "\t") for x in block) + "\n"
            r2 = "\n".join(x.replace("    ", "\t") for x in replace_lines) + "\n"
        try:
            got = apply_edits("textwrap.py", source, [(s2, r2)])
        except EditError as exc:
            assert exc.category == "ambiguous", str(exc)
            continue
        if slip == "no_blank":
            # Blank lines inside the changed region follow REPLACE; the code lines must match.
            assert [x for x in got.split("\n") if x.strip()] == [
                x for x in expected.split("\n") if x.strip()
            ]
        else:
            assert got == expected
        checked += 1
    assert checked >= 3


# --- more model habits ------------------------------------------------------------------------


def test_model_reindents_with_two_spaces_for_a_four_space_file() -> None:
    src = "class A:\n    def f(self, x):\n        if x:\n            return 1\n        return 0\n"
    after, stages = stage_of(
        "a.py",
        src,
        [
            (
                "def f(self, x):\n  if x:\n    return 1\n  return 0\n",
                "def f(self, x):\n  if x:\n    if x > 1:\n      return 2\n"
                "    return 1\n  return 0\n",
            )
        ],
    )
    assert stages == ["indentation"]
    assert after == (
        "class A:\n    def f(self, x):\n        if x:\n            if x > 1:\n"
        "                return 2\n            return 1\n        return 0\n"
    )


def test_model_uses_tabs_for_a_space_indented_python_file() -> None:
    after = apply_edits(
        "g.py",
        GREETER,
        [
            (
                "\tdef shout(self):\n\t\treturn self.greet().upper()\n",
                "\tdef shout(self):\n\t\treturn self.greet().upper() + '!'\n",
            )
        ],
    )
    assert after.endswith("    def shout(self):\n        return self.greet().upper() + '!'\n")
    assert "\t" not in after


def test_typographic_quotes_and_nbsp_from_the_model_still_match() -> None:
    src = "print(\"hello\")\nname = 'x'\n"
    after = apply_edits("q.py", src, [("print(\u201chello\u201d)\n", 'print("hello, world")\n')])
    assert after == "print(\"hello, world\")\nname = 'x'\n"
    nbsp = "\u00a0" * 8
    after = apply_edits("g.py", GREETER, [(nbsp + "return msg\n", "        return msg or ''\n")])
    assert "        return msg or ''\n" in after


def test_new_lines_follow_the_file_indent_character_on_exact_match() -> None:
    # SEARCH matches exactly (no indentation in it), REPLACE adds tab-indented code.
    after = apply_edits(
        "g.py", GREETER, [("import os\n", "import os\n\n\ndef helper():\n\treturn os.sep\n")]
    )
    assert "def helper():\n    return os.sep\n" in after
    src = "all: build\n\nbuild:\n\tgo build ./...\n"
    after = apply_edits(
        "Makefile",
        src,
        [("build:\n\tgo build ./...\n", "build:\n\tgo build ./...\n    go vet ./...\n")],
    )
    assert after.endswith("build:\n\tgo build ./...\n\tgo vet ./...\n")


def test_search_without_the_blank_lines_replace_repeats_does_not_double_them() -> None:
    src = "import os\n\n\ndef f():\n    return 1\n"
    after = apply_edits("m.py", src, [("def f():\n    return 1\n", "\n\ndef f():\n    return 2\n")])
    assert after == "import os\n\n\ndef f():\n    return 2\n"
    body = "def f():\n    a = 1\n\n    b = 2\n    return a + b\n"
    after = apply_edits("m.py", body, [("    a = 1\n    b = 2\n", "    a = 1\n\n    b = 3\n")])
    assert after == "def f():\n    a = 1\n\n    b = 3\n    return a + b\n"


def test_blank_lines_left_out_of_both_sides_are_kept_in_place() -> None:
    src = "def f():\n    a = 1\n\n    b = 2\n    return a + b\n"
    after = apply_edits("m.py", src, [("    a = 1\n    b = 2\n", "    a = 10\n    b = 20\n")])
    assert after == "def f():\n    a = 10\n\n    b = 20\n    return a + b\n"


def test_blank_line_only_edit_with_a_typo_in_context_is_applied() -> None:
    src = "CONST = 1\ndef first():\n    return CONST + 1\n\n\ndef second():\n    pass\n"
    after = apply_edits(
        "m.py",
        src,
        [
            (
                "CONST = 1\ndef first():\n    return CONST + l\n",
                "CONST = 1\n\n\ndef first():\n    return CONST + l\n",
            )
        ],
    )
    assert after.startswith("CONST = 1\n\n\ndef first():\n    return CONST + 1\n")


def test_elision_piece_that_only_changes_indentation_is_applied() -> None:
    src = "def f():\n    x = [\n        1,\n       2,\n    ]\n    y = 3\n    return x, y\n"
    after = apply_edits(
        "m.py",
        src,
        [
            (
                "def f():\n    ...\n       2,\n    ]\n",
                "def f():\n    ...\n        2,\n    ]\n",
            )
        ],
    )
    assert "        1,\n        2,\n    ]\n" in after


def test_elision_keeps_a_blank_line_next_to_the_marker() -> None:
    after = apply_edits(
        "p.py",
        LONG,
        [
            (
                "    results = []\n    seen = set()\n    ...\n    results.sort()\n",
                "    results = []\n    seen = set()\n\n    ...\n    results.sort()\n",
            )
        ],
    )
    assert "    seen = set()\n\n    for record in records:\n" in after


def test_unpaired_elision_is_not_fuzzy_matched() -> None:
    err = refused(
        "not_found",
        "p.py",
        LONG,
        [("    results = []\n    # ... existing code ...\n    return results\n", "x = 1\n")],
    )
    assert "pair up" in str(err)


def test_syntax_newer_than_this_python_is_not_held_against_the_edit() -> None:
    src = "def f(x):\n    return x\n"
    # PEP 701 nested quotes and PEP 695 aliases parse on newer Pythons.
    nested = "def f(x):\n    return f'{x['k']}'\n"
    assert apply_edits("m.py", src, [(src, nested)]) == nested
    alias = "type Pair = tuple[int, int]\n\n\ndef f(x):\n    return x\n"
    assert apply_edits(
        "m.py", src, [("def f(x):\n", "type Pair = tuple[int, int]\n\n\ndef f(x):\n")]
    ) == (alias)
    refused("syntax_error", "m.py", src, [("return x", "return x +")])


def test_form_feed_line_is_content_not_blank() -> None:
    src = "a = 1\n\x0c\nb = 2\n"
    after = apply_edits("m.py", src, [("a = 1\n\x0c\nb = 2\n", "a = 1\nb = 3\n")])
    assert after == "a = 1\nb = 3\n"


def test_stage_names_for_telemetry() -> None:
    _after, stages = stage_of("new.py", None, [("", "A = 1\n"), ("A = 1", "A = 2")])
    assert stages == ["create", "exact"]


def test_whitespace_only_search_is_not_guessed() -> None:
    refused("ambiguous", "g.py", GREETER, [("\n\n", "\n")])
    refused("not_found", "g.py", GREETER, [("   \n   \n", "x\n")])


def test_real_bug_fix_hunks_from_cpython_apply_with_slips() -> None:
    """A CPython 3.11.2 -> 3.11.7 change to fileinput.hook_compressed, as a model would send it."""
    before = textwrap.dedent(
        """\
        def hook_compressed(filename, mode, *, encoding=None, errors=None):
            if encoding is None:  # EncodingWarning is emitted in FileInput() already.
                encoding = "locale"
            ext = os.path.splitext(filename)[1]
            if ext == '.gz':
                import gzip
                stream = gzip.open(filename, mode)
            elif ext == '.bz2':
                import bz2
                stream = bz2.BZ2File(filename, mode)
            else:
                return open(filename, mode, encoding=encoding, errors=errors)

            # gzip and bz2 are binary mode by default.
            if "b" not in mode:
                stream = io.TextIOWrapper(stream, encoding=encoding, errors=errors)
            return stream
        """
    )
    expected = before.replace(
        "    if encoding is None:  #", '    if encoding is None and "b" not in mode:  #'
    )
    exact = (
        "def hook_compressed(filename, mode, *, encoding=None, errors=None):\n"
        "    if encoding is None:  # EncodingWarning is emitted in FileInput() already.\n"
        '        encoding = "locale"\n',
        "def hook_compressed(filename, mode, *, encoding=None, errors=None):\n"
        '    if encoding is None and "b" not in mode:  # EncodingWarning is emitted in '
        "FileInput() already.\n"
        '        encoding = "locale"\n',
    )
    assert apply_edits("fileinput.py", before, [exact]) == expected
    indented = tuple(textwrap.indent(x, "    ") for x in exact)  # as if copied from a class
    assert apply_edits("fileinput.py", before, [indented]) == expected
    trailing = (exact[0].replace("\n", "   \n"), exact[1])
    assert apply_edits("fileinput.py", before, [trailing]) == expected
    typo = tuple(x.replace("mode, *, encoding", "mode, *, encodng") for x in exact)
    assert apply_edits("fileinput.py", before, [typo]) == expected
    crlf = before.replace("\n", "\r\n")
    assert apply_edits("fileinput.py", crlf, [exact]) == expected.replace("\n", "\r\n")


def test_an_edit_sent_twice_in_one_batch_is_applied_once() -> None:
    edit = ('"Hello, "', '"Hi, "')
    after, stages = stage_of("g.py", GREETER, [edit, edit])
    assert stages == ["exact", "duplicate"]
    assert after.count('"Hi, "') == 1


@pytest.mark.parametrize(
    "placeholder",
    [
        "    # ...",
        "    // ... existing code ...",
        "    # ... (unchanged)",
        "    # rest of the method",
    ],
)
def test_comment_placeholders_in_replace_only_are_refused(placeholder: str) -> None:
    refused(
        "invalid",
        "g.py",
        GREETER,
        [
            (
                '    def greet(self):\n        msg = "Hello, " + self.name\n        return msg\n',
                "    def greet(self):\n" + placeholder + "\n        return msg.strip()\n",
            )
        ],
    )


def test_a_slip_in_the_only_telling_line_of_a_short_search_is_refused() -> None:
    """SEARCH's own block is gone and another one is a slip away (``"bar"`` → ``"arg"``):
    with a line of brackets as the only other line, a typo cannot be told from a look-alike
    block, so the edit is refused instead of landing after the wrong test (click, seen in
    bench_edits). Without a slip, or with two lines that say something, it is found."""
    src = (
        "def test_arg(run):\n    assert run() == [\n        'Missing argument \"arg\".'\n    ]\n"
    )
    search = "        'Missing argument \"ar\".'\n    ]\n"
    with pytest.raises(EditError):
        apply_edits("t.py", src, [(search, search + "\n\ndef test_more():\n    pass\n")])
    telling = "    assert run() == [\n        'Missing argument \"ar\".'\n    ]\n"
    after = apply_edits("t.py", src, [(telling, telling.replace("[", "[  # the one"))])
    assert "assert run() == [  # the one\n" in after and '"arg"' in after
