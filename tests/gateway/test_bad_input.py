"""String inputs PostgreSQL cannot store, hostile cursors, and "Did you mean" hints, over real HTTP and
WebSocket: each is a typed error naming the input, and nothing changes."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import (
    CircuitBreaker,
    HedgeConfig,
    HedgeConfigHistory,
    HedgeEvent,
    HedgePosition,
    PolymarketMarketMapping,
)
from tests.gateway.conftest import VIEWER_TOKEN, Client, GatewayThread, Subscriber, gateway_settings
from tests.harness import order_request, set_config, wait_until

NUL = "a\x00b"
SURROGATE = "a\ud800b"  # sent as the JSON escape "\ud800": valid JSON, not encodable as UTF-8
BAD_STRINGS = [pytest.param(NUL, id="NUL"), pytest.param(SURROGATE, id="lone-surrogate")]


def _post(client: Client, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The answer to `query`, its variables sent as ASCII JSON (so a lone surrogate travels escaped)."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    response = client.http.post(client.url, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    return response.json()


def _state() -> tuple[Any, ...]:
    """Everything an admin call could change."""
    return (
        [(r.key, r.value, r.version) for r in HedgeConfig.select().order_by(HedgeConfig.key)],
        HedgeConfigHistory.select().count(),
        [(b.name, b.state, b.reason) for b in CircuitBreaker.select().order_by(CircuitBreaker.name)],
        [(m.id, m.event_id, m.active, m.exposure_limit) for m in PolymarketMarketMapping.select()],
        [(h.id, h.status, h.rehedge_requested_at) for h in HedgePosition.select().order_by(HedgePosition.id)],
        HedgeEvent.select().count(),
    )


def _refused_query(body: dict[str, Any], field: str) -> None:
    assert body["data"] is None, body
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "INVALID_ARGUMENT", "field": field}, error


ORDERS = "query($filter: OrderFilter, $after: String) { orders(filter: $filter, after: $after) { edges { cursor } } }"
HEDGES = "query($filter: HedgeFilter, $after: String) { hedges(filter: $filter, after: $after) { edges { cursor } } }"
HISTORY = "query($key: String) { configHistory(key: $key) { key } }"
QUERIES = [
    ("orders", ORDERS, lambda s: {"filter": {"accountId": s}}, "accountId"),
    ("orders", ORDERS, lambda s: {"filter": {"market": {"eventId": s}}}, "market.eventId"),
    ("orders", ORDERS, lambda s: {"filter": {"market": {"eventId": "e", "outcome": s}}}, "market.outcome"),
    ("orders", ORDERS, lambda s: {"after": s}, "after"),
    ("hedges", HEDGES, lambda s: {"filter": {"orderId": s}}, "orderId"),
    ("hedges", HEDGES, lambda s: {"filter": {"market": {"eventId": s}}}, "market.eventId"),
    ("hedges", HEDGES, lambda s: {"after": s}, "after"),
    ("configHistory", HISTORY, lambda s: {"key": s}, "key"),
]


@pytest.mark.parametrize("bad", BAD_STRINGS)
@pytest.mark.parametrize(
    ("name", "query", "variables", "field"), QUERIES, ids=[f"{q[0]}:{q[3]}" for q in QUERIES]
)
def test_an_unstorable_string_in_a_query_is_refused_naming_it(
    gateway, viewer, bad, name, query, variables, field
):
    _refused_query(_post(viewer, query, variables(bad)), field)


SET = """mutation($input: SetConfigInput!) { setConfig(input: $input) {
  __typename ... on InvalidInputError { field message } } }"""
HALT = """mutation($input: ReasonInput!) { halt(input: $input) {
  __typename ... on InvalidInputError { field message } } }"""
RESUME = """mutation($input: ReasonInput!) { resume(input: $input) {
  __typename ... on InvalidInputError { field message } } }"""
RETRY = """mutation($input: RetryHedgeInput!) { retryHedge(input: $input) {
  __typename ... on InvalidInputError { field message } } }"""
CREATE = """mutation($input: CreateMappingInput!) { createMapping(input: $input) {
  __typename ... on InvalidInputError { field message } } }"""
MUTATIONS = [
    ("setConfig", SET, {"input": {"key": "$", "value": "paper", "reason": "r"}}, "key"),
    ("setConfig", SET, {"input": {"key": "mode", "value": "$", "reason": "r"}}, "value"),
    ("setConfig", SET, {"input": {"key": "mode", "value": "paper", "reason": "$"}}, "reason"),
    ("halt", HALT, {"input": {"reason": "$"}}, "reason"),
    ("resume", RESUME, {"input": {"reason": "$"}}, "reason"),
    ("createMapping", CREATE, {"input": {"eventId": "$", "conditionId": "c", "tokenId": "1"}}, "eventId"),
    (
        "createMapping",
        CREATE,
        {"input": {"eventId": "e", "conditionId": "c", "tokenId": "1", "question": "$"}},
        "question",
    ),
]


def _with(variables: Any, bad: str) -> Any:
    """`variables` with each "$" replaced by `bad`."""
    if isinstance(variables, dict):
        return {k: _with(v, bad) for k, v in variables.items()}
    return bad if variables == "$" else variables


def _typed_refusal(admin: Client, name: str, mutation: str, variables: dict[str, Any], field: str) -> None:
    before = _state()
    body = _post(admin, mutation, variables)
    assert "errors" not in body, body
    result = body["data"][name]
    assert (result["__typename"], result["field"]) == ("InvalidInputError", field), result
    assert _state() == before


@pytest.mark.parametrize("bad", BAD_STRINGS)
@pytest.mark.parametrize(
    ("name", "mutation", "variables", "field"), MUTATIONS, ids=[f"{m[0]}:{m[3]}" for m in MUTATIONS]
)
def test_an_unstorable_string_in_a_mutation_is_a_typed_error_and_changes_nothing(
    gateway, admin, mappings, bad, name, mutation, variables, field
):
    _typed_refusal(admin, name, mutation, _with(variables, bad), field)


@pytest.fixture
def failed_hedge(live: Any, sim: Any, pg_db: Any) -> str:
    """The id of a live hedge the venue refused, which retryHedge would mark for a re-hedge. Automatic
    re-hedging is off, so only a retryHedge that got through could change it."""
    set_config(pg_db, rehedgeEnabled="false")
    wait_until(lambda: not live.runtime.state.current.settings.rehedge_enabled)
    sim.exchange.inject_fault("/order", 1, "before", status=400, method="POST")
    placed = live.stub.PlaceOrder(
        order_request("fed-cut-december-2026", types_pb2.SIDE_BUY, "10"), timeout=10
    )
    hedge = live.stub.GetOrder(pb.GetOrderRequest(order_id=placed.order_id), timeout=5).hedges[0]
    assert HedgePosition.get_by_id(hedge.hedge_id).status == "failed"
    return str(hedge.hedge_id)


@pytest.mark.parametrize("bad", BAD_STRINGS)
def test_an_unstorable_retry_hedge_id_or_reason_is_a_typed_error_and_changes_nothing(
    gateway, admin, failed_hedge, bad
):
    _typed_refusal(admin, "retryHedge", RETRY, {"input": {"id": bad, "reason": "r"}}, "id")
    _typed_refusal(admin, "retryHedge", RETRY, {"input": {"id": failed_hedge, "reason": bad}}, "reason")


def _cursor(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode()


CURSORS = [
    pytest.param(_cursor("[" * 20_000 + "]" * 20_000), id="20000-nested-brackets"),
    pytest.param(_cursor(json.dumps(["2026-12-01T00:00:00+00:00", NUL])), id="NUL-in-the-id"),
    pytest.param(_cursor(json.dumps(["2026-12-01T00:00:00+00:00", "a b"])), id="space-in-the-id"),
]


@pytest.mark.parametrize("cursor", CURSORS)
@pytest.mark.parametrize("query", [ORDERS, HEDGES], ids=["orders", "hedges"])
def test_a_hostile_cursor_is_refused_naming_after(gateway, viewer, query, cursor):
    _refused_query(_post(viewer, query, {"after": cursor}), "after")


SUBSCRIBE = "subscription($filter: HedgeEventFilter) { hedgeEvents(filter: $filter) { id } }"


@pytest.mark.parametrize(
    ("filter", "field"),
    [
        ({"markets": [{"eventId": NUL}]}, "markets.eventId"),
        ({"markets": [{"eventId": "e", "outcome": NUL}]}, "markets.outcome"),
        ({"types": [NUL]}, "types"),
        ({"after": NUL}, "after"),
        ({"after": "²"}, "after"),  # str.isdigit() holds, int() raises
    ],
    ids=["markets.eventId", "markets.outcome", "types", "after-NUL", "after-superscript"],
)
def test_an_unstorable_subscription_filter_is_refused_naming_it(gateway, filter, field):
    sub = Subscriber(gateway.ws_url, VIEWER_TOKEN)
    try:
        assert sub.recv()["type"] == "connection_ack"
        sub.send(
            {"id": "s", "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": {"filter": filter}}}
        )
        message = sub.recv()
        # Refused before the stream starts ("error") or by the resolver's own check ("next").
        assert message["type"] in ("error", "next"), message
        (error,) = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert error["extensions"] == {"code": "INVALID_ARGUMENT", "field": field}, error
    finally:
        sub.close()


MISTAKES = [
    ("{ orderz { edges { cursor } } }", "orders"),  # an unknown field
    ("{ orders(frist: 1) { edges { cursor } } }", "first"),  # an unknown argument
    ("{ orders(filter: {status: ACCEPTD}) { edges { cursor } } }", "ACCEPTED"),  # an enum value
    ("query($f: OrderFiltr) { orders(filter: $f) { edges { cursor } } }", "OrderFilter"),  # a type
]
RESUME_VARIABLE = "mutation($input: ReasonInput!) { resume(input: $input) { __typename } }"
MISSPELT = {"input": {"reason": "r", "reasn": "r"}}  # an unknown field, the required one given


def _messages(client: Client, query: str, variables: dict[str, Any] | None = None) -> str:
    body = _post(client, query, variables or {})
    assert body.get("errors"), body
    return " ".join(e["message"] for e in body["errors"])


def test_no_error_suggests_a_name_outside_development_mode(gateway, admin):
    for query, name in MISTAKES:
        message = _messages(admin, query)
        assert "Did you mean" not in message and name not in message, message
    # A misspelt input field in variables is reported by execution, not validation.
    message = _messages(admin, RESUME_VARIABLE, MISSPELT)
    assert "Did you mean" not in message and "unknown field 'reasn'" in message, message


def test_development_mode_keeps_the_suggestions(pg_db, pg_url, sim):
    dev = GatewayThread(gateway_settings(pg_url, sim.url, dev_mode=True))
    client = Client(dev.url, None)
    try:
        for query, name in MISTAKES:
            message = _messages(client, query)
            assert "Did you mean" in message and name in message, message
        assert "Did you mean 'reason'?" in _messages(client, RESUME_VARIABLE, MISSPELT)
    finally:
        client.close()
        dev.stop()


@pytest.mark.parametrize(
    "limit", ["2500\n", " 2500", "٢٥٠٠"], ids=["trailing-newline", "space", "arabic-digits"]
)
def test_a_decimal_that_is_not_plain_ascii_digits_is_refused_by_the_schema(gateway, admin, mappings, limit):
    """Before, "2500\n" and " 2500" were stripped and "٢٥٠٠" (Arabic-Indic digits) read as 2500."""
    mapping = mappings["fed-cut-december-2026"]
    before = _state()
    body = _post(
        admin,
        "mutation($input: UpdateMappingInput!) { updateMapping(input: $input) { __typename } }",
        {"input": {"id": mapping.id, "exposureLimit": limit}},
    )
    assert body.get("data") is None and "Decimal" in body["errors"][0]["message"], body
    assert _state() == before


def test_good_arguments_of_every_kind_pass_the_string_check(gateway, viewer):
    """Enums, lists of enums, nested inputs, times and plain (non-ASCII) text go through untouched."""
    data = viewer(
        """query($h: HedgeFilter, $o: OrderFilter) {
             hedges(filter: $h, first: 5) { edges { cursor } }
             orders(filter: $o) { edges { cursor } }
             dashboard(period: H24) { __typename }
             configHistory(key: "mode") { key } }""",
        h={
            "status": ["FAILED", "PARTIAL"],
            "market": {"eventId": "fed-cut-december-2026", "outcome": "YES"},
            "range": {"from": "2026-01-01T00:00:00+00:00"},
        },
        o={"status": "ACCEPTED", "accountId": "zoë-ünïcode-€"},
    )
    assert data["hedges"]["edges"] == [] and data["orders"]["edges"] == []


def test_no_subscription_error_suggests_a_name_outside_development_mode(gateway):
    sub = Subscriber(gateway.ws_url, VIEWER_TOKEN)
    try:
        assert sub.recv()["type"] == "connection_ack"
        sub.send(
            {"id": "s", "type": "subscribe", "payload": {"query": "subscription { hedgeEventz { id } }"}}
        )
        message = sub.recv()
        assert message["type"] == "error", message
        text = json.dumps(message["payload"])
        assert "hedgeEventz" in text and "Did you mean" not in text and "'hedgeEvents'" not in text, text
    finally:
        sub.close()
