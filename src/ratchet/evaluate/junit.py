"""Per-test results from JUnit XML reports (pytest, jest-junit, Surefire, nextest, ...).

The report is written by code we run on the model's change, so it is untrusted: it is parsed
with ``defusedxml`` (no DTDs, entities or external references) and capped in size.

Test ids are normalised to ``file_or_classname::name[params]``:

* pytest (``<testsuite name="pytest">``, or ``root`` given and the file exists): classname
  ``tests.test_x`` → ``tests/test_x.py::name``; ``tests.test_x.TestK`` →
  ``tests/test_x.py::TestK::name``; a collection error (empty classname, dotted module as
  name) → ``tests/test_x.py``.
* anything else: ``classname::name`` (or ``file::name`` when a ``file`` attribute exists).

Status per ``<testcase>``: ``<error>`` → error, ``<failure>`` → failed, ``<skipped>`` →
skipped (pytest reports xfail as skipped), otherwise passed. Rerun elements such as
``<flakyFailure>``/``<rerunFailure>`` do not count. When an id occurs more than once the worst
status wins (error > failed > skipped > passed).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ratchet.errors import JUnitError
from ratchet.evaluate.report import ERROR, FAILED, PASSED, SKIPPED

#: largest report file we parse (bytes)
MAX_JUNIT_BYTES = 32 * 1024 * 1024
#: most test cases we keep across all files
MAX_CASES = 200_000

_RANK = {PASSED: 0, SKIPPED: 1, FAILED: 2, ERROR: 3}


def _local(tag: object) -> str:
    """Tag name without an XML namespace."""
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


def _status(case: Element) -> str:
    kinds = {_local(child.tag) for child in case}
    if "error" in kinds:
        return ERROR
    if "failure" in kinds:
        return FAILED
    if "skipped" in kinds:
        return SKIPPED
    return PASSED


def _pytest_module_split(dotted: list[str], root: Path | None) -> int:
    """How many leading parts of a pytest classname form the module path."""
    if root is not None:
        for n in range(len(dotted), 0, -1):
            if (root.joinpath(*dotted[:n]).with_suffix(".py")).is_file():
                return n
    n = len(dotted)
    while n > 1 and dotted[n - 1][:1].isupper():
        n -= 1  # trailing CamelCase parts are classes (TestFoo, TestFoo.TestNested)
    return n


def _pytest_id(classname: str, name: str, root: Path | None) -> str:
    if not classname:  # collection error: name is the dotted module path
        parts = name.split(".")
        return "/".join(parts) + ".py" if all(parts) else name
    parts = classname.split(".")
    n = _pytest_module_split(parts, root)
    module = "/".join(parts[:n]) + ".py"
    return "::".join([module, *parts[n:], name])


def _case_id(case: Element, pytest_style: bool, root: Path | None) -> str:
    name = case.get("name") or ""
    classname = case.get("classname") or ""
    file = (case.get("file") or "").replace(os.sep, "/")
    while file.startswith("./"):  # rspec's JUnit formatter writes ./spec/x_spec.rb
        file = file[2:]
    if pytest_style:
        if file.endswith(".py") and classname:
            parts = classname.split(".")
            module_parts = file[: -len(".py")].split("/")
            extra = parts[len(module_parts) :] if parts[: len(module_parts)] == module_parts else []
            return "::".join([file, *extra, name])
        return _pytest_id(classname, name, root)
    if file:
        return f"{file}::{name}"
    return f"{classname}::{name}" if classname else name


def _is_pytest_report(root_el: Element, root: Path | None) -> bool:
    suites = [root_el] if _local(root_el.tag) == "testsuite" else []
    suites += [el for el in root_el.iter() if _local(el.tag) == "testsuite"]
    if any((s.get("name") or "").startswith("pytest") for s in suites):
        return True
    if root is None:
        return False
    for case in root_el.iter():
        if _local(case.tag) == "testcase" and case.get("classname"):
            parts = (case.get("classname") or "").split(".")
            return any(root.joinpath(*parts[:n]).with_suffix(".py").is_file()
                       for n in range(len(parts), 0, -1))
    return False


def _parse_file(path: Path, root: Path | None, into: dict[str, str]) -> None:
    try:
        with open(path, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise JUnitError(f"JUnit report {path} is not a regular file")
            data = fh.read(MAX_JUNIT_BYTES + 1)
    except OSError as exc:
        raise JUnitError(f"cannot read JUnit report {path}: {exc}") from exc
    if len(data) > MAX_JUNIT_BYTES:
        raise JUnitError(f"JUnit report {path} is over the limit of {MAX_JUNIT_BYTES} bytes")
    try:
        top = SafeET.fromstring(data, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise JUnitError(f"cannot parse JUnit report {path}: {exc}") from exc
    if _local(top.tag) not in ("testsuites", "testsuite"):
        raise JUnitError(f"{path} is not a JUnit report (root element <{_local(top.tag)}>)")
    pytest_style = _is_pytest_report(top, root)
    for case in top.iter():
        if _local(case.tag) != "testcase":
            continue
        if len(into) >= MAX_CASES:
            raise JUnitError(f"more than {MAX_CASES} test cases in JUnit reports")
        test_id = _case_id(case, pytest_style, root)
        status = _status(case)
        old = into.get(test_id)
        if old is None or _RANK[status] > _RANK[old]:
            into[test_id] = status


def parse_junit(
    path_or_paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    root: Path | None = None,
) -> dict[str, str]:
    """Parse one or more JUnit XML files into ``{test_id: status}``.

    ``root`` (the checkout) lets pytest classnames be mapped to files exactly. Statuses are
    the ``report`` constants PASSED/FAILED/ERROR/SKIPPED. Raises JUnitError if any file is
    missing, larger than MAX_JUNIT_BYTES, malformed, uses DTDs/entities, or is not JUnit.
    """
    if isinstance(path_or_paths, str | os.PathLike):
        paths = [Path(path_or_paths)]
    else:
        paths = [Path(p) for p in path_or_paths]
    results: dict[str, str] = {}
    for path in paths:
        _parse_file(path, root, results)
    return results
