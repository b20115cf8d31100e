"""A process's event feed reads the log, and listens for NOTIFYs, only while something here follows
it. Events written while nobody follows are never read into the window, yet a subscriber that comes
later gets every one of them after its cursor, once and in order, and then the live ones (woken by
NOTIFY alone: these feeds poll once a minute); so does one that comes after the last one left."""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg2

from server.events.feed import EventFeed, EventRow
from server.runtime import DatabaseRunner
from server.store import events as event_log
from server.store.events import NOTIFY_CHANNEL, NewEvent
from server.store.models import HedgeEvent


def _write(db: Any, *messages: str) -> None:
    """Appends events as another process would: its own transaction, its own NOTIFY."""
    with db.atomic():
        event_log.append(db, [NewEvent("config_changed", m, data={"key": m}) for m in messages])


def _stored_after(after: int) -> list[int]:
    return [
        e.id for e in HedgeEvent.select(HedgeEvent.id).where(HedgeEvent.id > after).order_by(HedgeEvent.id)
    ]


class Witness:
    """A session LISTENing on the event channel, to show that a feed did nothing with a NOTIFY.

    `settled` has the feed's own listener send a NOTIFY (`announce`) and waits for it here. The
    listener handles its connection in order, so by then it has had every NOTIFY sent before and,
    had it listened, woken the reader; a few turns of the loop and one trip through the database
    runner (one thread: first in, first out) later, a reader it woke has read the log."""

    def __init__(self, pg_url: str) -> None:
        self._conn = psycopg2.connect(pg_url)
        self._conn.autocommit = True
        with self._conn.cursor() as cur:
            cur.execute(f"LISTEN {NOTIFY_CHANNEL}")

    async def settled(self, feed: EventFeed, runner: DatabaseRunner) -> None:
        self._conn.poll()
        self._conn.notifies.clear()
        feed.announce()
        async with asyncio.timeout(10):
            while True:
                self._conn.poll()
                if self._conn.notifies:
                    break
                await asyncio.sleep(0.01)  # the poll interval of this wait
        for _ in range(10):
            await asyncio.sleep(0)  # let a woken reader hand its read to the runner first
        await runner(lambda: None)

    def close(self) -> None:
        self._conn.close()


class Follower:
    """A subscriber from `after` on the feed, collecting events until `leave`."""

    def __init__(self, feed: EventFeed, after: int) -> None:
        self.events: list[EventRow] = []
        self._progressed = asyncio.Event()
        self._task = asyncio.create_task(self._follow(feed, after))

    async def _follow(self, feed: EventFeed, after: int) -> None:
        async with contextlib.aclosing(feed.follow(after, heartbeat_seconds=60)) as items:
            async for item in items:
                if isinstance(item, EventRow):
                    self.events.append(item)
                    self._progressed.set()

    async def until(self, count: int) -> list[str]:
        async with asyncio.timeout(10):
            while len(self.events) < count:
                self._progressed.clear()
                await self._progressed.wait()
        return [e.message for e in self.events]

    async def leave(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def _in_own_loop(scenario: Any) -> None:
    # On a thread of its own: its event loop is the only one there, created and closed here.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, scenario()).result(60)


def test_the_log_is_read_only_while_followed_and_a_late_subscriber_misses_nothing(pg_db, pg_url):
    async def scenario() -> None:
        runner = DatabaseRunner(pg_db, 1)
        feed = EventFeed(pg_db, runner, poll_seconds=60)
        witness = Witness(pg_url)
        await feed.start()
        try:
            start = feed.head
            await witness.settled(feed, runner)  # the feed's listener is up
            await runner(lambda: _write(pg_db, "a", "b", "c"))
            await witness.settled(feed, runner)  # had the NOTIFY woken the feed, it has read them
            assert feed.head == start, "the feed read the log with nobody following it"

            # A subscriber from before those events gets all three, then a live one.
            first = Follower(feed, start)
            assert await first.until(3) == ["a", "b", "c"]
            await runner(lambda: _write(pg_db, "d"))
            assert await first.until(4) == ["a", "b", "c", "d"]
            assert [e.id for e in first.events] == await runner(lambda: _stored_after(start))
            await first.leave()

            # Once it has gone, the feed stops reading again; a later subscriber still misses nothing.
            assert feed.head == first.events[-1].id
            await runner(lambda: _write(pg_db, "e", "f"))
            await witness.settled(feed, runner)
            assert feed.head == first.events[-1].id, "the feed read the log after its last subscriber left"
            second = Follower(feed, first.events[1].id)
            assert await second.until(4) == ["c", "d", "e", "f"]
            await runner(lambda: _write(pg_db, "g"))
            assert await second.until(5) == ["c", "d", "e", "f", "g"]
            await second.leave()
        finally:
            await feed.stop()
            runner.close()
            witness.close()

    _in_own_loop(scenario)


def test_a_subscriber_from_now_gets_only_what_is_written_after_it_came(pg_db):
    async def scenario() -> None:
        runner = DatabaseRunner(pg_db, 2)
        feed = EventFeed(pg_db, runner, poll_seconds=60)
        await feed.start()
        try:
            await runner(lambda: _write(pg_db, "old"))
            follower = Follower(feed, await feed.latest_id())
            await runner(lambda: _write(pg_db, "new"))
            assert await follower.until(1) == ["new"]
            await follower.leave()
        finally:
            await feed.stop()
            runner.close()

    _in_own_loop(scenario)
