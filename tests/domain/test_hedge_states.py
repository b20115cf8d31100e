"""The hedge state machine: every allowed transition with its result worked out by hand, and every
refused one raising `TransitionRefused` with the hedge left as it was."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from server.domain.hedge import Hedge, SignedIntent
from server.domain.hedge_result import HedgeResult
from server.domain.in_flight import InFlight
from server.domain.order import Order, OrderWithHedges
from server.domain.types import HedgeStatus, Leg, OrderHedgeStatus, Side
from server.errors import FailedPrecondition, TransitionRefused

D = Decimal
BOOKED = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
LATER = BOOKED + timedelta(seconds=2)
SIGNED = SignedIntent("0x" + "ab" * 32, '{"order": 1}')
# 10 YES shares bought for a user at 0.55, hedged by buying YES with a limit of 0.56.
FLIGHT = InFlight(Leg.YES, Side.BUY, D(10), D("0.02"), D("5.72"))
ALL = list(HedgeStatus)
OPEN = [HedgeStatus.PENDING, HedgeStatus.UNKNOWN]
FINAL = [HedgeStatus.HEDGED, HedgeStatus.PARTIAL, HedgeStatus.FAILED, HedgeStatus.PAPER]


def booked(signed: SignedIntent | None = SIGNED, parent: str | None = None, now: datetime = BOOKED) -> Hedge:
    return Hedge.pending(
        id="h-1" if parent is None else "h-2",
        order_id="o-1",
        mapping_id=7,
        parent_hedge_id=parent,
        token_id="yes-token",
        leg=Leg.YES,
        side=Side.BUY,
        user_price=D("0.55"),
        quoted_price=D("0.50"),
        limit_price=D("0.56"),
        order_type="FAK",
        flight=FLIGHT,
        signed=signed,
        now=now,
    )


def in_state(status: HedgeStatus, *, paper: bool = False, filled: str = "0") -> Hedge:
    return replace(booked(None if paper else SIGNED), status=status, filled_size=D(filled))


def result(
    status: HedgeStatus, filled: str, cost: str = "0", fee: str = "0", reason: str | None = None
) -> HedgeResult:
    return HedgeResult(status, D(filled), D(cost), D(fee), reason)


# --- a hedge as booked -------------------------------------------------------------------------------
def test_a_signed_hedge_is_booked_pending_with_its_bytes_and_its_worst_case():
    hedge = booked()
    assert (hedge.status, hedge.is_open, hedge.is_paper) == (HedgeStatus.PENDING, True, False)
    assert (hedge.venue_order_id, hedge.signed_order) == (SIGNED.venue_order_id, SIGNED.body)
    assert (hedge.size, hedge.worst_loss_if_yes, hedge.worst_loss_if_no) == (D(10), D("0.02"), D("5.72"))
    assert hedge.in_flight == FLIGHT
    assert (hedge.attempt_count, hedge.submitted_at, hedge.resolved_at) == (1, BOOKED, None)
    assert (hedge.filled_size, hedge.fill_cost, hedge.fee, hedge.fill_price) == (0, 0, 0, None)
    assert hedge.residual == D(10)


def test_a_paper_hedge_is_booked_pending_unsigned_and_never_submitted():
    hedge = booked(None)
    assert (hedge.status, hedge.is_paper) == (HedgeStatus.PENDING, True)
    assert (hedge.venue_order_id, hedge.signed_order) == (None, None)
    assert (hedge.attempt_count, hedge.submitted_at) == (0, None)


# --- settling at the venue ---------------------------------------------------------------------------
@pytest.mark.parametrize("start", OPEN)
def test_an_open_hedge_filled_in_full_is_hedged_with_its_profit(start: HedgeStatus):
    # 10 shares for 5.00 USDC and 0.10 fee: 10 x 0.55 - 5.00 = 0.50 captured, 0.40 net; 0.50 a share.
    hedge = in_state(start).settled(result(HedgeStatus.HEDGED, "10", "5.00", "0.10"), LATER)
    assert hedge.status is HedgeStatus.HEDGED and not hedge.is_open
    assert (hedge.filled_size, hedge.fill_cost, hedge.fee, hedge.fill_price) == (
        D(10),
        D("5.00"),
        D("0.10"),
        D("0.5"),
    )
    assert (hedge.spread_captured, hedge.net_profit) == (D("0.50"), D("0.40"))
    assert (hedge.resolved_at, hedge.updated_at, hedge.next_check_at) == (LATER, LATER, None)
    assert hedge.residual == 0


@pytest.mark.parametrize("start", OPEN)
def test_an_open_hedge_filled_in_part_is_partial_whatever_the_answer_said(start: HedgeStatus):
    # 4 of 10 for 2.00 USDC, no fee: 4 x 0.55 - 2.00 = 0.20.
    hedge = in_state(start).settled(result(HedgeStatus.HEDGED, "4", "2.00", "0", "not fully filled"), LATER)
    assert (hedge.status, hedge.residual, hedge.net_profit) == (HedgeStatus.PARTIAL, D(6), D("0.20"))
    assert hedge.failure_reason == "not fully filled"


@pytest.mark.parametrize("start", OPEN)
def test_an_open_hedge_that_got_more_than_it_asked_for_is_hedged(start: HedgeStatus):
    hedge = in_state(start).settled(result(HedgeStatus.PARTIAL, "10.5", "5.25"), LATER)
    assert hedge.status is HedgeStatus.HEDGED


@pytest.mark.parametrize("start", OPEN)
def test_an_open_hedge_refused_at_the_venue_is_failed_with_nothing_filled(start: HedgeStatus):
    hedge = in_state(start).settled(result(HedgeStatus.FAILED, "0", reason="not enough balance"), LATER)
    assert (hedge.status, hedge.filled_size, hedge.net_profit) == (HedgeStatus.FAILED, 0, 0)
    assert (hedge.failure_reason, hedge.fill_price, hedge.resolved_at) == ("not enough balance", None, LATER)


@pytest.mark.parametrize("start", FINAL)
def test_a_final_hedge_is_never_settled_again(start: HedgeStatus):
    hedge = in_state(start)
    with pytest.raises(TransitionRefused, match=f"^hedge h-1 is {start.value}: a final hedge cannot settle$"):
        hedge.settled(result(HedgeStatus.HEDGED, "10", "5"), LATER)


@pytest.mark.parametrize("status", [HedgeStatus.PENDING, HedgeStatus.UNKNOWN, HedgeStatus.PAPER])
def test_an_answer_with_nothing_filled_must_be_a_venue_outcome(status: HedgeStatus):
    with pytest.raises(TransitionRefused, match=f"^hedge h-1: {status.value} is not a venue outcome$"):
        booked().settled(result(status, "0"), LATER)


def test_a_paper_hedge_is_never_settled_by_the_venue():
    with pytest.raises(TransitionRefused, match=r"^hedge h-1 is a paper hedge: the venue never sees it$"):
        booked(None).settled(result(HedgeStatus.HEDGED, "10", "5"), LATER)


# --- paper fills -------------------------------------------------------------------------------------
def test_a_paper_hedge_that_filled_is_paper_with_its_profit():
    # 10 for 5.20 USDC and 0.05 fee: 5.50 - 5.20 = 0.30 captured, 0.25 net.
    hedge = booked(None).paper_filled(result(HedgeStatus.PAPER, "10", "5.20", "0.05"), LATER)
    assert (hedge.status, hedge.spread_captured, hedge.net_profit) == (
        HedgeStatus.PAPER,
        D("0.30"),
        D("0.25"),
    )
    assert (hedge.resolved_at, hedge.fill_price) == (LATER, D("0.52"))


def test_a_paper_hedge_that_filled_nothing_is_failed():
    hedge = booked(None).paper_filled(result(HedgeStatus.PAPER, "0", reason="no paper fill"), LATER)
    assert (hedge.status, hedge.failure_reason) == (HedgeStatus.FAILED, "no paper fill")


def test_a_live_hedge_is_never_paper_filled():
    with pytest.raises(TransitionRefused, match=r"^hedge h-1 is live: only the venue fills it$"):
        booked().paper_filled(result(HedgeStatus.PAPER, "10", "5"), LATER)


@pytest.mark.parametrize("start", FINAL)
def test_a_final_paper_hedge_is_never_filled_again(start: HedgeStatus):
    with pytest.raises(TransitionRefused, match=f"^hedge h-1 is {start.value}: a final hedge cannot settle$"):
        in_state(start, paper=True).paper_filled(result(HedgeStatus.PAPER, "10", "5"), LATER)


# --- answers lost ------------------------------------------------------------------------------------
@pytest.mark.parametrize("start", OPEN)
def test_an_open_hedge_whose_answer_is_lost_is_unknown_until_looked_up(start: HedgeStatus):
    check = LATER + timedelta(seconds=1)
    hedge = in_state(start).unknown("timeout", check, LATER)
    assert (hedge.status, hedge.is_open) == (HedgeStatus.UNKNOWN, True)
    assert (hedge.failure_reason, hedge.next_check_at, hedge.updated_at) == ("timeout", check, LATER)
    assert (hedge.resolved_at, hedge.filled_size) == (None, 0)


@pytest.mark.parametrize("start", FINAL)
def test_a_final_hedge_never_becomes_unknown(start: HedgeStatus):
    with pytest.raises(
        TransitionRefused, match=f"^hedge h-1 is {start.value}: a final hedge cannot mark unknown$"
    ):
        in_state(start).unknown("timeout", LATER, LATER)


# --- re-hedge requests -------------------------------------------------------------------------------
@pytest.mark.parametrize(("start", "filled"), [(HedgeStatus.FAILED, "0"), (HedgeStatus.PARTIAL, "4")])
def test_a_failed_or_partial_live_hedge_takes_a_re_hedge_request_once(start: HedgeStatus, filled: str):
    hedge = in_state(start, filled=filled)
    asked = hedge.rehedge_requested("alice", "INC-1", LATER)
    assert (asked.rehedge_requested_by, asked.rehedge_request_reason, asked.rehedge_requested_at) == (
        "alice",
        "INC-1",
        LATER,
    )
    assert (asked.status, asked.updated_at) == (start, LATER)
    again = asked.rehedge_requested("bob", "INC-2", LATER + timedelta(seconds=5))
    assert again is asked


@pytest.mark.parametrize(
    "start", [HedgeStatus.PENDING, HedgeStatus.UNKNOWN, HedgeStatus.HEDGED, HedgeStatus.PAPER]
)
def test_only_a_failed_or_partial_hedge_is_re_hedged(start: HedgeStatus):
    refusal = f"^hedge is {start.value}: only a failed or partial live hedge is re-hedged$"
    with pytest.raises(TransitionRefused, match=refusal):
        in_state(start).rehedge_requested("alice", "INC-1", LATER)


def test_a_paper_hedge_is_never_re_hedged():
    with pytest.raises(TransitionRefused, match=r"^hedge is a paper hedge: only a live hedge is re-hedged$"):
        in_state(HedgeStatus.FAILED, paper=True).rehedge_requested("alice", "INC-1", LATER)


def test_a_hedge_with_nothing_left_unfilled_is_never_re_hedged():
    with pytest.raises(TransitionRefused, match=r"^hedge has no unhedged residual left$"):
        in_state(HedgeStatus.PARTIAL, filled="10").rehedge_requested("alice", "INC-1", LATER)


def test_a_refused_transition_is_a_failed_precondition():
    assert issubclass(TransitionRefused, FailedPrecondition)


@pytest.mark.parametrize("status", ALL)
def test_only_pending_and_unknown_are_open(status: HedgeStatus):
    assert in_state(status).is_open is (status in OPEN)


# --- the order's view of its hedges ------------------------------------------------------------------
def _order() -> Order:
    return Order(
        id="o-1",
        account_id="user-1",
        request_id="r-1",
        request_hash="h",
        mapping_id=7,
        event_id="e",
        outcome="YES",
        side=Side.BUY,
        size=D(10),
        limit_price=None,
        status="accepted",
        reject_reason=None,
        message="accepted",
        price=D("0.55"),
        notional=D("5.50"),
        reference_price=D("0.50"),
        hedge_fee_estimate=D("0.10"),
        hedge_status=OrderHedgeStatus.PENDING,
        hedged_size=D(0),
        created_at=BOOKED,
        updated_at=BOOKED,
    )


def test_an_order_follows_its_newest_hedge_and_sums_every_fill():
    first = in_state(HedgeStatus.PARTIAL, filled="4")
    second = replace(booked(), id="h-2", parent_hedge_id="h-1", size=D(6))
    placed = OrderWithHedges(_order(), [first, second])
    assert placed.pending_hedge == second
    done = placed.with_hedge(second.settled(result(HedgeStatus.HEDGED, "6", "3"), LATER), LATER)
    assert (done.order.hedge_status, done.order.hedged_size, done.order.updated_at) == (
        OrderHedgeStatus.HEDGED,
        D(10),
        LATER,
    )
    assert [h.id for h in done.hedges] == ["h-1", "h-2"] and done.pending_hedge is None


def test_a_paper_hedge_is_never_the_pending_one():
    assert OrderWithHedges(_order(), [booked(None)]).pending_hedge is None


def test_an_order_refuses_a_hedge_that_is_not_its_own():
    with pytest.raises(ValueError, match=r"^hedge other is not one of order o-1's$"):
        OrderWithHedges(_order(), [booked()]).with_hedge(replace(booked(), id="other"), LATER)


def test_a_booked_hedge_holds_exactly_what_it_was_booked_with():
    assert booked() == Hedge(
        id="h-1",
        order_id="o-1",
        mapping_id=7,
        parent_hedge_id=None,
        token_id="yes-token",
        leg=Leg.YES,
        side=Side.BUY,
        size=D(10),
        limit_price=D("0.56"),
        quoted_price=D("0.50"),
        user_price=D("0.55"),
        order_type="FAK",
        is_paper=False,
        status=HedgeStatus.PENDING,
        venue_order_id=SIGNED.venue_order_id,
        signed_order=SIGNED.body,
        filled_size=D(0),
        fill_cost=D(0),
        fill_price=None,
        fee=D(0),
        spread_captured=D(0),
        net_profit=D(0),
        failure_reason=None,
        attempt_count=1,
        next_check_at=None,
        created_at=BOOKED,
        updated_at=BOOKED,
        submitted_at=BOOKED,
        resolved_at=None,
        worst_loss_if_yes=D("0.02"),
        worst_loss_if_no=D("5.72"),
    )


def test_a_paper_hedge_that_filled_a_fraction_of_a_share_is_paper():
    hedge = booked(None).paper_filled(result(HedgeStatus.PAPER, "0.5", "0.25"), LATER)
    assert (hedge.status, hedge.filled_size) == (HedgeStatus.PAPER, D("0.5"))


def test_settling_an_unknown_hedge_clears_its_next_check():
    unknown = booked().unknown("timeout", LATER, LATER)
    assert unknown.settled(result(HedgeStatus.FAILED, "0"), LATER).next_check_at is None


def test_a_partial_hedge_with_a_fraction_of_a_share_left_is_re_hedged():
    hedge = in_state(HedgeStatus.PARTIAL, filled="9.5")
    assert hedge.rehedge_requested("alice", "INC-1", LATER).rehedge_requested_by == "alice"


def test_a_re_hedge_is_booked_under_its_parent():
    child = booked(parent="h-1", now=LATER)
    assert (child.id, child.parent_hedge_id, child.created_at, child.status) == (
        "h-2",
        "h-1",
        LATER,
        HedgeStatus.PENDING,
    )
