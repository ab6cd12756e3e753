"""The one retry policy of Ratchet's clients (MiniMax, Mem0, the ledger's push race).

Capped exponential backoff with "equal jitter": before retry ``n`` (1-based) the ceiling is
``min(cap, base * 2**(n-1))`` and the wait is drawn from ``[ceiling/2, ceiling]``, so clients
that failed together do not retry together, and a wait never collapses to nothing. A server's
``Retry-After`` wins over the formula (capped too), and a floor (``at_least``, e.g. MiniMax's
rate-limit minimum) is honoured. How many attempts a caller makes is the caller's setting.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class Backoff:
    base: float
    cap: float

    def delay(
        self,
        attempt: int,
        rng: random.Random,
        *,
        retry_after: float | None = None,
        at_least: float = 0.0,
    ) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            wait = min(max(retry_after, 0.0), self.cap)
        else:
            ceiling = min(self.cap, self.base * 2 ** max(attempt - 1, 0))
            wait = ceiling / 2 + rng.uniform(0.0, ceiling / 2)
        return max(wait, at_least)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds, or an HTTP date compared with
    ``now``, a Unix time), or None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)
