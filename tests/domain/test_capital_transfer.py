"""Redemptions and merges of hedge inventory decided without I/O: what the chain's answer about a
transfer's nonce means, what may be redeemed or merged, and what each does to a position. Every
expected value is worked out by hand in the comments."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from server.domain.capital_transfer import (
    ChainView,
    TransferStep,
    mergeable_pairs,
    next_step,
    redeemable,
    redemption_payout,
)
from server.domain.exposure import Position


@pytest.mark.parametrize(
    ("pending", "tx_hash", "applied", "step"),
    [
        (5, None, None, TransferStep.SEND),  # nothing used nonce 5 and the count is 5: send
        (6, None, None, TransferStep.WAIT),  # nonce 5 taken by a transaction not visible yet
        (4, None, None, TransferStep.RECLAIM),  # the count fell below 5: a dropped transaction
        (6, "0xab", None, TransferStep.WAIT),  # its transaction is not mined yet
        (6, "0xab", True, TransferStep.APPLIED),
        (6, "0xab", False, TransferStep.REVERTED),
        (5, "0xab", None, TransferStep.WAIT),  # known but pending (the count may lag): never resend
    ],
)
def test_next_step_follows_what_the_chain_shows_of_the_nonce(pending, tx_hash, applied, step):
    assert next_step(5, ChainView(pending, tx_hash, applied)) is step


def test_a_merge_changes_no_outcomes_loss():
    # loss if YES = 10 - 12 - (-3) = 1; loss if NO = -5 - (-3) = -2.
    before = Position(user_shares=D(10), hedge_yes=D(12), hedge_no=D(5), net_cash=D(-3))
    after = before.with_merge(D(5))
    # 5 pairs out, 5 USDC in: YES 7, NO 0, cash 2; loss if YES = 10 - 7 - 2 = 1, if NO = 0 - 2 = -2.
    assert (after.hedge_yes, after.hedge_no, after.net_cash) == (D(7), D(0), D(2))
    assert (after.loss_if_yes, after.loss_if_no) == (D(1), D(-2))


def test_a_redemption_pays_the_winning_shares_and_keeps_the_winning_outcomes_loss():
    before = Position(user_shares=D(10), hedge_yes=D(10), hedge_no=D(2), net_cash=D(-4))
    # YES won: 10 YES pay 10 USDC, the 2 NO nothing; loss if YES = 10 - 0 - 6 = 4 (was 10 - 10 + 4 = 4).
    after = before.with_redemption(yes_won=True)
    assert (after.hedge_yes, after.hedge_no, after.net_cash, after.loss_if_yes) == (D(0), D(0), D(6), D(4))
    # NO won: the 2 NO pay 2; loss if NO = 0 - (-2) = 2 (was -2 + 4 = 2).
    no_won = before.with_redemption(yes_won=False)
    assert (no_won.net_cash, no_won.loss_if_no) == (D(-2), D(2))
    assert (redemption_payout(before, True), redemption_payout(before, False)) == (D(10), D(2))


def test_shares_held_for_a_transfer_are_not_available_and_come_back():
    held = Position(hedge_yes=D(8), hedge_no=D(3)).with_shares_held(D(3), D(3))
    assert (held.yes_available, held.no_available) == (D(5), D(0))
    released = held.with_shares_held(D(-3), D(-3))
    assert (released.yes_available, released.no_available) == (D(8), D(3))


def test_redeemable_only_with_shares_held_and_nothing_in_flight_or_set_aside():
    assert redeemable(Position(hedge_yes=D("0.000001")))
    assert redeemable(Position(hedge_no=D(1)))
    assert not redeemable(Position())  # nothing held
    assert not redeemable(Position(hedge_yes=D(1), in_flight_delta=D(1)))
    assert not redeemable(Position(hedge_yes=D(1), in_flight_loss_if_yes=D("0.5")))
    assert not redeemable(Position(hedge_yes=D(1), in_flight_loss_if_no=D("0.5")))
    assert not redeemable(Position(hedge_yes=D(1), yes_reserved_for_sale=D(1)))
    assert not redeemable(Position(hedge_no=D(1), no_reserved_for_sale=D(1)))


def test_mergeable_pairs_are_the_free_pairs_in_whole_token_units():
    # YES free: 7.1234569 - 1 = 6.1234569; NO free: 9. Pairs: 6.1234569 floored to 6 decimals.
    position = Position(hedge_yes=D("7.1234569"), hedge_no=D(9), yes_reserved_for_sale=D(1))
    assert mergeable_pairs(position) == D("6.123456")
    assert mergeable_pairs(Position(hedge_yes=D(4), hedge_no=D(4))) == D(4)
    assert mergeable_pairs(Position(hedge_yes=D(4))) == D(0)
    # More set aside than held (shares promised to sales): no pairs, never a negative amount.
    assert mergeable_pairs(Position(hedge_yes=D(4), hedge_no=D(4), no_reserved_for_sale=D(5))) == D(0)
