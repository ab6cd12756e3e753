"""Edits from real commits: does the edit engine apply what models send, refuse what it must,
and never write a wrong file?

Each case starts from one hunk of a real commit of a well-known Python project: SEARCH is the
hunk's old side (2-3 lines of context and the lines it removes) on the parent's file, REPLACE
its new side; the expected file is the parent with that one hunk applied. The ways models get
edits wrong are then applied, each as its own case, with the right answer known:

* must apply (the expected file, byte for byte): ``exact``; ``trailing_ws`` (trailing
  whitespace added to or stripped from the lines it copies); ``indentation`` (the whole block
  de- or indented); ``tabs`` (tabs for the file's spaces); ``blank_search`` (blank context
  lines left out of SEARCH) and ``blank_both`` (left out of SEARCH and REPLACE, where they lie
  between unchanged lines: next to a change their place would be a guess; neither next to a
  blank line the commit adds or removes, which would make that change invisible); a
  one-character slip in a context line, in both sides (``typo_context``) or SEARCH only
  (``typo_context_search``), and in a line the edit removes (``typo_removed``); ``elision``
  (SEARCH starts higher up, at the enclosing lines, and a ``...`` line stands for a long
  middle); ``crlf`` (the file has CRLF endings); ``no_final_newline`` (the hunk ends the file,
  which has no final newline);
* must refuse: ``reapplied`` (the edit sent again on the file it produced: reported as already
  applied, file unchanged; a pure deletion may be refused as not found), ``ambiguous`` (SEARCH
  cut down to lines the file has at two or more places), ``absent`` (the block is not in the
  file), ``stale`` (a line the edit removes was rewritten in the file since).

An edit that makes a file that parsed unparseable must be refused, whatever its kind (the
engine's syntax gate); a mistake that makes SEARCH fit more than one place (modulo whitespace)
may be refused as ambiguous. Scored per case: *correct* (applied and byte-equal to the expected
file, or refused where refusal is the answer), *false refusal* (refused though one right answer
existed), *misreported* (a re-sent edit refused, but not as already applied) and *silent
corruption* (applied, and the file differs from the expected one in any way).

The repositories are not part of Ratchet: pass ``--mirrors DIR`` holding bare clones named
``<owner>+<name>/repo`` (the layout of the search tool's ``fetch``); no network is used.
Commits are those before 2026-04-01 (so a newer mirror gives the same corpus), sampled with
a fixed seed.

Run on demand: ``python benchmarks/bench_edits.py --mirrors /work/.mirror [--hunks N]
[--seed S] [--only REPO] [--kind KIND] [--dump DIR] [--show CASE-ID]``.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import random
import re
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ratchet.edits import apply_edits_with_stages  # noqa: E402
from ratchet.errors import EditError  # noqa: E402

PROJECTS = [
    "pallets/click", "fastapi/typer", "python-attrs/attrs", "psf/requests",
    "hynek/structlog", "pallets/flask", "tkem/cachetools",
]
BEFORE = "2026-04-01"
MAX_FILE_BYTES = 300_000
MAX_HUNK_LINES = 40
KINDS = [
    "exact", "trailing_ws", "indentation", "tabs", "blank_search", "blank_both",
    "typo_context", "typo_context_search", "typo_removed", "elision", "crlf",
    "no_final_newline", "reapplied", "ambiguous", "absent", "stale",
]


def git(mirror: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "core.quotepath=off", *args], cwd=mirror, check=True,
        capture_output=True,
    ).stdout.decode("utf-8", "surrogateescape")


def show(mirror: Path, spec: str) -> str | None:
    """A file at a commit, or None when it is not UTF-8 text."""
    raw = subprocess.run(["git", "show", spec], cwd=mirror, check=True,
                         capture_output=True).stdout
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def split_keep(text: str) -> list[str]:
    """Lines with their "\\n" (the last one may lack it)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text.lstrip("\ufeff"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@dataclass
class Hunk:
    project: str
    commit: str
    path: str
    parent: str  # the parent's file
    start: int  # 0-based first line of SEARCH in the parent
    lines: list[tuple[str, str]]  # (" " | "-" | "+", line without "\n")
    s_nl: bool  # SEARCH ends with "\n"
    r_nl: bool

    def side(self, tags: str, lines: list[tuple[str, str]] | None = None) -> str:
        body = [text for tag, text in (self.lines if lines is None else lines) if tag in tags]
        nl = self.s_nl if tags == " -" else self.r_nl
        return "\n".join(body) + ("\n" if nl and body else "")

    @property
    def search(self) -> str:
        return self.side(" -")

    @property
    def replace(self) -> str:
        return self.side(" +")

    @property
    def old_len(self) -> int:
        return sum(1 for tag, _ in self.lines if tag in " -")

    def expected(self, replace: str | None = None) -> str:
        p = split_keep(self.parent)
        return "".join(p[: self.start]) + (replace or self.replace) + "".join(
            p[self.start + self.old_len :]
        )

    @property
    def where(self) -> str:
        return f"{self.project}@{self.commit[:8]}:{self.path}:{self.start + 1}"


@dataclass
class Case:
    hunk: Hunk
    kind: str
    text: str  # the file the engine gets
    search: str
    replace: str
    expect: str | None  # None: must refuse
    refuse_as: tuple[str, ...] = ()  # with expect None: the refusal that is right ('' = any)
    may_refuse: bool = False  # ambiguous modulo whitespace or breaks the syntax

    @property
    def id(self) -> str:
        return f"{self.hunk.where}:{self.kind}"


@dataclass
class Outcome:
    case: Case
    verdict: str  # correct | false_refusal | misreported | corruption
    detail: str = ""
    stage: str = ""


# ------------------------------------------------------------------------- the corpus


def parse_hunks(project: str, commit: str, path: str, parent: str, diff: str) -> list[Hunk]:
    hunks: list[Hunk] = []
    current: Hunk | None = None
    for raw in diff.split("\n"):
        head = re.match(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", raw)
        if head:
            start = int(head.group(1)) - (0 if head.group(2) == "0" else 1)
            current = Hunk(project, commit, path, parent, start, [], True, True)
            hunks.append(current)
        elif current is not None and raw[:1] in (" ", "-", "+") and not raw.startswith(
            ("+++ ", "--- ")
        ):
            current.lines.append((raw[0], raw[1:]))
        elif current is not None and raw.startswith("\\"):
            tag = current.lines[-1][0]
            if tag in " -":
                current.s_nl = False
            if tag in " +":
                current.r_nl = False
    return hunks


def eligible(h: Hunk) -> bool:
    search = h.search
    if not search.strip() or len(h.lines) > MAX_HUNK_LINES or h.old_len == 0:
        return False
    if "\r" in h.parent:
        return False
    if h.parent.count(search) != 1 or not any(tag != " " for tag, _ in h.lines):
        return False
    expected = h.expected()
    return expected.endswith("\n") == h.parent.endswith("\n") and expected != h.parent


def project_hunks(mirror: Path, project: str, wanted: int, rng: random.Random) -> list[Hunk]:
    commits = git(mirror, "log", "--no-merges", f"--before={BEFORE}", "--format=%H",
                  "--diff-filter=M", "--", "*.py").split()
    rng.shuffle(commits)
    out: list[Hunk] = []
    for commit in commits:
        if len(out) >= wanted:
            break
        try:
            files = git(mirror, "diff", "--name-only", "--diff-filter=M", "--no-renames",
                        f"{commit}^", commit, "--", "*.py").split()
        except subprocess.CalledProcessError:
            continue
        rng.shuffle(files)
        context = rng.choice((2, 3))
        for path in files[:3]:
            parent = show(mirror, f"{commit}^:{path}")
            if parent is None or len(parent) > MAX_FILE_BYTES or "\x00" in parent:
                continue
            diff = git(mirror, "diff", "--no-ext-diff", "--no-color", f"-U{context}",
                       f"{commit}^", commit, "--", path)
            hunks = [h for h in parse_hunks(project, commit, path, parent, diff) if eligible(h)]
            if hunks:
                out.append(rng.choice(hunks))
                break
    return out


# ------------------------------------------------------------------------- the mistakes


def slip(line: str, rng: random.Random) -> str:
    """One character wrong: substituted, dropped, doubled or two swapped."""
    spots = [i for i, ch in enumerate(line) if ch.isalnum()]
    at = rng.choice(spots)
    ch = line[at]
    how = rng.choice(("sub", "sub", "drop", "double", "swap"))
    if how == "drop":
        return line[:at] + line[at + 1 :]
    if how == "double":
        return line[:at] + ch + line[at:]
    if how == "swap" and at + 1 < len(line) and line[at + 1] != ch:
        return line[:at] + line[at + 1] + ch + line[at + 2 :]
    pool = "0123456789" if ch.isdigit() else "abcdefghijklmnopqrstuvwxyz"
    return line[:at] + rng.choice([c for c in pool if c != ch.lower()]) + line[at + 1 :]


def norm_block(lines: list[str]) -> list[str]:
    return [line.strip() for line in lines if line.strip()]


def count_block(hay: list[str], needle: list[str]) -> int:
    n = len(needle)
    return sum(1 for i in range(len(hay) - n + 1) if hay[i : i + n] == needle) if n else 0


def loose_count(h: Hunk, text: str) -> int:
    """Places the hunk's SEARCH fits modulo whitespace and blank lines."""
    return count_block(norm_block(text.split("\n")), norm_block(h.search.split("\n")))


def lines_case(h: Hunk, kind: str, lines: list[tuple[str, str]]) -> Case:
    """A must-apply case whose SEARCH and REPLACE are ``lines`` (the model's copy)."""
    return Case(h, kind, h.parent, h.side(" -", lines), h.side(" +", lines), h.expected())


def mk_trailing_ws(h: Hunk, rng: random.Random) -> Case | None:
    chosen = [i for i, (tag, text) in enumerate(h.lines) if tag != "+" and text.strip()]
    if not chosen:
        return None
    picked = set(rng.sample(chosen, max(1, len(chosen) // 2)))
    lines = []
    for i, (tag, text) in enumerate(h.lines):
        if i in picked:
            text = text.rstrip() if text != text.rstrip() else text + rng.choice(("  ", " ", "\t"))
        lines.append((tag, text))
    return lines_case(h, "trailing_ws", lines)


def mk_indentation(h: Hunk, rng: random.Random) -> Case | None:
    body = [text for _, text in h.lines if text.strip()]
    if any(text[: len(text) - len(text.lstrip())].count("\t") for text in body):
        return None
    least = min(len(text) - len(text.lstrip(" ")) for text in body)
    if any("\t" in text for _, text in h.lines if not text.strip()):
        return None

    def shifted(text: str) -> str:  # a line of spaces only moves with the block
        if not text:
            return text
        return text[min(least, len(text) - len(text.lstrip(" "))):] if least else "    " + text

    return lines_case(h, "indentation", [(tag, shifted(text)) for tag, text in h.lines])


def mk_tabs(h: Hunk, rng: random.Random) -> Case | None:
    def tabbed(text: str) -> str:
        lead = len(text) - len(text.lstrip(" "))
        tabs, rest = divmod(lead, 4)
        return "\t" * tabs + " " * rest + text[lead:]

    if not any(text.startswith("    ") for _, text in h.lines) or "\t" in h.parent:
        return None
    return lines_case(h, "tabs", [(tag, tabbed(text)) for tag, text in h.lines])


def blank_runs(h: Hunk, between_context: bool) -> list[list[int]]:
    """Runs of blank context lines (indices into the hunk); with ``between_context``, only
    runs whose neighbours are context lines too (left out of both sides next to a change, a
    blank line's place relative to the new lines would be anyone's guess)."""
    runs: list[list[int]] = []
    for i, (tag, text) in enumerate(h.lines):
        if tag == " " and not text.strip():
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
    def flanks(run: list[int]) -> list[tuple[str, str]]:
        return [h.lines[j] for j in (run[0] - 1, run[-1] + 1) if 0 <= j < len(h.lines)]

    def side_flanks(run: list[int], side: str) -> list[tuple[str, str]]:
        """The lines next to the run on one side of the hunk (old: " -", new: " +")."""
        out = []
        for step, j in ((-1, run[0] - 1), (1, run[-1] + 1)):
            while 0 <= j < len(h.lines) and h.lines[j][0] not in side:
                j += step
            if 0 <= j < len(h.lines):
                out.append(h.lines[j])
        return out

    # next to a blank line the commit adds or removes, a blank line left out of SEARCH makes
    # that change invisible: no such run
    runs = [run for run in runs
            if not any(tag != " " and not t.strip()
                       for tag, t in side_flanks(run, " -") + side_flanks(run, " +"))]
    if between_context:
        runs = [run for run in runs if all(tag == " " for tag, _ in flanks(run))]
    return runs


def drop_blanks(h: Hunk, rng: random.Random, both: bool) -> Case | None:
    runs = blank_runs(h, between_context=both)
    if not runs:
        return None
    dropped = {i for run in runs for i in rng.sample(run, rng.randint(1, len(run)))}
    s_lines = [(tag, text) for i, (tag, text) in enumerate(h.lines) if i not in dropped]
    r_lines = s_lines if both else h.lines
    return Case(h, "blank_both" if both else "blank_search", h.parent, h.side(" -", s_lines),
                h.side(" +", r_lines), h.expected())


def typo_at(h: Hunk, rng: random.Random, tags: str) -> int | None:
    spots = [i for i, (tag, text) in enumerate(h.lines)
             if tag in tags and len(text.strip()) >= 8 and sum(map(str.isalnum, text)) >= 3]
    return rng.choice(spots) if spots else None


def mk_typo(h: Hunk, rng: random.Random, kind: str) -> Case | None:
    at = typo_at(h, rng, "-" if kind == "typo_removed" else " ")
    if at is None:
        return None
    tag, text = h.lines[at]
    s_lines = list(h.lines)
    s_lines[at] = (tag, slip(text, rng))
    r_lines = s_lines if kind == "typo_context" else h.lines
    return Case(h, kind, h.parent, h.side(" -", s_lines), h.side(" +", r_lines), h.expected())


def mk_elision(h: Hunk, rng: random.Random) -> Case | None:
    above = split_keep(h.parent)[: h.start]
    k = min(len(above), rng.randint(7, 14))
    top = [line.rstrip("\n") for line in above[len(above) - k :]]
    if k < 6 or not "".join(top[:2]).strip():
        return None
    every = top + [text for _, text in h.lines]
    if any(line.strip() in ("...", "…") or line.strip().startswith("# ...") for line in every):
        return None
    middle = [line for line in top[2:] if line.strip()]
    if len(middle) < 3:
        return None
    indent = middle[0][: len(middle[0]) - len(middle[0].lstrip())]
    head = "\n".join(top[:2]) + "\n" + indent + "...\n"
    return Case(h, "elision", h.parent, head + h.search, head + h.replace, h.expected())


def mk_crlf(h: Hunk, rng: random.Random) -> Case:
    crlf = h.parent.replace("\n", "\r\n")
    return Case(h, "crlf", crlf, h.search, h.replace, h.expected().replace("\n", "\r\n"))


def mk_no_final_newline(h: Hunk, rng: random.Random) -> Case | None:
    s_last = [t for tag, t in h.lines if tag in " -"][-1]
    r_last = [t for tag, t in h.lines if tag in " +"][-1:]
    if not h.s_nl or not h.r_nl or not s_last.strip() or not r_last or not r_last[0].strip():
        return None  # a last line that is blank cannot go without its newline
    p = split_keep(h.parent)
    text = "".join(p[: h.start + h.old_len])[:-1]
    expected = "".join(p[: h.start]) + h.replace[:-1]
    return Case(h, "no_final_newline", text, h.search, h.replace, expected)


def mk_reapplied(h: Hunk, rng: random.Random) -> Case:
    removed = norm_block([t for tag, t in h.lines if tag == "-"])
    added = [t for t in norm_block([t for tag, t in h.lines if tag == "+"]) if t not in removed]
    how = ("already_applied",) if added else ("",)
    return Case(h, "reapplied", h.expected(), h.search, h.replace, None, how)


def change_groups(h: Hunk) -> list[tuple[int, int]]:
    """[first, last] hunk indices of each run of removed/added lines."""
    groups: list[tuple[int, int]] = []
    for i, (tag, _) in enumerate(h.lines):
        if tag == " ":
            continue
        if groups and groups[-1][1] == i - 1:
            groups[-1] = (groups[-1][0], i)
        else:
            groups.append((i, i))
    return groups


def mk_ambiguous(h: Hunk, rng: random.Random) -> Case | None:
    """SEARCH cut down to one change (and the line before or after it) where that fits twice."""
    file_lines = h.parent.split("\n")
    options = []
    for first, last in change_groups(h):
        group = h.lines[first : last + 1]
        removed = [t for tag, t in group if tag == "-"]
        added = [t for tag, t in group if tag == "+"]
        if removed:
            options.append((removed, added))
        if first > 0 and h.lines[first - 1][1].strip():
            before = h.lines[first - 1][1]
            options.append(([before, *removed], [before, *added]))
        if last + 1 < len(h.lines) and h.lines[last + 1][1].strip():
            after = h.lines[last + 1][1]
            options.append(([*removed, after], [*added, after]))
    for search, replace in options:
        if not "".join(search).strip() or search == replace:
            continue
        if count_block(file_lines, search) >= 2:
            return Case(h, "ambiguous", h.parent, "\n".join(search) + "\n",
                        "\n".join(replace) + "\n" if replace else "", None, ("ambiguous",))
    return None


def mk_absent(h: Hunk, rng: random.Random) -> Case | None:
    p = split_keep(h.parent)
    text = "".join(p[: h.start] + p[h.start + h.old_len :])
    if loose_count(h, text) or not text.strip():
        return None
    return Case(h, "absent", text, h.search, h.replace, None, ("",))


def mk_stale(h: Hunk, rng: random.Random) -> Case | None:
    at = typo_at(h, rng, "-")
    if at is None:
        return None
    old = h.lines[at][1]
    indent = old[: len(old) - len(old.lstrip())]
    others = sorted({line for line in h.parent.split("\n")
                     if line.startswith(indent) and len(line.strip()) >= 8
                     and difflib.SequenceMatcher(None, line.strip(), old.strip()).ratio() < 0.5})
    if not others:
        return None
    row = h.start + sum(1 for tag, _ in h.lines[:at] if tag in " -")
    p = split_keep(h.parent)
    p[row] = indent + rng.choice(others).strip() + "\n"
    return Case(h, "stale", "".join(p), h.search, h.replace, None, ("",))


MAKERS: dict[str, Callable[[Hunk, random.Random], Case | None]] = {
    "exact": lambda h, rng: Case(h, "exact", h.parent, h.search, h.replace, h.expected()),
    "trailing_ws": mk_trailing_ws,
    "indentation": mk_indentation,
    "tabs": mk_tabs,
    "blank_search": lambda h, rng: drop_blanks(h, rng, both=False),
    "blank_both": lambda h, rng: drop_blanks(h, rng, both=True),
    "typo_context": lambda h, rng: mk_typo(h, rng, "typo_context"),
    "typo_context_search": lambda h, rng: mk_typo(h, rng, "typo_context_search"),
    "typo_removed": lambda h, rng: mk_typo(h, rng, "typo_removed"),
    "elision": mk_elision,
    "crlf": mk_crlf,
    "no_final_newline": mk_no_final_newline,
    "reapplied": mk_reapplied,
    "ambiguous": mk_ambiguous,
    "absent": mk_absent,
    "stale": mk_stale,
}


def make_cases(h: Hunk, seed: int, kinds: list[str]) -> list[Case]:
    cases: list[Case] = []
    for kind in kinds:
        rng = random.Random(f"{seed}:{h.where}:{kind}")
        case = MAKERS[kind](h, rng)
        if case is None or (case.search == h.search and case.kind not in (
                "exact", "crlf", "no_final_newline", "reapplied", "absent", "stale")):
            continue  # the mistake changed nothing here
        if case.search == case.replace:
            continue  # the mistake hid the whole change (whitespace the commit changed)
        if case.expect is not None:
            if parses(case.text) and not parses(case.expect):
                case.may_refuse = True  # the syntax gate's refusal is right
            if loose_count(h, case.text) > 1:
                case.may_refuse = True  # the mistake makes SEARCH fit several places
        cases.append(case)
    return cases


# ------------------------------------------------------------------------- scoring


def run(case: Case) -> Outcome:
    try:
        after, stages = apply_edits_with_stages(case.hunk.path, case.text,
                                                [(case.search, case.replace)])
    except EditError as exc:
        first = str(exc).split("\n")[0][:160]
        detail = f"{exc.category}: {first}"
        if case.expect is None:
            right = case.refuse_as == ("",) or exc.category in case.refuse_as
            return Outcome(case, "correct" if right else "misreported", detail, exc.category)
        if case.may_refuse:
            return Outcome(case, "correct", detail, exc.category)
        return Outcome(case, "false_refusal", detail, exc.category)
    stage = ",".join(stages)
    if after == case.expect:
        return Outcome(case, "correct", "", stage)
    want = case.expect if case.expect is not None else case.text
    diff = difflib.unified_diff(want.splitlines(True), after.splitlines(True),
                                "expected", "engine", n=1)
    return Outcome(case, "corruption", "".join(list(diff)[:24]), stage)


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def table(title: str, rows: dict[str, list[Outcome]]) -> None:
    print(f"| {title} | cases | correct | % correct | false refusals | misreported "
          "| silent corruptions |")
    print("|---|---|---|---|---|---|---|")
    for name, outs in rows.items():
        c = Counter(o.verdict for o in outs)
        print(f"| {name} | {len(outs)} | {c['correct']} | {pct(c['correct'], len(outs))} | "
              f"{c['false_refusal']} | {c['misreported']} | {c['corruption']} |")
    print()


def report(outcomes: list[Outcome], kinds: list[str]) -> None:
    by_kind = {k: [o for o in outcomes if o.case.kind == k] for k in kinds}
    by_kind = {k: v for k, v in by_kind.items() if v}
    by_kind["**overall**"] = outcomes
    table("kind", by_kind)
    by_project = {p: [o for o in outcomes if o.case.hunk.project == p] for p in PROJECTS}
    table("project", {p: v for p, v in by_project.items() if v})
    bad = [o for o in outcomes if o.verdict != "correct"]
    for verdict in ("corruption", "false_refusal", "misreported"):
        listed = [o for o in bad if o.verdict == verdict]
        print(f"### {verdict.replace('_', ' ')}s: {len(listed)}\n")
        for o in listed:
            print(f"* `{o.case.id}` ({o.stage})" + (f" — {o.detail}" if verdict != "corruption"
                                                   else ""))
            if verdict == "corruption":
                print("\n```diff\n" + o.detail.rstrip("\n") + "\n```\n")
        print()


def dump(outcomes: list[Outcome], where: Path) -> None:
    where.mkdir(parents=True, exist_ok=True)
    for n, o in enumerate(x for x in outcomes if x.verdict != "correct"):
        c = o.case
        (where / f"{n:03d}-{o.verdict}-{c.kind}.json").write_text(json.dumps({
            "id": c.id, "path": c.hunk.path, "text": c.text, "search": c.search,
            "replace": c.replace, "expect": c.expect, "verdict": o.verdict, "detail": o.detail,
        }, indent=1), encoding="utf-8")


@dataclass
class Corpus:
    hunks: dict[str, list[Hunk]] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)


def build(mirrors: Path, hunks: int, seed: int, only: str, kinds: list[str]) -> Corpus:
    corpus = Corpus()
    for project in PROJECTS:
        if only and only not in project:
            continue
        mirror = mirrors / project.replace("/", "+") / "repo"
        if not mirror.is_dir():
            print(f"{project}: no mirror at {mirror}, skipped", file=sys.stderr)
            continue
        found = project_hunks(mirror, project, hunks, random.Random(f"{seed}:{project}"))
        corpus.hunks[project] = found
        for h in found:
            corpus.cases.extend(make_cases(h, seed, kinds))
    return corpus


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirrors", type=Path, required=True)
    ap.add_argument("--hunks", type=int, default=16, help="hunks per project (one a commit)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--only", default="", help="only projects whose name contains this")
    ap.add_argument("--kind", action="append", choices=KINDS, help="only these kinds")
    ap.add_argument("--dump", type=Path, help="write every case not correct to DIR as JSON")
    ap.add_argument("--show", default="", help="print one case (its id) in full")
    args = ap.parse_args()
    kinds = args.kind or KINDS
    t0 = time.perf_counter()
    corpus = build(args.mirrors.resolve(), args.hunks, args.seed, args.only, kinds)
    if args.show:
        for case in corpus.cases:
            if case.id == args.show:
                print(f"--- SEARCH\n{case.search}--- REPLACE\n{case.replace}--- outcome")
                print(run(case))
        return 0
    built = time.perf_counter() - t0
    outcomes = [run(case) for case in corpus.cases]
    ran = time.perf_counter() - t0 - built
    print(f"seed {args.seed}, commits before {BEFORE}; corpus built in {built:.0f} s, "
          f"engine ran in {ran:.1f} s\n")
    print("| project | hunks (commits) | cases |\n|---|---|---|")
    for project, found in corpus.hunks.items():
        n = sum(1 for c in corpus.cases if c.hunk.project == project)
        print(f"| {project} | {len(found)} | {n} |")
    print(f"| **total** | {sum(len(v) for v in corpus.hunks.values())} | "
          f"{len(corpus.cases)} |\n")
    report(outcomes, kinds)
    if args.dump:
        dump(outcomes, args.dump)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
