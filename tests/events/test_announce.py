"""Orders write their events without a NOTIFY inside their transaction and announce them after
COMMIT. A follower that only a NOTIFY can wake (it polls once a minute), as in another process,
must still see every event of many concurrent orders: announcements that fold together never drop
the last one."""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

from hedging.v1 import types_pb2
from server.events.feed import EventFeed, EventRow
from server.runtime import DatabaseRunner
from server.store.models import HedgeEvent
from tests.harness import order_request

MARKETS = ["fed-cut-december-2026", "btc-above-150k-dec-31-2026", "gpt-release-q1-2027"]


def test_every_event_of_concurrent_orders_wakes_a_follower_that_never_polls(live, pg_db):
    requests = [order_request(MARKETS[i % 3], types_pb2.SIDE_BUY, "5") for i in range(24)]

    async def scenario() -> tuple[list[int], list[int]]:
        runner = DatabaseRunner(pg_db, 2)
        feed = EventFeed(pg_db, runner, poll_seconds=60)
        await feed.start()
        start = feed.head
        seen: list[int] = []
        progressed = asyncio.Event()

        async def follow() -> None:
            async for item in feed.follow(start, heartbeat_seconds=60):
                if isinstance(item, EventRow):
                    seen.append(item.id)
                    progressed.set()

        follower = asyncio.create_task(follow())
        try:
            with ThreadPoolExecutor(8) as pool:
                answers = await asyncio.gather(
                    *(
                        asyncio.get_running_loop().run_in_executor(
                            pool, lambda r=r: live.stub.PlaceOrder(r, timeout=15)
                        )
                        for r in requests
                    )
                )
            assert all(a.hedge_status == types_pb2.HEDGE_STATUS_HEDGED for a in answers)
            stored = await runner(
                lambda: [
                    e.id
                    for e in HedgeEvent.select(HedgeEvent.id)
                    .where(HedgeEvent.id > start)
                    .order_by(HedgeEvent.id)
                ]
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    while seen != stored:
                        progressed.clear()
                        await progressed.wait()
            return seen, stored
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            await feed.stop()
            runner.close()

    # On a thread of its own: its event loop is the only one there, created and closed here.
    with ThreadPoolExecutor(1) as thread:
        seen, stored = thread.submit(asyncio.run, scenario()).result(60)
    assert len(stored) >= 3 * len(requests)  # accepted, submitted and filled, in two commits per order
    assert seen == stored
