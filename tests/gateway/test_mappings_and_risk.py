"""Mappings checked against the venue, the kill switch, and retryHedge, through the gateway."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import HedgeEvent, MarketExposure, PolymarketMarketMapping
from tests.gateway.conftest import wait_for

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


def test_retry_hedge_answers_with_typed_errors(live, admin, sim):
    retry = 'mutation($id: String!) { retryHedge(input: {id: $id, reason: "retry"}) { __typename ... on UserError { message } } }'
    assert admin(retry, id="no-such-hedge")["retryHedge"]["__typename"] == "NotFoundError"

    placed = _order(live.stub, "fed-cut-december-2026")
    hedge = live.stub.GetOrder(pb.GetOrderRequest(order_id=placed.order_id), timeout=5).hedges[0]
    assert admin(retry, id=hedge.hedge_id)["retryHedge"]["__typename"] == "FailedPreconditionError"

    thin = _market(sim, "gpt-release-q1-2027")
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
    failed_hedge = live.stub.GetOrder(pb.GetOrderRequest(order_id=failed.order_id), timeout=5).hedges[0]
    posts = len(sim.exchange.orders())
    result = admin(retry, id=failed_hedge.hedge_id)["retryHedge"]
    assert result["__typename"] in ("NotAvailableError", "RetryHedgeSuccess")
    if result["__typename"] == "NotAvailableError":
        assert len(sim.exchange.orders()) == posts
