"""The runner modules' parsers on the shapes of output their runners print: verbose unittest
(3.10 and 3.11+ styles, docstrings, subtests, import errors), libtest (binaries, doctests),
go test -json (build failures old and new), jest JSON (a file that fails to run), mocha JSON
(hooks), the node:test reporter's events, and TAP. The runners themselves run for real in
test_e2e_ecosystems.py."""

from __future__ import annotations

import json
from pathlib import Path

from ratchet.evaluate.report import ERROR, FAILED, PASSED, SKIPPED
from ratchet.evaluate.runners import cargo, go, jest, mocha, node_test, tap, unittest
from ratchet.evaluate.runners.base import CollectContext, glob_regex


def _rel(path: str) -> str:
    return CollectContext(Path("/x"), "", "/work/proj", ()).relative(path)


def test_unittest_verbose_lines_blocks_and_both_id_styles() -> None:
    out = "\n".join([
        "tests.test_broken (unittest.loader._FailedTest.tests.test_broken) ... ERROR",
        "test_add (tests.test_calc.T.test_add)",
        "Adds two numbers. ... FAIL",
        "test_old (tests.test_calc.T) ... ok",  # Python <= 3.10: module.Class
        "test_skip (tests.test_calc.T.test_skip) ... skipped 'later'",
        "test_cases (tests.test_sub.S.test_cases) ... ",
        "test_xf (tests.test_sub.S.test_xf) ... expected failure",
        "",
        "=" * 70,
        "FAIL: test_cases (tests.test_sub.S.test_cases) (i=0)",
        "-" * 70,
        "Ran 6 tests in 0.001s",
        "FAILED (failures=2, errors=1, skipped=1, expected failures=1)",
    ])
    got = unittest.parse_verbose(out)
    assert got is not None and got.tests == {
        "tests.test_broken": ERROR,
        "tests.test_calc.T.test_add": FAILED,
        "tests.test_calc.T.test_old": PASSED,
        "tests.test_calc.T.test_skip": SKIPPED,
        "tests.test_sub.S.test_cases": FAILED,  # a failing subtest fails the test
        "tests.test_sub.S.test_xf": SKIPPED,
    }
    assert unittest.parse_verbose("Ran 3 tests in 0.1s\n\nOK\n") is None


def test_libtest_lines_per_binary_and_doctests_without_line_numbers() -> None:
    out = "\n".join([
        "   Compiling calc v0.1.0 (/work/proj)",
        "     Running unittests src/lib.rs (target/debug/deps/calc-c6626fb655a8d231)",
        "running 2 tests",
        "test tests::adds ... FAILED",
        "test tests::later ... ignored, not yet",
        "     Running tests/api.rs (target/debug/deps/api-0a1b2c3d4e5f6789)",
        "test adds ... ok",
        "   Doc-tests calc",
        "test src/lib.rs - add (line 3) ... ok",
        "test result: ok. 1 passed; 0 failed; 0 ignored",
    ])
    got = cargo.parse_output(out)
    assert got is not None and got.tests == {
        "src/lib.rs::tests::adds": FAILED,
        "src/lib.rs::tests::later": SKIPPED,
        "tests/api.rs::adds": PASSED,  # same name, other binary: another test
        "doc-tests calc::src/lib.rs - add": PASSED,
    }
    assert cargo.parse_output("error[E0308]: mismatched types\nerror: could not compile") is None


def _ev(**kw: object) -> str:
    return json.dumps(kw)


def test_go_json_events_output_text_and_build_failures() -> None:
    out = "\n".join([
        _ev(Action="run", Package="ex/calc", Test="TestAdd"),
        _ev(Action="output", Package="ex/calc", Test="TestAdd", Output="    calc_test.go:5: -1\n"),
        _ev(Action="fail", Package="ex/calc", Test="TestAdd"),
        _ev(Action="pass", Package="ex/calc", Test="TestTable/b_c"),
        _ev(Action="skip", Package="ex/calc", Test="TestLater"),
        _ev(Action="fail", Package="ex/calc"),
        "# ex/broken [ex/broken.test]",  # go 1.19: the build error is plain text
        "broken/x.go:2:14: syntax error: unexpected {",
        "FAIL\tex/broken [build failed]",
        _ev(Action="fail", Package="ex/new", FailedBuild="ex/new"),  # go 1.24+
    ])
    got = go.parse_json(out)
    assert got is not None and got.tests == {
        "ex/calc::TestAdd": FAILED,
        "ex/calc::TestTable/b_c": PASSED,
        "ex/calc::TestLater": SKIPPED,
        "ex/broken": ERROR,
        "ex/new": ERROR,
    }
    assert "calc_test.go:5: -1" in (got.output or "")
    assert "syntax error" in (got.output or "")
    assert go.parse_json("ok  \tex/calc\t0.01s\n") is None


def test_go_verbose_text_attributes_tests_to_their_package() -> None:
    out = "\n".join([
        "=== RUN   TestAdd", "--- FAIL: TestAdd (0.00s)", "FAIL", "FAIL\tex/calc\t0.003s",
        "=== RUN   TestX", "--- PASS: TestX (0.00s)", "PASS", "ok  \tex/other\t0.002s",
    ])
    got = go.parse_verbose(out)
    assert got is not None and got.tests == {"ex/calc::TestAdd": FAILED, "ex/other::TestX": PASSED}
    assert go.parse_verbose("--- FAIL: TestAdd (0.00s)\nFAIL\tex/calc\n") is None  # not -v


def test_jest_report_ids_and_a_file_that_fails_to_run() -> None:
    data = {
        "testResults": [
            {"name": "/work/proj/src/math.test.js", "status": "failed", "assertionResults": [
                {"ancestorTitles": ["math"], "title": "adds", "status": "failed"},
                {"ancestorTitles": [], "title": "top", "status": "passed"},
                {"ancestorTitles": [], "title": "later", "status": "pending"},
            ]},
            {"name": "/work/proj/src/broken.test.js", "status": "failed",
             "testExecError": {"message": "SyntaxError"}, "assertionResults": []},
        ]
    }
    assert jest.parse_report(data, _rel) == {
        "src/math.test.js::math > adds": FAILED,
        "src/math.test.js::top": PASSED,
        "src/math.test.js::later": SKIPPED,
        "src/broken.test.js": ERROR,
    }
    assert jest.parse_report({"unrelated": 1}, _rel) is None
    pattern, files = jest.name_pattern(["src/math.test.js::math > adds (1+1)"])
    assert pattern == r"^(math\ adds\ \(1\+1\))$" and files == [r"src/math\.test\.js$"]


def test_mocha_report_hooks_are_errors_and_failures_are_readable() -> None:
    data = {
        "stats": {"passes": 1, "failures": 2, "pending": 0},
        "passes": [{"fullTitle": "math subtracts", "file": "/work/proj/test/m.js"}],
        "pending": [],
        "failures": [
            {"fullTitle": "math adds", "file": "/work/proj/test/m.js",
             "err": {"message": "-1 !== 5", "stack": "AssertionError: -1 !== 5\n    at m.js:4"}},
            {"fullTitle": 'db "before each" hook for "saves"', "file": "/work/proj/test/d.js",
             "err": {"message": "ECONNREFUSED"}},
        ],
    }
    got = mocha.parse_report(data, _rel)
    assert got is not None and got.tests == {
        "test/m.js::math subtracts": PASSED,
        "test/m.js::math adds": FAILED,
        'test/d.js::db "before each" hook for "saves"': ERROR,
    }
    assert "1) math adds:" in (got.output or "") and "AssertionError: -1 !== 5" in got.output


def test_an_older_mocha_prints_its_json_report_on_stdout_after_the_tests_output() -> None:
    # mocha before 6 ignores --reporter-options output=...: the report follows the tests output
    report = {"stats": {"passes": 1, "failures": 1, "pending": 0},
              "passes": [{"fullTitle": "ms(string) should work {x}", "err": {}}],
              "failures": [{"fullTitle": "ms(string) negative", "err": {"message": "x"}}]}
    output = "a test logged {this}\n{ not json\n" + json.dumps(report, indent=2) + "\n"
    got = mocha.parse_report(mocha.report_in_output(output), _rel)
    assert got is not None and got.tests == {
        "?::ms(string) should work {x}": PASSED,
        "?::ms(string) negative": FAILED,
    }
    assert mocha.report_in_output("  3 passing\n  1 failing\n") is None


def test_node_test_events_nest_by_file() -> None:
    lines = [
        {"event": "test:start", "name": "math", "nesting": 0, "file": "/work/proj/t/a.js"},
        {"event": "test:start", "name": "adds", "nesting": 1, "file": "/work/proj/t/a.js"},
        {"event": "test:fail", "name": "adds", "nesting": 1, "file": "/work/proj/t/a.js"},
        {"event": "test:fail", "name": "math", "nesting": 0, "file": "/work/proj/t/a.js",
         "suite": True},
        {"event": "test:start", "name": "math", "nesting": 0, "file": "/work/proj/t/b.js"},
        {"event": "test:start", "name": "adds", "nesting": 1, "file": "/work/proj/t/b.js"},
        {"event": "test:pass", "name": "adds", "nesting": 1, "file": "/work/proj/t/b.js"},
        {"event": "test:start", "name": "later", "nesting": 0, "file": "/work/proj/t/b.js"},
        {"event": "test:pass", "name": "later", "nesting": 0, "file": "/work/proj/t/b.js",
         "skip": True},
    ]
    text = "\n".join(json.dumps(x) for x in lines) + "\nnot json\n"
    assert node_test.parse_events(text, _rel) == {
        "t/a.js::math > adds": FAILED,
        "t/b.js::math > adds": PASSED,
        "t/b.js::later": SKIPPED,
    }
    assert node_test.node_options(["--a=b c", '--x="y"']) == '"--a=b c" "--x=\\"y\\""'


def test_tap_with_subtests_and_directives() -> None:
    out = "\n".join([
        "TAP version 13",
        "# Subtest: math",
        "    # Subtest: adds",
        "    not ok 1 - adds",
        "    # Subtest: subtracts",
        "    ok 2 - subtracts",
        "    1..2",
        "not ok 1 - math",
        "ok 2 - later # SKIP not yet",
        "1..2",
    ])
    got = tap.parse_tap(out)
    assert got is not None and got.tests == {
        "math > adds": FAILED, "math > subtracts": PASSED, "math": FAILED, "later": SKIPPED,
    }
    assert tap.parse_tap("ok 1 - looks like tap but is not declared") is None


def test_glob_regex_for_report_patterns() -> None:
    rx = glob_regex("**/target/surefire-reports/TEST-*.xml")
    assert rx.match("target/surefire-reports/TEST-a.B.xml")
    assert rx.match("mod/sub/target/surefire-reports/TEST-x.xml")
    assert not rx.match("target/surefire-reports/deep/TEST-x.xml")
    assert not rx.match("target/surefire-reports/TEST-x.xml.bak")
