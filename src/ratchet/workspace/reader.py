"""Reading tracked files for the context, safely: regular files inside the repository only (no
symlink out of it), UTF-8 text only (a NUL early on marks a binary), at most
:data:`MAX_FILES_READ` files opened per context and :data:`HUGE_BYTES` read of any file."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

HUGE_BYTES = 1_000_000  # larger files are never read in full
MAX_FILES_READ = 200  # files opened per context, shown or not


@dataclass(frozen=True)
class FileText:
    text: str
    complete: bool
    size: int


class Reader:
    """Reads tracked files safely: regular files inside the root only, UTF-8 text only."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.opened = 0

    def read(
        self, rel: str, max_chars: int, allow_head: bool, count: bool = True
    ) -> FileText | None:
        if count and self.opened >= MAX_FILES_READ:
            return None
        found = self._regular(rel)
        if found is None:
            return None
        full, st = found
        if not allow_head and st.st_size > min(HUGE_BYTES, 2 * max_chars):
            return None  # cannot fit whole; only explicit files are shown truncated
        want = min(st.st_size, max(max_chars, 0) * 4 + 4, HUGE_BYTES)
        if allow_head:
            want = min(st.st_size, HUGE_BYTES)  # regions may come from anywhere in the file
        self.opened += 1 if count else 0
        data = _text_bytes(full, want)
        if data is None:
            return None
        partial = len(data) < st.st_size
        text = _decode(data, partial)
        if text is None:
            return None
        text = text.removeprefix("\ufeff").replace("\r\n", "\n")
        return FileText(text, not partial, st.st_size)

    def size(self, rel: str) -> int:
        """The size in bytes of a regular file inside the root; -1 if there is none."""
        found = self._regular(rel)
        return found[1].st_size if found is not None else -1

    def head(self, rel: str, limit: int) -> str | None:
        """At most ``limit`` bytes of a file, decoded leniently (for the symbol map)."""
        found = self._regular(rel)
        data = _text_bytes(found[0], limit) if found is not None else None
        return data.decode("utf-8", errors="replace") if data is not None else None

    def _regular(self, rel: str) -> tuple[str, os.stat_result] | None:
        """(path, stat) of a regular file inside the root (no symlink out of it), or None."""
        full = os.path.join(self.root, rel)
        try:
            st = os.lstat(full)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None  # symlinks, directories, devices
        if not os.path.realpath(full).startswith(self.real_root + os.sep):
            return None
        return full, st


def _text_bytes(full: str, limit: int) -> bytes | None:
    """Up to ``limit`` bytes of ``full``, or None when unreadable or binary (a NUL early on)."""
    try:
        with open(full, "rb") as fh:
            data = fh.read(limit)
    except OSError:
        return None
    return None if b"\x00" in data[:8192] else data


def _decode(data: bytes, partial: bool) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        if partial and e.start >= len(data) - 3:  # cut inside a multi-byte character
            return data[: e.start].decode("utf-8", errors="strict")
        return None
