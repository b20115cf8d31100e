"""A stream of user orders over several markets, through the real gRPC server, against the simulator in
its realistic profile (server/sim/profile.py): a latency tail that outlasts the service's venue timeout
now and then, taker delays on the Sports and Crypto markets, settlement over seconds with some trades
FAILED after MATCHED, books that move, 5,000 USDC of funds and the Standard order budget.

The stream runs once for the module; each test checks one invariant on what it left, once the
resolver has settled every hedge and the venue every trade (waited on, never slept on):

* every accepted order's hedge is resolved: none PENDING or UNKNOWN;
* no hedge was posted as two venue orders: each hash is in the simulator's order log at most once,
  and every venue order of the hedger's address belongs to exactly one hedge;
* each hedge's recorded fill is what the venue matched for its hash, less its trades that FAILED at
  settlement (the settlement follower, server/trading/settlement.py, takes them out);
* the recorded inventory per token equals the simulator's balance per token;
* each trade of ours that FAILED was taken out exactly once, with its event.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from hedging.v1 import types_pb2
from server.sim.exchange import UNSETTLED_TRADE_STATUSES
from server.sim.runner import RunningSimulator, start_simulator
from server.store.models import HedgeEvent, HedgePosition, HedgeTrade, UserOrder
from tests import harness
from tests.harness import hedger_address, wait_until

SEED = 20
ORDERS = 48
CLIENTS = 4
# The markets the stream trades, and why each is there.
MARKETS = (
    "fed-cut-december-2026",  # tick 0.01, no fee, deep book
    "btc-above-150k-dec-31-2026",  # Crypto: 50 ms taker delay; fee
    "lakeshore-mayor-2027-rivera",  # tick 0.001, neg risk, fee
    "riverton-rockets-championship-2027",  # Sports: 3 s taker delay; thin book, 15-share minimum
    "gpt-release-q1-2027",  # tick 0.01, fee
)
pytestmark = pytest.mark.timeout(90)


@dataclass(frozen=True)
class Stream:
    """What the stream left: the simulator, and the answers the service gave."""

    sim: RunningSimulator
    answers: list[Any]


def _orders() -> list[Any]:
    """The seeded stream: market, side and size of each user order."""
    rng = random.Random(SEED)
    requests = []
    for n in range(ORDERS):
        side = types_pb2.SIDE_BUY if rng.random() < 0.7 else types_pb2.SIDE_SELL
        size = str(rng.randint(15, 60))
        requests.append(harness.order_request(rng.choice(MARKETS), side, size, request_id=f"realistic-{n}"))
    return requests


def _open_hedges() -> int:
    return HedgePosition.select().where(HedgePosition.status.in_(("pending", "unknown"))).count()


def _quiet(sim: RunningSimulator) -> bool:
    """No hedge open or settling and no trade of ours unsettled. Settlement runs on the venue clock:
    while a trade is unsettled, move the clock past its 4 s rather than wait for it."""
    if _unsettled_trades(sim):
        sim.exchange.advance_time(5)
        return False
    return _open_hedges() == 0 and _settling() == 0


def _settling() -> int:
    return HedgePosition.select().where(HedgePosition.settlement == "settling").count()


def _unsettled_trades(sim: RunningSimulator) -> list[object]:
    return [t["id"] for t in sim.exchange.trades(hedger_address()) if t["status"] in UNSETTLED_TRADE_STATUSES]


@pytest.fixture(scope="module")
def stream(pg_url: str) -> Iterator[Stream]:
    from server.store.db import bind, open_database
    from tests.conftest import _empty

    database = bind(open_database(pg_url))
    with database.connection_context():
        _empty(database)
    with start_simulator(port=0, profile="realistic", seed=SEED) as sim:
        harness.seed_mappings(database, sim)
        harness.set_config(database, mode="live")
        settings = harness.service_settings(
            pg_url, sim.url
        )  # venue timeout 1 s: the latency tail outlasts it
        with harness.running_service(settings) as service:

            def place(request: Any) -> Any:
                return service.stub.PlaceOrder(request, timeout=30)

            with ThreadPoolExecutor(CLIENTS) as pool:
                answers = list(pool.map(place, _orders()))
            # The re-hedger ran through the stream; from here on nothing new may be posted, so the
            # invariants are checked on what the stream left once it is quiet.
            harness.set_config(database, rehedgeEnabled="false")
            service.call(service.runtime.state.refresh())
            wait_until(
                lambda: _quiet(sim), timeout=40, interval=0.1, message="every hedge resolved and settled"
            )
        yield Stream(sim, answers)
    database.close()


def _tokens(sim: RunningSimulator) -> dict[str, Decimal]:
    """Non-zero token balances of the hedger's address at the venue."""
    held: dict[str, Decimal] = sim.exchange.balances(hedger_address())["tokens"]  # type: ignore[assignment]
    return {token: Decimal(amount) for token, amount in held.items() if amount}


def _recorded_inventory() -> dict[str, Decimal]:
    """Per token: shares the store says its hedges bought less those they sold."""
    inventory: dict[str, Decimal] = defaultdict(Decimal)
    for hedge in HedgePosition.select().where(HedgePosition.is_paper == False):  # noqa: E712
        inventory[hedge.token_id] += hedge.filled_size if hedge.side == "BUY" else -hedge.filled_size
    return {token: amount for token, amount in inventory.items() if amount}


def test_the_stream_exercised_what_the_profile_exposes(stream: Stream) -> None:
    """Not an invariant: proof that the run met the behaviours the profile exists for."""
    accepted = [a for a in stream.answers if a.status == types_pb2.ORDER_STATUS_ACCEPTED]
    assert len(accepted) >= ORDERS // 2, [a.message for a in stream.answers]
    statuses = Counter(t["status"] for t in stream.sim.exchange.trades(hedger_address()))
    assert statuses["CONFIRMED"] > 0 and statuses["FAILED"] > 0, statuses
    delayed = {m.condition_id for m in stream.sim.exchange.markets if m.category == "Sports"}
    hedged_on_delayed = [
        o
        for o in stream.sim.exchange.orders(hedger_address())
        if o["market"] in delayed and o["size_matched"]
    ]
    assert hedged_on_delayed, "no hedge matched after a taker delay"


def test_every_accepted_orders_hedge_is_resolved(stream: Stream) -> None:
    accepted = {a.order_id for a in stream.answers if a.status == types_pb2.ORDER_STATUS_ACCEPTED}
    stored = {o.id for o in UserOrder.select()}
    assert accepted <= stored
    open_hedges = HedgePosition.select().where(HedgePosition.status.in_(("pending", "unknown")))
    assert [(h.id, h.status, h.failure_reason) for h in open_hedges] == []


def test_no_hedge_is_posted_as_two_venue_orders(stream: Stream) -> None:
    venue_ids = [o["id"] for o in stream.sim.exchange.orders(hedger_address())]
    assert len(venue_ids) == len(set(venue_ids))
    hedge_of = {h.venue_order_id: h.id for h in HedgePosition.select() if h.venue_order_id}
    assert set(venue_ids) <= hedge_of.keys(), "a venue order no hedge row accounts for"
    assert len({hedge_of[v] for v in venue_ids}) == len(venue_ids)


def _failed_taker_trades(sim: RunningSimulator) -> list[dict[str, Any]]:
    """The trades the hedger took that FAILED at settlement (its hedges are takers)."""
    me = hedger_address()
    return [t for t in sim.exchange.trades(me) if t["status"] == "FAILED" and t["maker_address"] == me]


def test_each_hedges_recorded_fill_is_what_the_venue_matched_less_its_failed_trades(stream: Stream) -> None:
    matched = {o["id"]: Decimal(str(o["size_matched"])) for o in stream.sim.exchange.orders(hedger_address())}
    undone: dict[str, Decimal] = defaultdict(Decimal)
    for trade in _failed_taker_trades(stream.sim):
        undone[str(trade["taker_order_id"])] += Decimal(str(trade["size"]))
    for hedge in HedgePosition.select().where(HedgePosition.venue_order_id.is_null(False)):
        venue = matched.get(hedge.venue_order_id, Decimal(0)) - undone[hedge.venue_order_id]
        assert hedge.filled_size == venue, (hedge.id, hedge.status)


def test_recorded_inventory_equals_the_simulators_balances(stream: Stream) -> None:
    assert _recorded_inventory() == _tokens(stream.sim)


def test_each_failed_trade_is_taken_out_once_with_its_event(stream: Stream) -> None:
    failed = sorted(str(t["id"]) for t in _failed_taker_trades(stream.sim))
    assert failed, "the stream met no FAILED trade of ours"
    recorded = sorted(t.trade_id for t in HedgeTrade.select().where(HedgeTrade.status == "failed"))
    assert recorded == failed
    events = HedgeEvent.select().where(HedgeEvent.event_type == "hedge_trade_failed")
    assert sorted(json.loads(e.data)["trade_id"] for e in events) == failed
