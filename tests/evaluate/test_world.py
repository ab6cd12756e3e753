"""The world the tests see: git-ignored prepared directories of the checkout, toolchains under
the home directory, and where the tree is (the checkout's own path under a mount namespace)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ratchet.evaluate.runner import run_suite
from ratchet.evaluate.sandbox import choose_sandbox
from ratchet.evaluate.world import discover, toolchain_env
from tests.conftest import make_repo, sandbox_usable

RUNGS = ["none"] + [n for n in ("bwrap", "unshare") if sandbox_usable(n)]


def _checkout(tmp_path: Path) -> Path:
    repo = make_repo(
        tmp_path / "proj",
        {
            ".gitignore": "node_modules/\ntarget/\n.env\nsecrets/\nbuild/\n*.so\n",
            "app.js": "module.exports = 1;\n",
        },
    )
    (repo / "node_modules" / "lib").mkdir(parents=True)
    (repo / "node_modules" / "lib" / "index.js").write_text("module.exports = 'dep';\n")
    (repo / "target" / "debug").mkdir(parents=True)
    (repo / "target" / "debug" / "seen").write_text("built\n")
    (repo / ".env").write_text("API_KEY=do-not-share\n")
    (repo / "secrets").mkdir()
    (repo / "build").mkdir()
    (repo / "ext.so").write_text("binary\n")
    return repo


def test_discover_shares_dependency_dirs_and_caches_never_credentials(tmp_path: Path) -> None:
    repo = _checkout(tmp_path)
    world = discover(repo, environ={"HOME": str(tmp_path)})
    assert [(s.rel, s.cache) for s in world.shared] == [
        ("node_modules", False), ("target", True)
    ]
    assert world.checkout == str(repo.resolve())
    # more ignored paths by pattern; credential-looking ones are refused even when asked for
    world = discover(repo, environ={}, prepared_paths=["*.so", ".env", "secrets"])
    assert {s.rel for s in world.shared} == {"node_modules", "target", "ext.so"}
    assert set(world.skipped) == {".env", "secrets"}
    assert "build" not in {s.rel for s in world.shared}  # ambiguous name: only when asked


def test_toolchains_under_the_home_are_found_also_when_home_is_elsewhere(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".rustup").mkdir(parents=True)
    (home / "go").mkdir()
    env = dict(toolchain_env({"HOME": str(home)}))
    assert env["RUSTUP_HOME"] == str(home / ".rustup") and env["GOPATH"] == str(home / "go")
    assert "RUSTUP_HOME" not in dict(toolchain_env({"HOME": str(home), "RUSTUP_HOME": "/x"}))


_PROBE = (
    "echo PWD=$(pwd); cat node_modules/lib/index.js; "
    "(echo x > node_modules/lib/planted) 2>/dev/null && echo DEP_WRITE=yes || echo DEP_WRITE=no; "
    "test -f target/debug/seen && echo CACHE=seen || echo CACHE=absent; "
    "(echo y > target/debug/new) 2>/dev/null && echo CACHE_WRITE=yes || echo CACHE_WRITE=no; "
    "test -e .env && echo ENV_FILE=yes || echo ENV_FILE=no; echo '1 passed'"
)


@pytest.mark.parametrize("rung", RUNGS)
def test_the_tests_see_the_prepared_world(tmp_path: Path, rung: str) -> None:
    repo = _checkout(tmp_path)
    world = discover(repo, environ={})
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "app.js").write_text("module.exports = 2;\n")
    box = choose_sandbox(rung, environ={})
    run = run_suite(tree, _PROBE, sandbox=box, world=world, timeout=60,
                    environ={"PATH": os.environ["PATH"]})
    out = run.output
    assert "module.exports = 'dep';" in out, out
    assert "ENV_FILE=no" in out  # ignored, but never shared
    if rung == "none":
        assert f"PWD={tree.resolve()}" in out
        assert "CACHE=absent" in out  # a build cache needs an overlay
        return
    assert f"PWD={repo.resolve()}" in out  # the checkout's own path ...
    assert (repo / "app.js").read_text() == "module.exports = 1;\n"  # ... which is untouched
    assert "DEP_WRITE=no" in out and not (repo / "node_modules" / "lib" / "planted").exists()
    if box.shares_caches:  # not when the tests run as another account (Ratchet is root)
        assert "CACHE=seen" in out and "CACHE_WRITE=yes" in out
        assert not (repo / "target" / "debug" / "new").exists()  # written to a private layer
    else:
        assert "CACHE=absent" in out
