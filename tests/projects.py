"""Small real projects, one per test runner, for the end-to-end ecosystem tests.

Each project has an ``add`` that is wrong (its test fails) and a ``sub`` that is right (its test
passes). Two model replies go with it: ``FIX`` corrects ``add``; ``FIX_AND_BREAK`` corrects
``add`` and breaks ``sub`` in the same change. JavaScript projects get their ``node_modules``
from the npm registry once per machine (a cache under ``.test-cache/``, ignored by git) and
copied into each checkout, ignored by git as in every JS repository.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fakes.minimax_server import Reply

CACHE = Path(os.environ.get("RATCHET_TEST_CACHE", Path(__file__).resolve().parent.parent
                            / ".test-cache"))


@dataclass(frozen=True)
class Project:
    name: str
    files: dict[str, str]
    command: str
    #: (path, search, replace) correcting add / breaking sub
    fix: tuple[str, str, str]
    breaks: tuple[str, str, str]
    tools: tuple[str, ...] = ()  # programs that must be on PATH
    npm: tuple[str, ...] = ()  # npm packages for node_modules
    runner: str = ""  # the runner name the run header must show
    ignored: tuple[str, ...] = field(default=("node_modules/",))
    home_tools: tuple[str, ...] = ()  # what the runner reads from the account's home


def user_env_for(project: Project) -> dict[str, str]:
    """``RATCHET_TEST_USER=root`` where Ratchet runs as root and the tests' account (nobody)
    could not read what the project's runner keeps in root's home (a Maven repository made
    with umask 027 is mode 0750): a user with such a machine must choose the same, or make
    the directory readable; Ratchet says so when the tests cannot find it."""
    from ratchet.evaluate.identity import choose_user

    user = choose_user("auto", {})
    home = Path(os.path.expanduser("~"))
    if user is not None and any(
        (home / rel).exists() and not user.enters(str(home / rel)) for rel in project.home_tools
    ):
        return {"RATCHET_TEST_USER": "root"}
    return {}


def reply(title: str, *edits: tuple[str, str, str]) -> Reply:
    return Reply(
        content=json.dumps(
            {
                "title": title,
                "rationale": f"{title}: the failing test shows it.",
                "edits": [{"path": p, "search": s, "replace": r} for p, s, r in edits],
            }
        )
    )


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """Hold an exclusive lock on a cache entry (test workers may build it at the same time)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def node_modules(packages: tuple[str, ...]) -> Path:
    """A node_modules directory with ``packages`` installed from the registry (cached)."""
    key = hashlib.sha256(" ".join(packages).encode()).hexdigest()[:12]
    with _locked(f"npm-{key}"):
        return _node_modules(packages, CACHE / f"npm-{key}")


def _node_modules(packages: tuple[str, ...], where: Path) -> Path:
    done = where / ".installed"
    if not done.exists():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed")
        shutil.rmtree(where, ignore_errors=True)
        where.mkdir(parents=True)
        (where / "package.json").write_text('{"name": "ratchet-test-deps", "private": true}')
        proc = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *packages],
            cwd=where, capture_output=True, text=True, timeout=600,
        )
        if proc.returncode != 0:
            pytest.skip(f"npm install {' '.join(packages)} failed: {proc.stderr[-300:]}")
        done.write_text("ok\n")
    return where / "node_modules"


def require(project: Project) -> None:
    for tool in project.tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (the {project.name} toolchain)")
    if project.name == "maven":
        _maven_offline(project)
    if project is RSPEC and subprocess.run(
        ["ruby", "-e", 'require "rspec_junit_formatter"'], capture_output=True
    ).returncode != 0:
        pytest.skip("the rspec_junit_formatter gem is not installed (ruby-rspec-junit-formatter)")


def _maven_offline(project: Project) -> None:
    """Maven Central is not reachable here: skip unless the local repository (~/.m2) already
    holds the plugins and JUnit this project uses."""
    with _locked("maven-probe"):
        _maven_probe(project, CACHE / "maven-probe")


def _maven_probe(project: Project, probe: Path) -> None:
    if (probe / ".ok").exists():
        return
    shutil.rmtree(probe, ignore_errors=True)
    for rel, text in project.files.items():
        (probe / rel).parent.mkdir(parents=True, exist_ok=True)
        (probe / rel).write_text(text)
    proc = subprocess.run(["mvn", "-o", "-B", "-q", "test"], cwd=probe, capture_output=True,
                          text=True, timeout=300)
    reports = probe / "target" / "surefire-reports"
    if "offline" in proc.stdout + proc.stderr or not reports.is_dir():
        pytest.skip("Maven's local repository lacks surefire/junit-jupiter (no network to fetch)")
    (probe / ".ok").write_text("ok\n")


def build(project: Project, root: Path) -> Path:
    """The project as a git repository at ``root``, prepared as its CI would prepare it."""
    from tests.conftest import make_repo

    require(project)
    files = dict(project.files)
    files[".gitignore"] = "".join(f"{p}\n" for p in project.ignored)
    repo = make_repo(root, files)
    if project.npm:
        shutil.copytree(node_modules(project.npm), repo / "node_modules", symlinks=True)
    return repo


# --------------------------------------------------------------------------- the projects

_JS_LIB = "exports.add = (a, b) => a - b;\nexports.sub = (a, b) => a - b;\n"
_JS_FIX = ("src/math.js", "exports.add = (a, b) => a - b;", "exports.add = (a, b) => a + b;")
_JS_BREAK = ("src/math.js", "exports.sub = (a, b) => a - b;", "exports.sub = (a, b) => b - a;")

_JEST_TEST = """const { add, sub } = require('./math');

describe('math', () => {
  test('adds', () => { expect(add(2, 3)).toBe(5); });
  test('subtracts', () => { expect(sub(5, 3)).toBe(2); });
});
"""

_MOCHA_TEST = """const assert = require('assert');
const { add, sub } = require('../src/math');

describe('math', () => {
  it('adds', () => { assert.strictEqual(add(2, 3), 5); });
  it('subtracts', () => { assert.strictEqual(sub(5, 3), 2); });
});
"""

_NODE_TEST = """const test = require('node:test');
const assert = require('node:assert');
const { add, sub } = require('../src/math');

test.describe('math', () => {
  test.it('adds', () => { assert.strictEqual(add(2, 3), 5); });
  test.it('subtracts', () => { assert.strictEqual(sub(5, 3), 2); });
});
"""


def _package(script: str) -> str:
    return json.dumps({"name": "calc", "private": True, "scripts": {"test": script}}) + "\n"


JEST = Project(
    name="jest",
    files={"package.json": _package("jest"), "src/math.js": _JS_LIB,
           "src/math.test.js": _JEST_TEST},
    command="npm test",
    fix=_JS_FIX,
    breaks=_JS_BREAK,
    tools=("node", "npm"),
    npm=("jest@29",),
    runner="jest (via npm test)",
)

VITEST = Project(
    name="vitest",
    files={
        "package.json": _package("vitest run"),
        "src/math.js": _JS_LIB.replace("exports.", "export const "),
        "src/math.test.js": "import { describe, test, expect } from 'vitest';\n"
        + _JEST_TEST.replace("const { add, sub } = require('./math');",
                             "import { add, sub } from './math.js';"),
    },
    command="npm test",
    fix=tuple(x.replace("exports.", "export const ") for x in _JS_FIX),  # type: ignore[arg-type]
    breaks=tuple(x.replace("exports.", "export const ") for x in _JS_BREAK),  # type: ignore
    tools=("node", "npm"),
    npm=("vitest@3",),
    runner="vitest (via npm test)",
)

MOCHA = Project(
    name="mocha",
    files={"package.json": _package("mocha"), "src/math.js": _JS_LIB,
           "test/math.test.js": _MOCHA_TEST},
    command="npm test",
    fix=_JS_FIX,
    breaks=_JS_BREAK,
    tools=("node", "npm"),
    npm=("mocha@10",),
    runner="mocha (via npm test)",
)

NODE_TEST = Project(
    name="node:test",
    # as commander.js has it: the runner first, another check after it
    files={"package.json": _package("node --test && echo types checked"), "src/math.js": _JS_LIB,
           "test/math.test.js": _NODE_TEST},
    command="npm test",
    fix=_JS_FIX,
    breaks=_JS_BREAK,
    tools=("node", "npm"),
    runner="node:test (via npm test)",
    ignored=(),
)

_PY_LIB = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"
_PY_FIX = ("calc/ops.py", "def add(a, b):\n    return a - b",
           "def add(a, b):\n    return a + b")
_PY_BREAK = ("calc/ops.py", "def sub(a, b):\n    return a - b",
             "def sub(a, b):\n    return b - a")

PYTEST = Project(
    name="pytest",
    files={
        "calc/__init__.py": "",
        "calc/ops.py": _PY_LIB,
        "pytest.ini": "[pytest]\npythonpath = .\n",
        "tests/data.txt": "data\n",
        "tests/test_ops.py": (
            "from pathlib import Path\n\nimport pytest\n\nfrom calc.ops import add, sub\n\n"
            "HERE = Path(__file__).resolve().parent\n\n\n"
            "def test_add():\n    assert add(2, 3) == 5\n\n\n"
            "def test_sub():\n    assert sub(5, 3) == 2\n\n\n"
            "# ids that contain the tree's absolute path (requests has such a test)\n"
            '@pytest.mark.parametrize("path", [str(HERE / "data.txt"), str(HERE)])\n'
            "def test_paths_exist(path):\n    assert Path(path).exists()\n"
        ),
    },
    command="python -m pytest -q",
    fix=_PY_FIX,
    breaks=_PY_BREAK,
    runner="pytest (via python -m)",
    ignored=(),
)

UNITTEST = Project(
    name="unittest",
    files={
        "calc/__init__.py": "",
        "calc/ops.py": _PY_LIB,
        "tests/__init__.py": "",
        "tests/test_ops.py": (
            "import unittest\n\nfrom calc.ops import add, sub\n\n\n"
            "class Ops(unittest.TestCase):\n"
            "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n"
            "    def test_sub(self):\n        self.assertEqual(sub(5, 3), 2)\n"
        ),
    },
    command="python -m unittest discover -s tests -t .",
    fix=_PY_FIX,
    breaks=_PY_BREAK,
    runner="unittest (via python -m)",
    ignored=(),
)

GO = Project(
    name="go",
    files={
        "go.mod": "module example.com/calc\n\ngo 1.19\n",
        "calc/calc.go": "package calc\n\nfunc Add(a, b int) int { return a - b }\n\n"
        "func Sub(a, b int) int { return a - b }\n",
        "calc/calc_test.go": 'package calc\n\nimport "testing"\n\n'
        "func TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal(Add(2, 3))\n\t}\n}\n\n"
        "func TestSub(t *testing.T) {\n\tif Sub(5, 3) != 2 {\n\t\tt.Fatal(Sub(5, 3))\n\t}\n}\n",
    },
    command="go test ./...",
    fix=("calc/calc.go", "func Add(a, b int) int { return a - b }",
         "func Add(a, b int) int { return a + b }"),
    breaks=("calc/calc.go", "func Sub(a, b int) int { return a - b }",
            "func Sub(a, b int) int { return b - a }"),
    tools=("go",),
    runner="go test",
    ignored=(),
)

CARGO = Project(
    name="cargo",
    files={
        "Cargo.toml": '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n',
        "src/lib.rs": "pub fn add(a: i32, b: i32) -> i32 { a - b }\n\n"
        "pub fn sub(a: i32, b: i32) -> i32 { a - b }\n",
        # the failing unit test is in the first test binary; the integration tests of the
        # second must still be seen (cargo stops at the first failing binary by default)
        "tests/ops.rs": "#[test]\nfn adds() { assert_eq!(calc::add(2, 3), 5); }\n\n"
        "#[test]\nfn subtracts() { assert_eq!(calc::sub(5, 3), 2); }\n",
        "src/main.rs": "fn main() {}\n\n#[cfg(test)]\nmod tests {\n"
        "    #[test]\n    fn adds() { assert_eq!(calc::add(1, 1), 2); }\n}\n",
    },
    command="cargo test",
    fix=("src/lib.rs", "pub fn add(a: i32, b: i32) -> i32 { a - b }",
         "pub fn add(a: i32, b: i32) -> i32 { a + b }"),
    breaks=("src/lib.rs", "pub fn sub(a: i32, b: i32) -> i32 { a - b }",
            "pub fn sub(a: i32, b: i32) -> i32 { b - a }"),
    tools=("cargo",),
    runner="cargo test",
    ignored=("target/",),
)

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId><artifactId>calc</artifactId><version>1.0</version>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency><groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter</artifactId>
      <version>5.10.2</version><scope>test</scope></dependency>
  </dependencies>
  <build><plugins>
    <plugin><artifactId>maven-compiler-plugin</artifactId><version>3.11.0</version></plugin>
    <plugin><artifactId>maven-surefire-plugin</artifactId><version>3.2.5</version></plugin>
    <plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
  </plugins></build>
</project>
"""

MAVEN = Project(
    name="maven",
    files={
        "pom.xml": _POM,
        "src/main/java/calc/Calc.java": "package calc;\n\npublic class Calc {\n"
        "    public static int add(int a, int b) { return a - b; }\n"
        "    public static int sub(int a, int b) { return a - b; }\n}\n",
        "src/test/java/calc/CalcTest.java": "package calc;\n\n"
        "import static org.junit.jupiter.api.Assertions.assertEquals;\n\n"
        "import org.junit.jupiter.api.Test;\n\nclass CalcTest {\n"
        "    @Test void adds() { assertEquals(5, Calc.add(2, 3)); }\n"
        "    @Test void subtracts() { assertEquals(2, Calc.sub(5, 3)); }\n}\n",
    },
    command="mvn -o -B -q test",
    fix=("src/main/java/calc/Calc.java", "public static int add(int a, int b) { return a - b; }",
         "public static int add(int a, int b) { return a + b; }"),
    breaks=("src/main/java/calc/Calc.java",
            "public static int sub(int a, int b) { return a - b; }",
            "public static int sub(int a, int b) { return b - a; }"),
    tools=("mvn", "java"),
    runner="maven",
    home_tools=(".m2", ".m2/repository"),
    ignored=("target/",),
)

PHPUNIT = Project(
    name="phpunit",
    files={
        "src/Calc.php": "<?php\nfinal class Calc {\n"
        "    public static function add(int $a, int $b): int { return $a - $b; }\n"
        "    public static function sub(int $a, int $b): int { return $a - $b; }\n}\n",
        "tests/CalcTest.php": "<?php\nuse PHPUnit\\Framework\\TestCase;\n\n"
        "require_once __DIR__ . '/../src/Calc.php';\n\n"
        "final class CalcTest extends TestCase {\n"
        "    public function testAdd(): void { $this->assertSame(5, Calc::add(2, 3)); }\n"
        "    public function testSub(): void { $this->assertSame(2, Calc::sub(5, 3)); }\n}\n",
    },
    command="phpunit tests",
    fix=("src/Calc.php", "function add(int $a, int $b): int { return $a - $b; }",
         "function add(int $a, int $b): int { return $a + $b; }"),
    breaks=("src/Calc.php", "function sub(int $a, int $b): int { return $a - $b; }",
            "function sub(int $a, int $b): int { return $b - $a; }"),
    tools=("php", "phpunit"),
    runner="phpunit",
    ignored=(),
)

# A runner Ratchet does not know, that writes JUnit XML where junit_path says
RSPEC = Project(
    name="rspec (junit_path)",
    files={
        ".github/ratchet.yml": "junit_path: build/rspec.xml\n",
        "lib/calc.rb": "module Calc\n  def self.add(a, b) = a - b\n\n"
        "  def self.sub(a, b) = a - b\nend\n",
        "spec/calc_spec.rb": 'require_relative "../lib/calc"\n\nRSpec.describe Calc do\n'
        '  it "adds" do\n    expect(Calc.add(2, 3)).to eq(5)\n  end\n\n'
        '  it "subtracts" do\n    expect(Calc.sub(5, 3)).to eq(2)\n  end\nend\n',
    },
    command="rspec --format progress --format RspecJunitFormatter --out build/rspec.xml",
    fix=("lib/calc.rb", "def self.add(a, b) = a - b", "def self.add(a, b) = a + b"),
    breaks=("lib/calc.rb", "def self.sub(a, b) = a - b", "def self.sub(a, b) = b - a"),
    tools=("ruby", "rspec"),
    runner="not recognised",
    ignored=("build/",),
)

# Commands that stop at the first failure: the failing test (add) runs first, so the baseline
# never runs the test the breaking change breaks (sub). Ratchet undoes the option where the
# runner lets it (pytest --maxfail=0, mocha --no-bail, go -failfast=false) and otherwise runs
# the tests the baseline did not run on the baseline too (vitest cannot undo --bail; mocha
# before 6 knows no --no-bail and prints its JSON report on stdout).
PYTEST_X = dataclasses.replace(PYTEST, name="pytest -x", command="python -m pytest -x -q")
MOCHA_5_BAIL = dataclasses.replace(
    MOCHA, name="mocha 5 --bail", files={**MOCHA.files, "package.json": _package("mocha --bail")},
    npm=("mocha@5",),
)
VITEST_BAIL = dataclasses.replace(
    VITEST, name="vitest --bail",
    files={**VITEST.files, "package.json": _package("vitest run --bail 1")},
)
GO_FAILFAST = dataclasses.replace(GO, name="go -failfast", command="go test -failfast ./...")

ALL = (PYTEST, UNITTEST, JEST, VITEST, MOCHA, NODE_TEST, GO, CARGO, MAVEN, PHPUNIT, RSPEC,
       PYTEST_X, MOCHA_5_BAIL, VITEST_BAIL, GO_FAILFAST)
