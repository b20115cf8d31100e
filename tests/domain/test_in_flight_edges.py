"""More in-flight bounds worked out by hand from `server.domain.in_flight`'s documented model (the
exponents below 1 and between 1 and 2, the paid side with fees, rounding up): these kill mutants that
test_in_flight leaves alive (see MUTANTS.md)."""

from __future__ import annotations

from decimal import Decimal as D

from server.domain.in_flight import in_flight
from server.domain.types import Leg, Side


def bound(leg: Leg, side: Side, rate: str, exponent: str, size: str = "100", limit: str = "0.5"):
    return in_flight(leg, side, D(size), D(limit), tick=D("0.01"), fee_rate=D(rate), fee_exponent=D(exponent))


def test_with_an_exponent_of_one_or_more_a_yes_buy_that_pays_loses_only_the_rounding_allowance():
    # Every share then pays 1, more than its price and fee: only the cent of fee rounding is at risk.
    for exponent in ("1", "2"):
        assert bound(Leg.YES, Side.BUY, "0.07", exponent).loss_if_yes == D("0.01")
        assert bound(Leg.NO, Side.BUY, "0.07", exponent).loss_if_no == D("0.01")


def test_below_exponent_one_the_fee_counts_on_both_sides_at_its_most_per_usdc():
    # Exponent 0.5: the fee per USDC r (p(1-p))^0.5 / p is highest at one tick:
    # (0.01 x 0.99)^0.5 / 0.01 = 9.94987..; on a 50.00 budget at r 0.07 that is 34.82456..
    hedge = bound(Leg.YES, Side.BUY, "0.07", "0.5")
    assert hedge.loss_if_yes == D("34.84")  # 34.82456 + 0.01, up to the cent
    assert hedge.loss_if_no == D("84.84")  # 50 + 34.82456 + 0.01


def test_between_exponents_one_and_two_the_fee_per_usdc_peaks_inside_the_range():
    # Exponent 1.5: p^0.5 (1-p)^1.5 peaks at p = 0.5 / 2 = 0.25: 0.5 x 0.75^1.5 = 0.3247595..;
    # 50 x 0.07 x 0.3247595 = 1.13666; 50 + 1.13666 + 0.01 = 51.14666 -> 51.15.
    assert bound(Leg.YES, Side.BUY, "0.07", "1.5").loss_if_no == D("51.15")


def test_bounds_round_up_to_the_cent():
    # Exponent 1, r 0.071: 50 x 0.071 x 0.99 = 3.5145; 50 + 3.5145 + 0.01 = 53.5245 -> 53.53.
    assert bound(Leg.YES, Side.BUY, "0.071", "1").loss_if_no == D("53.53")


def test_a_sale_below_exponent_one_counts_its_fee_if_no_wins_too():
    # The fee base (p(1-p))^0.5 is highest at 0.5 within [0.5, 0.99]: 0.5; 100 x 0.07 x 0.5 = 3.5.
    hedge = bound(Leg.YES, Side.SELL, "0.07", "0.5")
    assert hedge.loss_if_no == D("3.51")
    assert hedge.loss_if_yes == D("53.51")  # 100 x (1 - 0.5) + 3.5 + 0.01
    # With exponent 1 the proceeds cover the fee: only the allowance.
    assert bound(Leg.YES, Side.SELL, "0.07", "1").loss_if_no == D("0.01")


def test_a_sale_of_no_is_the_mirror_of_a_sale_of_yes():
    # The rebalancer sells NO it holds: NO winning costs 100 x (1 - 0.5) + 3.5 + 0.01, YES winning
    # only the fee (exponent 0.5) and the allowance; as a delta it gives back YES-equivalent shares.
    hedge = bound(Leg.NO, Side.SELL, "0.07", "0.5")
    assert (hedge.loss_if_yes, hedge.loss_if_no) == (D("3.51"), D("53.51"))
    assert bound(Leg.NO, Side.SELL, "0.07", "1").loss_if_yes == D("0.01")
    assert hedge.delta == D("100")
    assert bound(Leg.NO, Side.BUY, "0", "1").delta == D("-100")
