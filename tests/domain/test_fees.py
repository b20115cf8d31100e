"""The taker fee against values worked out by hand from the venue's formula:
fee = shares x r x (p x (1 - p)) ^ e USDC per fill, rounded half up to 5 decimals, at least 0.00001."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from server.domain.book import Fill
from server.domain.fees import fill_fee, taker_fee, taker_fee_per_share


@pytest.mark.parametrize(
    ("shares", "price", "rate", "exponent", "expected"),
    [
        # The venue's own example: 100 shares at 0.50 on a crypto market (r 0.07): 100 x 0.07 x 0.25.
        ("100", "0.50", "0.07", "1", "1.75000"),
        # Seen live: 25 at 0.13 with r 0.05: 25 x 0.05 x 0.1131 = 0.141375, half up to 0.14138.
        ("25", "0.13", "0.05", "1", "0.14138"),
        # The NO side of the same price pays the same: p x (1 - p) is symmetric.
        ("25", "0.87", "0.05", "1", "0.14138"),
        # Exponent 2: 100 x 0.25 x 0.25^2 = 1.5625.
        ("100", "0.5", "0.25", "2", "1.56250"),
        # Exponent 2 off the middle: 10 x 0.25 x (0.2 x 0.8)^2 = 10 x 0.25 x 0.0256 = 0.064.
        ("10", "0.2", "0.25", "2", "0.06400"),
        ("10", "0.8", "0.25", "2", "0.06400"),
        # Exponent 0: a flat rate per share, 10 x 0.02 = 0.2.
        ("10", "0.3", "0.02", "0", "0.20000"),
        # A fractional exponent: (0.25)^0.5 = 0.5, so 4 x 0.1 x 0.5 = 0.2.
        ("4", "0.5", "0.1", "0.5", "0.20000"),
        # Exponent 3: 2 x 1 x (0.5 x 0.5)^3 = 2 x 0.015625 = 0.03125.
        ("2", "0.5", "1", "3", "0.03125"),
        # Exactly half a quantum: 1 x 0.0001 x 0.25 = 0.000025 rounds UP to 0.00003 (not to even).
        ("1", "0.5", "0.0001", "1", "0.00003"),
        # Just under half a quantum above: 0.0000249... -> 0.00002.
        ("1", "0.49", "0.0001", "1", "0.00002"),  # 0.0001 x 0.2499 = 0.00002499
        # Below half a quantum the venue still charges its minimum of 0.00001 (0.00000099 raw).
        ("1", "0.01", "0.0001", "1", "0.00001"),
        # A fee-free market charges nothing, not the minimum.
        ("100", "0.5", "0", "1", "0"),
        # The smallest share count the venue takes, 0.01 shares: 0.01 x 0.07 x 0.25 = 0.000175 -> 0.00018.
        ("0.01", "0.5", "0.07", "1", "0.00018"),
    ],
)
def test_fill_fee_matches_the_venue_formula(shares, price, rate, exponent, expected):
    assert fill_fee(D(shares), D(price), D(rate), D(exponent)) == D(expected)


def test_zero_shares_pay_nothing():
    assert fill_fee(D(0), D("0.5"), D("0.07"), D(1)) == 0


@pytest.mark.parametrize(
    ("price", "rate", "exponent", "expected"),
    [
        ("0.5", "0.07", "1", "0.0175"),
        ("0.2", "0.25", "2", "0.0064"),  # 0.25 x 0.16^2
        ("0.3", "0.02", "0", "0.02"),
        ("0.5", "0.1", "0.5", "0.05"),  # 0.1 x 0.25^0.5
        ("0.5", "0", "2", "0"),
    ],
)
def test_fee_per_share_is_unrounded(price, rate, exponent, expected):
    assert taker_fee_per_share(D(price), D(rate), D(exponent)) == D(expected)


def test_fee_per_share_keeps_digits_a_fill_would_round():
    # 0.07 x 0.13 x 0.87 = 0.007917: the per-share bound must not be rounded to 5 places.
    assert taker_fee_per_share(D("0.13"), D("0.07"), D(1)) == D("0.007917")


def test_each_level_of_a_fill_is_its_own_fill_and_rounded_on_its_own():
    # Two levels of 1 share at 0.5, r 0.0001: each 0.000025 -> 0.00003, so 0.00006 in all
    # (one fill of 2 shares would be 0.00005).
    fill = Fill(((D("0.5"), D(1)), (D("0.5"), D(1))))
    assert taker_fee(fill, D("0.0001"), D(1)) == D("0.00006")


def test_taker_fee_sums_levels_at_their_own_prices():
    # 80 at 0.47: 80 x 0.07 x 0.2491 = 1.39496; 20 at 0.48: 20 x 0.07 x 0.2496 = 0.34944.
    fill = Fill(((D("0.47"), D(80)), (D("0.48"), D(20))))
    assert taker_fee(fill, D("0.07"), D(1)) == D("1.74440")


def test_an_empty_fill_pays_nothing():
    fee = taker_fee(Fill(()), D("0.07"), D(1))
    assert fee == 0 and isinstance(fee, D)  # money stays Decimal, even when nothing
