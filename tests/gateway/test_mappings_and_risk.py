"""Mappings checked against the venue, the kill switch, and retryHedge, through the gateway."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

import pytest

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.domain.types import BreakerLevel
from server.store.models import HedgeEvent, HedgePosition, MarketExposure, PolymarketMarketMapping, UserOrder
from tests.gateway.conftest import wait_for
from tests.harness import hedger_address, set_config, wait_until

CREATE = """
mutation Create($input: CreateMappingInput!) {
  createMapping(input: $input) {
    __typename
    ... on MappingSuccess { mapping { id eventId outcome conditionId yesTokenId noTokenId negRisk tickSize
                                      minOrderSize feeRate feeExponent exposureLimit question active } }
    ... on UserError { message }
    ... on InvalidInputError { field }
  }
}
"""
UPDATE = """
mutation Update($input: UpdateMappingInput!) {
  updateMapping(input: $input) {
    __typename
    ... on MappingSuccess { mapping { id tickSize exposureLimit active } }
    ... on UserError { message }
  }
}
"""


def _market(sim, slug: str):
    return next(m for m in sim.exchange.markets if m.slug == slug)


def _tables() -> tuple[list[tuple], int, int]:
    rows = [(m.id, m.event_id, m.active, m.exposure_limit) for m in PolymarketMarketMapping.select()]
    return rows, MarketExposure.select().count(), HedgeEvent.select().count()


def test_a_mapping_is_created_from_the_venues_own_parameters(gateway, admin, sim):
    market = _market(sim, "lakeshore-mayor-2027-rivera")
    result = admin(
        CREATE,
        input={
            "eventId": "lakeshore-2027",
            "outcome": "rivera",
            "conditionId": market.condition_id,
            "tokenId": market.yes_token_id,
            "exposureLimit": "2500",
        },
    )["createMapping"]
    assert result["__typename"] == "MappingSuccess", result
    m = result["mapping"]
    assert (m["yesTokenId"], m["noTokenId"]) == (market.yes_token_id, market.no_token_id)
    assert Decimal(m["tickSize"]) == market.tick_size == Decimal("0.001")
    assert Decimal(m["minOrderSize"]) == market.min_order_size
    assert m["negRisk"] is market.neg_risk is True
    assert (Decimal(m["feeRate"]), Decimal(m["feeExponent"])) == (market.fee_rate, market.fee_exponent)
    assert m["question"] == market.question
    assert m["exposureLimit"] == "2500" and m["active"] is True
    assert MarketExposure.select().count() == 1
    event = HedgeEvent.get(HedgeEvent.event_type == "mapping_changed")
    assert "alice" in event.message

    # The same outcome again is a typed conflict that writes nothing.
    before = _tables()
    again = admin(
        CREATE,
        input={
            "eventId": "lakeshore-2027",
            "outcome": "rivera",
            "conditionId": market.condition_id,
            "tokenId": market.yes_token_id,
        },
    )["createMapping"]
    assert again["__typename"] == "AlreadyExistsError"
    assert _tables() == before


def test_the_no_token_may_stand_for_the_outcome(gateway, admin, sim):
    market = _market(sim, "fed-cut-december-2026")
    result = admin(
        CREATE,
        input={"eventId": "no-cut", "conditionId": market.condition_id, "tokenId": market.no_token_id},
    )["createMapping"]
    assert result["mapping"]["yesTokenId"] == market.no_token_id
    assert result["mapping"]["noTokenId"] == market.yes_token_id


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("unknown-token", "tokenId"),
        ("token-of-another-market", "tokenId"),
        ("unknown-condition", "conditionId"),
        ("negative-limit", "exposureLimit"),
        ("empty-event", "eventId"),
    ],
)
def test_a_mapping_the_venue_does_not_confirm_is_refused_and_nothing_is_written(
    gateway, admin, sim, case, field
):
    fed = _market(sim, "fed-cut-december-2026")
    btc = _market(sim, "btc-above-150k-dec-31-2026")
    fields = {"eventId": "fed", "conditionId": fed.condition_id, "tokenId": fed.yes_token_id}
    if case == "unknown-token":
        fields["tokenId"] = "1234567890123456789"
    elif case == "token-of-another-market":
        fields["tokenId"] = btc.yes_token_id
    elif case == "unknown-condition":
        fields["conditionId"] = "0x" + "ab" * 32
    elif case == "negative-limit":
        fields["exposureLimit"] = "-5"
    else:
        fields["eventId"] = ""
    before = _tables()
    result = admin(CREATE, input=fields)["createMapping"]
    assert result["__typename"] == "InvalidInputError", result
    assert result["field"] == field
    assert _tables() == before


@pytest.mark.parametrize("limit", ["NaN", "Infinity", "1e3", "12,5"])
def test_a_malformed_decimal_is_refused_by_the_schema(gateway, admin, sim, limit):
    fed = _market(sim, "fed-cut-december-2026")
    before = _tables()
    body = admin.post(
        CREATE,
        {
            "input": {
                "eventId": "fed",
                "conditionId": fed.condition_id,
                "tokenId": fed.yes_token_id,
                "exposureLimit": limit,
            }
        },
    ).json()
    assert body.get("data") is None
    assert "Decimal" in body["errors"][0]["message"]
    assert _tables() == before


def test_update_refresh_and_deactivate(gateway, admin, sim, mappings):
    fed = _market(sim, "fed-cut-december-2026")
    mapping_id = mappings[fed.slug].id
    limited = admin(UPDATE, input={"id": mapping_id, "exposureLimit": "750.5"})["updateMapping"]
    assert limited["mapping"]["exposureLimit"] == "750.5"
    cleared = admin(UPDATE, input={"id": mapping_id, "clearExposureLimit": True})["updateMapping"]
    assert cleared["mapping"]["exposureLimit"] is None

    sim.exchange.set_tick_size(fed.condition_id, Decimal("0.001"))
    refreshed = admin(UPDATE, input={"id": mapping_id, "refreshFromVenue": True})["updateMapping"]
    assert Decimal(refreshed["mapping"]["tickSize"]) == Decimal("0.001")

    gone = admin(UPDATE, input={"id": 99999, "active": False})["updateMapping"]
    assert gone["__typename"] == "NotFoundError"

    off = admin(
        "mutation($id: Int!) { deactivateMapping(input: {id: $id}) { __typename "
        "... on MappingSuccess { mapping { active } } } }",
        id=mapping_id,
    )
    assert off["deactivateMapping"]["mapping"]["active"] is False
    assert [m["eventId"] for m in admin("{ mappings(active: false) { eventId } }")["mappings"]] == [fed.slug]


def _order(stub, slug: str, size: str = "10") -> pb.PlaceOrderResponse:
    return stub.PlaceOrder(
        pb.PlaceOrderRequest(
            request_id=uuid.uuid4().hex,
            account_id="user-1",
            market=types_pb2.MarketRef(event_id=slug, outcome="YES"),
            side=types_pb2.SIDE_BUY,
            size=size,
        ),
        timeout=10,
    )


def test_halt_stops_orders_on_the_running_server_and_resume_lifts_it(live, admin):
    slug = "fed-cut-december-2026"
    halted = admin(
        'mutation { halt(input: {reason: "incident 42"}) { __typename '
        "... on BreakersSuccess { breakers { state } } } }"
    )["halt"]
    assert halted == {"__typename": "BreakersSuccess", "breakers": {"state": "halted"}}
    wait_for(lambda: _order(live.stub, slug).reject_reason == types_pb2.REJECT_REASON_HALTED, timeout=1.0)
    breakers = admin("{ breakers { state breakers { name state reason updatedBy } } }")["breakers"]
    assert breakers["state"] == "halted"
    manual = next(b for b in breakers["breakers"] if b["name"] == "manual")
    assert manual["reason"] == "incident 42" and manual["updatedBy"] == "alice"

    refused = admin(
        'mutation { resume(input: {reason: "  "}) { __typename ... on InvalidInputError { field } } }'
    )
    assert refused["resume"] == {"__typename": "InvalidInputError", "field": "reason"}
    assert admin("{ breakers { state } }")["breakers"]["state"] == "halted"

    admin('mutation { resume(input: {reason: "incident 42 resolved"}) { __typename } }')
    wait_for(lambda: _order(live.stub, slug).status == types_pb2.ORDER_STATUS_ACCEPTED, timeout=1.0)


RETRY = """
mutation Retry($id: String!, $reason: String!) {
  retryHedge(input: {id: $id, reason: $reason}) {
    __typename
    ... on RetryHedgeSuccess { hedge { id status parentHedgeId rehedgeRequestedAt rehedgeRequestedBy
                                       rehedgeRequestReason } }
    ... on UserError { message }
    ... on InvalidInputError { field }
  }
}
"""
THIN = "gpt-release-q1-2027"


def _retry(admin, hedge_id: str, reason: str = "INC-7: book refilled") -> dict:
    return admin(RETRY, id=hedge_id, reason=reason)["retryHedge"]


def _rehedging_off(live, pg_db) -> None:
    set_config(pg_db, rehedgeEnabled="false")
    wait_until(lambda: not live.runtime.state.current.settings.rehedge_enabled)


def _failed_on_a_thin_book(live, sim) -> tuple[str, object]:
    """A live FOK hedge the venue killed: quoted on a deep book, posted into one that had thinned."""
    thin = _market(sim, THIN)
    live.stub.GetQuote(
        pb.GetQuoteRequest(
            account_id="u",
            market=types_pb2.MarketRef(event_id=thin.slug, outcome="YES"),
            side=types_pb2.SIDE_BUY,
            size="100",
        ),
        timeout=5,
    )
    sim.exchange.set_book(thin.yes_token_id, bids=[("0.71", "600")], asks=[("0.73", "40")])
    failed = _order(live.stub, thin.slug, "100")
    assert failed.hedge_status == types_pb2.HEDGE_STATUS_UNHEDGED
    hedge = live.stub.GetOrder(pb.GetOrderRequest(order_id=failed.order_id), timeout=5).hedges[0]
    assert HedgePosition.get_by_id(hedge.hedge_id).status == "failed"
    return hedge.hedge_id, thin


def _refill(sim, thin) -> None:
    sim.exchange.set_book(thin.yes_token_id, bids=[("0.71", "600")], asks=[("0.73", "650"), ("0.74", "975")])


def _hedger_orders(sim) -> set[str]:
    return {str(o["id"]) for o in sim.exchange.orders(hedger_address())}


def _filled_child(parent_id: str) -> HedgePosition | None:
    child = HedgePosition.get_or_none(HedgePosition.parent_hedge == parent_id)
    return child if child is not None and child.status == "hedged" else None


def test_retry_hedge_answers_with_typed_errors(live, admin, sim, pg_db):
    _rehedging_off(live, pg_db)
    assert _retry(admin, "no-such-hedge")["__typename"] == "NotFoundError"
    assert _retry(admin, "  ") == {"__typename": "InvalidInputError", "message": "is required", "field": "id"}

    placed = _order(live.stub, "fed-cut-december-2026")
    hedged = live.stub.GetOrder(pb.GetOrderRequest(order_id=placed.order_id), timeout=5).hedges[0]
    refused = _retry(admin, hedged.hedge_id)
    assert refused["__typename"] == "FailedPreconditionError" and "hedged" in refused["message"]

    failed_id, _ = _failed_on_a_thin_book(live, sim)
    blank = _retry(admin, failed_id, reason="   ")
    assert (blank["__typename"], blank["field"]) == ("InvalidInputError", "reason")
    assert _retry(admin, failed_id, reason="x" * 501)["field"] == "reason"

    set_config(pg_db, mode="paper")
    wait_until(lambda: live.runtime.state.current.settings.mode == "paper")
    paper = _order(live.stub, "fed-cut-december-2026")
    paper_hedge = live.stub.GetOrder(pb.GetOrderRequest(order_id=paper.order_id), timeout=5).hedges[0]
    assert HedgePosition.get_by_id(paper_hedge.hedge_id).is_paper
    refused = _retry(admin, paper_hedge.hedge_id)
    assert refused["__typename"] == "FailedPreconditionError" and "paper" in refused["message"]

    # Every refusal changed nothing.
    assert HedgePosition.select().where(HedgePosition.rehedge_requested_at.is_null(False)).count() == 0
    assert HedgePosition.select().where(HedgePosition.parent_hedge.is_null(False)).count() == 0


def test_retry_hedge_re_hedges_a_failed_hedge_once_the_book_allows(live, admin, sim, pg_db, caplog):
    caplog.set_level(logging.INFO, logger="server.risk.rehedge")
    _rehedging_off(live, pg_db)
    failed_id, thin = _failed_on_a_thin_book(live, sim)
    _refill(sim, thin)
    rehedger = live.runtime.services.rehedger
    # rehedgeEnabled is off: the refilled book alone re-hedges nothing.
    assert live.call(rehedger.run_once()) == 0
    assert HedgePosition.select().count() == 1
    before = _hedger_orders(sim)

    answer = _retry(admin, failed_id)
    assert answer["__typename"] == "RetryHedgeSuccess", answer
    hedge = answer["hedge"]
    assert (hedge["id"], hedge["status"]) == (failed_id, "FAILED")
    assert (hedge["rehedgeRequestedBy"], hedge["rehedgeRequestReason"]) == ("alice", "INC-7: book refilled")
    assert hedge["rehedgeRequestedAt"]

    child = wait_until(lambda: _filled_child(failed_id), timeout=15, message="the requested re-hedge")
    parent = HedgePosition.get_by_id(failed_id)
    assert child.size == parent.size - parent.filled_size and child.limit_price == parent.limit_price
    assert UserOrder.get_by_id(parent.order_id).hedge_status == "hedged"
    # Signed and posted by the server, once: exactly one new venue order, the re-hedge's.
    assert _hedger_orders(sim) - before == {child.venue_order_id}
    assert sim.exchange.post_count(child.venue_order_id) == 1
    assert (parent.rehedge_requested_by, parent.rehedge_request_reason) == ("alice", "INC-7: book refilled")
    assert "as alice requested at" in caplog.text

    # The parent is re-hedged: a second request is refused and creates nothing.
    again = _retry(admin, failed_id, reason="once more")
    assert again["__typename"] == "FailedPreconditionError" and child.id in again["message"]
    assert _retry(admin, child.id)["__typename"] == "FailedPreconditionError"  # HEDGED
    assert HedgePosition.select().count() == 2
    assert _hedger_orders(sim) - before == {child.venue_order_id}
    stored = HedgePosition.get_by_id(failed_id)
    assert (stored.rehedge_requested_by, stored.rehedge_request_reason) == ("alice", "INC-7: book refilled")

    # The hedges query shows the request and the re-hedge continuing it.
    listed = admin(
        "query($order: String) { hedges(filter: {orderId: $order}) { edges { node { id parentHedgeId "
        "status rehedgeRequestedBy } } } }",
        order=parent.order_id,
    )["hedges"]["edges"]
    assert {
        (e["node"]["id"], e["node"]["parentHedgeId"], e["node"]["status"], e["node"]["rehedgeRequestedBy"])
        for e in listed
    } == {
        (failed_id, None, "FAILED", "alice"),
        (child.id, failed_id, "HEDGED", None),
    }


def test_a_retry_asked_for_while_halted_is_posted_only_after_resume(live, admin, sim, pg_db):
    _rehedging_off(live, pg_db)
    failed_id, thin = _failed_on_a_thin_book(live, sim)
    _refill(sim, thin)
    halted = admin('mutation { halt(input: {reason: "INC-8"}) { __typename } }')["halt"]
    assert halted["__typename"] == "BreakersSuccess"
    wait_until(lambda: live.runtime.state.current.breaker is BreakerLevel.HALTED, message="the halt")
    before = _hedger_orders(sim)

    assert _retry(admin, failed_id)["__typename"] == "RetryHedgeSuccess"
    # Halted: the request is on record, but a re-hedger pass posts nothing.
    assert live.call(live.runtime.services.rehedger.run_once()) == 0
    assert HedgePosition.get_or_none(HedgePosition.parent_hedge == failed_id) is None
    assert _hedger_orders(sim) == before

    admin('mutation { resume(input: {reason: "INC-8 resolved"}) { __typename } }')
    child = wait_until(lambda: _filled_child(failed_id), timeout=15, message="the re-hedge after resume")
    assert _hedger_orders(sim) - before == {child.venue_order_id}
    assert sim.exchange.post_count(child.venue_order_id) == 1
