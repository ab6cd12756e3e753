"""Importing the Mem0 SDK (``mem0ai``) the way Ratchet needs it: without telemetry, with its
state directory under Ratchet's, and without the heavy parts of the package Ratchet never uses.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType
from typing import Any


def prepare_environment(state_dir: Path) -> None:
    """Set ``MEM0_TELEMETRY=false`` and ``MEM0_DIR=<state_dir>/mem0`` unless the user set them.

    Both are read once, when mem0 is imported: without them the SDK phones PostHog (seconds
    of delay at exit when offline) and creates ``~/.mem0`` (which fails on a read-only HOME).
    """
    from ratchet.environment import current, default_for_library

    default_for_library("MEM0_TELEMETRY", "false")
    if not current().value("MEM0_DIR"):
        directory = state_dir / "mem0"
        directory.mkdir(parents=True, exist_ok=True)
        default_for_library("MEM0_DIR", str(directory))


def _defer_package_init() -> None:
    """Register ``mem0`` without running its ``__init__`` yet.

    ``mem0/__init__.py`` imports the open-source ``Memory`` (qdrant-client, numpy, …), which
    costs about two seconds and is never used by the platform client. The module registered
    here is the real package (same spec, same ``__path__``); its ``__init__`` body runs on the
    first access to an attribute it would define (``from mem0 import Memory`` still works).
    Does nothing if mem0 is already imported or cannot be found.
    """
    if "mem0" in sys.modules:
        return
    try:
        spec = importlib.util.find_spec("mem0")
        version = importlib.metadata.version("mem0ai")
    except (ImportError, ValueError, importlib.metadata.PackageNotFoundError):
        return
    loader = spec.loader if spec is not None else None
    if spec is None or loader is None or spec.submodule_search_locations is None:
        return
    module = importlib.util.module_from_spec(spec)
    module.__dict__["__version__"] = version  # read by mem0.memory.telemetry

    def finish_init(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        module.__dict__.pop("__getattr__", None)
        loader.exec_module(module)
        return getattr(module, name)

    module.__getattr__ = finish_init  # type: ignore[method-assign]
    sys.modules["mem0"] = module


def import_sdk(state_dir: Path) -> tuple[type, ModuleType]:
    """Import and return ``(MemoryClient, mem0.exceptions)`` with a safe environment."""
    prepare_environment(state_dir)
    _defer_package_init()
    client_module = importlib.import_module("mem0.client.main")
    exceptions = importlib.import_module("mem0.exceptions")
    # the SDK logs every HTTP error at ERROR level; our MemoryStoreError says it better
    sdk_logger = logging.getLogger("mem0.client.utils")
    if sdk_logger.level == logging.NOTSET:
        sdk_logger.setLevel(logging.CRITICAL)
    return client_module.MemoryClient, exceptions


# -- parsing stored memories -------------------------------------------------------------------
