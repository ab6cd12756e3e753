"""Prices, spending and budgets (core/money.py)."""

from __future__ import annotations

import pytest

from ratchet.core import money
from ratchet.core.money import Limits, Rate, Spent
from ratchet.records import MemoryRecord

M3 = money.DEFAULT_PRICES["MiniMax-M3"]


def test_defaults_and_overrides() -> None:
    assert money.rate_for("minimax-m3") == Rate(0.30, 1.20)
    assert money.rate_for("MiniMax-M3", {"MiniMax-M3": Rate(1, 2)}) == Rate(1, 2)
    assert money.rate_for("my-model") is None
    assert money.cost_of(1_000_000, 1_000_000, M3) == pytest.approx(1.50)
    assert money.cost_of(10, 10, None) is None


def att(tokens: int, cost: float | None) -> MemoryRecord:
    return MemoryRecord(kind="attempt", task="t", tokens=tokens, cost_usd=cost)


def test_spent_sums_attempts_and_bounds_unpriced_tokens() -> None:
    history = [att(1000, 0.01), att(2000, 0.02), att(500, None),
               MemoryRecord(kind="feedback", task="t", tokens=99)]
    s = money.spent(history)
    assert (s.attempts, s.tokens, s.usd, s.unpriced_tokens) == (3, 3500, 0.03, 500)
    assert s.usd_bound(M3) == pytest.approx(0.03 + 500 * 1.20 / 1e6)


@pytest.mark.parametrize(
    ("spent", "key"),
    [
        (Spent(attempts=5), "budget.attempts"),
        (Spent(attempts=1, tokens=10_000), "budget.tokens"),
        (Spent(attempts=1, tokens=10, usd=1.0), "budget.usd"),
    ],
)
def test_exhausted_names_the_budget_and_its_key(spent: Spent, key: str) -> None:
    reason = money.exhausted(spent, Limits(5, 10_000, 1.0), M3, "t")
    assert reason is not None and key in reason and "raise" in reason


def test_room_left_is_no_reason() -> None:
    assert money.exhausted(Spent(attempts=1, tokens=10), Limits(5, 10_000, None), M3, "t") is None


def test_a_call_is_refused_by_its_worst_case() -> None:
    limits = Limits(30, 100_000, 0.05)
    # 30,000 characters ≈ 10,000 tokens in, plus the 16,384 output cap
    assert money.unaffordable(Spent(tokens=70_000), limits, M3, 30_000, 16_384) is None
    reason = money.unaffordable(Spent(tokens=80_000), limits, M3, 30_000, 16_384)
    assert reason is not None and "budget.tokens" in reason
    reason = money.unaffordable(Spent(usd=0.04), limits, M3, 30_000, 16_384)
    assert reason is not None and "budget.usd" in reason and "$0.0227" in reason


def test_usd_format() -> None:
    assert money.usd(0.0123456) == "$0.0123" and money.usd(12.345) == "$12.35"
    assert money.usd(None) == "unknown"


@pytest.mark.parametrize(
    ("spent", "rate", "text"),
    [
        (Spent(2, 3000, 0.0123), Rate(0.30, 1.20), "$0.0123"),
        # the offline stand-in (or an older record) has no cost: an upper bound, said so
        (Spent(3, 13_075, 0.0, 13_075), Rate(0.30, 1.20),
         "at most $0.0157 ($0.0000 priced, and 13,075 tokens without a price counted at the "
         "output price)"),
        (Spent(1, 500, 0.0, 500), None, "unknown (the model has no price; add it under "
                                        "`pricing:`)"),
    ],
)
def test_the_cost_a_person_reads(spent: Spent, rate: Rate | None, text: str) -> None:
    from ratchet.core.task_report import Account

    assert Account(spent, Limits(30, 2_000_000), rate).cost_text() == text
