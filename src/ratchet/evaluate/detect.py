"""What test command a repository uses, and what a command string runs.

:func:`detect_test_command` looks at a checkout and proposes a command (pytest first, then a
few other ecosystems). :func:`pytest_with_junit` recognises a shell command whose last step
runs pytest and adds ``--junitxml`` so the runner gets per-test results.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path

PYTEST_COMMAND = "python -m pytest -q"

_PYTEST_PROGRAMS = frozenset({"pytest", "py.test", "pytest-3"})
_RUN_WRAPPERS = frozenset({"uv", "poetry", "pdm", "pipenv", "rye", "hatch"})
_PYTHON = re.compile(r"python[0-9.]*")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*", re.DOTALL)
_SEPARATORS = frozenset({"&&", ";", "||"})
_SKIP_DIRS = frozenset(
    {".git", ".hg", ".venv", "venv", "env", "node_modules", "site-packages", "build", "dist",
     "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", "target", ".eggs"}
)
_MAX_SCAN = 5000  # directory entries looked at when searching for test files


# --------------------------------------------------------------------------- command strings


def _tokens(command: str) -> list[str] | None:
    """Shell-like tokens with operators as separate tokens; None if we should not touch it."""
    if "\n" in command.strip() or "`" in command or "$(" in command:
        return None
    lex = shlex.shlex(command, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    lex.commenters = ""
    try:
        return list(lex)
    except ValueError:  # unbalanced quotes
        return None


def _last_simple_command(command: str) -> list[str] | None:
    """The words of the last simple command (after the last ``&&``/``;``/``||``), or None if
    that part uses pipes, redirections, subshells, background jobs or comments."""
    tokens = _tokens(command)
    if not tokens:
        return None
    last_sep, last_other = -1, -1
    for i, tok in enumerate(tokens):
        if tok and all(c in "();<>|&" for c in tok):
            if tok in _SEPARATORS:
                last_sep = i
            else:
                last_other = i
    if last_other > last_sep:
        return None
    words = tokens[last_sep + 1 :]
    if not words or any(w.startswith("#") for w in words):
        return None
    return words


def _program(words: list[str]) -> list[str]:
    """Drop leading ``VAR=value``, ``env``/``exec`` and ``uv run``-style wrappers."""
    i = 0
    while i < len(words):
        w = words[i]
        if _ASSIGNMENT.fullmatch(w):
            i += 1
        elif w in ("env", "exec", "command"):
            i += 1
        elif w in _RUN_WRAPPERS and i + 1 < len(words) and words[i + 1] == "run":
            i += 2
            while i < len(words) and words[i].startswith("-"):
                i += 1
        else:
            break
    return words[i:]


def _runs_module_pytest(args: list[str]) -> bool:
    """True if interpreter ``args`` (after the program name) contain ``-m pytest``."""
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-m":
            return i + 1 < len(args) and args[i + 1] == "pytest"
        if a == "-mpytest":
            return True
        if a in ("-X", "-W"):
            i += 2
            continue
        if not a.startswith("-") or a == "-c":
            return False
        i += 1
    return False


def is_pytest_command(command: str) -> bool:
    """True if the last simple command of ``command`` runs pytest (``pytest``, ``py.test``,
    ``python -m pytest``, ``coverage run -m pytest``, ``uv run pytest`` ..., possibly after
    ``cd dir &&`` or ``VAR=value``). Returns False when unsure."""
    words = _last_simple_command(command)
    if not words:
        return False
    prog = _program(words)
    if not prog:
        return False
    name = os.path.basename(prog[0])
    if name in _PYTEST_PROGRAMS:
        return True
    if _PYTHON.fullmatch(name):
        return _runs_module_pytest(prog[1:])
    if name == "coverage" and len(prog) > 1 and prog[1] == "run":
        return _runs_module_pytest(prog[2:])
    return False


def explicit_junitxml(command: str) -> str | None:
    """The path given with ``--junitxml``/``--junit-xml`` in ``command``, or None."""
    tokens = _tokens(command) or []
    for i, tok in enumerate(tokens):
        for opt in ("--junitxml", "--junit-xml"):
            if tok.startswith(opt + "="):
                return tok.split("=", 1)[1] or None
            if tok == opt and i + 1 < len(tokens):
                return tokens[i + 1]
    return None


def pytest_with_junit(command: str, xml_path: str) -> str | None:
    """``command`` with ``--junitxml=<xml_path> -o junit_family=xunit2`` appended, or None
    when the command does not (recognisably) end with a pytest run, already writes JUnit,
    disables the junitxml plugin or uses ``--``."""
    if not is_pytest_command(command) or explicit_junitxml(command) is not None:
        return None
    words = _last_simple_command(command) or []
    if "--" in words or "no:junitxml" in words or "-pno:junitxml" in words:
        return None
    return f"{command.rstrip()} --junitxml={shlex.quote(xml_path)} -o junit_family=xunit2"


# --------------------------------------------------------------------------- repositories


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _pytest_config(root: Path) -> str | None:
    """Where pytest is configured in ``root``, as words for a person; None if nowhere."""
    if (root / "pytest.ini").is_file():
        return "pytest.ini"
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        text = _read(pyproject)
        try:
            tool = tomllib.loads(text).get("tool", {})
            if isinstance(tool, dict) and "pytest" in tool:
                return "pyproject.toml [tool.pytest]"
        except tomllib.TOMLDecodeError:
            if "[tool.pytest" in text:
                return "pyproject.toml [tool.pytest]"
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        path = root / name
        if path.is_file():
            parser = configparser.ConfigParser(interpolation=None, strict=False)
            try:
                parser.read_string(_read(path))
            except configparser.Error:
                continue
            if parser.has_section(section):
                return f"{name} [{section}]"
    for conftest in (root / "conftest.py", root / "tests" / "conftest.py"):
        if conftest.is_file():
            return conftest.relative_to(root).as_posix()
    return None


def _test_files(root: Path) -> Iterator[Path]:
    """``test_*.py`` / ``*_test.py`` files under ``root``, skipping virtualenvs and build dirs."""
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")
        )
        for name in sorted(filenames):
            seen += 1
            if seen > _MAX_SCAN:
                return
            if name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")):
                yield Path(dirpath, name)


def _package_json_test(root: Path) -> bool:
    try:
        data = json.loads(_read(root / "package.json"))
    except ValueError:
        return False
    script = data.get("scripts", {}).get("test") if isinstance(data, dict) else None
    return isinstance(script, str) and bool(script) and "no test specified" not in script


def detect_test_command(root: Path) -> tuple[str, str] | None:
    """Guess the test command for the checkout at ``root``.

    Returns ``(command, why)`` — e.g. ``("python -m pytest -q", "found 3 test files (e.g.
    tests/test_x.py) and pytest config in pytest.ini")`` — or None when nothing fits.
    Python/pytest is preferred; then ``package.json`` (npm test), ``go.mod`` and
    ``Cargo.toml``. Raises nothing.
    """
    root = Path(root)
    config = _pytest_config(root)
    files = []
    for path in _test_files(root):
        files.append(path)
        if len(files) >= 50:
            break
    if files or config:
        parts = []
        if files:
            more = "+" if len(files) >= 50 else ""
            example = files[0].relative_to(root).as_posix()
            parts.append(f"found {len(files)}{more} test files (e.g. {example})")
        if config:
            parts.append(f"pytest config in {config}")
        return PYTEST_COMMAND, " and ".join(parts)
    if (root / "package.json").is_file() and _package_json_test(root):
        return "npm test", "found a test script in package.json"
    if (root / "go.mod").is_file():
        return "go test ./...", "found go.mod"
    if (root / "Cargo.toml").is_file():
        return "cargo test", "found Cargo.toml"
    return None
