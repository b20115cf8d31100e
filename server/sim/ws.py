"""WebSocket market channel (``/ws/market``) in the venue's message format.

Subscribe with ``{"assets_ids": [...], "type": "market"}`` (``initial_dump`` defaults to true: one
``book`` message per asset), change the set with ``{"assets_ids": [...], "operation": "subscribe" |
"unsubscribe"}``, keep alive with the text ``PING`` (answered ``PONG``). Updates are ``price_change``
(absolute new level sizes, for both tokens of the market), ``book`` after trades, ``last_trade_price``
and ``tick_size_change``; each message is one JSON object. A subscriber that sent
``"custom_feature_enabled": true`` also gets ``market_resolved`` for the markets of its assets.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field

from starlette.websockets import WebSocket, WebSocketDisconnect

from server.sim.exchange import Exchange

log = logging.getLogger(__name__)

_Event = dict[str, object]


@dataclass(eq=False)
class _Subscriber:
    assets: set[str] = field(default_factory=set)
    custom_features: bool = False
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)


def _for_assets(event: _Event, assets: set[str], custom_features: bool = False) -> _Event | None:
    """The part of ``event`` a subscriber to ``assets`` should see, if any."""
    if event.get("event_type") == "market_resolved":
        ids = event.get("assets_ids")
        assert isinstance(ids, list)
        return event if custom_features and assets.intersection(ids) else None
    if event.get("event_type") == "price_change":
        changes = event.get("price_changes")
        assert isinstance(changes, list)
        mine = [c for c in changes if c.get("asset_id") in assets]
        return {**event, "price_changes": mine} if mine else None
    return event if event.get("asset_id") in assets else None


class MarketChannel:
    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: set[_Subscriber] = set()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def detach(self) -> None:
        self._exchange.remove_listener(self._on_events)
        self._loop = None

    def _on_events(self, events: list[_Event]) -> None:
        # Called with the exchange lock held, from whichever thread changed the book.
        loop = self._loop
        if loop is not None and self._subscribers:
            loop.call_soon_threadsafe(self._dispatch, events)

    def _dispatch(self, events: list[_Event]) -> None:
        for sub in self._subscribers:
            for event in events:
                visible = _for_assets(event, sub.assets, sub.custom_features)
                if visible is not None:
                    sub.queue.put_nowait(json.dumps(visible, separators=(",", ":")))

    async def endpoint(self, websocket: WebSocket) -> None:
        await websocket.accept()
        sub = _Subscriber()
        if not self._subscribers:
            # Only listen while someone is subscribed: diffing books costs the order path ~30 %.
            self._exchange.add_listener(self._on_events)
        self._subscribers.add(sub)
        sender = asyncio.create_task(self._send_loop(websocket, sub))
        try:
            while True:
                text = await websocket.receive_text()
                if text.strip().upper() == "PING":
                    sub.queue.put_nowait("PONG")
                    continue
                try:
                    request = json.loads(text)
                except ValueError:
                    continue
                if not isinstance(request, dict):
                    continue
                assets = {str(a) for a in request.get("assets_ids") or []}
                if "custom_feature_enabled" in request:
                    sub.custom_features = bool(request["custom_feature_enabled"])
                if request.get("operation") == "unsubscribe":
                    sub.assets -= assets
                    continue
                new = assets - sub.assets
                sub.assets |= assets
                if request.get("initial_dump", True) and new:
                    for book in self._exchange.snapshot_books(sorted(new)):
                        sub.queue.put_nowait(json.dumps(book, separators=(",", ":")))
        except WebSocketDisconnect:
            pass
        finally:
            self._subscribers.discard(sub)
            if not self._subscribers:
                self._exchange.remove_listener(self._on_events)
            sender.cancel()

    @staticmethod
    async def _send_loop(websocket: WebSocket, sub: _Subscriber) -> None:
        try:
            while True:
                await websocket.send_text(await sub.queue.get())
        except Exception:  # the connection went away; the receive loop cleans up
            log.debug("market channel sender stopped", exc_info=True)
