"""How much of an order to hedge: only what moves the market's unhedged position away from zero."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.domain.hedge_size import cover_needed, hedge_size
from server.domain.types import Side

D = Decimal
DUST = D(5)


@pytest.mark.parametrize(
    ("side", "size", "unhedged", "expected"),
    [
        (Side.BUY, "10", "0", "10"),  # flat: hedge it all
        (Side.BUY, "10", "30", "10"),  # already short YES: a BUY adds to it
        (Side.BUY, "10", "-6", "4"),  # long 6 YES: the first 6 shares are covered already
        (Side.BUY, "10", "-10", "0"),
        (Side.BUY, "10", "-20", "0"),
        (Side.BUY, "10", "-4.99", "10"),  # long less than the venue minimum: counts as flat
        (Side.BUY, "10", "-5", "5"),  # exactly the minimum counts
        (Side.SELL, "150", "150", "0"),  # a user sells back what a failed hedge left unhedged
        (Side.SELL, "150", "148", "2"),
        (Side.SELL, "10", "0", "10"),
        (Side.SELL, "10", "-7", "10"),  # already long YES: a SELL adds to it
        (Side.SELL, "10", "6.005", "3.99"),  # a part is rounded down to the venue's 0.01
        (Side.SELL, "10", "4.99", "10"),
    ],
)
def test_hedge_size(side, size, unhedged, expected):
    assert hedge_size(side, D(size), D(unhedged), DUST) == D(expected)


@pytest.mark.parametrize(
    ("buys_yes", "residual", "unhedged", "expected"),
    [
        (True, "10", "20", "10"),
        (True, "10", "10", "10"),
        (True, "10", "4.567", "4.56"),
        (True, "10", "0", "0"),
        (True, "10", "-3", "0"),
        (False, "10", "-7", "7"),
        (False, "10", "-12", "10"),
        (False, "10", "3", "0"),
    ],
)
def test_cover_needed(buys_yes, residual, unhedged, expected):
    assert cover_needed(buys_yes, D(residual), D(unhedged)) == D(expected)
