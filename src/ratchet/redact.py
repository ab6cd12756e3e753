"""Redaction of secrets from everything that leaves the bot (PR text, comments, memory, logs).

Redaction is a backstop, not the boundary: the boundary is that test code never holds secrets
(see evaluate/sandbox.py). Known secret values come from the environment (credential-named
variables, ``ratchet.core.secrets``, plus the explicit ones Ratchet reads); their base64,
URL-encoded and hex forms are redacted too, and well-known token shapes are redacted even when
we do not know the value.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote

from ratchet.core.secrets import MIN_SECRET_LENGTH, TOKEN_SHAPES, secret_values_in
from ratchet.environment import current

MASK = "***"
_PATTERNS = TOKEN_SHAPES
_MIN_LEN = MIN_SECRET_LENGTH


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """The secret values found in ``environ`` (default: the environment snapshot), longest first."""
    return secret_values_in(current() if environ is None else environ)


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
    """Redact ``text`` against the secrets in ``environ`` (default: the environment snapshot)."""
    return redactor_from_env(environ)(text)
