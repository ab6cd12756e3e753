"""Ratchet's pure core: decisions and documents computed from plain, frozen values.

Nothing in this package performs I/O: no subprocess, no network, no file system, no
environment, no clock it was not handed. The adapters (git, GitHub, MiniMax, memory, sandboxes,
test runners) gather the facts; the driver hands them to a function here and carries out what it
returns. ``tests/test_core_purity.py`` imports the whole package in a fresh interpreter and
fails if any I/O library comes with it.
"""
