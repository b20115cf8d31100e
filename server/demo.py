"""Sample user orders sent over gRPC at a steady pace, so a newcomer sees the system move."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid

import grpc

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import hedging_service_pb2_grpc, types_pb2

log = logging.getLogger(__name__)


async def drive(
    target: str, markets: list[tuple[str, str]], stop: asyncio.Event, *, per_second: float = 2.0
) -> None:
    """Places random small orders on `markets` ((event_id, outcome) pairs) until `stop` is set."""
    rng = random.Random(7)
    async with grpc.aio.insecure_channel(target) as channel:
        stub = hedging_service_pb2_grpc.HedgingServiceStub(channel)
        while not stop.is_set():
            event_id, outcome = rng.choice(markets)
            request = pb.PlaceOrderRequest(
                request_id=uuid.uuid4().hex,
                account_id=f"demo-user-{rng.randint(1, 20)}",
                market=types_pb2.MarketRef(event_id=event_id, outcome=outcome),
                side=rng.choice([types_pb2.SIDE_BUY, types_pb2.SIDE_BUY, types_pb2.SIDE_SELL]),
                size=str(rng.choice([5, 10, 15, 20, 25, 40])),
            )
            try:
                await stub.PlaceOrder(request, timeout=10)
            except grpc.aio.AioRpcError as exc:
                log.info("demo order failed: %s", exc.code().name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1 / per_second)
