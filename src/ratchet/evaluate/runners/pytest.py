"""pytest: per-test results from its built-in JUnit XML writer.

Instrument: append ``--junitxml=<out>/pytest.xml -o junit_family=xunit2`` (a ``--junitxml``
already in the command is read instead; ``-p no:junitxml`` leaves the command alone), and
``--maxfail=0``, which undoes ``-x``/``--maxfail`` in the command or the configuration's
``addopts`` (a run that stops at the first failure hides the tests after it). Where
pytest is not visible in the command (``make test``, ``tox``, a script), the runner module
still adds the same options through ``PYTEST_ADDOPTS`` (see :func:`addopts_env`).

Select: the node ids as arguments when the command names no paths of its own (pytest then
collects only those files: on click's suite the rerun of a few tests drops from ~4.5 s to
about one second); else (or for more than :data:`MAX_ID_ARGS` ids) a tiny plugin, put on
``PYTHONPATH`` and loaded with ``-p``, deselects every collected item whose node id is not in
the list (node ids next to the command's own paths would add to them, not narrow them).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from pathlib import Path

from ratchet.evaluate import shell
from ratchet.evaluate.junit import JUnitError, parse_junit
from ratchet.evaluate.runners.base import (
    CollectContext,
    Collected,
    Instrumented,
    Invocation,
    Runner,
)

PROGRAMS = frozenset({"pytest", "py.test", "pytest-3"})
MAX_ID_ARGS = 200
#: pytest options whose value is the next word
_VALUE_OPTIONS = frozenset(
    {"-k", "-m", "-p", "-n", "-o", "-c", "-W", "-r", "--tb", "--rootdir", "--confcutdir",
     "--basetemp", "--junitxml", "--junit-xml", "--maxfail", "--deselect", "--ignore",
     "--ignore-glob", "--cov", "--cov-report", "--cov-config", "--durations", "--log-level",
     "--capture", "--import-mode", "--dist", "--timeout", "--override-ini", "--config-file",
     "--pyargs", "--log-file", "--log-cli-level", "--count", "--reruns", "--seed"}
)
REPORT = "pytest.xml"
PLUGIN = "ratchet_select"

_PLUGIN_SOURCE = '''"""Written by Ratchet: keep only the tests listed in select.json (a rerun)."""
import json
import os

_WANTED = set(json.load(open(os.path.join(os.path.dirname(__file__), "select.json"))))


def pytest_collection_modifyitems(config, items):
    keep = [i for i in items if i.nodeid in _WANTED]
    drop = [i for i in items if i.nodeid not in _WANTED]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
'''


def explicit_junitxml(words: Sequence[str]) -> str | None:
    """The path given with ``--junitxml``/``--junit-xml`` in ``words``, or None."""
    for i, tok in enumerate(words):
        for opt in ("--junitxml", "--junit-xml"):
            if tok.startswith(opt + "="):
                return tok.split("=", 1)[1] or None
            if tok == opt and i + 1 < len(words):
                return words[i + 1]
    return None


def positionals(args: Sequence[str]) -> list[str]:
    """The words of pytest arguments that are paths or node ids, not options or their values."""
    found: list[str] = []
    skip = False
    for word in args:
        if skip:
            skip = False
        elif word == "--":
            return ["--"]  # everything after it is positional: treat as "has paths"
        elif word.startswith("-"):
            skip = word in _VALUE_OPTIONS
        else:
            found.append(word)
    return found


def _junit_disabled(words: Sequence[str]) -> bool:
    return "no:junitxml" in words or "-pno:junitxml" in words


#: every test runs, whatever ``-x`` or ``--maxfail`` the command or its configuration set
RUN_ALL = "--maxfail=0"


def junit_options(xml: Path) -> list[str]:
    return [f"--junitxml={xml}", "-o", "junit_family=xunit2", RUN_ALL]


def addopts_env(out: Path) -> dict[str, str]:
    """``PYTEST_ADDOPTS`` that makes any pytest run write JUnit XML into ``out`` (and run
    every test, unless the command line itself says ``-x``: it comes after this)."""
    return {"PYTEST_ADDOPTS": shlex.join(junit_options(out / REPORT))}


class Pytest(Runner):
    name = "pytest"
    results_via = "JUnit XML (--junitxml)"
    env_only = True  # not the last step: PYTEST_ADDOPTS still reaches it

    def matches(self, prog: shell.Program) -> bool:
        return prog.name in PROGRAMS

    def instrument(self, inv: Invocation, out: Path) -> Instrumented | None:
        if _junit_disabled(inv.words):
            return None
        if not inv.tail:
            return Instrumented(inv.command, env=addopts_env(out), note="PYTEST_ADDOPTS")
        if "--" in inv.args:
            return None
        if explicit_junitxml(inv.words) is not None:
            return Instrumented(inv.append([RUN_ALL]), note=RUN_ALL)
        return Instrumented(inv.append(junit_options(out / REPORT)), note="--junitxml")

    def collect(self, ctx: CollectContext) -> Collected | None:
        reports = [ctx.out / REPORT] if (ctx.out / REPORT).is_file() else []
        explicit = explicit_junitxml(ctx.words)
        if not reports and explicit:
            reports = ctx.find(explicit if explicit.startswith("/") else
                               str(Path(ctx.cwd or ".", explicit)))
        if not reports:
            return None
        try:
            tests = parse_junit(reports, root=ctx.tree / ctx.cwd)
        except JUnitError:
            return None
        return Collected(tests, "junit")

    def select(self, inv: Invocation, ids: Sequence[str], out: Path) -> Instrumented | None:
        base = self.instrument(inv, out)
        if base is None or not ids or not inv.tail:
            return None
        if not positionals(inv.args) and len(ids) <= MAX_ID_ARGS:
            return Instrumented(
                inv.append([*junit_options(out / REPORT), *sorted(ids)]),
                note=f"rerun of {len(ids)} test(s) by node id",
            )
        plugins = out / "plugins"
        plugins.mkdir(parents=True, exist_ok=True)
        (plugins / f"{PLUGIN}.py").write_text(_PLUGIN_SOURCE, encoding="utf-8")
        (plugins / "select.json").write_text(json.dumps(sorted(ids)), encoding="utf-8")
        return Instrumented(
            inv.append([*junit_options(out / REPORT), "-p", PLUGIN]),
            env={"PYTHONPATH": str(plugins)},
            note=f"rerun of {len(ids)} test(s) by node id",
        )


RUNNER = Pytest()


def collect_addopts(ctx: CollectContext) -> Collected | None:
    """Results of a pytest run reached only through ``PYTEST_ADDOPTS``."""
    return RUNNER.collect(ctx)
