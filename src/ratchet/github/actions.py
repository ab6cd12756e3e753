"""Helpers around the GitHub Actions runner's files and workflow commands.

The runner reads two kinds of input from a step:

- *file commands*: lines appended to the files named by ``$GITHUB_OUTPUT`` and
  ``$GITHUB_STEP_SUMMARY``;
- *workflow commands*: lines such as ``::error::message`` printed to stdout.

Both are injection channels when a value comes from users, the model or a test run: a newline
in an output value can define extra outputs, and a line of test output that starts with ``::``
is obeyed as a command. The helpers here close those channels: outputs use the heredoc form
with a random delimiter that does not occur in the value, command data is escaped, and
untrusted text is echoed between ``::stop-commands::`` markers with a random token.

Everything takes its file path or stream as a parameter, so it is testable without a runner.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

#: GitHub refuses step summaries over 1 MiB; keep the whole file a little below that
SUMMARY_LIMIT_BYTES = 1024 * 1024 - 4096
SUMMARY_TRUNCATED = "\n\n_… summary truncated (GitHub limits a step summary to 1 MiB)_\n"

_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")
_DELIMITER_TRIES = 5


def _random_delimiter() -> str:
    return f"ghadelimiter_{uuid.uuid4()}"


def _random_token() -> str:
    return uuid.uuid4().hex


def _out(stream: TextIO | None) -> TextIO:
    return sys.stdout if stream is None else stream


# -- file commands ----------------------------------------------------------------------------


def format_output(
    name: str,
    value: str | int | None,
    new_delimiter: Callable[[], str] = _random_delimiter,
) -> str:
    """Return one ``$GITHUB_OUTPUT`` entry in heredoc form: ``name<<DELIM\\nvalue\\nDELIM\\n``.

    ``None`` becomes the empty string and integers their decimal form. A delimiter that occurs
    in the value is refused and a new one drawn. Raises ValueError for a name that is not a
    plain identifier, or when no delimiter absent from the value could be found.
    """
    if not _OUTPUT_NAME.match(name):
        raise ValueError(f"invalid output name {name!r}")
    text = "" if value is None else str(value)
    for _ in range(_DELIMITER_TRIES):
        delimiter = new_delimiter()
        if delimiter and delimiter not in text and delimiter not in name:
            return f"{name}<<{delimiter}\n{text}\n{delimiter}\n"
    raise ValueError(f"could not find a delimiter absent from the value of output {name!r}")


def set_outputs(
    path: str | None,
    values: Mapping[str, str | int | None],
    *,
    new_delimiter: Callable[[], str] = _random_delimiter,
) -> None:
    """Append ``values`` as step outputs to the ``$GITHUB_OUTPUT`` file at ``path``.

    Does nothing when ``path`` is None or empty (not running under Actions). All entries are
    formatted before the file is opened, so an invalid name writes nothing. Raises ValueError
    (see ``format_output``) and OSError when the file cannot be written.
    """
    if not path:
        return
    chunks = [format_output(name, value, new_delimiter) for name, value in values.items()]
    if not chunks:
        return
    with open(path, "a", encoding="utf-8", newline="") as fh:
        fh.write("".join(chunks))


def _cut_utf8(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[: max(max_bytes, 0)].decode("utf-8", errors="ignore")


def append_summary(path: str | None, markdown: str, *, limit: int = SUMMARY_LIMIT_BYTES) -> None:
    """Append ``markdown`` to the ``$GITHUB_STEP_SUMMARY`` file at ``path``.

    Does nothing when ``path`` is None or empty. The file is kept under ``limit`` bytes (GitHub
    rejects a summary over 1 MiB): text that does not fit is cut with a note saying so, and
    nothing is written once the file is full. Raises OSError when the file cannot be written.
    """
    if not path or not markdown:
        return
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            used = fh.tell()
    except FileNotFoundError:
        used = 0
    text = markdown if markdown.endswith("\n") else markdown + "\n"
    room = limit - used
    if len(text.encode("utf-8")) > room:
        note_len = len(SUMMARY_TRUNCATED.encode("utf-8"))
        if room <= note_len:
            return
        text = _cut_utf8(text, room - note_len) + SUMMARY_TRUNCATED
    with open(path, "a", encoding="utf-8", newline="") as fh:
        fh.write(text)


# -- workflow commands ------------------------------------------------------------------------


def escape_data(text: str) -> str:
    """Return ``text`` escaped for the data part of a workflow command (``%``, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Return ``text`` escaped for a workflow command property value (data rules plus ``:``
    and ``,``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(
    name: str, message: str, properties: Mapping[str, str | int | None], stream: TextIO | None
) -> None:
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None and value != ""
    )
    head = f"::{name} {props}::" if props else f"::{name}::"
    out = _out(stream)
    out.write(f"{head}{escape_data(message)}\n")
    out.flush()


def error(
    message: str,
    *,
    title: str | None = None,
    file: str | None = None,
    line: int | None = None,
    stream: TextIO | None = None,
) -> None:
    """Print an ``::error::`` annotation (escaped) to ``stream`` (default: stdout)."""
    _command("error", message, {"title": title, "file": file, "line": line}, stream)


def warning(
    message: str,
    *,
    title: str | None = None,
    file: str | None = None,
    line: int | None = None,
    stream: TextIO | None = None,
) -> None:
    """Print a ``::warning::`` annotation (escaped) to ``stream`` (default: stdout)."""
    _command("warning", message, {"title": title, "file": file, "line": line}, stream)


def notice(
    message: str,
    *,
    title: str | None = None,
    file: str | None = None,
    line: int | None = None,
    stream: TextIO | None = None,
) -> None:
    """Print a ``::notice::`` annotation (escaped) to ``stream`` (default: stdout)."""
    _command("notice", message, {"title": title, "file": file, "line": line}, stream)


def mask(value: str, *, stream: TextIO | None = None) -> None:
    """Ask the runner to mask ``value`` in the log from now on (``::add-mask::``).

    The log is masked line by line, so a multi-line value is registered one line at a time.
    Blank values are ignored (masking them would hide nothing useful).
    """
    out = _out(stream)
    for part in value.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if part.strip():
            out.write(f"::add-mask::{escape_data(part)}\n")
    out.flush()


@contextmanager
def group(title: str, stream: TextIO | None = None) -> Iterator[None]:
    """Print ``::group::title`` (escaped) on entry and ``::endgroup::`` on exit, even when the
    body raises, so the log lines printed inside fold under ``title``."""
    out = _out(stream)
    out.write(f"::group::{escape_data(title)}\n")
    out.flush()
    try:
        yield
    finally:
        out.write("::endgroup::\n")
        out.flush()


def echo_untrusted(
    text: str,
    stream: TextIO | None = None,
    *,
    new_token: Callable[[], str] = _random_token,
) -> None:
    """Print ``text`` (test output, model text) so that the runner obeys no workflow command
    in it: between ``::stop-commands::<token>`` and ``::<token>::`` with a random token that
    does not occur in ``text``. Raises ValueError if no such token could be drawn."""
    for _ in range(_DELIMITER_TRIES):
        token = new_token()
        if token and token not in text:
            break
    else:
        raise ValueError("could not find a stop-commands token absent from the text")
    out = _out(stream)
    body = text if text.endswith("\n") or not text else text + "\n"
    out.write(f"::stop-commands::{token}\n{body}::{token}::\n")
    out.flush()
