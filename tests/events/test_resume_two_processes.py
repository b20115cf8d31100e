"""100 subscribers on two server processes sharing one PostgreSQL, events written through both; each
subscriber drops its stream at random points and resumes after the last id it saw, on either server.
Every subscriber must get every event exactly once, in id order."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import hedging_service_pb2_grpc, types_pb2
from server.store.models import HedgeEvent
from tests.harness import ServerProcess, order_request, server_env, set_config

MARKETS = ["fed-cut-december-2026", "btc-above-150k-dec-31-2026", "gpt-release-q1-2027"]
SUBSCRIBERS = 100
PRODUCERS = 8
ORDERS_PER_PRODUCER = 40


@pytest.fixture
def two_servers(pg_db, pg_url, sim, mappings) -> Iterator[list[ServerProcess]]:
    # Hedging off: each order is one transaction writing its events, as fast as the database allows.
    set_config(pg_db, mode="off", maxUnhedgedExposure="1000000000", maxMarketExposure="1000000000")
    env = {**server_env(pg_url, sim.url), "HEDGING_METRICS_LISTEN": "127.0.0.1:0"}
    servers = [ServerProcess(env) for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


async def subscribe(
    number: int, stubs: list[hedging_service_pb2_grpc.HedgingServiceStub], final: asyncio.Future[int]
) -> tuple[list[int], int]:
    rng = random.Random(number)
    seen: list[int] = []
    last = 0
    resumes = 0
    while True:
        stub = rng.choice(stubs)
        call = stub.StreamHedgeEvents(pb.StreamHedgeEventsRequest(after_event_id=last, heartbeat_seconds=1))
        budget = rng.randint(1, 40)
        try:
            async for item in call:
                if item.WhichOneof("item") == "event":
                    seen.append(item.event.event_id)
                    last = item.event.event_id
                    budget -= 1
                if final.done() and last >= final.result():
                    return seen, resumes
                if budget <= 0:
                    break
        finally:
            call.cancel()
        resumes += 1


def produce(server: ServerProcess, count: int, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(count):
        market = rng.choice(MARKETS)
        server.stub.PlaceOrder(order_request(market, types_pb2.SIDE_BUY, str(rng.randint(1, 5))), timeout=20)


def test_every_subscriber_gets_every_event_once_in_order_across_reconnects(two_servers, pg_db):
    async def main() -> tuple[list[tuple[list[int], int]], list[int]]:
        # Several connections to each server, so each of its workers serves some of the streams.
        channels = [
            grpc.aio.insecure_channel(f"127.0.0.1:{s.port}", options=[("grpc.use_local_subchannel_pool", 1)])
            for s in two_servers
            for _ in range(3)
        ]
        stubs = [hedging_service_pb2_grpc.HedgingServiceStub(c) for c in channels]
        final: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        subscribers = [asyncio.create_task(subscribe(i, stubs, final)) for i in range(SUBSCRIBERS)]
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(PRODUCERS) as pool:
            await asyncio.gather(
                *(
                    loop.run_in_executor(pool, produce, two_servers[i % 2], ORDERS_PER_PRODUCER, i)
                    for i in range(PRODUCERS)
                )
            )
        ids = [e.id for e in HedgeEvent.select(HedgeEvent.id).order_by(HedgeEvent.id)]
        final.set_result(ids[-1])
        results = await asyncio.wait_for(asyncio.gather(*subscribers), 60)
        for c in channels:
            await c.close()
        return results, ids

    results, ids = asyncio.run(main())
    assert len(ids) >= PRODUCERS * ORDERS_PER_PRODUCER
    resumes = 0
    for seen, count in results:
        assert seen == ids
        resumes += count
    assert resumes >= SUBSCRIBERS * 5, "subscribers should have dropped and resumed many times"
