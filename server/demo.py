"""Sample user orders sent over gRPC at a steady pace, so a newcomer sees the system move.

The hedging wallet is stocked first (`stock_wallet`): USDC for hedges that buy, and shares of every
outcome for hedges that sell (a demo user selling back covers with a SELL). So the demo's hedges
succeed, except the ones it makes fail on purpose (`inject_failure`, every `fail_every` orders), to
show what a failure looks like in the console, the log and the metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

import grpc

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import hedging_service_pb2_grpc, types_pb2

if TYPE_CHECKING:
    from server.sim.exchange import Exchange

log = logging.getLogger(__name__)

WALLET_USDC = Decimal("1000000")
WALLET_SHARES = Decimal("100000")  # of each outcome token: far more than the demo's orders ever sell
FAIL_EVERY = 50  # about 2 % of hedges: well below the failure-rate breaker's 10 %


def stock_wallet(exchange: Exchange, address: str, token_ids: Iterable[str]) -> None:
    """Funds `address` at the simulator's `exchange` with USDC and shares of every token."""
    exchange.fund(address, usdc=WALLET_USDC, tokens=dict.fromkeys(token_ids, WALLET_SHARES))


async def drive(
    target: str,
    markets: list[tuple[str, str]],
    stop: asyncio.Event,
    *,
    per_second: float = 2.0,
    inject_failure: Callable[[], None] | None = None,
    fail_every: int = FAIL_EVERY,
    orders: int | None = None,
) -> int:
    """Places random small orders on `markets` ((event_id, outcome) pairs) until `stop` is set (or
    `orders` were sent); before every `fail_every`-th it calls `inject_failure`. Returns the number
    of failures injected."""
    rng = random.Random(7)
    sent = injected = 0
    async with grpc.aio.insecure_channel(target) as channel:
        stub = hedging_service_pb2_grpc.HedgingServiceStub(channel)
        while not stop.is_set() and (orders is None or sent < orders):
            event_id, outcome = rng.choice(markets)
            request = pb.PlaceOrderRequest(
                request_id=uuid.uuid4().hex,
                account_id=f"demo-user-{rng.randint(1, 20)}",
                market=types_pb2.MarketRef(event_id=event_id, outcome=outcome),
                side=rng.choice([types_pb2.SIDE_BUY, types_pb2.SIDE_BUY, types_pb2.SIDE_SELL]),
                size=str(rng.choice([5, 10, 15, 20, 25, 40])),
            )
            sent += 1
            if inject_failure is not None and sent % fail_every == 0:
                log.info("demo: the venue will refuse the next hedge (a failure shown on purpose)")
                inject_failure()
                injected += 1
            try:
                await stub.PlaceOrder(request, timeout=10)
            except grpc.aio.AioRpcError as exc:
                log.info("demo order failed: %s", exc.code().name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1 / per_second)
    return injected
