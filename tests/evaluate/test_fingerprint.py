from __future__ import annotations

import os
import time
from pathlib import Path

from ratchet.evaluate.fingerprint import environment_fingerprint


def test_changes_when_a_package_is_installed(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (venv / "bin").mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin", "VIRTUAL_ENV": str(venv)}
    first = environment_fingerprint(env)
    assert environment_fingerprint(env) == first  # stable
    time.sleep(0.01)
    (site / "newpkg").mkdir()  # what `pip install newpkg` does to the directory
    os.utime(site)
    assert environment_fingerprint(env) != first


def test_changes_with_the_path() -> None:
    assert environment_fingerprint({"PATH": "/usr/bin"}) != environment_fingerprint(
        {"PATH": "/usr/local/bin:/usr/bin"}
    )
