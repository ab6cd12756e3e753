"""Redaction of secrets from everything that leaves the bot (PR text, comments, memory, logs).

Redaction is a backstop, not the boundary: the boundary is that test code never holds secrets
(see evaluate/sandbox.py). Known secret values come from the environment (names ending in _KEY,
_TOKEN, _SECRET, _PASSWORD, plus the explicit ones Ratchet reads); their base64, URL-encoded and hex
forms are redacted too, and well-known token shapes are redacted even when we do not know the value.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote

MASK = "***"
_SECRET_NAME = re.compile(r"(_KEY|_TOKEN|_SECRET|_PASSWORD|_PAT)$|^(GH|GITHUB)_TOKEN$", re.I)
_PATTERNS = re.compile(
    r"(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-[A-Za-z0-9_\-]{16,}"
    r"|m0-[A-Za-z0-9]{16,}|eyJ[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,})"
)
_MIN_LEN = 6  # shorter values are too likely to occur by chance


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """The secret values found in ``environ`` (default: os.environ), longest first."""
    env = os.environ if environ is None else environ
    vals = {v for k, v in env.items() if _SECRET_NAME.search(k) and len(v) >= _MIN_LEN}
    return sorted(vals, key=len, reverse=True)


def _variants(secret: str) -> set[str]:
    raw = secret.encode()
    out = {secret, quote(secret, safe=""), raw.hex()}
    for enc in (base64.b64encode, base64.urlsafe_b64encode):
        b = enc(raw).decode()
        out.add(b)
        out.add(b.rstrip("="))
    return {v for v in out if len(v) >= _MIN_LEN}


class Redactor:
    """Replaces known secrets (and their encodings) and token-shaped strings with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants: set[str] = set()
        for s in secrets:
            if s and len(s) >= _MIN_LEN:
                variants |= _variants(s)
        ordered = sorted(variants, key=len, reverse=True)
        self._known = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None

    def __call__(self, text: str) -> str:
        if not text:
            return text
        if self._known is not None:
            text = self._known.sub(MASK, text)
        return _PATTERNS.sub(MASK, text)


def redactor_from_env(environ: Mapping[str, str] | None = None) -> Redactor:
    return Redactor(secret_values(environ))


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Redact ``text`` against the secrets in ``environ`` (default: os.environ)."""
    return redactor_from_env(environ)(text)
