"""JUnit XML parsing: real pytest reports, other producers, hostile input."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ratchet.evaluate import junit
from ratchet.evaluate.junit import JUnitError, parse_junit
from ratchet.evaluate.report import ERROR, FAILED, PASSED, SKIPPED

SUITE = """
import pytest

def test_ok():
    pass

def test_fail():
    assert 1 == 2

@pytest.mark.parametrize("x", ["a", "b-c"])
def test_param(x):
    assert x == "a"

@pytest.fixture
def broken():
    raise RuntimeError("setup boom")

def test_setup_error(broken):
    pass

@pytest.fixture
def bad_teardown():
    yield
    raise RuntimeError("teardown boom")

def test_teardown_error(bad_teardown):
    pass

@pytest.mark.skip(reason="later")
def test_skip():
    pass

@pytest.mark.xfail
def test_xfail():
    assert 0

@pytest.mark.xfail(strict=True)
def test_xpass_strict():
    pass

class TestThing:
    def test_method(self):
        pass

    class TestNested:
        def test_deep(self):
            pass
"""


def _pytest_report(tree: Path, family: str = "xunit2") -> Path:
    out = tree / "report.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--junitxml={out}", "-o", f"junit_family={family}"],
        cwd=tree, capture_output=True, timeout=120, check=False,
    )
    assert out.is_file()
    return out


def _xml(tmp_path: Path, text: str, name: str = "r.xml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).strip())
    return path


EXPECTED = {
    "tests/test_things.py::test_ok": PASSED,
    "tests/test_things.py::test_fail": FAILED,
    "tests/test_things.py::test_param[a]": PASSED,
    "tests/test_things.py::test_param[b-c]": FAILED,
    "tests/test_things.py::test_setup_error": ERROR,
    "tests/test_things.py::test_teardown_error": ERROR,
    "tests/test_things.py::test_skip": SKIPPED,
    "tests/test_things.py::test_xfail": SKIPPED,
    "tests/test_things.py::test_xpass_strict": FAILED,
    "tests/test_things.py::TestThing::test_method": PASSED,
    "tests/test_things.py::TestThing::TestNested::test_deep": PASSED,
}


@pytest.fixture(scope="module")
def pytest_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("suite")
    (tree / "tests").mkdir()
    (tree / "tests" / "__init__.py").write_text("")
    (tree / "tests" / "test_things.py").write_text(SUITE)
    return tree


def test_real_pytest_xunit2_report(pytest_tree: Path) -> None:
    report = _pytest_report(pytest_tree)
    assert parse_junit(report) == EXPECTED
    assert parse_junit(report, root=pytest_tree) == EXPECTED


def test_real_pytest_xunit1_report_with_file_attribute(pytest_tree: Path) -> None:
    report = _pytest_report(pytest_tree, family="xunit1")
    assert 'file="tests/test_things.py"' in report.read_text()
    assert parse_junit(str(report)) == EXPECTED


def test_real_pytest_collection_error(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_broken.py").write_text("import not_a_real_module_abc\n")
    (tmp_path / "tests" / "test_fine.py").write_text("def test_a():\n    pass\n")
    assert parse_junit(_pytest_report(tmp_path)) == {"tests/test_broken.py": ERROR}


def test_nested_suites_and_multiple_files(tmp_path: Path) -> None:
    a = _xml(
        tmp_path,
        """
        <testsuites>
          <testsuite name="outer">
            <testsuite name="inner">
              <testcase classname="com.acme.MathTest" name="adds"/>
              <testcase classname="com.acme.MathTest" name="divides">
                <error type="java.lang.ArithmeticException">/ by zero</error>
              </testcase>
            </testsuite>
            <testcase classname="com.acme.IoTest" name="reads"><skipped/></testcase>
          </testsuite>
        </testsuites>
        """,
        "a.xml",
    )
    b = _xml(
        tmp_path,
        """
        <testsuite name="jest tests" tests="1">
          <testcase classname="" name="renders" file="src/App.test.js">
            <failure message="expected">stack</failure>
          </testcase>
        </testsuite>
        """,
        "b.xml",
    )
    assert parse_junit([a, b]) == {
        "com.acme.MathTest::adds": PASSED,
        "com.acme.MathTest::divides": ERROR,
        "com.acme.IoTest::reads": SKIPPED,
        "src/App.test.js::renders": FAILED,
    }


def test_flaky_rerun_elements_do_not_count_and_worst_duplicate_wins(tmp_path: Path) -> None:
    report = _xml(
        tmp_path,
        """
        <testsuite name="surefire" xmlns="urn:example">
          <testcase classname="T" name="flaky"><flakyFailure message="once"/></testcase>
          <testcase classname="T" name="twice"/>
          <testcase classname="T" name="twice"><failure/></testcase>
          <testcase classname="T" name="twice"/>
        </testsuite>
        """,
    )
    assert parse_junit(report) == {"T::flaky": PASSED, "T::twice": FAILED}


def test_pytest_classname_mapping_uses_the_tree_when_given(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "Checks.py").write_text("")
    report = _xml(
        tmp_path,
        """
        <testsuites><testsuite name="pytest">
          <testcase classname="pkg.Checks" name="test_upper_module"/>
          <testcase classname="pkg.Checks.TestA" name="test_in_class"/>
        </testsuite></testsuites>
        """,
    )
    assert parse_junit(report, root=tmp_path) == {
        "pkg/Checks.py::test_upper_module": PASSED,
        "pkg/Checks.py::TestA::test_in_class": PASSED,
    }


@pytest.mark.parametrize(
    "text",
    [
        "<testsuite><testcase name='a'>",  # truncated
        "not xml at all",
        "<html><body/></html>",  # not JUnit
        """<?xml version="1.0"?>
        <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
        <testsuite><testcase name="&lol2;"/></testsuite>""",
        """<?xml version="1.0"?>
        <!DOCTYPE x [<!ENTITY ext SYSTEM "file:///etc/passwd">]>
        <testsuite><testcase name="&ext;"/></testsuite>""",
    ],
)
def test_bad_or_hostile_reports_raise(tmp_path: Path, text: str) -> None:
    with pytest.raises(JUnitError):
        parse_junit(_xml(tmp_path, text))


def test_missing_and_oversized_reports_raise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(JUnitError):
        parse_junit(tmp_path / "absent.xml")
    report = _xml(tmp_path, "<testsuite>" + "<testcase name='a'/>" * 100 + "</testsuite>")
    monkeypatch.setattr(junit, "MAX_JUNIT_BYTES", 500)
    with pytest.raises(JUnitError, match="limit"):
        parse_junit(report)


def test_a_report_that_is_not_a_regular_file_raises(tmp_path: Path) -> None:
    link = tmp_path / "r.xml"
    link.symlink_to("/dev/zero")  # would never end if read naively
    with pytest.raises(JUnitError, match="regular file"):
        parse_junit(link)
