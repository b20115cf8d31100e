"""Authentication, authorisation and request limits over real HTTP and WebSocket."""

from __future__ import annotations

import logging

import pytest
from websockets.exceptions import ConnectionClosed

from server.store.models import HedgeConfig, HedgeConfigHistory, HedgeEvent
from tests.gateway.conftest import ADMIN_TOKEN, VIEWER_TOKEN, Client, Subscriber

SET_MODE = """
mutation { setConfig(input: {key: "mode", value: "off", reason: "test"}) {
  __typename ... on SetConfigSuccess { changed } } }
"""


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-0123456789abcdef"},
        {"Authorization": f"Basic {ADMIN_TOKEN}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
    ],
    ids=["missing", "wrong", "not-bearer", "empty", "prefix-of-longer"],
)
def test_http_without_a_valid_token_is_refused_before_anything_runs(gateway, headers, caplog):
    import httpx

    caplog.set_level(logging.DEBUG)
    before = HedgeEvent.select().count()
    response = httpx.post(gateway.url, json={"query": SET_MODE}, headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "data" not in response.json()
    assert HedgeConfig.select().count() == 0 and HedgeEvent.select().count() == before
    # The presented secret appears in no answer and no log line.
    for secret in (ADMIN_TOKEN, "wrong-token-0123456789abcdef"):
        assert secret not in response.text
        assert secret not in caplog.text


def test_a_viewer_reads_but_cannot_mutate(viewer, caplog):
    caplog.set_level(logging.WARNING)
    assert viewer("{ config { key } }")["config"]
    response = viewer.post(SET_MODE)
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == "the admin role is required"
    assert HedgeConfig.select().count() == 0
    assert HedgeConfigHistory.select().count() == 0
    # The refusal is logged with the caller's name, never its token.
    assert "denied setConfig to victor" in caplog.text
    assert VIEWER_TOKEN not in caplog.text


def test_every_mutation_is_refused_to_a_viewer(viewer):
    mutations = [
        'halt(input: {reason: "x"}) { __typename }',
        'resume(input: {reason: "x"}) { __typename }',
        'createMapping(input: {eventId: "e", conditionId: "c", tokenId: "t"}) { __typename }',
        "updateMapping(input: {id: 1, active: false}) { __typename }",
        "deactivateMapping(input: {id: 1}) { __typename }",
        'retryHedge(input: {id: "h", reason: "x"}) { __typename }',
    ]
    for m in mutations:
        body = viewer.post("mutation { " + m + " }").json()
        assert body["data"] is None, m
        assert body["errors"][0]["message"] == "the admin role is required", m
    assert HedgeEvent.select().count() == 0


@pytest.mark.parametrize("token", [None, "wrong-token-0123456789abcdef"], ids=["missing", "wrong"])
def test_websocket_without_a_valid_token_is_closed_on_connection_init(gateway, token):
    sub = Subscriber(gateway.ws_url, token)
    with pytest.raises(ConnectionClosed) as closed:
        sub.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


def test_a_subscribe_before_the_handshake_is_refused(gateway):
    from websockets.sync.client import connect

    with connect(gateway.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(
            '{"id": "1", "type": "subscribe", "payload": {"query": "subscription { hedgeEvents { id } }"}}'
        )
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_a_viewer_may_subscribe(gateway):
    sub = Subscriber(gateway.ws_url, VIEWER_TOKEN)
    try:
        assert sub.recv()["type"] == "connection_ack"
    finally:
        sub.close()


def test_graphiql_and_introspection_are_off_outside_development_mode(gateway, admin):
    import httpx

    page = httpx.get(gateway.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Accept": "text/html"})
    assert page.status_code in (404, 405)
    body = admin.post("{ __schema { types { name } } }").json()
    assert "errors" in body and "introspection" in body["errors"][0]["message"].lower()


def test_limits_reject_deep_aliased_and_long_queries_before_execution(admin):
    # The deepest useful queries pass.
    assert "errors" not in admin.post("{ orders { edges { node { hedges { id } } } } }").json()
    assert "errors" not in admin.post("{ dashboard { markets { hedges { latencyMs { p50 } } } } }").json()

    # Depth, also when the nesting hides in fragments.
    deep = "{ dashboard { markets { hedges { latencyMs { p50 { a { b { c } } } } } } } }"
    body = admin.post(deep).json()
    assert body["data"] is None and any("depth" in e["message"].lower() for e in body["errors"])
    hidden = "{ dashboard { ...M } } fragment M on Dashboard { markets { hedges { latencyMs { p50 { x { y { z } } } } } } }"
    body = admin.post(hidden).json()
    assert any("depth" in e["message"].lower() for e in body["errors"])

    aliases = "{ " + " ".join(f"a{i}: breakers {{ state }}" for i in range(16)) + " }"
    body = admin.post(aliases).json()
    assert body["data"] is None and any("aliases" in e["message"].lower() for e in body["errors"])

    # Aliases hidden in a fragment spread are counted too (CVE-2026-47707, fixed in 0.315.7).
    fragment = "fragment F on Query { " + " ".join(f"b{i}: breakers {{ state }}" for i in range(16)) + " }"
    body = admin.post("{ ...F } " + fragment).json()
    assert any("aliases" in e["message"].lower() for e in body["errors"])

    tokens = "{ " + " ".join("config { key }" for _ in range(600)) + " }"
    body = admin.post(tokens).json()
    assert any("token" in e["message"].lower() for e in body["errors"])

    # A batch (a JSON list of operations) is not accepted at all.
    response = admin.http.post(admin.url, json=[{"query": "{ breakers { state } }"}] * 2)
    assert response.status_code == 400


def test_bodies_over_the_limit_are_refused(gateway):
    import httpx

    padding = " " * (70 * 1024)
    response = httpx.post(
        gateway.url,
        content=('{"query": "{ breakers { state } }' + padding + '"}').encode(),
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413


def test_no_anonymous_access_without_development_mode_but_dev_mode_admits(pg_db, pg_url, sim):
    from tests.gateway.conftest import GatewayThread, gateway_settings

    dev = GatewayThread(gateway_settings(pg_url, sim.url, dev_mode=True))
    try:
        anonymous = Client(dev.url, None)
        assert anonymous("{ breakers { state } }")["breakers"]["state"] == "active"
        # A presented but wrong token is refused even in development mode.
        wrong = Client(dev.url, "wrong-token-0123456789abcdef")
        assert wrong.post("{ breakers { state } }").status_code == 401
        anonymous.close()
        wrong.close()
    finally:
        dev.stop()
