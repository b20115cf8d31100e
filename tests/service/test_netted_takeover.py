"""Two server processes (two workers each) on one netted market: the process whose worker works the
market's rebalancer is killed with SIGKILL while a hedge's answer is on its way, three times over.
Another takes the market over, settles the orphaned hedge by its hash and covers the market again;
in the end the venue's inventory is the recorded one and no hedge reached the venue twice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hedging.v1 import types_pb2
from server.store import mappings as mapping_store
from server.store.advisory_locks import LOCK_CLASS
from server.store.models import BookHedge, MarketExposure
from tests.harness import ServerProcess, hedger_address, order_request, server_env, set_config, wait_until

MARKET = "fed-cut-december-2026"  # no fee, tick 0.01, venue minimum 5


def owner_pid(pg_db: Any, mapping_id: int) -> int | None:
    """The pid of the worker whose rebalancer holds the market's lock, if any."""
    row = pg_db.execute_sql(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = %s AND l.granted",
        (LOCK_CLASS, mapping_id),
    ).fetchone()
    return int(row[0].rsplit("-", 1)[1]) if row else None


def covered(mapping_id: int) -> bool:
    """No hedge of the market open, and what its hedges hold is within the venue's minimum of what
    users are owed."""
    if BookHedge.select().where(BookHedge.status.in_(["pending", "unknown"])).exists():
        return False
    p = MarketExposure.get(MarketExposure.mapping == mapping_id)
    return abs(p.user_shares - p.hedge_yes + p.hedge_no) < 5


def test_killing_the_rebalancers_process_mid_flow_repeatedly_loses_and_duplicates_nothing(
    pg_db, pg_url, sim, mappings
):
    set_config(pg_db, mode="live")
    mapping = mappings[MARKET]
    mapping_store.update(
        pg_db,
        mapping.id,
        author="test",
        hedge_overrides={"hedgePolicy": "netted", "hedgeMinShares": "5", "hedgeMaxDelayMs": "200"},
    )
    env = {**server_env(pg_url, sim.url), "HEDGING_VENUE_TIMEOUT_SECONDS": "10"}
    servers = [ServerProcess(env), ServerProcess(env)]
    address = hedger_address()
    accepted = 0
    try:
        for _round in range(3):
            before = len(sim.exchange.orders(address))
            # The venue takes the next batch, then holds its answer: the poster dies waiting for it.
            sim.exchange.inject_fault("/orders", 1, "after", delay=30.0, method="POST")
            for _ in range(3):
                response = servers[0].stub.PlaceOrder(
                    order_request(MARKET, types_pb2.SIDE_BUY, "3"), timeout=10
                )
                accepted += response.status == types_pb2.ORDER_STATUS_ACCEPTED
            wait_until(
                lambda n=before: len(sim.exchange.orders(address)) > n, timeout=20, message="a hedge posted"
            )
            pid = wait_until(lambda: owner_pid(pg_db, mapping.id), message="the market's owner")
            (victim,) = [s for s in servers if pid in s.worker_pids]
            assert BookHedge.select().where(BookHedge.status == "pending").exists()
            victim.kill()
            servers.remove(victim)
            # The survivor takes the market over, settles the orphan by its hash and covers the
            # market again within seconds; then a fresh process joins for the next round.
            wait_until(lambda: covered(mapping.id), timeout=10, message="the market covered again")
            assert owner_pid(pg_db, mapping.id) in servers[0].worker_pids
            servers.append(ServerProcess(env))
    finally:
        for server in servers:
            server.stop()
    assert accepted == 9

    hedges = list(BookHedge.select())
    venue_orders = sim.exchange.orders(address)
    ids = [o["id"] for o in venue_orders]
    # No hedge reached the venue twice, and every venue order is a recorded hedge.
    assert len(ids) == len(set(ids))
    assert set(ids) <= {h.venue_order_id for h in hedges}
    assert all(h.status == "hedged" for h in hedges)
    # The venue's inventory is the recorded one.
    market = next(m for m in sim.exchange.markets if m.slug == MARKET)
    tokens = sim.exchange.balances(address)["tokens"]
    position = MarketExposure.get(MarketExposure.mapping == mapping.id)
    assert Decimal(str(tokens.get(market.yes_token_id, 0))) == position.hedge_yes
    assert Decimal(str(tokens.get(market.no_token_id, 0))) == position.hedge_no
    assert sum(h.filled_size for h in hedges) == position.hedge_yes
    assert position.user_shares == 27
