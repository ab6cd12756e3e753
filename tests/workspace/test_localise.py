"""Localisation: a large file is shown as the regions the evidence points at (whole
definitions, their enclosing class lines, ⋮ markers), names come from tracebacks, the task
and the failing tests' bodies, and a map lists the definitions of related files."""

from __future__ import annotations

from pathlib import Path

from ratchet.workspace import namesakes, regions
from ratchet.workspace.context import build_context
from ratchet.workspace.evidence import Evidence, from_output, from_task, from_tests, words_of
from ratchet.workspace.symbols import SymbolMap


def _big_module(n_filler: int = 120) -> str:
    """A module far over the per-file share: filler functions, then the code that matters."""
    parts = ['"""Parsers."""\n\nimport re\n\nLIMIT = 10\n\n']
    for i in range(n_filler):
        parts.append(
            f"def filler_{i}(value):\n"
            f'    """Filler number {i}, long enough to take room in the file."""\n'
            f"    total = value * {i} + {i} ** 2 - len(str(value)) // 3\n"
            f"    return total if total > {i} else -total\n\n\n"
        )
    parts.append(
        "class HeaderParser:\n"
        '    """Parses headers."""\n\n'
        "    def __init__(self, strict=False):\n"
        "        self.strict = strict\n\n"
        "    def parse_header(self, line):\n"
        '        name, _, value = line.partition(":")\n'
        "        return name.strip().lower(), value.strip() + 'x'\n\n"
        "    def compute_rounding_ratio(self, a, b):\n"
        "        return round(a / b, 1)\n"
    )
    return "".join(parts)


def _repo(root: Path) -> list[str]:
    files = {
        "pkg/__init__.py": "",
        "pkg/parsers.py": _big_module(),
        "tests/test_parsers.py": (
            "from pkg.parsers import HeaderParser\n\n\n"
            "def test_header_value():\n"
            "    assert HeaderParser().parse_header('A: b') == ('a', 'b')\n"
        ),
    }
    return _write(root, files)


def _write(root: Path, files: dict[str, str]) -> list[str]:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return list(files)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


def test_python_definitions_with_decorators_and_nesting() -> None:
    text = (
        "import x\n\n@dec\ndef a(\n    p,\n):\n    return p\n\n\n"
        "class K:\n    def m(self):\n        def inner():\n            pass\n        return 1\n"
    )
    got = [(d.name, d.kind, d.start, d.end, d.header, d.depth)
           for d in regions.definitions("m.py", text)]
    assert got == [
        ("a", "def", 3, 7, 6, 0), ("K", "class", 10, 14, 10, 0), ("m", "def", 11, 14, 11, 1),
        ("inner", "def", 12, 13, 12, 2),
    ]


def test_scanned_definitions_in_other_languages() -> None:
    js = ("export function parse(s) {\n  return s.trim();\n}\n\n"
          "class Box {\n  open(x) {\n    if (x) {\n      return 1;\n    }\n  }\n}\n"
          "const area = (w, h) => {\n  return w * h;\n};\n")
    names = {(d.name, d.start, d.end) for d in regions.definitions("a.js", js)}
    assert {("parse", 1, 3), ("Box", 5, 11), ("open", 6, 10), ("area", 12, 14)} <= names
    go = "package x\n\nfunc (s *S) Run(n int) error {\n\treturn nil\n}\n\ntype S struct {\n}\n"
    assert {(d.name, d.start, d.end) for d in regions.definitions("x.go", go)} == {
        ("Run", 3, 5), ("S", 7, 8)}
    rs = "pub fn add(a: i32) -> i32 {\n    a + 1\n}\n\nimpl Thing {\n    fn go(&self) {}\n}\n"
    assert {("add", 1, 3), ("Thing", 5, 7)} <= {
        (d.name, d.start, d.end) for d in regions.definitions("lib.rs", rs)}


def test_a_traceback_line_deep_in_a_large_file_shows_its_whole_definition(tmp_path: Path) -> None:
    files = _repo(tmp_path)
    text = (tmp_path / "pkg/parsers.py").read_text()
    line = _line_of(text, "return name.strip().lower()")
    output = (
        "Traceback (most recent call last):\n"
        f'  File "{tmp_path}/tests/test_parsers.py", line 5, in test_header_value\n'
        f'  File "{tmp_path}/pkg/parsers.py", line {line}, in parse_header\n'
        "AssertionError\n"
    )
    ctx = build_context(tmp_path, files, task_text="Header values are wrong",
                        failing_tests=["tests/test_parsers.py::test_header_value"],
                        failure_output=output, budget=12_000)
    assert "pkg/parsers.py" in ctx.included
    shown = ctx.text
    assert "    def parse_header(self, line):\n        name, _, value = line.partition" in shown
    assert "\nclass HeaderParser:\n" in shown  # the enclosing class line frames it
    assert "⋮ (lines " in shown and "not shown)" in shown
    assert "import re" in shown  # the file's head, as room allows
    assert "def filler_60(" not in shown  # the middle of the file is left out
    assert "parsers.py: " in shown  # the map of definitions


def test_names_from_the_task_and_the_failing_tests_body(tmp_path: Path) -> None:
    files = _repo(tmp_path)
    # no traceback at all: the test's body calls parse_header
    ctx = build_context(tmp_path, files, task_text="Header values keep a stray character",
                        failing_tests=["tests/test_parsers.py::test_header_value"],
                        failure_output="FAILED tests/test_parsers.py::test_header_value",
                        budget=12_000)
    assert "        return name.strip().lower(), value.strip() + 'x'" in ctx.text
    # a task in prose: "rounding ratio" points at compute_rounding_ratio
    ctx = build_context(tmp_path, files, task_text="The rounding of the ratio is off by one",
                        budget=12_000)
    assert "        return round(a / b, 1)" in ctx.text


def test_asked_for_code_is_shown(tmp_path: Path) -> None:
    files = _repo(tmp_path)
    plain = build_context(tmp_path, files, task_text="Tidy up", budget=12_000)
    assert "def filler_90(" not in plain.text
    asked = build_context(tmp_path, files, task_text="Tidy up", budget=12_000,
                          needed=["pkg/parsers.py:filler_90"])
    assert "def filler_90(value):" in asked.text
    assert "you asked to see it" in asked.text


def test_evidence_from_tracebacks_pytest_js_and_compilers() -> None:
    def resolve(path: str) -> list[str]:
        return [path.split("/proj/")[-1]]

    output = (
        'Traceback (most recent call last):\n  File "/proj/a.py", line 3, in outer\n'
        '  File "/proj/b.py", line 9, in inner\nValueError\n'
        "src/c.py:12: in helper\n"
        "    at render (/proj/web/view.js:40:7)\n"
        "src/lib.rs:88:5: error[E0308]\n"
    )
    ev = from_output(output, resolve)
    assert ev.lines == {"b.py": [9], "a.py": [3], "src/c.py": [12], "web/view.js": [40],
                        "src/lib.rs": [88]}
    assert ev.names[:3] == ["inner", "outer", "helper"]  # innermost frame first
    ev = from_task("Make `Parser.feed()` accept bytes; see read_chunk and maxSize", Evidence())
    assert {"Parser", "feed", "read_chunk", "maxSize"} <= set(ev.names)
    ev = from_tests(["t/test_x.py::TestK::test_a[1]"],
                    {"t/test_x.py": "class TestK:\n    def test_a(self):\n"
                                    "        assert load_config('x').value == 1\n"})
    assert "load_config" in ev.names and "value" in ev.names
    assert words_of("_format_deprecated_label") == {"format", "deprecat", "label"}


def test_symbol_map_outline_is_compact_and_bounded() -> None:
    m = SymbolMap()
    m.add("a.py", "class A:\n    def x(self):\n        pass\n\ndef f(a, b):\n    pass\n"
                  "SETTING = 1\n")
    assert m.outline(["a.py"], 1000) == "a.py: class A(x); f(a, b)"
    assert m.defined_in["SETTING"] == ["a.py"] and m.definers(["f"]) == [("a.py", "f")]
    m.add("b.py", "def " + "; def ".join(f"g{i}(x): pass" for i in range(200)))
    assert len(m.outline(["a.py", "b.py"], 300)) <= 300


def test_inflected_task_words_match_defined_names() -> None:
    from ratchet.workspace.evidence import from_words

    defined = ["_VALID_HEADER_NAME_RE", "check_header_validity", "Session", "header_items",
               "get_header", "HeaderDict", "parse_header_links"]
    ev = from_words(["Fix cosmetic header validity parsing regex"], defined)
    # "header" alone is common here; "valid" (of "validity") makes it two words
    assert set(ev.strong) == {"check_header_validity", "_VALID_HEADER_NAME_RE"}
    # short words do not stretch: "head" is not "header"
    assert from_words(["move the head"], ["header_block"]).names == []


def test_tracebacks_of_failures_unrelated_to_the_task_are_weak_evidence() -> None:
    out = (
        "___________ test_header_is_refused ___________\n"
        "src/app/headers.py:12: in check\n"
        "    raise ValueError\n"
        "E   ValueError\n"
        "___________ test_connect_timeout ___________\n"
        "src/app/network.py:40: in connect\n"
        "    sock.connect(addr)\n"
        "E   OSError: Network is unreachable\n"
    )
    ev = from_output(out, lambda p: [p], task="Refuse a header with a newline")
    assert "src/app/headers.py" in ev.lines and "src/app/network.py" not in ev.lines
    assert "check" in ev.strong and "connect" in ev.names and "connect" not in ev.strong
    # no failure shares a word with the task: all of them count
    ev = from_output(out, lambda p: [p], task="Make it faster")
    assert {"src/app/headers.py", "src/app/network.py"} <= set(ev.lines)


def test_a_definition_the_task_names_in_code_outranks_files_the_output_names(
    tmp_path: Path,
) -> None:
    (tmp_path / "pkg").mkdir()
    big = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(400))
    (tmp_path / "pkg" / "adapters.py").write_text(big + "def send(r):\n    raise OSError\n")
    (tmp_path / "pkg" / "models.py").write_text(
        "def _encode_files(files):\n    return [f.read() for f in files]\n"
    )
    files = ["pkg/adapters.py", "pkg/models.py"]
    out = (
        "____ test_upload ____\n"
        'File "pkg/adapters.py", line 1601, in send\n    raise OSError\nOSError\n'
    )
    ctx = build_context(tmp_path, files, task_text="Fix `_encode_files` for wrapped files",
                        failing_tests=["tests/test_x.py::test_upload"], failure_output=out,
                        budget=6_000)
    assert ctx.included[0] == "pkg/models.py"
    assert "defines `_encode_files`, which the task names" in ctx.text
    assert "    return [f.read() for f in files]" in ctx.text


def test_the_exceptions_failing_tests_expect_are_evidence() -> None:
    py = (
        "import pytest\n\n\n"
        "class TestHeaders:\n"
        "    def test_rejects_newline(self):\n"
        "        with pytest.raises(errors.InvalidHeader):\n"
        "            send({'a': 'b\\n'})\n\n"
        "    def test_tuple(self):\n"
        "        self.assertRaises((KeyError, ValueError), parse, '')\n"
    )
    js = "test('rejects bad input', () => {\n  expect(() => parse('')).toThrow(ParseError);\n});\n"
    ev = from_tests(
        ["tests/test_h.py::TestHeaders::test_rejects_newline[x]",
         "tests/test_h.py::TestHeaders::test_tuple", "src/p.test.js::rejects bad input"],
        {"tests/test_h.py": py, "src/p.test.js": js},
    )
    assert ev.expected == ["InvalidHeader", "KeyError", "ParseError"]
    assert "send" in ev.names and "parse" in ev.names


def test_symbol_map_finds_where_exceptions_are_raised() -> None:
    symbols = SymbolMap()
    symbols.add("pkg/utils.py", "def check(v):\n    if not v:\n        raise InvalidHeader(v)\n")
    symbols.add("src/p.js", "function parse(s) {\n  if (!s) throw new ParseError('empty');\n}\n")
    common = "".join(f"def f{i}():\n    raise ValueError\n" for i in range(5))
    symbols.add("pkg/many.py", common)
    assert symbols.raisers(["InvalidHeader", "ParseError", "ValueError", "Nope"]) == [
        ("pkg/utils.py", 3, "InvalidHeader"), ("src/p.js", 2, "ParseError"),
    ]  # ValueError is raised in five places: too common to point anywhere


def test_where_the_expected_exception_is_raised_is_shown_first(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "tests").mkdir()
    big = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(400))
    (tmp_path / "pkg" / "adapters.py").write_text(big + "def send(r):\n    return r\n")
    (tmp_path / "pkg" / "utils.py").write_text(
        big + "def check_header(v):\n    if v.endswith(' '):\n"
        "        raise InvalidHeader(v)\n    return v\n"
    )
    (tmp_path / "tests" / "test_h.py").write_text(
        "def test_newline():\n    with pytest.raises(InvalidHeader):\n        send('a\\n')\n"
    )
    files = ["pkg/adapters.py", "pkg/utils.py", "tests/test_h.py"]
    out = (
        "____ test_newline ____\n"
        'File "pkg/adapters.py", line 1601, in send\n    return r\nFailed: DID NOT RAISE\n'
    )
    ctx = build_context(tmp_path, files, task_text="Reject headers ending in a newline",
                        failing_tests=["tests/test_h.py::test_newline"], failure_output=out,
                        budget=8_000)
    assert ctx.included[0] == "pkg/utils.py"
    assert "raises `InvalidHeader`, which a failing test expects" in ctx.text
    assert "        raise InvalidHeader(v)" in ctx.text and "def check_header(v):" in ctx.text


def test_a_class_the_shown_code_constructs_is_shown_with_it() -> None:
    text = (
        "class _Keep:\n    def __init__(self, s):\n        self.s = s\n\n\n"
        + "".join(f"def filler_{i}():\n    return {i}\n\n\n" for i in range(60))
        + "def pager(s):\n    return _Keep(s)\n"
    )
    lines = text.split("\n")
    defs = regions.definitions("m.py", text)
    start = _line_of(text, "def pager")
    assert "_Keep" in regions.callees(lines, defs, [(start, start + 1)])


def test_a_small_module_the_top_file_imports_is_shown_right_after_it(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    big = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(300))
    (tmp_path / "pkg" / "utils.py").write_text(
        "from ._patterns import HEADER_RE\n\n\n" + big
        + "def check_header(v):\n    if not HEADER_RE.match(v):\n        raise ValueError(v)\n"
    )
    patterns = 'import re\n\nHEADER_RE = re.compile(r"^\\S+$")\n'
    (tmp_path / "pkg" / "_patterns.py").write_text(patterns)
    (tmp_path / "pkg" / "other.py").write_text(big)
    files = ["pkg/utils.py", "pkg/other.py", "pkg/_patterns.py"]
    out = 'File "pkg/utils.py", line 1204, in check_header\n    raise ValueError(v)\n'
    ctx = build_context(tmp_path, files, task_text="Header check accepts trailing newlines",
                        failure_output=out + 'File "pkg/other.py", line 3, in helper_0\n',
                        budget=9_000)
    assert ctx.included[:2] == ("pkg/utils.py", "pkg/_patterns.py")
    assert 'HEADER_RE = re.compile(r"^\\S+$")' in ctx.text


def test_a_small_helper_class_a_shown_callee_builds_is_shown_too(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    filler = "".join(f"def filler_{i}(x):\n    return x * {i} + {i}\n\n\n" for i in range(400))
    text = (
        "class _Keep:\n    def __init__(self, s):\n        self.s = s\n\n"
        "    def close(self):\n        pass\n\n\n"
        + filler
        + "def _nullpager(s):\n    return _Keep(s)\n\n\n"
        + filler.replace("filler_", "more_")
        + "def get_pager(s):\n    if s is None:\n        raise ValueError(s)\n"
        "    return _nullpager(s)\n"
    )
    (tmp_path / "pkg" / "pager.py").write_text(text)
    line = _line_of(text, "raise ValueError(s)")
    out = f'File "pkg/pager.py", line {line}, in get_pager\n    raise ValueError(s)\n'
    ctx = build_context(tmp_path, ["pkg/pager.py"], task_text="Borrowed streams stay usable",
                        failure_output=out, budget=8_000)
    assert "    return _nullpager(s)" in ctx.text  # what the failing line's function calls
    assert "    return _Keep(s)" in ctx.text
    assert "class _Keep:" in ctx.text and "    def close(self):" in ctx.text  # and what it builds


def test_a_large_top_file_leaves_room_for_the_small_module_it_uses(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    big = "".join(f"def helper_{i}(x):\n    return HEADER_RE.match(x) or {i}\n\n\n"
                  for i in range(600))
    lines = big.count("\n")
    (tmp_path / "pkg" / "adapters.py").write_text(big.replace("HEADER_RE.match(x)", "x"))
    (tmp_path / "pkg" / "utils.py").write_text("from ._patterns import HEADER_RE\n\n\n" + big)
    patterns = "import re\n\n" + "".join(f"P{i} = re.compile(r'^{i}$')\n" for i in range(88))
    (tmp_path / "pkg" / "_patterns.py").write_text(patterns + "HEADER_RE = re.compile('x')\n")
    out = "".join(f'File "pkg/adapters.py", line {n}, in helper\n' for n in range(2, lines, 20))
    out += "".join(f'File "pkg/utils.py", line {n}, in helper\n' for n in range(5, lines, 40))
    files = ["pkg/adapters.py", "pkg/utils.py", "pkg/_patterns.py"]
    ctx = build_context(tmp_path, files, task_text="Header check accepts trailing newlines",
                        failure_output=out, budget=12_000)
    assert ctx.included == ("pkg/adapters.py", "pkg/utils.py", "pkg/_patterns.py")
    assert "HEADER_RE = re.compile('x')" in ctx.text


def test_compounds_of_a_test_name_as_code_spells_them() -> None:
    assert namesakes.name_fragments("test_pre_init_with_mixture_of_defaults_and_kw_only") == {
        "pre_init", "kw_only"}
    assert namesakes.name_fragments("test_header_value") == {"header_value"}
    assert namesakes.name_fragments("adds two numbers") == frozenset()
    assert namesakes.name_fragments("test_case_1_2") == frozenset()


def _generator_module() -> str:
    """A module whose long function spells ``pre_hook`` and ``kw_only`` in its own names, far
    below filler that takes the file's share; the public entry point only calls it."""
    parts = ['"""Code generation."""\n\n']
    for i in range(80):
        parts.append(f"def filler_{i}(value):\n    return value * {i} + len(str(value))\n\n\n")
    body = ["def _build_script(fields, call_hook, hook_has_args):",
            "    lines = ['self.__pre_hook__()'] if call_hook else []",
            "    args = []",
            "    kw_only_args = []"]
    body += [f"    lines.append('# step {i}: ' + str(len(fields)))" for i in range(90)]
    body += ["    for f in fields:",
             "        if f.kw_only:",
             "            kw_only_args.append(f.name)",
             "        else:",
             "            args.append(f.name)"]
    body += [f"    lines.append('# check {i}')" for i in range(60)]
    body += ["    pre_hook_args = ', '.join(args)",
             "    if call_hook and hook_has_args:",
             "        lines[0] = f'self.__pre_hook__({pre_hook_args})'",
             "    return lines", "", ""]
    parts.append("\n".join(body))
    parts.append("def make(fields, hook=True):\n    return _build_script(fields, hook, True)\n")
    return "".join(parts)


def test_the_function_a_failing_test_is_named_after_is_shown(tmp_path: Path) -> None:
    """The test calls only ``make``; its name's compounds (pre_hook, kw_only) are spelt by
    ``_build_script``'s identifiers, whose lines are shown though nothing names it."""
    files = {
        "pkg/__init__.py": "",
        "pkg/gen.py": _generator_module(),
        "tests/test_gen.py": (
            "from pkg.gen import make\n\n\n"
            "def test_pre_hook_gets_kw_only_values():\n"
            "    assert make([]) == []\n"
        ),
    }
    test = "tests/test_gen.py::test_pre_hook_gets_kw_only_values"
    ctx = build_context(tmp_path, _write(tmp_path, files), task_text="Fixes issue #12",
                        failing_tests=[test], failure_output=f"FAILED {test}", budget=12_000)
    assert "    pre_hook_args = ', '.join(args)" in ctx.text
    assert "            args.append(f.name)" in ctx.text
    assert "def filler_40(" not in ctx.text


def test_fragment_uses_picks_the_function_spelling_most_compounds() -> None:
    text = ("def outer():\n    pre_init = 1\n    def inner():\n        x = kw_only_a\n"
            "        return pre_init_b\n    return pre_init\n\n"
            "def other():\n    return kw_only\n")
    lines = text.split("\n")
    defs = regions.definitions("m.py", text)
    assert namesakes.fragment_uses(lines, defs, frozenset({"pre_init", "kw_only"})) == (
        2, 2, [4, 5])  # inner spells both; outer only pre_init on its own lines
    assert namesakes.fragment_uses(lines, defs, frozenset({"pre_init"})) == (0, 0, [])
