"""The one backoff policy: equal jitter under a capped exponential ceiling."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from ratchet.core.retry import Backoff, parse_retry_after


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 0.5, 1.0), (2, 1.0, 2.0), (3, 2.0, 4.0), (4, 2.5, 5.0), (9, 2.5, 5.0)],
)
def test_delay_stays_within_half_the_ceiling_and_the_ceiling(
    attempt: int, low: float, high: float
) -> None:
    policy = Backoff(base=1.0, cap=5.0)
    rng = random.Random(attempt)
    waits = [policy.delay(attempt, rng) for _ in range(200)]
    assert all(low <= w <= high for w in waits)
    assert len(set(waits)) > 100  # jittered, not a constant


def test_retry_after_wins_and_is_capped_and_a_floor_holds() -> None:
    policy = Backoff(base=1.0, cap=30.0)
    rng = random.Random(0)
    assert policy.delay(1, rng, retry_after=7) == 7
    assert policy.delay(1, rng, retry_after=3600) == 30.0
    assert policy.delay(1, rng, retry_after=-3) == 0.0
    assert policy.delay(1, rng, at_least=20.0) == 20.0
    assert Backoff(0.0, 0.0).delay(5, rng) == 0.0


def test_retry_after_header_forms() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("12", now) == 12.0
    assert parse_retry_after("-4", now) == 0.0
    assert parse_retry_after(formatdate(now + 90, usegmt=True), now) == pytest.approx(90.0)
    assert parse_retry_after(formatdate(now - 90, usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None and parse_retry_after("", now) is None
