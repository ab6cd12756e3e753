"""``ratchet.core`` performs no I/O: importing it brings no I/O library, and its code calls none."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import ratchet.core

CORE = Path(ratchet.core.__file__).parent
#: libraries that talk to processes, the network, git, GitHub, Mem0, files or the terminal
FORBIDDEN = (
    "subprocess", "httpx", "git", "github", "mem0", "fcntl", "shutil", "tempfile", "rich",
    "ratchet.workspace.git", "ratchet.workspace.gitcmd", "ratchet.github.client",
    "ratchet.model.minimax", "ratchet.evaluate.sandbox", "ratchet.evaluate.runner",
)
#: calls that reach outside the process (as dotted names in the source)
FORBIDDEN_CALLS = {"open", "print", "input", "os.environ", "os.getenv", "time.sleep", "time.time"}


def _core_modules() -> list[str]:
    return sorted(
        m.name for m in pkgutil.walk_packages([str(CORE)], prefix="ratchet.core.")
    )


def test_importing_the_core_brings_no_io_library() -> None:
    modules = ["ratchet.core", *_core_modules()]
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out))
    bad = sorted(m for m in loaded if m in FORBIDDEN or m.split(".")[0] in FORBIDDEN[:9])
    assert not bad, f"ratchet.core imports I/O: {bad}"
    assert len(modules) >= 4


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def test_core_code_calls_nothing_that_reaches_outside() -> None:
    found = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            name = ""
            if isinstance(node, ast.Call):
                name = _dotted(node.func)
            elif isinstance(node, ast.Attribute):
                name = _dotted(node)
            if name in FORBIDDEN_CALLS:
                found.append(f"{path.relative_to(CORE)}:{node.lineno}: {name}")
    assert not found, found
