"""What counts as a secret: one list of names and one list of token shapes.

Two uses, one definition:

- **redaction** (everything that leaves the bot): the values of variables whose *name* says
  they hold a credential (:func:`is_credential_name`), and any text shaped like a known token
  (:data:`TOKEN_SHAPES`) even when the value is unknown;
- **the sandbox** (what the tests may see): fail closed, so it withholds credential-named
  variables, every variable of a service or of the CI runner (:func:`is_withheld_name`:
  ``GITHUB_*``, ``ACTIONS_*``, ``MINIMAX_*`` …, which can carry tokens or steer the runner), and
  any value that looks like a secret (:func:`looks_secret_value`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: names that say "this holds a credential" (matched on the upper-cased name)
_CREDENTIAL_NAME = re.compile(
    r"(_KEY$|_KEYS$|^KEY$|_TOKEN$|^TOKEN$|SECRET|PASSWORD|PASSWD|CREDENTIAL|_PAT$|COOKIE"
    r"|(^|_)AUTH($|_)|AUTHORIZATION|PRIVATE)"
)
#: services and CI runners whose variables never reach the tests
_SERVICE_NAME = re.compile(
    r"^(GITHUB|ACTIONS|RUNNER|MEM0|MINIMAX|RATCHET|AWS|AZURE|GOOGLE|GCP|OPENAI|ANTHROPIC|HF"
    r"|NPM|PYPI|TWINE|DOCKER|SSH)_"
)
#: well-known token shapes: redacted wherever they appear, known or not
TOKEN_SHAPES = re.compile(
    r"(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|sk-[A-Za-z0-9_-]{16,}|m0-[A-Za-z0-9]{16,}"
    r"|xox[abpr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}"
    r"|eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})"
)
#: shapes that mark a value as secret for the sandbox (not redacted: they are not the secret)
_SECRET_MARKS = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY|://[^/\s:@]+:[^/\s@]+@|eyJ[\w-]{20,}\.|xox[abpr]-"
)
_OPAQUE_RUN = re.compile(r"[A-Za-z0-9+=_-]{32,}")
#: values shorter than this are too likely to occur by chance to be redacted by value
MIN_SECRET_LENGTH = 6


def is_credential_name(name: str) -> bool:
    """True if an environment variable NAME says it holds a credential."""
    return bool(_CREDENTIAL_NAME.search(name.upper()))


def credentials_in(environ: Mapping[str, str]) -> list[str]:
    """The names of the variables in ``environ`` that hold a credential (by name, with a value
    long enough to be one), sorted: what a test could steal from a process it can read."""
    return sorted(
        name for name, value in environ.items()
        if is_credential_name(name) and len(value.strip()) >= MIN_SECRET_LENGTH
    )  # fmt: skip


def is_withheld_name(name: str) -> bool:
    """True if the tests must not see the variable NAME (a credential, or a service's or the CI
    runner's variable)."""
    upper = name.upper()
    return bool(_CREDENTIAL_NAME.search(upper) or _SERVICE_NAME.search(upper))


def looks_secret_value(value: str) -> bool:
    """True if a VALUE looks like a token, a key or a URL with embedded credentials."""
    if TOKEN_SHAPES.search(value) or _SECRET_MARKS.search(value):
        return True
    # a long run of letters AND digits with no separator is a key (base64 '/' splits it, which
    # is fine: the halves are still long); path components and words are not
    for m in _OPAQUE_RUN.finditer(value):
        run = m.group(0)
        if any(c.isdigit() for c in run) and any(c.isalpha() for c in run):
            return True
    return False


def secret_values_in(environ: Mapping[str, str]) -> list[str]:
    """The values of credential-named variables in a mapping, longest first (short ones,
    below :data:`MIN_SECRET_LENGTH`, left out)."""
    vals = {
        v
        for k, v in environ.items()
        if isinstance(v, str) and is_credential_name(k) and len(v) >= MIN_SECRET_LENGTH
    }
    return sorted(vals, key=len, reverse=True)
