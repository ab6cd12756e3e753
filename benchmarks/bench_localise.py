"""Localisation: does the prompt show the code the real fix changes?

For each case — a real bug-fix commit of a real repository whose tests fail before the fix —
the tree is the commit's parent plus the commit's test changes (so the new tests fail), its
suite is run the way ``ratchet run`` runs it (sandbox, per-test results), and the prompt is
built the way ``ratchet run`` builds it (``build_context`` with the baseline's failing tests and
output, then ``build_messages``), with the commit's subject as the task. A case counts as
*shown* when every line the fix removes or changes (and, for a pure insertion, the line it
goes after) appears verbatim, as a whole line, in the prompt.

The repositories are not part of Ratchet: pass ``--mirrors DIR`` holding bare clones named
``<owner>+<name>/repo`` (the layout of the search tool's ``fetch``). Each repository gets a
virtual environment (``pip install -e .`` plus the extras listed below, from PyPI) in a work
directory that is kept between runs (``--work``).

Run on demand: ``python benchmarks/bench_localise.py --mirrors /work/.mirror [--work DIR]
[--only REPO] [--tests-only] [--baselines DIR]``. ``--tests-only`` runs just the commit's test
files instead of the whole suite for every repository (faster; the failing output is then less
noisy than in a real run). ``--baselines DIR`` keeps each baseline (output and failing tests)
and reuses it on later runs, so a change to the localisation is measured on the same outputs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ratchet.core.iteration import context_budget as _context_budget  # noqa: E402
from ratchet.evaluate.runner import run_suite  # noqa: E402
from ratchet.evaluate.sandbox import choose_sandbox  # noqa: E402
from ratchet.evaluate.world import discover  # noqa: E402
from ratchet.model.prompt import build_messages  # noqa: E402
from ratchet.workspace.context import build_context  # noqa: E402

#: repository -> (what to pip install beside it, run only the commit's test files?)
#: requests runs its changed test files only: a test of its full suite hangs in the sandbox
#: with today's Werkzeug, at some of these commits
REPOS = {
    "pallets/click": ("pytest<9", False),
    "psf/requests": ("pytest<9 pytest-httpbin==2.1.0 httpbin~=0.10.0 trustme pytest-mock "
                     "PySocks", True),
    "python-attrs/attrs": ("pytest<9 hypothesis pympler cloudpickle", False),
    "tkem/cachetools": ("pytest<9", False),
    "hynek/structlog": ("pytest<9 pretend freezegun pytest-asyncio simplejson rich "
                        "better-exceptions", False),
}
CASES = [
    ("pallets/click", "07c909f2"), ("pallets/click", "6f85d26d"), ("pallets/click", "bec59289"),
    ("pallets/click", "762c97ee"), ("pallets/click", "051bb0f3"), ("pallets/click", "82f377c5"),
    ("pallets/click", "b7e5fd4c"),
    ("psf/requests", "47914226"), ("psf/requests", "6f205ff4"), ("psf/requests", "6404f345"),
    ("psf/requests", "ef439eb7"), ("psf/requests", "f0198e6d"), ("psf/requests", "bc7dd0fc"),
    ("python-attrs/attrs", "97f8d175"), ("python-attrs/attrs", "af9c5109"),
    ("python-attrs/attrs", "ce89f5d1"), ("python-attrs/attrs", "937b1e23"),
    ("tkem/cachetools", "18e5930"), ("tkem/cachetools", "57d2e48"),
    ("hynek/structlog", "c6e7cad"), ("hynek/structlog", "addf622"),
    ("hynek/structlog", "de3dfc8"), ("hynek/structlog", "6f9ed85"),
    ("hynek/structlog", "b16e08f"),
]
#: commits first measured after the localisation was tuned on CASES (``--holdout``): how the
#: tuning generalises
HOLDOUT = [
    ("pallets/click", "a6256bfb"), ("pallets/click", "3495fba1"),
    ("python-attrs/attrs", "eccd966d"), ("python-attrs/attrs", "862696af"),
    ("python-attrs/attrs", "5bab46de"), ("hynek/structlog", "ba04ac2"),
    ("hynek/structlog", "c44431c"), ("psf/requests", "e511bc72"),
]
PROMPT_BUDGET = 60_000  # build_messages' default


def git(cwd: Path, *args: str, check: bool = True) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True, text=True,
                          env=env).stdout


def is_test(path: str) -> bool:
    return path.startswith(("tests/", "test/")) or "/tests/" in path


@dataclass
class Result:
    case: str
    shown: bool
    missing: list[str]
    prompt_chars: int
    failing: int
    note: str = ""


def wanted_lines(mirror: Path, commit: str) -> list[tuple[str, str]]:
    """(path, line) the fix removes or changes, or the line a pure insertion follows."""
    files = git(mirror, "diff", "--name-only", f"{commit}^", commit).split()
    out: list[tuple[str, str]] = []
    for f in files:
        if is_test(f) or not f.endswith(".py"):
            continue
        diff = git(mirror, "diff", "-U1", f"{commit}^", commit, "--", f)
        hunk: list[tuple[str, str]] = []
        for line in diff.splitlines() + ["@@"]:
            if line.startswith("@@"):
                removed = [x for t, x in hunk if t == "-" and x.strip()]
                if removed:
                    out += [(f, x) for x in removed]
                elif hunk:
                    before = [x for t, x in hunk if t == " " and x.strip()]
                    if before:
                        out.append((f, before[0]))
                hunk = []
            elif line[:1] in " +-" and not line.startswith(("+++", "---")):
                hunk.append((line[:1], line[1:]))
    return out


def prepare(repo: str, mirrors: Path, work: Path) -> Path:
    """A clone of ``repo`` with its virtual environment in ``.venv`` (ignored by git)."""
    owner, name = repo.split("/")
    tree = work / f"{owner}+{name}"
    if not (tree / ".git").exists():
        git(work, "clone", "-q", str(mirrors / f"{owner}+{name}" / "repo"), str(tree))
    if not (tree / ".venv" / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(tree / ".venv")], check=True)
        extras = REPOS[repo][0].split()
        subprocess.run([str(tree / ".venv/bin/pip"), "install", "-q", "-e", str(tree), *extras],
                       check=True, capture_output=True)
    exclude = tree / ".git" / "info" / "exclude"
    if ".venv" not in exclude.read_text():
        exclude.write_text(exclude.read_text() + "\n.venv/\n")
    return tree


def baseline(tree: Path, command: str, saved: Path | None) -> tuple[str, list[str]]:
    """(output, failing test ids) of the suite on ``tree``; with ``saved``, read from that file
    when an earlier run wrote it (the localisation can then be re-measured in seconds)."""
    if saved is not None and saved.is_file():
        data = json.loads(saved.read_text(encoding="utf-8"))
        if "error" in data:
            raise OSError(data["error"])
        return data["output"], data["failing"]
    base = run_suite(tree, command, sandbox=choose_sandbox(), world=discover(tree), timeout=300)
    if not base.ok:
        error = f"the suite did not run here ({base.status})"
        if saved is not None:
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(json.dumps({"error": error}))
        raise OSError(error)
    if saved is not None:
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps({"output": base.output, "failing": list(base.failing)}))
    return base.output, list(base.failing)


def run_case(
    repo: str,
    commit: str,
    mirrors: Path,
    work: Path,
    tests_only: bool,
    dump: Path | None = None,
    saved: Path | None = None,
) -> Result:
    owner, name = repo.split("/")
    mirror = mirrors / f"{owner}+{name}" / "repo"
    tree = prepare(repo, mirrors, work)
    git(tree, "checkout", "-q", "-f", f"{commit}^")
    git(tree, "clean", "-q", "-fdx", "-e", ".venv")
    changed = git(mirror, "diff", "--name-only", f"{commit}^", commit).split()
    tests = [f for f in changed if is_test(f)]
    for f in tests:
        git(tree, "checkout", commit, "--", f, check=False)
    command = ".venv/bin/python -m pytest -q -p no:cacheprovider"
    if tests_only or REPOS[repo][1]:
        command += " " + " ".join(t for t in tests if t.endswith(".py"))
    files = git(tree, "ls-files").split()
    output, failing = baseline(tree, command, saved / f"{owner}+{name}@{commit}.json"
                               if saved is not None else None)
    subject = git(mirror, "log", "-1", "--format=%s", commit).strip()
    ctx = build_context(tree, files, task_text=subject, failing_tests=failing,
                        failure_output=output, budget=_context_budget(subject, "", output))
    messages = build_messages(task_key="bench", task_text=subject, digest="", context=ctx.text,
                              failing_output=output, budget=PROMPT_BUDGET)
    prompt = messages[1]["content"]
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
        (dump / f"{owner}+{name}@{commit}.txt").write_text(prompt, encoding="utf-8")
    prompt_lines = {line.rstrip() for line in prompt.split("\n")}
    missing = [f"{p}: {x.strip()}" for p, x in wanted_lines(mirror, commit)
               if x.rstrip() not in prompt_lines]
    note = "" if failing else "no failing test"
    return Result(f"{repo}@{commit}", not missing, missing,
                  sum(len(m["content"]) for m in messages), len(failing), note)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirrors", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-localise")
    ap.add_argument("--only", default="")
    ap.add_argument("--tests-only", action="store_true")
    ap.add_argument("--only-commit", default="", help="only this commit (a prefix)")
    ap.add_argument("--dump", type=Path, help="write each prompt to DIR/<repo>@<commit>.txt")
    ap.add_argument("--holdout", action="store_true",
                    help="measure the held-out commits instead of the tuning set")
    ap.add_argument("--baselines", type=Path,
                    help="keep each baseline's output in DIR and reuse it on later runs")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    for repo, commit in HOLDOUT if args.holdout else CASES:
        if (args.only and args.only not in repo) or not commit.startswith(args.only_commit):
            continue
        try:
            r = run_case(repo, commit, args.mirrors.resolve(), args.work.resolve(),
                         args.tests_only, args.dump, args.baselines)
        except (subprocess.CalledProcessError, OSError) as exc:
            print(f"| {repo}@{commit} | skipped: {exc} |", file=sys.stderr)
            continue
        results.append(r)
        print(f"{r.case}: {'shown' if r.shown else 'MISSING ' + str(len(r.missing))}, "
              f"{r.failing} failing, prompt {r.prompt_chars} chars {r.note}", file=sys.stderr)
        for m in r.missing[:3]:
            print(f"    missing {m}", file=sys.stderr)
    if not results:
        return 1
    shown = sum(r.shown for r in results)
    print("| case | every changed line shown | failing tests | prompt chars |")
    print("|---|---|---|---|")
    for r in results:
        print(f"| {r.case} | {'yes' if r.shown else f'no ({len(r.missing)} lines)'} | "
              f"{r.failing} | {r.prompt_chars:,} |")
    sizes = [r.prompt_chars for r in results]
    print(f"\nshown in {shown} of {len(results)} cases ({100 * shown / len(results):.0f} %); "
          f"prompt median {statistics.median(sizes):,.0f} chars, max {max(sizes):,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
