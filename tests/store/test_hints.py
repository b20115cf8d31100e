"""What a process knows of a market's position, and when it stops trusting it."""

from __future__ import annotations

from decimal import Decimal

from server.domain.exposure import Position
from server.store.hints import STALE_BACKOFF_SECONDS, PositionHints


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_remembered_position_is_known_until_found_stale() -> None:
    clock = Clock()
    hints = PositionHints(clock)
    assert hints.position(1) is None and hints.total() is None
    known = Position(user_shares=Decimal(10), net_cash=Decimal("6.3"))
    hints.remember(1, known, Decimal("3.7"))
    assert hints.position(1) == known and hints.total() == Decimal("3.7")
    assert hints.position(2) is None
    hints.remember(1, known, None)  # a write that did not read the total keeps the last one
    assert hints.total() == Decimal("3.7")


def test_a_market_found_stale_is_written_the_locked_way_for_a_while() -> None:
    clock = Clock()
    hints = PositionHints(clock)
    hints.remember(1, Position(user_shares=Decimal(1)), Decimal(0))
    hints.remember(2, Position(user_shares=Decimal(2)), Decimal(0))
    hints.forget(1)
    # Read under lock again at once: still not offered until the back-off has passed.
    hints.remember(1, Position(user_shares=Decimal(5)), Decimal(0))
    assert hints.position(1) is None
    assert hints.position(2) == Position(user_shares=Decimal(2)), "other markets are unaffected"
    clock.now += STALE_BACKOFF_SECONDS - 0.01
    assert hints.position(1) is None
    clock.now += 0.02
    assert hints.position(1) == Position(user_shares=Decimal(5))


def test_each_market_has_one_lock() -> None:
    hints = PositionHints()
    assert hints.lock(1) is hints.lock(1)
    assert hints.lock(1) is not hints.lock(2)
