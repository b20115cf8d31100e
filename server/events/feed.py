"""The live event feed of one process, free of any transport: the gRPC stream and the GraphQL
subscription both follow it.

The `hedge_event` table is the truth. Ids are handed out in commit order (see `server.store.events`),
so reading `id > cursor ORDER BY id` never skips an event that a later read could still find: a
subscriber that resumes after the last id it saw gets every later event exactly once.

One reader task per process reads new rows into a bounded in-memory window shared by every subscriber.
It is woken by PostgreSQL's NOTIFY on `hedge_events` (one listening connection per process, in a
thread) and polls at a modest interval as a safety net (NOTIFY is only a wake-up: it is never relied on
for delivery). Each subscriber walks that window, or the table itself when it is behind the window,
from its own cursor and at its own pace: a slow subscriber holds no queue and slows nobody else.

The reader reads, and the listening connection LISTENs, only while the process has a subscriber: with
none, no NOTIFY wakes this process and the window stops following the log. (Reading and waking after
each of an order's two commits cost a server with no subscriber 12-22% of its orders/s at 32 callers,
in paired runs.) The first subscriber to come restarts the window at the log's newest id; it and any
other subscriber behind that id read the table itself until they reach it, as a subscriber behind the
window always does.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import json
import logging
import os
import select
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

import peewee

from server.store import events, sql
from server.store.events import NOTIFY_CHANNEL
from server.store.fields import utcnow
from server.store.models import HedgeEvent

log = logging.getLogger(__name__)
T = TypeVar("T")


class RunInDb(Protocol):
    """Runs blocking database work off the event loop (`server.runtime.DatabaseRunner`)."""

    def __call__(self, work: Callable[[], T]) -> Awaitable[T]: ...


DEFAULT_HEARTBEAT_SECONDS = 5.0
PAGE_SIZE = 500


@dataclass(frozen=True)
class EventRow:
    """One stored event."""

    id: int
    event_type: str
    created_at: datetime
    event_id: str | None
    outcome: str | None
    order_id: str | None
    hedge_id: str | None
    message: str
    data: dict[str, str] = field(default_factory=dict)

    @property
    def market(self) -> tuple[str, str] | None:
        if self.event_id is None:
            return None
        return (self.event_id, self.outcome or "")


@dataclass(frozen=True)
class Heartbeat:
    """Nothing was sent for a while; `last_event_id` is the newest id this process has read."""

    sent_at: datetime
    last_event_id: int


_READ_AFTER = (
    f"SELECT {', '.join(sql.columns(HedgeEvent))} FROM hedge_event "
    f"WHERE id > %s AND id < {events.ID_CEILING} ORDER BY id LIMIT %s"
)


def read_after(after_id: int, limit: int = PAGE_SIZE) -> list[EventRow]:
    """Stored events with an id above `after_id`, oldest first (call from a database thread)."""
    rows = sql.fetch_all(HedgeEvent._meta.database, _READ_AFTER, (after_id, limit))
    return [_row(sql.from_row(HedgeEvent, r)) for r in rows]


def latest_id() -> int:
    """The newest stored event id, 0 for an empty log (call from a database thread)."""
    return events.latest_id(HedgeEvent._meta.database)


def _row(e: HedgeEvent) -> EventRow:
    try:
        data = json.loads(e.data) if e.data else {}
    except json.JSONDecodeError:
        data = {}
    return EventRow(
        e.id,
        e.event_type,
        e.created_at,
        e.event_id,
        e.outcome,
        e.order_id,
        e.hedge_id,
        e.message,
        {str(k): str(v) for k, v in data.items()},
    )


def matches(row: EventRow, markets: Collection[tuple[str, str]], types: Collection[str]) -> bool:
    """Whether a subscriber with these filters gets `row`: global events pass any market filter."""
    if types and row.event_type not in types:
        return False
    market = row.market
    return not markets or market is None or market in markets


class EventFeed:
    """Follows the event log for any number of subscribers in this process."""

    def __init__(
        self,
        database: peewee.Database,
        run_in_db: RunInDb,
        *,
        poll_seconds: float | None = None,
        window: int = 20_000,
    ) -> None:
        self._database = database
        self._run = run_in_db
        self._poll = poll_seconds if poll_seconds is not None else 0.5
        self._window = window
        self._ids: list[int] = []
        self._rows: list[EventRow] = []
        self._floor = 0  # the window holds every event with floor < id <= head
        self._head = 0
        self._changed = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: _Listener | None = None
        self._followers = 0  # subscribers iterating `follow` now
        self._unfollowed = True  # the window has stopped following the log (no subscriber)

    @property
    def head(self) -> int:
        """The newest event id this process has read."""
        return self._head

    async def start(self) -> None:
        self._head = self._floor = await self._run(latest_id)
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._listener = _Listener(self._database, self._wake_reader, lambda: self._followers > 0)
        self._listener.start()
        self._task = asyncio.create_task(self._read_loop(), name="event-feed")

    def announce(self) -> None:
        """Tells every process's subscribers that events were committed without a NOTIFY of their own
        (`events.statements(..., notify=False)`). Callable from any thread; announcements that arrive
        while one is being sent are folded into the next. Before `start` it does nothing: the feed
        starts from the table as it then is. It never raises: its callers have committed already, and
        a wake-up that cannot be sent is covered by the poll."""
        try:
            if self._listener is not None:
                self._listener.announce()
            else:
                self._wake_reader()
        except (OSError, RuntimeError) as exc:  # a full or closed pipe; a closed event loop
            log.debug("could not announce new events (%s); the poll will find them", type(exc).__name__)

    def _wake_reader(self) -> None:
        """Wakes the reader from any thread, when this process has a subscriber (without one the
        reader has nothing to read for; the first to come wakes it itself)."""
        if self._followers and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        if self._listener is not None:
            await asyncio.to_thread(self._listener.stop)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def latest_id(self) -> int:
        """The newest event id in the table (not only what this process has read)."""
        return await self._run(latest_id)

    async def follow(
        self,
        after_id: int,
        markets: Collection[tuple[str, str]] = (),
        types: Collection[str] = (),
        *,
        heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS,
    ) -> AsyncGenerator[EventRow | Heartbeat, None]:
        """Every stored event with an id above `after_id` that passes the filters, in id order, each
        once, then live ones as they are written; a `Heartbeat` after `heartbeat_seconds` without
        anything to send. Runs until the caller stops iterating."""
        self._followers += 1
        if self._followers == 1:
            self._wake.set()  # the window follows the log again from now
            self._reconsider()
        try:
            cursor = after_id
            last_sent = time.monotonic()
            while True:
                rows = await self._page(cursor)
                if rows:
                    for row in rows:
                        cursor = row.id
                        if matches(row, markets, types):
                            yield row
                            last_sent = time.monotonic()
                    continue
                changed = self._changed
                if cursor < self._head:
                    continue
                remaining = heartbeat_seconds - (time.monotonic() - last_sent)
                if remaining <= 0:
                    yield Heartbeat(utcnow(), self._head)
                    last_sent = time.monotonic()
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), remaining)
        finally:
            self._followers -= 1
            if not self._followers:
                self._reconsider()

    def _reconsider(self) -> None:
        if self._listener is not None:
            self._listener.reconsider()

    async def _page(self, cursor: int) -> list[EventRow]:
        if cursor >= self._floor:
            start = bisect.bisect_right(self._ids, cursor)
            return self._rows[start : start + PAGE_SIZE]
        # Behind the shared window: read the table directly, one page at a time.
        return await self._run(lambda: read_after(cursor))

    async def _read_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
            self._wake.clear()
            if not self._followers:
                self._unfollowed = True
                continue
            try:
                if self._unfollowed:
                    await self._restart()
                while True:
                    rows = await self._run(functools.partial(read_after, self._head))
                    if rows:
                        self._append(rows)
                    if len(rows) < PAGE_SIZE:
                        break
            except Exception:
                log.exception("reading the event log failed; retrying")
                await asyncio.sleep(self._poll)

    async def _restart(self) -> None:
        """Starts the window afresh at the log's newest id, after a time without subscribers: the
        events written meanwhile were never read here, and whoever wants them reads the table."""
        latest = await self._run(latest_id)
        self._unfollowed = False
        if latest > self._head:
            self._ids.clear()
            self._rows.clear()
            self._floor = self._head = latest
            self._signal_changed()

    def _append(self, rows: list[EventRow]) -> None:
        # In place, amortised O(1) per row: subscribers only ever hold slices (copies) of these lists,
        # and every reader runs on this event loop, between appends.
        self._ids.extend(r.id for r in rows)
        self._rows.extend(rows)
        if len(self._ids) > 2 * self._window:
            cut = len(self._ids) - self._window
            self._floor = self._ids[cut - 1]
            del self._ids[:cut], self._rows[:cut]
        self._head = rows[-1].id
        self._signal_changed()

    def _signal_changed(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


class _Listener:
    """One PostgreSQL connection per process that sends the NOTIFYs `announce` asks for and, while
    `wanted` says so (the process has a subscriber), LISTENs on the event channel and calls `wake`
    (from its thread) on every notification, its own NOTIFYs included. Without a subscriber it does
    not listen, so no process's NOTIFY wakes it. Reconnects after a failure; the poll covers the gap."""

    def __init__(
        self, database: peewee.Database, wake: Callable[[], object], wanted: Callable[[], bool]
    ) -> None:
        target = getattr(database, "obj", database)
        self._dbname = target.database
        self._params = dict(target.connect_params)
        self._wake = wake
        self._wanted = wanted
        self._stop = threading.Event()
        self._pipe_r, self._pipe_w = os.pipe()
        self._pipe_lock = threading.Lock()  # no write to the pipe once `stop` has closed it
        self._closed = False
        self._announce_pending = False
        self._thread = threading.Thread(target=self._run, name="event-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def announce(self) -> None:
        if self._announce_pending:
            return  # the NOTIFY already asked for is sent after this caller's commit
        with self._pipe_lock:
            if self._closed:
                return
            self._announce_pending = True
            os.write(self._pipe_w, b"n")

    def reconsider(self) -> None:
        """Asks the thread to LISTEN or stop listening, as `wanted` now says."""
        with self._pipe_lock:
            if not self._closed:
                os.write(self._pipe_w, b"l")

    def stop(self) -> None:
        self._stop.set()
        with self._pipe_lock:
            os.write(self._pipe_w, b"x")
        self._thread.join(5)
        with self._pipe_lock:
            self._closed = True
            os.close(self._pipe_r)
            os.close(self._pipe_w)

    def _run(self) -> None:
        import psycopg2
        import psycopg2.extensions

        while not self._stop.is_set():
            conn = None
            try:
                conn = psycopg2.connect(dbname=self._dbname, **self._params)
                conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
                listening = self._listen(conn, False)
                while not self._stop.is_set():
                    ready, _, _ = select.select([conn, self._pipe_r], [], [], 5.0)
                    if self._pipe_r in ready:
                        os.read(self._pipe_r, 4096)
                        if self._announce_pending:
                            # Cleared before sending: an announcement made from here on gets a
                            # NOTIFY of its own, sent after its commit.
                            self._announce_pending = False
                            with conn.cursor() as cur:
                                cur.execute(f"NOTIFY {NOTIFY_CHANNEL}")
                        listening = self._listen(conn, listening)
                    conn.poll()
                    if conn.notifies:
                        conn.notifies.clear()
                        self._wake()
            except Exception as exc:
                log.warning("event listener connection failed (%s); reconnecting", type(exc).__name__)
                self._stop.wait(1.0)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()

    def _listen(self, conn: Any, listening: bool) -> bool:
        """LISTENs or stops, as `wanted` says; returns whether it now listens."""
        wanted = self._wanted()
        if wanted != listening:
            with conn.cursor() as cur:
                cur.execute(f"{'LISTEN' if wanted else 'UNLISTEN'} {NOTIFY_CHANNEL}")
            if wanted:
                self._wake()  # anything written while we were not listening
        return wanted
