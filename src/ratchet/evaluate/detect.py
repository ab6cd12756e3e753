"""What test command a repository uses, when none is configured.

:func:`detect_test_command` looks at a checkout and proposes a command: pytest first (run with
the checkout's own ``.venv`` when it has one, else ``python``, else ``python3``, so a machine
without a ``python`` command works), then ``npm test``, ``go test ./...``, ``cargo test``,
Maven and Gradle. What a command runs is :mod:`ratchet.evaluate.resolve`'s business.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path

from ratchet.environment import current

_SKIP_DIRS = frozenset(
    {".git", ".hg", ".venv", "venv", "env", "node_modules", "site-packages", "build", "dist",
     "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", "target", ".eggs"}
)
_MAX_SCAN = 5000  # directory entries looked at when searching for test files


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


def python_for(root: Path, environ: Mapping[str, str] | None = None) -> str:
    """The interpreter a detected pytest command uses: ``.venv/bin/python`` when the checkout
    has that virtual environment, else ``python`` if it is on ``PATH``, else ``python3``."""
    if (Path(root) / ".venv" / "bin" / "python").exists():
        return ".venv/bin/python"
    path = (current() if environ is None else environ).get("PATH", os.defpath)
    return "python" if shutil.which("python", path=path) else "python3"


def detect_test_command(
    root: Path, environ: Mapping[str, str] | None = None
) -> tuple[str, str] | None:
    """Guess the test command for the checkout at ``root``.

    Returns ``(command, why)`` — e.g. ``("python -m pytest -q", "found 3 test files (e.g.
    tests/test_x.py) and pytest config in pytest.ini")`` — or None when nothing fits.
    Python/pytest is preferred; then ``package.json`` (npm test), ``go.mod``, ``Cargo.toml``,
    ``pom.xml`` and Gradle builds. Raises nothing.
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
        return f"{python_for(root, environ)} -m pytest -q", " and ".join(parts)
    if (root / "package.json").is_file() and _package_json_test(root):
        return "npm test", "found a test script in package.json"
    if (root / "go.mod").is_file():
        return "go test ./...", "found go.mod"
    if (root / "Cargo.toml").is_file():
        return "cargo test", "found Cargo.toml"
    if (root / "pom.xml").is_file():
        wrapper = "./mvnw" if (root / "mvnw").is_file() else "mvn"
        return f"{wrapper} -B test", "found pom.xml"
    if any((root / n).is_file() for n in ("build.gradle", "build.gradle.kts")):
        wrapper = "./gradlew" if (root / "gradlew").is_file() else "gradle"
        return f"{wrapper} test", "found a Gradle build"
    return None
