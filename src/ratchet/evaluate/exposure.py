"""Fail closed: whether the tests (code the model wrote) could get at this process's
credentials in a sandbox, and the refusal to run them there unless the rung was named."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ratchet.core.secrets import credentials_in
from ratchet.errors import ConfigError

if TYPE_CHECKING:
    from ratchet.evaluate.sandbox import Sandbox


def holds_secrets(box: Sandbox) -> bool:
    """True when a test in ``box`` cannot read this process's environment: bubblewrap, or the
    unshare rung with the tests running as another account (no capabilities to undo its
    namespaces, the parent outside its PID namespace, the network cut)."""
    return box.name == "bwrap" or (box.name == "unshare" and box.user is not None)


def refuse_exposure(box: Sandbox, environ: Mapping[str, str], configured: str = "auto") -> None:
    """Fail closed: tests (model-written code) must not run where they could read this
    process's credentials (see :func:`holds_secrets`), so with credentials in the
    environment a weaker rung is refused unless it was chosen by name (``sandbox:`` in the
    config or RATCHET_SANDBOX): an explicit choice accepts the risk. Raises ConfigError."""
    choice = (environ.get("RATCHET_SANDBOX") or configured or "auto").strip().lower()
    exposed = credentials_in(environ)
    if holds_secrets(box) or choice != "auto" or not exposed:
        return
    shown = ", ".join(exposed[:6]) + (f" and {len(exposed) - 6} more" if len(exposed) > 6 else "")
    reach = (f"runs as {box.user.name} but reaches the network and can outlive the run, "
             f"while this process holds its {shown}" if box.user is not None
             else f"can read this process's {shown}")
    raise ConfigError(
        f"the tests would run in the {box.name!r} sandbox, where a test (code the model "
        f"wrote) {reach}; nothing was run",
        "install bubblewrap (apt-get install bubblewrap; in a container, run it with "
        "--privileged or allow user namespaces), or accept the risk by naming the sandbox: "
        f"`sandbox: {box.name}` in .github/ratchet.yml or RATCHET_SANDBOX={box.name}",
    )
