"""Running real test commands: results ladder, statuses, timeouts, runaway output and processes."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ratchet.errors import EvalError
from ratchet.evaluate.detect import detect_test_command
from ratchet.evaluate.report import CRASHED, ERROR, FAILED, NOT_FOUND, PASSED, RAN, SKIPPED, TIMEOUT
from ratchet.evaluate.runner import run_suite
from ratchet.evaluate.sandbox import Sandbox
from ratchet.redact import MASK
from tests.conftest import rung_box, sandbox_usable

BIN = str(Path(sys.executable).parent)
ENV = {"PATH": f"{BIN}:/usr/bin:/bin", "LANG": "C.UTF-8"}
SANDBOXES = ["none"] + [name for name in ("bwrap", "unshare") if sandbox_usable(name)]


def _box(name: str) -> Sandbox:
    return rung_box(name)


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


MIXED = {
    "tests/__init__.py": "",
    "tests/test_mixed.py": """
        import pytest

        def test_ok():
            pass

        def test_bad():
            assert 1 == 2

        @pytest.mark.parametrize("x", [1, 2])
        def test_param(x):
            assert x == 1

        @pytest.mark.skip(reason="not today")
        def test_skipped():
            pass

        @pytest.mark.xfail
        def test_expected_failure():
            assert 0

        class TestGroup:
            def test_inside(self):
                pass
        """,
}


def _procs_with(token: str) -> list[int]:
    """Host pids whose command line contains ``token``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if token in cmdline:
            found.append(int(entry.name))
    return found


def _wait_gone(token: str, seconds: float = 5.0) -> list[int]:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        left = _procs_with(token)
        if not left:
            return []
        time.sleep(0.05)
    return _procs_with(token)


# --------------------------------------------------------------------------- pytest suites


def test_pytest_suite_gives_per_test_results(tmp_path: Path) -> None:
    tree = _write(tmp_path, MIXED)
    run = run_suite(tree, "python -m pytest -q", timeout=120, environ=ENV)
    assert run.status == RAN and run.ok
    assert run.exit_code == 1
    assert run.source == "junit"
    assert run.tests == {
        "tests/test_mixed.py::test_ok": PASSED,
        "tests/test_mixed.py::test_bad": FAILED,
        "tests/test_mixed.py::test_param[1]": PASSED,
        "tests/test_mixed.py::test_param[2]": FAILED,
        "tests/test_mixed.py::test_skipped": SKIPPED,
        "tests/test_mixed.py::test_expected_failure": SKIPPED,
        "tests/test_mixed.py::TestGroup::test_inside": PASSED,
    }
    assert (run.passed, run.failed, run.errors, run.skipped) == (3, 2, 0, 2)
    assert run.failing == ["tests/test_mixed.py::test_bad", "tests/test_mixed.py::test_param[2]"]
    assert "2 failed, 3 passed" in run.output
    assert not list(tree.rglob("*.xml"))  # the report went to a private directory


def test_all_passing_suite_after_cd(tmp_path: Path) -> None:
    _write(tmp_path / "sub", {"test_one.py": "def test_a():\n    pass\n"})
    run = run_suite(tmp_path, "cd sub && FOO=1 pytest -q", timeout=120, environ=ENV)
    assert (run.status, run.exit_code, run.source) == (RAN, 0, "junit")
    assert run.tests == {"test_one.py::test_a": PASSED}


def test_collection_error_is_crashed_with_an_error_entry(tmp_path: Path) -> None:
    tree = _write(
        tmp_path,
        {
            "tests/test_fine.py": "def test_a():\n    pass\n",
            "tests/test_broken.py": "import definitely_missing_module_xyz\n",
        },
    )
    run = run_suite(tree, "python -m pytest -q", timeout=120, environ=ENV)
    assert run.status == CRASHED and not run.ok
    assert run.exit_code == 2
    assert run.tests.get("tests/test_broken.py") == ERROR
    assert "definitely_missing_module_xyz" in run.output


def test_no_tests_collected_is_ran_with_zero_tests(tmp_path: Path) -> None:
    (tmp_path / "README").write_text("nothing here\n")
    run = run_suite(tmp_path, "python -m pytest -q", timeout=120, environ=ENV)
    assert (run.status, run.exit_code) == (RAN, 5)
    assert run.tests == {} and run.source == "junit"
    assert (run.passed, run.failed, run.errors, run.skipped) == (0, 0, 0, 0)


def test_explicit_junitxml_in_the_command_is_read(tmp_path: Path) -> None:
    _write(tmp_path, {"test_x.py": "def test_a():\n    assert False\n"})
    run = run_suite(tmp_path, "pytest -q --junitxml=out/r.xml", timeout=120, environ=ENV)
    assert run.source == "junit"
    assert run.tests == {"test_x.py::test_a": FAILED}


def test_disabled_junit_plugin_falls_back_to_the_summary_line(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\naddopts = -p no:junitxml\n",
            "test_x.py": "def test_a():\n    pass\n\ndef test_b():\n    assert 0\n",
        },
    )
    run = run_suite(tmp_path, "python -m pytest -q", timeout=120, environ=ENV)
    assert (run.status, run.exit_code, run.source) == (RAN, 1, "summary")
    assert (run.passed, run.failed) == (1, 1)


def test_pytest_module_missing_is_not_found(tmp_path: Path) -> None:
    fakebin = tmp_path / "fakebin"
    fakebin.mkdir()
    fake = fakebin / "python"
    fake.write_text("#!/bin/sh\necho \"$0: No module named pytest\" >&2\nexit 1\n")
    fake.chmod(0o755)
    tree = tmp_path / "tree"
    tree.mkdir()
    env = {"PATH": f"{fakebin}:/usr/bin:/bin"}
    run = run_suite(tree, "python -m pytest -q", timeout=30, environ=env)
    assert run.status == NOT_FOUND
    assert "not found" in run.output and "No module named pytest" in run.output


# --------------------------------------------------------------------------- generic commands


def test_missing_command_is_not_found(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "no-such-test-runner-xyz --all", timeout=30, environ=ENV)
    assert (run.status, run.exit_code) == (NOT_FOUND, 127)
    assert "could not be run" in run.output and "no-such-test-runner-xyz" in run.output


@pytest.mark.parametrize(
    ("command", "status", "source", "counts"),
    [
        ("echo '== 1 failed, 3 passed in 0.1s =='; exit 1", RAN, "summary", (3, 1, 0, 0)),
        ("echo 'Ran 4 tests in 0.001s'; echo; echo OK", RAN, "summary", (4, 0, 0, 0)),
        ("exit 0", RAN, "exit", (0, 0, 0, 0)),
        ("echo something went wrong; exit 3", RAN, "exit", (0, 0, 0, 0)),
        ("echo '5 passed'; exit 2", CRASHED, "summary", (5, 0, 0, 0)),
        # tests named one by one, all passing, then a failure outside them (a coverage
        # threshold, a lint step): the tests ran; the verdict weighs the exit code
        ("printf 'TAP version 13\nok 1 - adds\nok 2 - subs\n1..2\n'; exit 1", RAN,
         "TAP output", (2, 0, 0, 0)),
        ("kill -KILL $$", CRASHED, "exit", (0, 0, 0, 0)),
        ("echo 'make: *** [Makefile:2: test] Error 127'; exit 2", NOT_FOUND, "exit", (0,) * 4),
    ],
)
def test_generic_command_statuses(
    tmp_path: Path, command: str, status: str, source: str, counts: tuple[int, ...]
) -> None:
    run = run_suite(tmp_path, command, timeout=30, environ=ENV)
    assert (run.status, run.source) == (status, source), run.output
    assert (run.passed, run.failed, run.errors, run.skipped) == counts


def test_configured_junit_path_glob_reads_fresh_reports_only(tmp_path: Path) -> None:
    stale = tmp_path / "reports" / "TEST-old.xml"
    stale.parent.mkdir()
    stale.write_text(
        '<testsuite name="old"><testcase classname="Old" name="gone"/></testsuite>'
    )
    past = time.time() - 3600
    os.utime(stale, (past, past))
    fresh = (
        '<testsuites><testsuite name="s"><testcase classname="com.x.CalcTest" name="adds"/>'
        '<testcase classname="com.x.CalcTest" name="divides"><failure message="x"/></testcase>'
        "</testsuite></testsuites>"
    )
    (tmp_path / "fresh.xml.in").write_text(fresh)
    command = "cp fresh.xml.in reports/TEST-new.xml; exit 1"
    run = run_suite(tmp_path, command, timeout=30, environ=ENV, junit_path="reports/*.xml")
    assert (run.status, run.source) == (RAN, "junit")
    assert run.tests == {"com.x.CalcTest::adds": PASSED, "com.x.CalcTest::divides": FAILED}

    os.utime(tmp_path / "reports" / "TEST-new.xml", (past, past))
    only_stale = run_suite(tmp_path, "exit 1", timeout=30, environ=ENV, junit_path="reports/*.xml")
    assert only_stale.source == "exit"


def test_junit_path_outside_the_tree_is_ignored(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    run = run_suite(tree, "exit 0", timeout=30, environ=ENV, junit_path="../*.xml")
    assert run.source == "exit"


def test_environment_is_scrubbed_and_secrets_redacted(tmp_path: Path) -> None:
    secret = "hunter2-very-secret-value"
    (tmp_path / "leak.txt").write_text(f"the key is {secret}\n")
    environ = dict(ENV, MY_SERVICE_API_KEY=secret, HOME="/root", SHELL="/bin/bash")
    run = run_suite(tmp_path, "cat leak.txt; env | sort", timeout=30, environ=environ)
    assert secret not in run.output
    assert f"the key is {MASK}" in run.output
    assert "MY_SERVICE_API_KEY" not in run.output and "SHELL=" not in run.output
    assert "HOME=/root\n" not in run.output
    assert "TERM=dumb" in run.output and "PYTHONHASHSEED=0" in run.output


def test_unstartable_commands_raise_eval_error(tmp_path: Path) -> None:
    with pytest.raises(EvalError):
        run_suite(tmp_path / "missing", "true", environ=ENV)
    with pytest.raises(EvalError):
        run_suite(tmp_path, "   ", environ=ENV)
    broken = Sandbox(name="bwrap", description="", executable=str(tmp_path / "no-bwrap"))
    with pytest.raises(EvalError) as err:
        run_suite(tmp_path, "true", environ=ENV, sandbox=broken)
    assert "bwrap" in str(err.value)


# --------------------------------------------------------------------------- runaway processes


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_hanging_suite_times_out(tmp_path: Path, sandbox: str) -> None:
    run = run_suite(
        tmp_path, "echo begun; sleep 41.25", timeout=0.5, environ=ENV, sandbox=_box(sandbox)
    )
    assert run.status == TIMEOUT and run.exit_code is None and not run.ok
    assert "begun" in run.output and "timed out" in run.output
    assert _wait_gone("41.25") == []


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_timeout_kills_a_tree_that_ignores_sigterm(tmp_path: Path, sandbox: str) -> None:
    command = "trap '' TERM; sleep 42.25 & sleep 42.5; wait"
    run = run_suite(
        tmp_path, command, timeout=0.5, kill_grace=0.2, environ=ENV, sandbox=_box(sandbox)
    )
    assert run.status == TIMEOUT
    assert _wait_gone("42.25") == [] and _wait_gone("42.5") == []


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_grandchild_holding_the_pipe_does_not_block(tmp_path: Path, sandbox: str) -> None:
    command = "setsid sh -c 'sleep 43.25' & echo started"
    try:
        run = run_suite(
            tmp_path, command, timeout=60, exit_grace=0.2, environ=ENV, sandbox=_box(sandbox)
        )
        assert (run.status, run.exit_code) == (RAN, 0)
        assert "started" in run.output
        assert run.duration < 30  # returned long before the timeout, not blocked by the pipe
        if sandbox == "bwrap":  # the PID namespace died with the suite
            assert _wait_gone("43.25") == []
    finally:
        for pid in _procs_with("sleep 43.25"):  # without a PID namespace setsid escapes
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_output_flood_keeps_head_and_tail_within_the_cap(tmp_path: Path, sandbox: str) -> None:
    command = (
        "python -c \"import sys; print('FIRST-LINE'); "
        "[sys.stdout.write('x' * 99 + chr(10)) for _ in range(30000)]; print('LAST-LINE')\""
    )
    run = run_suite(
        tmp_path, command, timeout=60, output_cap=8192, environ=ENV, sandbox=_box(sandbox)
    )
    assert run.status == RAN
    assert run.output.startswith("FIRST-LINE")
    assert "LAST-LINE" in run.output[-200:]
    assert "bytes of output omitted" in run.output
    assert len(run.output) < 8192 + 200


def test_endless_output_is_capped_and_timed_out(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "yes flood", timeout=0.5, output_cap=4096, environ=ENV)
    assert run.status == TIMEOUT
    assert len(run.output) < 4096 + 300
    assert run.output.startswith("flood\nflood")


# --------------------------------------------------------------------------- detect


def test_detect_pytest_project_with_config_and_tests(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-ra'\n",
            "tests/test_core.py": "def test_a():\n    pass\n",
            ".venv/lib/test_ignored.py": "",
        },
    )
    command, why = detect_test_command(tmp_path, ENV) or ("", "")
    assert command == "python -m pytest -q"
    assert "tests/test_core.py" in why and "pyproject.toml" in why
    assert "test_ignored" not in why


@pytest.mark.parametrize(
    ("files", "where"),
    [
        ({"pytest.ini": "[pytest]\n"}, "pytest.ini"),
        ({"tox.ini": "[tox]\n[pytest]\naddopts = -q\n"}, "tox.ini"),
        ({"setup.cfg": "[metadata]\nname = x\n[tool:pytest]\n"}, "setup.cfg"),
        ({"conftest.py": ""}, "conftest.py"),
        ({"pkg/widget_test.py": ""}, "pkg/widget_test.py"),
    ],
)
def test_detect_pytest_markers(tmp_path: Path, files: dict[str, str], where: str) -> None:
    _write(tmp_path, files)
    found = detect_test_command(tmp_path, ENV)
    assert found is not None and found[0] == "python -m pytest -q"
    assert where in found[1]


def test_detected_pytest_uses_python3_without_python_and_the_checkouts_venv(
    tmp_path: Path,
) -> None:
    _write(tmp_path, {"tests/test_a.py": "def test_a():\n    pass\n"})
    bare = tmp_path / "bin"
    bare.mkdir()
    found = detect_test_command(tmp_path, {"PATH": str(bare)})
    assert found is not None and found[0] == "python3 -m pytest -q"
    venv_python = tmp_path / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.symlink_to(sys.executable)
    found = detect_test_command(tmp_path, {"PATH": str(bare)})
    assert found is not None and found[0] == ".venv/bin/python -m pytest -q"


def test_detect_other_ecosystems_and_nothing(tmp_path: Path) -> None:
    assert detect_test_command(tmp_path) is None
    (tmp_path / "tox.ini").write_text("[tox]\nenvlist = py311\n")  # tox without [pytest]
    assert detect_test_command(tmp_path) is None
    (tmp_path / "package.json").write_text(
        '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'
    )
    assert detect_test_command(tmp_path) is None
    (tmp_path / "package.json").write_text('{"scripts": {"test": "jest"}}')
    assert detect_test_command(tmp_path) == ("npm test", "found a test script in package.json")
    (tmp_path / "package.json").unlink()
    (tmp_path / "go.mod").write_text("module x\n")
    assert detect_test_command(tmp_path) == ("go test ./...", "found go.mod")


def test_a_suite_that_sees_the_added_options_is_run_as_configured(tmp_path: Path) -> None:
    """Like commander.js's jest tests, which parse the runner's own command line in-band."""
    _write(tmp_path, {
        "conftest.py": "import sys\n\nif any('junitxml' in a for a in sys.argv):\n"
                       "    raise SystemExit('unknown option --junitxml')\n",
        "test_x.py": "def test_a():\n    pass\n\ndef test_b():\n    assert 0\n",
    })
    run = run_suite(tmp_path, "python -m pytest -q", timeout=120, environ=ENV)
    assert (run.status, run.source, run.passed, run.failed) == (RAN, "summary", 1, 1)
    assert "ran as configured instead" in run.output


@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed")
def test_a_runner_that_names_no_test_and_fails_crashed(tmp_path: Path) -> None:
    _write(tmp_path, {
        "Cargo.toml": '[package]\nname = "broken"\nversion = "0.1.0"\nedition = "2021"\n',
        "src/lib.rs": "pub fn f() -> i32 { \"not a number\" }\n",
    })
    from ratchet.evaluate.world import World, toolchain_env

    env = {**ENV, "PATH": os.environ["PATH"]}
    world = World(checkout=str(tmp_path), env=tuple(toolchain_env(os.environ)))  # rustup's home
    run = run_suite(tmp_path, "cargo test --offline", timeout=300, environ=env, world=world)
    assert run.status == CRASHED and run.source == "exit"
    assert "without reporting any test" in run.output and "mismatched types" in run.output


@pytest.mark.parametrize("command", ["python -m pytest -q", "python -m pytest -q tests"])
def test_a_rerun_runs_only_the_selected_tests(tmp_path: Path, command: str) -> None:
    """By node ids as arguments, or (when the command names its own paths) by the plugin."""
    tree = _write(tmp_path, MIXED)
    wanted = ["tests/test_mixed.py::test_bad", "tests/test_mixed.py::test_param[2]"]
    run = run_suite(tree, command, timeout=120, environ=ENV, select=wanted)
    assert run.partial and run.source == "junit"
    assert run.tests == {t: FAILED for t in wanted}
