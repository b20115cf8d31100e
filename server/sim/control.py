"""HTTP control surface under ``/_sim/`` (the real venue has no such prefix).

Reads (ground truth):
    GET  /_sim/state                      everything below in one document
    GET  /_sim/orders[?address=]          every accepted order
    GET  /_sim/orders/{order_id}
    GET  /_sim/trades[?address=]
    GET  /_sim/balances/{address}
    GET  /_sim/post-counts                POST /order count per order hash
    GET  /_sim/totals                     collateral, tokens, locked pairs, fees
Writes (JSON bodies; Decimal values as strings or numbers):
    POST   /_sim/book          {"token_id", "bids": [[p, s]...], "asks": [[p, s]...]}
    POST   /_sim/liquidity     {"token_id", "side": "BUY"|"SELL", "price", "size"}
    DELETE /_sim/liquidity     {"token_id"?}
    POST   /_sim/shift         {"condition_id", "ticks"}
    POST   /_sim/fund          {"address", "usdc"?, "tokens"?: {token_id: shares}}
    POST   /_sim/latency       {"seconds"}
    POST   /_sim/faults        {"path", "count", "mode": "before"|"after", "status"? | "delay"?, "method"?}
    DELETE /_sim/faults        (also clears latency)
    POST   /_sim/trading-mode  {"mode": "normal"|"cancel-only"|"post-only"|"disabled"}
    POST   /_sim/taker-delay   {"condition_id", "seconds": seconds | null}
    POST   /_sim/market-state  {"condition_id", "state": "closed" | "resolved" | "open",
                                "winning_token_id"}   (resolved needs the winner)
    POST   /_sim/restart       {"too_early"?: seconds, "post_only"?: seconds}  (defaults 90 and 120)
    POST   /_sim/settlement    {"delay": seconds | null}
    POST   /_sim/fail-next     {"count"}
    POST   /_sim/trades/{trade_id}/fail | /mine | /retry | /confirm
    POST   /_sim/tick-size     {"condition_id", "tick_size"}
    POST   /_sim/auto-tick     {"enabled": bool}
    POST   /_sim/time          {"advance": seconds} | {"offset": seconds}  (offset: venue clock minus wall clock)
    POST   /_sim/allowance     {"address", "usdc": amount | null}  (null: unlimited, as after approval)
    POST   /_sim/geoblock      {"blocked": bool, "country"?, "region"?}  (the answer of /api/geoblock)
    POST   /_sim/config        {"default_collateral"?, "page_size"?, "heartbeat_timeout"?}
    POST   /_sim/mover         {"enabled": bool, "interval"?}
Errors: 400 ``{"error": ...}``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.sim.errors import SimError
from server.sim.wire import fmt

if TYPE_CHECKING:
    from server.sim.exchange import Exchange
    from server.sim.mover import BookMover

ControlHandler = Callable[[Request, dict[str, Any]], Awaitable[object]]


def jsonable(obj: object) -> object:
    """Decimals become strings so tooling never parses money as float."""
    if isinstance(obj, Decimal):
        return fmt(obj)
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    return obj


def _respond(obj: object, status: int = 200) -> Response:
    return Response(json.dumps(jsonable(obj)), status_code=status, media_type="application/json")


def control_routes(exchange: Exchange, mover: BookMover | None) -> list[BaseRoute]:
    def route(path: str, handler: ControlHandler, method: str) -> Route:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            try:
                payload = json.loads(body) if body else {}
                if not isinstance(payload, dict):
                    raise ValueError("body must be a JSON object")
                return _respond(await handler(request, payload))
            except SimError as err:
                return _respond(err.body(), err.status)
            except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
                return _respond({"error": str(exc)}, 400)

        return Route("/_sim" + path, endpoint, methods=[method])

    def address_param(request: Request) -> str | None:
        return request.query_params.get("address") or None

    async def state(request: Request, body: dict[str, Any]) -> object:
        addresses = sorted({str(o["maker_address"]) for o in exchange.orders()})
        return {
            "trading_mode": exchange.trading_mode,
            "restart_phase": exchange.restart_phase,
            "orders": exchange.orders(),
            "trades": exchange.trades(),
            "balances": {a: exchange.balances(a) for a in addresses},
            "post_counts": exchange.post_counts(),
            "totals": exchange.totals(),
            "faults": exchange.faults.pending(),
            "latency": exchange.faults.latency,
        }

    async def orders(request: Request, body: dict[str, Any]) -> object:
        return exchange.orders(address_param(request))

    async def order(request: Request, body: dict[str, Any]) -> object:
        found = exchange.order(request.path_params["order_id"])
        if found is None:
            raise KeyError("order not found")
        return found

    async def trades(request: Request, body: dict[str, Any]) -> object:
        return exchange.trades(address_param(request))

    async def balances(request: Request, body: dict[str, Any]) -> object:
        return exchange.balances(request.path_params["address"])

    async def post_counts(request: Request, body: dict[str, Any]) -> object:
        return exchange.post_counts()

    async def totals(request: Request, body: dict[str, Any]) -> object:
        return exchange.totals()

    async def set_book(request: Request, body: dict[str, Any]) -> object:
        ids = exchange.set_book(
            str(body["token_id"]), body.get("bids", []), body.get("asks", []), lp=body.get("lp")
        )
        return {"order_ids": ids}

    async def add_liquidity(request: Request, body: dict[str, Any]) -> object:
        order_id = exchange.add_liquidity(
            str(body["token_id"]), str(body["side"]), body["price"], body["size"], lp=body.get("lp")
        )
        return {"order_id": order_id}

    async def pull_liquidity(request: Request, body: dict[str, Any]) -> object:
        return {"pulled": exchange.pull_liquidity(body.get("token_id"), lp=body.get("lp"))}

    async def shift(request: Request, body: dict[str, Any]) -> object:
        exchange.shift_book(str(body["condition_id"]), int(body["ticks"]))
        return {"ok": True}

    async def fund(request: Request, body: dict[str, Any]) -> object:
        exchange.fund(str(body["address"]), usdc=str(body.get("usdc", 0)), tokens=body.get("tokens"))
        return exchange.balances(str(body["address"]))

    async def latency(request: Request, body: dict[str, Any]) -> object:
        exchange.set_latency(float(body["seconds"]))
        return {"ok": True}

    async def add_fault(request: Request, body: dict[str, Any]) -> object:
        exchange.inject_fault(
            str(body["path"]),
            int(body.get("count", 1)),
            body["mode"],
            status=int(body["status"]) if body.get("status") is not None else None,
            delay=float(body["delay"]) if body.get("delay") is not None else None,
            method=body.get("method"),
        )
        return {"faults": exchange.faults.pending()}

    async def clear_faults(request: Request, body: dict[str, Any]) -> object:
        exchange.reset_faults()
        return {"ok": True}

    async def trading_mode(request: Request, body: dict[str, Any]) -> object:
        exchange.set_trading_mode(str(body["mode"]))
        return {"mode": exchange.trading_mode}

    async def market_state(request: Request, body: dict[str, Any]) -> object:
        condition_id, state = str(body["condition_id"]), str(body["state"])
        if state == "closed":
            exchange.close_market(condition_id)
        elif state == "resolved":
            exchange.resolve_market(condition_id, str(body["winning_token_id"]))
        elif state == "open":
            exchange.reopen_market(condition_id)
        else:
            raise ValueError("state must be open, closed or resolved")
        life = exchange.lifecycle(condition_id)
        return {"closed": life.closed, "winning_token_id": life.winning_token_id}

    async def taker_delay(request: Request, body: dict[str, Any]) -> object:
        seconds = body.get("seconds")
        exchange.set_taker_delay(str(body["condition_id"]), float(seconds) if seconds is not None else None)
        return {"seconds": seconds}

    async def restart(request: Request, body: dict[str, Any]) -> object:
        exchange.start_restart(float(body.get("too_early", 90)), float(body.get("post_only", 120)))
        return {"phase": exchange.restart_phase}

    async def settlement(request: Request, body: dict[str, Any]) -> object:
        delay = body.get("delay")
        exchange.set_settlement(float(delay) if delay is not None else None)
        return {"delay": delay}

    async def fail_next(request: Request, body: dict[str, Any]) -> object:
        exchange.fail_next_trades(int(body["count"]))
        return {"ok": True}

    async def fail_trade(request: Request, body: dict[str, Any]) -> object:
        exchange.fail_trade(request.path_params["trade_id"])
        return exchange.trade(request.path_params["trade_id"])

    async def mine_trade(request: Request, body: dict[str, Any]) -> object:
        exchange.mine_trade(request.path_params["trade_id"])
        return exchange.trade(request.path_params["trade_id"])

    async def retry_trade(request: Request, body: dict[str, Any]) -> object:
        exchange.retry_trade(request.path_params["trade_id"])
        return exchange.trade(request.path_params["trade_id"])

    async def confirm_trade(request: Request, body: dict[str, Any]) -> object:
        exchange.confirm_trade(request.path_params["trade_id"])
        return exchange.trade(request.path_params["trade_id"])

    async def tick_size(request: Request, body: dict[str, Any]) -> object:
        exchange.set_tick_size(str(body["condition_id"]), str(body["tick_size"]))
        return {"ok": True}

    async def auto_tick(request: Request, body: dict[str, Any]) -> object:
        exchange.set_auto_tick(bool(body["enabled"]))
        return {"enabled": exchange.auto_tick}

    async def advance_time(request: Request, body: dict[str, Any]) -> object:
        if "offset" in body:
            exchange.set_clock_offset(float(body["offset"]))
        else:
            exchange.advance_time(float(body["advance"]))
        return {"now": exchange.now()}

    async def allowance(request: Request, body: dict[str, Any]) -> object:
        usdc = body["usdc"]
        exchange.set_allowance(str(body["address"]), None if usdc is None else str(usdc))
        return {"usdc": usdc}

    async def geoblock(request: Request, body: dict[str, Any]) -> object:
        answer: dict[str, object] = {"blocked": bool(body["blocked"])}
        answer |= {k: str(body[k]) for k in ("country", "region") if k in body}
        exchange.geoblock = exchange.geoblock | answer
        return exchange.geoblock

    async def config(request: Request, body: dict[str, Any]) -> object:
        if "default_collateral" in body:
            exchange.set_default_collateral(str(body["default_collateral"]))
        if "page_size" in body:
            exchange.set_page_size(int(body["page_size"]))
        if "heartbeat_timeout" in body:
            exchange.set_heartbeat_timeout(float(body["heartbeat_timeout"]))
        return {
            "default_collateral": exchange.default_collateral,
            "page_size": exchange.page_size,
            "heartbeat_timeout": exchange.heartbeat_timeout,
        }

    async def set_mover(request: Request, body: dict[str, Any]) -> object:
        if mover is None:
            raise ValueError("this simulator runs without a book mover")
        mover.enabled = bool(body.get("enabled", True))
        if "interval" in body:
            mover.interval = float(body["interval"])
        return {"enabled": mover.enabled, "interval": mover.interval}

    return [
        route("/state", state, "GET"),
        route("/orders", orders, "GET"),
        route("/orders/{order_id}", order, "GET"),
        route("/trades", trades, "GET"),
        route("/balances/{address}", balances, "GET"),
        route("/post-counts", post_counts, "GET"),
        route("/totals", totals, "GET"),
        route("/book", set_book, "POST"),
        route("/liquidity", add_liquidity, "POST"),
        route("/liquidity", pull_liquidity, "DELETE"),
        route("/shift", shift, "POST"),
        route("/fund", fund, "POST"),
        route("/latency", latency, "POST"),
        route("/faults", add_fault, "POST"),
        route("/faults", clear_faults, "DELETE"),
        route("/trading-mode", trading_mode, "POST"),
        route("/taker-delay", taker_delay, "POST"),
        route("/market-state", market_state, "POST"),
        route("/restart", restart, "POST"),
        route("/settlement", settlement, "POST"),
        route("/fail-next", fail_next, "POST"),
        route("/trades/{trade_id}/fail", fail_trade, "POST"),
        route("/trades/{trade_id}/mine", mine_trade, "POST"),
        route("/trades/{trade_id}/retry", retry_trade, "POST"),
        route("/trades/{trade_id}/confirm", confirm_trade, "POST"),
        route("/tick-size", tick_size, "POST"),
        route("/auto-tick", auto_tick, "POST"),
        route("/time", advance_time, "POST"),
        route("/allowance", allowance, "POST"),
        route("/geoblock", geoblock, "POST"),
        route("/config", config, "POST"),
        route("/mover", set_mover, "POST"),
    ]
