"""Every error Ratchet raises on purpose is defined in ratchet/errors.py, in its tree."""

from __future__ import annotations

import ast
from pathlib import Path

import ratchet
from ratchet import errors

SRC = Path(ratchet.__file__).parent


def test_no_exception_class_lives_outside_errors_py() -> None:
    elsewhere = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "errors.py" and path.parent == SRC:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and (
                node.name.endswith(("Error", "Exception", "Unavailable"))
                and not node.name.startswith("_")
            ):
                elsewhere.append(f"{path.relative_to(SRC)}: {node.name}")
    assert not elsewhere, elsewhere


def test_the_tree_in_the_docstring_names_every_class() -> None:
    classes = [
        name
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, errors.RatchetError)
    ]
    assert len(classes) >= 15
    for name in classes:
        assert name in (errors.__doc__ or ""), name
