"""The venue's market channel (`/ws/market`), read for one message: `tick_size_change`. The venue
refines a market's tick when its price passes 0.96 or 0.04 and announces it there; the service drops
the market's cached book on it, so the next quote reads the book, and with it the tick, afresh
(`OrderDesk._follow_tick`), instead of pricing on a cached book's old tick for up to half the book age.

The channel replays nothing after a disconnect: on every (re)connection every cached book is dropped,
since a change may have been missed meanwhile."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect

log = logging.getLogger(__name__)

# Polymarket serves the channel from its own host, not the CLOB's.
_OFFICIAL = {"clob.polymarket.com": "wss://ws-subscriptions-clob.polymarket.com/ws/market"}
PING_SECONDS = 10.0  # the venue closes a market connection that sends no PING for a while
RESUBSCRIBE_SECONDS = 5.0  # how soon a newly mapped market is followed
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)
STOP_SECONDS = 2.0


def market_channel_url(clob_url: str) -> str:
    """The market channel of the venue at `clob_url`: Polymarket's own for its CLOB, else the same host
    under `/ws/market` (the simulator's)."""
    parts = urlsplit(clob_url)
    official = _OFFICIAL.get(parts.hostname or "")
    if official is not None:
        return official
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws/market", "", ""))


def tick_change(text: str) -> tuple[str, Decimal] | None:
    """(asset id, new tick) of a `tick_size_change` message; None for any other message."""
    try:
        message = json.loads(text)
    except ValueError:
        return None
    for item in message if isinstance(message, list) else [message]:
        if isinstance(item, dict) and item.get("event_type") == "tick_size_change":
            try:
                return str(item["asset_id"]), Decimal(str(item["new_tick_size"]))
            except (KeyError, InvalidOperation):
                return None
    return None


class TickFeed:
    """Follows `tick_size_change` for the tokens `tokens()` names (read again every few seconds), calling
    `on_change(token, tick)` for each and `on_gap()` on each (re)connection."""

    def __init__(
        self,
        url: str,
        tokens: Callable[[], Iterable[str]],
        on_change: Callable[[str, Decimal], None],
        on_gap: Callable[[], None],
    ) -> None:
        self._url = url
        self._tokens = tokens
        self._on_change = on_change
        self._on_gap = on_gap
        self._task: asyncio.Task[None] | None = None
        self._ws: ClientConnection | None = None
        self.connected = asyncio.Event()

    def start(self) -> None:
        """Starts following in the background (reconnecting until stopped)."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="tick-feed")

    async def stop(self) -> None:
        """Stops following: the connection is dropped, not closed with a handshake (the venue forgets a
        dropped subscriber), so a stop never waits on the venue."""
        task, self._task = self._task, None
        if task is None:
            return
        if self._ws is not None:
            self._ws.transport.abort()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=STOP_SECONDS)
        if not done:
            log.warning("market channel %s did not stop within %s s", self._url, STOP_SECONDS)

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                async with connect(self._url, ping_interval=None, open_timeout=10, close_timeout=1) as ws:
                    self._ws = ws
                    attempt = 0
                    await self._follow(ws)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the feed only speeds tick following up: keep trying, quietly
                log.info("market channel %s: %s; reconnecting", self._url, type(exc).__name__)
            finally:
                self._ws = None
                self.connected.clear()
            await asyncio.sleep(RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)])
            attempt += 1

    async def _follow(self, ws: ClientConnection) -> None:
        followed: set[str] = set()
        await self._subscribe(ws, followed, first=True)
        self._on_gap()
        self.connected.set()
        keeper = asyncio.get_running_loop().create_task(self._keep_alive(ws, followed), name="tick-feed-ping")
        try:
            async for text in ws:
                found = tick_change(text) if isinstance(text, str) else None
                if found is not None and found[0] in followed:
                    log.info("market channel: token %s tick -> %s", found[0][:16], found[1])
                    self._on_change(*found)
        finally:
            keeper.cancel()

    async def _keep_alive(self, ws: ClientConnection, followed: set[str]) -> None:
        """PINGs the venue and subscribes newly mapped tokens, until the connection ends."""
        since_ping = 0.0
        try:
            while True:
                await asyncio.sleep(RESUBSCRIBE_SECONDS)
                since_ping += RESUBSCRIBE_SECONDS
                if since_ping >= PING_SECONDS:
                    await ws.send("PING")
                    since_ping = 0.0
                await self._subscribe(ws, followed, first=False)
        except Exception as exc:  # the connection ended: the reader sees it too and reconnects
            log.debug("market channel keep-alive stopped: %s", type(exc).__name__)

    async def _subscribe(self, ws: ClientConnection, followed: set[str], *, first: bool) -> None:
        new = sorted(set(self._tokens()) - followed)
        if not new and not first:
            return
        request: dict[str, object] = {"assets_ids": new, "initial_dump": False}
        request |= {"type": "market"} if first else {"operation": "subscribe"}
        await ws.send(json.dumps(request))
        followed.update(new)
