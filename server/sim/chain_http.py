"""The simulator's other hosts that the official SDK calls to redeem and merge: a Polygon JSON-RPC
node at ``/rpc`` (`server.sim.chain`) and Gamma's market list at ``/gamma/markets/keyset``, from which
the SDK learns a market's token ids, its neg-risk flag and whether it is closed."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.sim.chain import RpcError
from server.sim.errors import SimError
from server.sim.exchange import Exchange
from server.sim.markets import SimMarket
from server.sim.wire import dumps


def chain_routes(exchange: Exchange) -> list[BaseRoute]:
    """``POST /rpc`` (single or batched JSON-RPC) and ``GET /gamma/markets/keyset``."""

    async def rpc(request: Request) -> Response:
        try:
            envelope = json.loads(await request.body())
        except ValueError:
            return _json({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
        try:
            if isinstance(envelope, list):
                return _json([_answer(exchange, e) for e in envelope])
            return _json(_answer(exchange, envelope))
        except SimError as err:
            return Response(err.message, status_code=err.status)

    async def gamma_markets(request: Request) -> Response:
        params = request.query_params
        wanted = set(params.getlist("condition_ids"))
        closed = params.get("closed")
        markets = [
            _gamma_market(exchange, index, m)
            for index, m in enumerate(exchange.markets)
            if (not wanted or m.condition_id in wanted)
        ]
        if closed is not None:
            markets = [m for m in markets if m["closed"] == (closed == "true")]
        limit = int(params.get("limit", "100"))
        return _json({"markets": markets[:limit], "next_cursor": None})

    return [
        Route("/rpc", rpc, methods=["POST"]),
        Route("/gamma/markets/keyset", gamma_markets, methods=["GET"]),
    ]


def _answer(exchange: Exchange, envelope: dict[str, Any]) -> dict[str, Any]:
    ident = envelope.get("id")
    try:
        result = exchange.chain.call(str(envelope.get("method")), list(envelope.get("params") or []))
    except RpcError as err:
        return {"jsonrpc": "2.0", "id": ident, "error": {"code": err.code, "message": err.message}}
    return {"jsonrpc": "2.0", "id": ident, "result": result}


def _gamma_market(exchange: Exchange, index: int, market: SimMarket) -> dict[str, Any]:
    life = exchange.lifecycle(market.condition_id)
    return {
        "id": str(index + 1),
        "version": "v1",
        "conditionId": market.condition_id,
        "questionID": market.question_id,
        "question": market.question,
        "slug": market.slug,
        "outcomes": json.dumps(["Yes", "No"]),
        "clobTokenIds": json.dumps([market.yes_token_id, market.no_token_id]),
        "negRisk": market.neg_risk,
        "active": True,
        "closed": life.closed,
        "acceptingOrders": life.accepting_orders,
        "enableOrderBook": True,
        "orderMinSize": str(market.min_order_size),
        "orderPriceMinTickSize": str(market.tick_size),
    }


def _json(obj: object) -> Response:
    return Response(dumps(obj), media_type="application/json")
