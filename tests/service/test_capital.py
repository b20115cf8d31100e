"""Hedge inventory redeemed at resolution and YES+NO pairs merged, through the official SDK against
the simulator's chain, exactly once: also with a crash between the request and its record, a refused
request, an answer lost and an answer late. The simulator's ledger is the ground truth of balances."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.domain.capital_transfer import TransferStep
from server.store import market_books
from server.store.advisory_locks import CAPITAL_CLASS, AdvisoryLocks
from server.store.capital_transfers import CapitalTransfers
from server.store.models import (
    CapitalTransfer,
    HedgeEvent,
    HedgePosition,
    MarketExposure,
    PolymarketMarketMapping,
)
from server.store.rows import position_of
from server.trading.capital import CapitalKeeper
from server.venue.positions_client import PositionsClient, chain_endpoints
from tests.harness import HEDGER_KEY, hedger_address, order_request, set_config, wait_until

MARKET = "fed-cut-december-2026"  # tick 0.01, no fee; asks 0.63 x 1700


def _mapping(slug: str = MARKET) -> PolymarketMarketMapping:
    return PolymarketMarketMapping.get(PolymarketMarketMapping.event_id == slug)


def _position() -> Any:
    return position_of(MarketExposure.get(MarketExposure.mapping == _mapping().id))


def _market(sim: Any, slug: str = MARKET) -> Any:
    return next(m for m in sim.exchange.markets if m.slug == slug)


def _settled() -> bool:
    return not HedgePosition.select().where(HedgePosition.settlement == "settling").exists()


def _hedged_then_resolved(service: Any, sim: Any, size: str = "10", slug: str = MARKET) -> Any:
    """A user buys `size` YES, the hedge buys as many at the venue and settles; then YES wins."""
    answer = service.stub.PlaceOrder(order_request(slug, types_pb2.SIDE_BUY, size), timeout=15)
    assert answer.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, answer.message
    wait_until(_settled, message="the hedge's trades to settle")
    market = _market(sim, slug)
    sim.exchange.resolve_market(market.condition_id, market.yes_token_id)
    service.call(service.runtime.market_states.follow_all())
    assert _mapping(slug).market_state == "resolved"
    return market


def _keeper(service: Any, sim: Any) -> CapitalKeeper:
    """A keeper of this test's (the service's own is stopped: one sender per wallet)."""
    endpoints = chain_endpoints(sim.url, sim.url + "/gamma", sim.url + "/rpc", 137)
    return CapitalKeeper(
        CapitalTransfers(service.runtime.store.db),
        PositionsClient(HEDGER_KEY, endpoints),
        service.runtime.db,
        lambda: list(PolymarketMarketMapping.select()),
        lambda: service.runtime.state.current.settings.merge_hedge_pairs,
    )


@pytest.fixture
def own(live: Any) -> Any:
    """The live service with its own keeper stopped, so each test drives passes itself."""
    assert live.runtime.capital is not None
    live.call(live.runtime.capital.stop())
    return live


def _usdc(sim: Any) -> Decimal:
    return Decimal(sim.exchange.balances(hedger_address())["usdc"])


def _txs(sim: Any) -> int:
    return len(sim.exchange.chain.transactions(hedger_address()))


def test_a_resolved_markets_hedge_shares_are_redeemed_once(own, sim):
    market = _hedged_then_resolved(own, sim)
    assert sim.exchange.token_balance(hedger_address(), market.yes_token_id) == Decimal(10)
    cash_before, usdc_before = _position().net_cash, _usdc(sim)
    keeper = _keeper(own, sim)

    assert own.call(keeper.pass_once()) is TransferStep.SEND  # recorded, sent, mined, applied
    assert own.call(keeper.pass_once()) is None  # nothing left to do, nothing sent again
    own.call(keeper.stop())

    # 10 winning shares paid 10 USDC, once, on chain and on the position.
    assert _usdc(sim) == usdc_before + 10
    assert sim.exchange.token_balance(hedger_address(), market.yes_token_id) == 0
    assert _txs(sim) == 1
    after = _position()
    assert (after.hedge_yes, after.hedge_no, after.net_cash) == (0, 0, cash_before + 10)
    assert (after.yes_reserved_for_sale, after.no_reserved_for_sale) == (0, 0)
    transfer = CapitalTransfer.get()
    assert (transfer.kind, transfer.status, transfer.proceeds, transfer.nonce) == ("redeem", "applied", 10, 0)
    event = HedgeEvent.get(HedgeEvent.event_type == "positions_redeemed")
    assert "10 YES and 0 NO redeemed for 10 USDC" in event.message


def test_a_crash_between_the_request_and_its_record_redeems_once(own, sim):
    market = _hedged_then_resolved(own, sim)
    usdc_before = _usdc(sim)
    crashing = _keeper(own, sim)
    transfers = crashing._transfers

    def crash(*args: Any) -> None:
        raise RuntimeError("process killed")

    transfers.note_hash = crash  # type: ignore[method-assign]  # dies right after the request
    with pytest.raises(RuntimeError, match="process killed"):
        own.call(crashing.pass_once())
    own.call(crashing.stop())  # (its connections; the process it stands for is gone)
    assert _txs(sim) == 1 and _usdc(sim) == usdc_before + 10  # the chain applied it
    assert CapitalTransfer.get().status == "open"  # ... but nothing here recorded it

    restarted = _keeper(own, sim)
    assert own.call(restarted.pass_once()) is TransferStep.APPLIED  # found by its nonce, not resent
    assert own.call(restarted.pass_once()) is None
    own.call(restarted.stop())
    assert _txs(sim) == 1 and _usdc(sim) == usdc_before + 10
    assert sim.exchange.token_balance(hedger_address(), market.yes_token_id) == 0
    assert (CapitalTransfer.get().status, _position().hedge_yes) == ("applied", 0)


@pytest.mark.parametrize(
    ("fault", "steps"),
    [
        # Refused before the chain saw it: the nonce is unused, so it is sent again.
        ("refuse", [TransferStep.SEND, TransferStep.SEND]),
        # Applied, its answer lost: found by its nonce and recorded, never resent.
        ("lost", [TransferStep.SEND, TransferStep.APPLIED]),
    ],
)
def test_an_injected_failure_ends_with_one_redemption(own, sim, fault, steps):
    _hedged_then_resolved(own, sim)
    usdc_before = _usdc(sim)
    keeper = _keeper(own, sim)
    sim.exchange.chain.fail_next(fault)
    assert [own.call(keeper.pass_once()) for _ in steps] == steps
    assert own.call(keeper.pass_once()) is None
    own.call(keeper.stop())
    assert _txs(sim) == 1 and _usdc(sim) == usdc_before + 10
    assert CapitalTransfer.get().status == "applied"
    assert CapitalTransfer.get().attempts == 1  # one nonce recorded, whatever the retries


def test_a_late_answer_is_waited_for_never_resent(own, sim):
    _hedged_then_resolved(own, sim)
    usdc_before = _usdc(sim)
    keeper = _keeper(own, sim)
    sim.exchange.chain.fail_next("pending")
    assert own.call(keeper.pass_once()) is TransferStep.SEND  # sent, not mined yet
    assert own.call(keeper.pass_once()) is TransferStep.WAIT
    assert _txs(sim) == 1 and _usdc(sim) == usdc_before and _position().hedge_yes == 10
    assert sim.exchange.chain.mine_pending() == 1
    assert own.call(keeper.pass_once()) is TransferStep.APPLIED
    own.call(keeper.stop())
    assert _txs(sim) == 1 and _usdc(sim) == usdc_before + 10 and _position().hedge_yes == 0


def test_nothing_is_redeemed_before_resolution_or_while_a_hedge_settles(own, sim):
    answer = own.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)
    assert answer.hedge_status == types_pb2.HEDGE_STATUS_HEDGED
    wait_until(_settled, message="the hedge's trades to settle")
    keeper = _keeper(own, sim)
    assert own.call(keeper.pass_once()) is None  # open market, merging off: nothing due
    mapping_id = _mapping().id
    assert CapitalTransfers(own.runtime.store.db).intend_redemption(mapping_id) is None
    HedgePosition.update(settlement="settling").execute()  # a trade not final yet
    PolymarketMarketMapping.update(
        market_state="resolved", winning_token_id=_market(sim).yes_token_id
    ).execute()
    assert CapitalTransfers(own.runtime.store.db).intend_redemption(mapping_id) is None
    own.call(keeper.stop())
    assert _txs(sim) == 0 and not CapitalTransfer.select().exists()


def test_merge_frees_the_pairs_capital_when_the_policy_allows(own, sim, pg_db):
    market = _market(sim)
    mapping_id = _mapping().id
    # Hedge inventory of 7 YES and 4 NO, held in the wallet and on the market's position.
    sim.exchange.fund(hedger_address(), 0, {market.yes_token_id: "7", market.no_token_id: "4"})
    MarketExposure.update(hedge_yes=Decimal(7), hedge_no=Decimal(4)).where(
        MarketExposure.mapping == mapping_id
    ).execute()
    before, usdc_before = _position(), _usdc(sim)
    wait_until(lambda: own.runtime.cash.available() == usdc_before, message="the wallet's balance read")
    keeper = _keeper(own, sim)
    assert own.call(keeper.pass_once()) is None  # off by default: nothing merged
    set_config(pg_db, mergeHedgePairs="true")
    wait_until(lambda: own.runtime.state.current.settings.merge_hedge_pairs, message="the config to load")

    assert own.call(keeper.pass_once()) is TransferStep.SEND
    assert own.call(keeper.pass_once()) is None  # no pairs left
    own.call(keeper.stop())
    # 4 pairs burnt for 4 USDC: 3 YES left, no NO; the position's losses unchanged.
    assert _usdc(sim) == usdc_before + 4
    assert sim.exchange.token_balance(hedger_address(), market.yes_token_id) == 3
    assert sim.exchange.token_balance(hedger_address(), market.no_token_id) == 0
    after = _position()
    assert (after.hedge_yes, after.hedge_no, after.net_cash) == (3, 0, before.net_cash + 4)
    assert (after.loss_if_yes, after.loss_if_no) == (before.loss_if_yes, before.loss_if_no)
    assert _txs(sim) == 1
    # The service sees the capital freed: the wallet's USDC for new hedges, as GetExposure shows it.
    wait_until(lambda: own.runtime.cash.available() == usdc_before + 4, message="the freed USDC")
    exposure = own.stub.GetExposure(pb.GetExposureRequest(), timeout=10)
    assert Decimal(exposure.totals.wallet_usdc_available) == usdc_before + 4
    event = HedgeEvent.get(HedgeEvent.event_type == "positions_merged")
    assert "4 YES and 4 NO merged for 4 USDC" in event.message


def test_one_process_sends_transfers_at_a_time(own, sim, pg_url):
    _hedged_then_resolved(own, sim)
    first, second = _keeper(own, sim), _keeper(own, sim)
    first._lock, second._lock = (
        AdvisoryLocks(pg_url, CAPITAL_CLASS, role="capital"),
        AdvisoryLocks(pg_url, CAPITAL_CLASS, role="capital"),
    )
    assert own.call(second.pass_once()) is TransferStep.SEND  # takes the wallet's lock, redeems
    assert own.call(first.pass_once()) is None  # stands by: the lock is the other's
    assert first._lock.owned == set()
    own.call(second.stop())  # its lock goes with its connection
    # PostgreSQL frees the lock once the other's session has ended: then this one keeps the
    # transfers, and finds nothing left to do.
    wait_until(lambda: own.call(first.pass_once()) is None and first._lock.owned == {0}, message="the lock")
    own.call(first.stop())
    assert _txs(sim) == 1 and CapitalTransfer.get().status == "applied"


def test_realised_books_reconcile_with_the_ledger_after_redemption_in_a_fee_market(own, sim, pg_db):
    """The whole life of a fee-charging market: the hedge's cost and taker fee leave the wallet, the
    redemption pays the winning shares back; the books' hedge side (- cost - fees + redemption) is
    exactly the wallet's USDC change, and the parts still sum to the realised P&L."""
    slug = "btc-above-150k-dec-31-2026"  # fee rate 0.07
    usdc_before = _usdc(sim)
    _hedged_then_resolved(own, sim, size="10", slug=slug)
    assert _usdc(sim) < usdc_before  # the fill and its fee were paid
    keeper = _keeper(own, sim)
    assert own.call(keeper.pass_once()) is TransferStep.SEND
    own.call(keeper.stop())

    books = next(b for b in market_books.read_books(pg_db) if b.mapping_id == _mapping(slug).id)
    assert books.final
    assert books.pnl.fees > 0 and books.pnl.redemption >= 10  # (a market BUY may fill a hair over)
    assert CapitalTransfer.get().proceeds == books.pnl.redemption  # what was paid is what the books count
    assert _usdc(sim) - usdc_before == books.pnl.redemption - books.pnl.hedge_cost - books.pnl.fees
    assert books.pnl.parts == books.pnl.realised
