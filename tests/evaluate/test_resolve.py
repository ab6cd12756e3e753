"""Reading test commands: the last simple command, wrappers, package-manager scripts, and the
runner found behind them (pure: no runner is started here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ratchet.evaluate import shell
from ratchet.evaluate.resolve import resolve


@pytest.mark.parametrize(
    ("command", "runner"),
    [
        ("pytest", "pytest"),
        ("py.test -x tests/", "pytest"),
        ("python -m pytest -q", "pytest"),
        ("/opt/venv/bin/python3.11 -m pytest", "pytest"),
        ("python3 -mpytest -q", "pytest"),
        ("python -X dev -m pytest", "pytest"),
        ("cd backend && pytest -q", "pytest"),
        ("FOO=1 BAR='a b' pytest", "pytest"),
        ("env -u HOME X=1 python -m pytest", "pytest"),
        ("uv run --with pytest-xdist pytest", "pytest"),
        ("poetry run pytest -q", "pytest"),
        ("coverage run -m pytest", "pytest"),
        ("make deps > /dev/null && pytest", "pytest"),
        ("pytest -q 2>&1", "pytest"),
        ("timeout 600 python -m unittest discover -s tests", "unittest"),
        ("npx jest --ci", "jest"),
        ("node_modules/.bin/jest", "jest"),
        ("react-scripts test --watchAll=false", "jest"),
        ("vitest run", "vitest"),
        ("mocha 'test/**/*.js'", "mocha"),
        ("node --test test/", "node:test"),
        # runners started with node itself (uuid, ESM jest projects, mocha with node flags)
        ("BABEL_ENV=commonjs node --throw-deprecation node_modules/.bin/jest test/unit/",
         "jest"),
        ("node --experimental-vm-modules node_modules/jest/bin/jest.js", "jest"),
        ("node -r ts-node/register node_modules/mocha/bin/mocha.js test", "mocha"),
        ("node --expose-gc ./node_modules/.bin/_mocha --exit", "mocha"),
        ("node node_modules/vitest/vitest.mjs run", "vitest"),
        ("node --test --import tsx test/jest.js", "node:test"),
        ("go test -race ./...", "go test"),
        ("cargo test --workspace", "cargo test"),
        ("cargo +nightly test", "cargo test"),
        ("./mvnw -B verify", "maven"),
        ("./gradlew :core:test", "gradle"),
        ("vendor/bin/phpunit", "phpunit"),
        ("pytest | tee log.txt", None),
        ("pytest &", None),
        ("python -m pytest # comment", None),
        ("python manage.py test", None),
        ("python -c 'import pytest'", None),
        ("node script.js --test", None),
        ("node -e 'require(\"jest\")'", None),
        ("cd $(git rev-parse --show-toplevel) && pytest", "pytest"),  # only appended to
        ("pytest $(cat args.txt)", None),
        ("pytest 'unclosed", None),
        ("make test", None),
        ("tox -e py311", None),
    ],
)
def test_runner_behind_the_command(tmp_path: Path, command: str, runner: str | None) -> None:
    found = resolve(command, tmp_path)
    assert (found.runner.name if found.runner else None) == runner, found.note
    if runner is None:
        assert found.note  # says what it could not see through


def _package(tmp_path: Path, scripts: dict[str, str], where: str = "") -> None:
    d = tmp_path / where
    d.mkdir(parents=True, exist_ok=True)
    (d / "package.json").write_text(json.dumps({"name": "x", "scripts": scripts}))


def test_npm_scripts_are_followed_and_arguments_reach_the_runner(tmp_path: Path) -> None:
    _package(tmp_path, {"test": "npm run unit", "unit": "tsc -p . && jest --ci"})
    found = resolve("npm test", tmp_path)
    assert found.runner is not None and found.runner.name == "jest"
    assert found.described == "jest (via npm test → npm run unit)"
    inv = found.invocation
    assert inv is not None
    # one `--` per npm level: npm test passes `-- --json` to `npm run unit`, which passes
    # `--json` to jest
    assert inv.append(["--json"]) == "npm test -- -- --json"
    assert inv.rebuild(["jest"]) is None  # inside package.json: never rebuilt


def test_a_runner_before_the_last_step_is_instrumented_through_the_environment(
    tmp_path: Path,
) -> None:
    _package(tmp_path, {"test": "node --test && npm run check", "check": "tsc"})
    found = resolve("npm test", tmp_path)
    assert found.runner is not None and found.runner.name == "node:test"
    assert not found.invocation.tail
    plan = found.runner.instrument(found.invocation, tmp_path)
    assert plan.command == "npm test" and "--test-reporter" in plan.env["NODE_OPTIONS"]
    pytest_first = resolve("pytest -q && ruff check .", tmp_path)
    plan = pytest_first.runner.instrument(pytest_first.invocation, tmp_path)
    assert plan.command == "pytest -q && ruff check ." and "--junitxml" in plan.env[
        "PYTEST_ADDOPTS"]
    assert resolve("jest && eslint .", tmp_path).runner.name == "jest"  # found, not appended to


def test_yarn_pnpm_and_existing_double_dash(tmp_path: Path) -> None:
    _package(tmp_path, {"test": "vitest", "e2e": "mocha"})
    assert resolve("yarn test", tmp_path).invocation.append(["-x"]) == "yarn test -x"
    assert resolve("pnpm run e2e", tmp_path).runner.name == "mocha"
    inv = resolve("npm test -- --bail", tmp_path).invocation
    assert inv.append(["-x"]) == "npm test -- --bail -x"


def test_scripts_in_a_subdirectory_and_missing_scripts(tmp_path: Path) -> None:
    _package(tmp_path, {"test": "node --test"}, where="web")
    found = resolve("cd web && npm test", tmp_path)
    assert found.runner.name == "node:test" and found.invocation.cwd == "web"
    assert resolve("npm test", tmp_path).runner is None  # no package.json at the root
    _package(tmp_path, {"lint": "eslint ."})
    missing = resolve("npm run unit", tmp_path)
    assert missing.runner is None and "no such script" in missing.note
    assert "not a test runner" in resolve("npm run lint", tmp_path).note


def test_append_and_rebuild_keep_the_users_quoting() -> None:
    last = shell.last_command("make build && FOO='a b' cargo test -- --nocapture")
    assert last is not None and last.prefix == "make build &&"
    assert last.words == ("FOO=a b", "cargo", "test", "--", "--nocapture")
    assert shell.rebuild(last, ["FOO=a b", "cargo", "test", "--no-fail-fast", "--"]) == (
        "make build && FOO='a b' cargo test --no-fail-fast --"
    )
    assert shell.append("pytest -q", ["--junitxml=/tmp/a b.xml"]) == (
        "pytest -q '--junitxml=/tmp/a b.xml'"
    )
    assert not shell.last_command("pytest $ARGS").plain  # variables: only ever appended to


def test_cargo_instrumentation_inserts_no_fail_fast_before_the_double_dash(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    plain = resolve("cargo test", tmp_path)
    assert plain.runner.instrument(plain.invocation, out).command == "cargo test --no-fail-fast"
    dashed = resolve("cargo test -- --nocapture", tmp_path)
    assert dashed.runner.instrument(dashed.invocation, out).command == (
        "cargo test --no-fail-fast -- --nocapture"
    )
    chosen = dashed.runner.select(dashed.invocation, ["src/lib.rs::tests::a"], out)
    assert chosen is not None
    assert chosen.command == "cargo test --no-fail-fast -- --nocapture tests::a --exact"
