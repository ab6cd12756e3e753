"""What model calls cost, what a task has spent, and whether it may afford another call.
Pure: no I/O.

Prices are US dollars per million tokens, input (prompt) and output (completion, thinking
included) apart. The defaults are MiniMax's published prices for the models Ratchet knows, for
prompts up to 512K tokens (Ratchet's prompts stay near 15K); ``pricing:`` in
``.github/ratchet.yml`` overrides or adds models. A model without a price has no cost: its
tokens are counted, and a ``budget.usd`` cannot be enforced for it (a configuration error).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ratchet.records import MemoryRecord


@dataclass(frozen=True)
class Rate:
    """US dollars per million tokens."""

    input: float
    output: float

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return (tokens_in * self.input + tokens_out * self.output) / 1_000_000


#: MiniMax's list prices (input ≤ 512K tokens), December 2026
DEFAULT_PRICES: Mapping[str, Rate] = {
    "MiniMax-M3": Rate(0.30, 1.20),
    "MiniMax-M2.7": Rate(0.30, 1.20),
    "MiniMax-M2.7-highspeed": Rate(0.60, 2.40),
}

#: characters per token assumed when estimating a prompt before it is sent; real code and
#: prose run at 3.5–4.5, so the estimate errs on the side of spending less
CHARS_PER_TOKEN = 3


def rate_for(model: str, configured: Mapping[str, Rate] | None = None) -> Rate | None:
    """The price of ``model``: the configured one, else the default (names match in any case)."""
    for table in (configured or {}, DEFAULT_PRICES):
        for name, rate in table.items():
            if name.lower() == model.lower():
                return rate
    return None


def cost_of(tokens_in: int, tokens_out: int, rate: Rate | None) -> float | None:
    return None if rate is None else round(rate.cost(tokens_in, tokens_out), 6)


@dataclass(frozen=True)
class Spent:
    """What a task's attempts used, summed over its history."""

    attempts: int = 0
    tokens: int = 0
    usd: float = 0.0
    unpriced_tokens: int = 0  # tokens of records without a cost (older records, unpriced model)

    def plus(self, tokens_in: int, tokens_out: int, rate: Rate | None) -> Spent:
        """What is spent after calls that used ``tokens_in`` and ``tokens_out`` more."""
        return Spent(
            attempts=self.attempts,
            tokens=self.tokens + tokens_in + tokens_out,
            usd=self.usd + (cost_of(tokens_in, tokens_out, rate) or 0.0),
            unpriced_tokens=self.unpriced_tokens,
        )

    def usd_bound(self, rate: Rate | None) -> float:
        """Dollars spent, counting unpriced tokens at the output price (an upper bound)."""
        extra = rate.cost(0, self.unpriced_tokens) if rate is not None else 0.0
        return self.usd + extra


def spent(history: Sequence[MemoryRecord]) -> Spent:
    done = [r for r in history if r.kind == "attempt"]
    priced = [r for r in done if r.cost_usd is not None]
    return Spent(
        attempts=len(done),
        tokens=sum(r.tokens for r in done),
        usd=round(sum(r.cost_usd or 0.0 for r in priced), 6),
        unpriced_tokens=sum(r.tokens for r in done if r.cost_usd is None),
    )


@dataclass(frozen=True)
class Limits:
    attempts: int
    tokens: int
    usd: float | None = None


def exhausted(used: Spent, limits: Limits, rate: Rate | None, task_key: str) -> str | None:
    """Which budget is used up, with the key that raises it; None while all have room."""
    if used.attempts >= limits.attempts:
        return (
            f"the attempt budget ({limits.attempts}) for task {task_key} is used up "
            f"({used.attempts} attempts); raise budget.attempts in .github/ratchet.yml"
        )
    if used.tokens >= limits.tokens:
        return (
            f"the token budget ({limits.tokens:,}) for task {task_key} is used up "
            f"({used.tokens:,} spent); raise budget.tokens in .github/ratchet.yml"
        )
    if limits.usd is not None and used.usd_bound(rate) >= limits.usd:
        return (
            f"the money budget ({usd(limits.usd)}) for task {task_key} is used up "
            f"({usd(used.usd_bound(rate))} spent); raise budget.usd in .github/ratchet.yml"
        )
    return None


def estimate(prompt_chars: int, max_output: int) -> tuple[int, int]:
    """(input, output) tokens a call may use at most, by the prompt's size."""
    return math.ceil(prompt_chars / CHARS_PER_TOKEN), max_output


def unaffordable(
    used: Spent, limits: Limits, rate: Rate | None, prompt_chars: int, max_output: int
) -> str | None:
    """Why a call with a prompt of ``prompt_chars`` must not start (its worst case would pass
    a budget), or None when it fits."""
    t_in, t_out = estimate(prompt_chars, max_output)
    left = limits.tokens - used.tokens
    if t_in + t_out > left:
        return (
            f"the next model call may use up to {t_in + t_out:,} tokens and the token budget "
            f"has {max(left, 0):,} left; raise budget.tokens in .github/ratchet.yml"
        )
    if limits.usd is not None and rate is not None:
        money_left = limits.usd - used.usd_bound(rate)
        worst = rate.cost(t_in, t_out)
        if worst > money_left:
            return (
                f"the next model call may cost up to {usd(worst)} and the money budget has "
                f"{usd(max(money_left, 0.0))} left; raise budget.usd in .github/ratchet.yml"
            )
    return None


def usd(amount: float | None) -> str:
    """``$0.0123`` below a dollar, ``$12.34`` above; "unknown" for None."""
    if amount is None:
        return "unknown"
    return f"${amount:.4f}" if amount < 1 else f"${amount:,.2f}"
