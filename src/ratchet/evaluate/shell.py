"""Reading a test command the way ``/bin/sh`` will: where its last simple command starts, which
words it has, and which program runs once wrappers (``VAR=x``, ``env``, ``uv run``, ``python -m``
...) are peeled off. Pure functions; nothing here runs anything.

Ratchet only ever *appends* to the command it was given (``cmd --junitxml=...``), so quoting,
variables and globs in the user's command reach the shell untouched. A command is "rebuilt" from
its words only where the words are plain (no ``$``, globs, ``~``, quotes that matter).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

_SEPARATORS = ("&&", "||", ";", "\n")
_COMPLEX = set("|&()`")  # outside quotes, in the last simple command: we do not touch it
_REDIRECT = re.compile(r"\d*(>>?|<|>&|<&|&>>?)\S*")
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*", re.DOTALL)
_PYTHON = re.compile(r"python[0-9.]*")

#: ``X run ...`` wrappers that run a program inside a project environment
RUN_WRAPPERS = frozenset({"uv", "poetry", "pdm", "pipenv", "rye", "hatch"})
#: options of those wrappers (and of ``npx``) that take a value as the next word
_VALUE_OPTIONS = frozenset(
    {"--with", "--with-editable", "--with-requirements", "--python", "-p", "--extra", "--group",
     "--package", "--env-file", "--directory", "--project", "--index", "--index-url",
     "--extra-index-url", "-e", "--env", "--package-name"}
)
#: plain prefix commands: ``env``, ``exec``, ``time`` ... and their options that take a value
_PREFIX_COMMANDS: dict[str, frozenset[str]] = {
    "env": frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string"}),
    "exec": frozenset({"-a"}),
    "command": frozenset(),
    "time": frozenset({"-f", "--format", "-o", "--output"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "nohup": frozenset(),
    "xvfb-run": frozenset({"-n", "-s", "-e", "-f", "-p", "-w", "--server-args"}),
}


@dataclass(frozen=True)
class LastCommand:
    """The last simple command of a shell command string.

    ``prefix`` is the raw text before it (everything up to and including the last top-level
    ``&&``/``||``/``;``/newline), ``text`` its raw text, ``words`` its shell words.
    """

    prefix: str
    text: str
    words: tuple[str, ...]

    @property
    def plain(self) -> bool:
        """True if re-joining ``words`` gives the same command (so it may be rebuilt)."""
        return all(_PLAIN_WORD.fullmatch(w) for w in self.words)


def _scan(command: str) -> tuple[int, bool] | None:
    """(start offset of the last simple command, whether that part has shell syntax we do not
    touch), or None for unbalanced quotes."""
    start = 0
    complex_ = False
    i, n = 0, len(command)
    quote = ""
    while i < n:
        c = command[i]
        if quote == "'":
            if c == "'":
                quote = ""
        elif quote == '"':
            if c == "\\":
                i += 1
            elif c == '"':
                quote = ""
            elif c == "`" or command[i : i + 2] == "$(":
                complex_ = True
        elif c == "\\":
            i += 1
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or command[i - 1] in " \t\n;&|"):
            end = command.find("\n", i)
            if end < 0:
                complex_ = True  # a comment in the last part: appending would be commented out
                break
            i = end
            continue
        else:
            two = command[i : i + 2]
            if two in ("&&", "||"):
                start, complex_ = i + 2, False
                i += 2
                continue
            if c in ";\n":
                start, complex_ = i + 1, False
            elif c == "&" and (command[i - 1 : i] in "<>" and i > 0 or two == "&>"):
                pass  # a redirection: 2>&1, &>file
            elif c in _COMPLEX or two == "$(":
                complex_ = True
        i += 1
    if quote:
        return None
    return start, complex_


def last_command(command: str) -> LastCommand | None:
    """The last simple command of ``command``, or None when it uses pipes, redirections,
    subshells, background jobs, command substitution or a trailing comment (Ratchet then
    leaves the command alone), or when the quoting is unbalanced."""
    scanned = _scan(command)
    if scanned is None:
        return None
    start, complex_ = scanned
    if complex_:
        return None
    text = command[start:]
    try:
        words = shlex.split(text, comments=False, posix=True)
    except ValueError:
        return None
    kept: list[str] = []
    skip = False
    for w in words:  # redirections are not arguments: 2>&1, > out.txt, <in
        if skip:
            skip = False
        elif _REDIRECT.fullmatch(w):
            skip = w.rstrip("0123456789") in (">", ">>", "<", "&>", "&>>")
        else:
            kept.append(w)
    if not kept:
        return None
    return LastCommand(prefix=command[:start], text=text, words=tuple(kept))


def segments(command: str) -> list[str]:
    """The top-level simple commands of ``command`` (split at ``&&``, ``||``, ``;`` and
    newlines outside quotes), in order; [] for unbalanced quotes."""
    parts: list[str] = []
    rest = command
    while rest.strip():
        scanned = _scan(rest)
        if scanned is None:
            return []
        start, _complex = scanned
        parts.append(rest[start:])
        rest = rest[:start].rstrip()
        for sep in ("&&", "||", ";"):
            if rest.endswith(sep):
                rest = rest[: -len(sep)]
                break
        if start == 0:
            break
    return [p for p in reversed(parts) if p.strip()]


def cwd_of_prefix(prefix: str) -> str | None:
    """The directory a leading ``cd DIR &&`` moves to (the last one), or None."""
    found = None
    for part in re.split(r"&&|;|\n", prefix):
        try:
            words = shlex.split(part)
        except ValueError:
            return None
        if len(words) == 2 and words[0] == "cd":
            found = words[1] if found is None else os.path.join(found, words[1])
    return found


def append(command: str, extra: Sequence[str]) -> str:
    """``command`` with ``extra`` words appended (quoted for the shell)."""
    if not extra:
        return command
    return f"{command.rstrip()} {shlex.join(list(extra))}"


def quote_word(word: str) -> str:
    """One word for the shell; an assignment keeps its name unquoted (``A='b c'``)."""
    if _ASSIGNMENT.fullmatch(word):
        name, value = word.split("=", 1)
        return f"{name}={shlex.quote(value)}"
    return shlex.quote(word)


def rebuild(last: LastCommand, words: Sequence[str]) -> str:
    """The whole command with its last simple command replaced by ``words``."""
    joined = " ".join(quote_word(w) for w in words)
    return f"{last.prefix.rstrip()} {joined}" if last.prefix.strip() else joined


@dataclass(frozen=True)
class Program:
    """What a simple command runs once wrappers are peeled off.

    ``words`` starts at the program (``["jest", "--ci"]``; for ``python -m X`` it starts at the
    module: ``["pytest", "-q"]``); ``via`` names the wrappers for a person (``["uv run"]``).
    """

    words: tuple[str, ...]
    via: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return os.path.basename(self.words[0]) if self.words else ""


def _skip_options(words: Sequence[str], i: int, values: frozenset[str] = _VALUE_OPTIONS) -> int:
    while i < len(words) and words[i].startswith("-") and words[i] != "--":
        opt = words[i]
        i += 1
        if opt in values and i < len(words):
            i += 1
    if i < len(words) and words[i] == "--":
        i += 1
    return i


def _python_module(words: Sequence[str]) -> int | None:
    """Index of the module name after ``-m`` in interpreter arguments, or None."""
    i = 0
    while i < len(words):
        w = words[i]
        if w == "-m":
            return i + 1 if i + 1 < len(words) else None
        if w.startswith("-m") and len(w) > 2:
            return -1  # -mpytest: handled by the caller
        if w in ("-X", "-W"):
            i += 2
            continue
        if not w.startswith("-") or w == "-c":
            return None
        i += 1
    return None


#: node options whose value is the next word
_NODE_VALUE_OPTIONS = frozenset(
    {"-r", "--require", "--import", "--loader", "--experimental-loader", "--env-file", "-C",
     "--conditions", "--title", "--inspect-port", "--input-type", "--stack-size"}
)
#: entry points of test runners that projects start with node itself
#: (``node --experimental-vm-modules node_modules/jest/bin/jest.js``)
NODE_RUNNER_SCRIPTS = frozenset(
    {"jest", "jest.js", "mocha", "_mocha", "mocha.js", "vitest", "vitest.mjs"}
)


def _node_script(words: Sequence[str]) -> int | None:
    """Index of a test runner's script in ``node [options] script ...``, or None (``node
    --test`` and ``node -e`` are not scripts)."""
    i = 1
    while i < len(words) and words[i].startswith("-"):
        if words[i] in ("--test", "-e", "--eval", "-p", "--print", "-"):
            return None
        i += 2 if words[i] in _NODE_VALUE_OPTIONS else 1
    if i < len(words) and os.path.basename(words[i]) in NODE_RUNNER_SCRIPTS:
        return i
    return None


def program(words: Sequence[str]) -> Program:
    """Peel ``VAR=x``, ``env``/``exec``/``time``..., ``uv run``-style wrappers, ``npx``,
    ``python -m``, ``coverage run -m`` and ``node <runner's script>`` off ``words``."""
    via: list[str] = []
    ws = list(words)
    for _ in range(8):
        i = 0
        while i < len(ws) and _ASSIGNMENT.fullmatch(ws[i]):
            i += 1
        ws = ws[i:]
        if not ws:
            break
        head = os.path.basename(ws[0])
        if head in _PREFIX_COMMANDS:
            rest = _skip_options(ws, 1, _PREFIX_COMMANDS[head])
            if head == "env":
                while rest < len(ws) and _ASSIGNMENT.fullmatch(ws[rest]):
                    rest += 1
            ws = ws[rest:]
            continue
        if head == "timeout" and len(ws) > 2:
            ws = ws[_skip_options(ws, 1) + 1 :]
            continue
        if head in RUN_WRAPPERS and len(ws) > 1 and ws[1] == "run":
            via.append(f"{head} run")
            ws = ws[_skip_options(ws, 2) :]
            continue
        if head in ("npx", "bunx") or (head in ("pnpm", "yarn", "npm") and ws[1:2] in (["exec"],
                                                                                 ["dlx"])):
            via.append(head if head in ("npx", "bunx") else f"{head} {ws[1]}")
            ws = ws[_skip_options(ws, 1 if head in ("npx", "bunx") else 2) :]
            continue
        if head in ("node", "nodejs") and (at := _node_script(ws)) is not None:
            via.append("node")
            ws = ws[at:]
            continue
        if _PYTHON.fullmatch(head) or (head == "coverage" and ws[1:2] == ["run"]):
            args = ws[2:] if head == "coverage" else ws[1:]
            at = _python_module(args)
            if at == -1:
                mod = next(a for a in args if a.startswith("-m"))
                ws = [mod[2:], *args[args.index(mod) + 1 :]]
            elif at is not None:
                ws = list(args[at:])
            else:
                break
            via.append(f"{head} -m" if head != "coverage" else "coverage run -m")
            continue
        break
    return Program(words=tuple(ws), via=tuple(via))
