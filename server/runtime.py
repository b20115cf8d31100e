"""Builds and tears down everything a server process runs on: the database and its threads, the
venue client and credentials, the caches, the hedger and its resolver, and the order desk."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import peewee

from server.domain.order_bucket import OrderBudget
from server.errors import FailedPrecondition, Unavailable
from server.risk.services import RiskServices
from server.settings import Settings
from server.store.advisory_locks import CAPITAL_CLASS, SETTLEMENT_CLASS, AdvisoryLocks
from server.store.book_hedges import BookHedges
from server.store.capital_transfers import CapitalTransfers
from server.store.db import bind, open_connection, open_database
from server.store.migrate import migrate
from server.store.orders import OrderStore
from server.trading.books import BookCache
from server.trading.capital import CapitalKeeper
from server.trading.cash import CashWatch
from server.trading.desk import OrderDesk
from server.trading.dispatcher import Dispatcher
from server.trading.hedger import Hedger
from server.trading.market_states import MarketStateFollower
from server.trading.order_gate import OrderGate
from server.trading.rebalancer import Rebalancer
from server.trading.resolver import Resolver
from server.trading.settlement import SettlementFollower
from server.trading.state import StateCache
from server.venue.client import ApiCredentials, VenueClient
from server.venue.order_signing import OrderSigner
from server.venue.positions_client import PositionsClient, chain_endpoints
from server.venue.tick_feed import TickFeed, market_channel_url

log = logging.getLogger(__name__)
T = TypeVar("T")


class DatabaseRunner:
    """Runs blocking Peewee work on a pool of threads (`run_in_executor`), each with its own
    connection, as Peewee keeps one per thread. Work not yet started when its caller is cancelled is
    skipped; work once started runs to its end (a transaction is never cut short). A lost
    connection is dropped and reported as `Unavailable`."""

    def __init__(self, database: peewee.Database, threads: int) -> None:
        self.database = database
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="db")

    async def __call__(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, work)

    def _run(self, work: Callable[[], T]) -> T:
        try:
            open_connection(self.database)
            return work()
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            if not self.database.is_closed():
                self.database.close()  # the next call on this thread opens a fresh connection
            raise Unavailable(f"database unavailable ({type(exc).__name__})") from None

    def close(self) -> None:
        """Lets the work already handed over finish, then stops the threads."""
        self._pool.shutdown(wait=True)


def derive_credentials(settings: Settings) -> ApiCredentials:
    """The configured L2 credentials, else derived from the private key by the official client."""
    if settings.venue_credentials is not None:
        c = settings.venue_credentials
        return ApiCredentials(c.api_key, c.api_secret, c.api_passphrase)
    if settings.private_key is None or settings.polymarket_url is None:
        raise FailedPrecondition(
            "POLYMARKET_PRIVATE_KEY and POLYMARKET_CLOB_URL are needed to derive API credentials"
        )
    from py_clob_client_v2.client import ClobClient

    from server.secret import Secret

    client = ClobClient(
        settings.polymarket_url, chain_id=settings.chain_id, key=settings.private_key.reveal()
    )
    try:
        creds = client.create_or_derive_api_key()
    except Exception as exc:  # the client raises its own exception types
        raise Unavailable(
            f"could not create or derive Polymarket API credentials ({type(exc).__name__})"
        ) from None
    return ApiCredentials(Secret(creds.api_key), Secret(creds.api_secret), Secret(creds.api_passphrase))


@dataclass
class Runtime:
    settings: Settings
    db: DatabaseRunner
    store: OrderStore
    state: StateCache
    venue: VenueClient | None
    desk: OrderDesk
    resolver: Resolver | None
    services: RiskServices | None = None
    follower: SettlementFollower | None = None
    feed: TickFeed | None = None
    rebalancer: Rebalancer | None = None
    market_states: MarketStateFollower | None = None
    capital: CapitalKeeper | None = None
    cash: CashWatch | None = None
    gate: OrderGate | None = None

    @classmethod
    async def start(
        cls, settings: Settings, *, apply_migrations: bool = True, settle_fresh: bool = True
    ) -> Runtime:
        """Builds and starts everything. Before it returns, open hedges left by an earlier run are looked
        up at the venue: all of them with `settle_fresh`, else only those past the resolver's grace
        (set it off while other processes on the database may have hedges in flight: it would post
        their bytes a second time, which the venue refuses as a duplicate, leaving them UNKNOWN)."""
        database = bind(open_database(settings.database_url))
        db = DatabaseRunner(database, settings.db_threads)
        if apply_migrations:
            await db(lambda: migrate(database))
        state = StateCache(db)
        await state.start()
        venue = signer = hedger = resolver = None
        api_key = ""
        if settings.polymarket_url is not None and settings.private_key is not None:
            credentials = await asyncio.to_thread(derive_credentials, settings)
            signer = OrderSigner(
                settings.private_key.reveal(), settings.chain_id, settings.signature_type, settings.funder
            )
            venue = VenueClient(
                settings.polymarket_url,
                address=signer.address,
                credentials=credentials,
                timeout=float(settings.venue_timeout),
            )
            api_key = credentials.api_key.reveal()
        elif settings.polymarket_url is not None:
            raise FailedPrecondition("POLYMARKET_PRIVATE_KEY is required with POLYMARKET_CLOB_URL")
        else:
            raise FailedPrecondition(
                "POLYMARKET_CLOB_URL is required (hedging up runs a local simulator for you)"
            )
        books = BookCache(venue)
        services = RiskServices(settings, database, db, venue, DatabaseRunner(database, 4))
        store = OrderStore(database, announce=services.feed.announce)
        services.metrics.watch_mode(lambda: state.current.settings.mode)
        gate = OrderGate(venue.address, database, db, lambda: _order_budget(state))
        hedger = Hedger(
            store,
            venue,
            db,
            state.mapping_by_id,
            on_outcome=services.on_outcome,
            on_result=services.on_result,
            books=books,
            gate=gate,
            # A post refused with 429 goes again from `submit` only within half a venue timeout, so it
            # is answered inside the resolver's grace (two venue timeouts) and no resolver races it.
            patience=timedelta(seconds=float(settings.venue_timeout) / 2),
        )
        cash = CashWatch(venue, settings.signature_type, database, db)
        desk = OrderDesk(
            store=store,
            state=state,
            books=books,
            hedger=hedger,
            signer=signer,
            api_key=api_key,
            run_in_db=db,
            cash=cash,
        )
        resolver = Resolver(
            store, hedger, db, pending_grace=timedelta(seconds=float(settings.venue_timeout) * 2)
        )
        follower = SettlementFollower(
            store.trades,
            venue,
            db,
            state.mapping_by_id,
            lock=AdvisoryLocks(settings.database_url, SETTLEMENT_CLASS, "settlement"),
        )
        feed = TickFeed(
            market_channel_url(settings.polymarket_url),
            lambda: [m.yes_token_id for m in state.current.mappings.values() if m.active],
            lambda token, _tick: books.forget(token),
            books.forget_all,
        )
        runtime = cls(
            settings,
            db,
            store,
            state,
            venue,
            desk,
            resolver,
            follower=follower,
            feed=feed,
            cash=cash,
            gate=gate,
        )
        # Settle whatever an earlier run left open before taking new orders.
        settled = await resolver.resolve_all(include_fresh=settle_fresh)
        if settled:
            log.info("startup: looked up %d open hedges at the venue", settled)
        resolver.start()
        cash.start()
        follower.start()
        feed.start()
        runtime.rebalancer = Rebalancer(
            store=BookHedges(database),
            venue=venue,
            run_in_db=db,
            state=state,
            books=books,
            signer=signer,
            api_key=api_key,
            locks=AdvisoryLocks(settings.database_url),
            dispatcher=Dispatcher(venue, database, db, lambda: _order_budget(state)),
            pending_grace=timedelta(seconds=float(settings.venue_timeout) * 2),
        )
        runtime.rebalancer.start()
        runtime.market_states = MarketStateFollower(database, venue, state, db)
        runtime.market_states.start()
        runtime.capital = _capital_keeper(settings, database, db, state)
        if runtime.capital is not None:
            runtime.capital.start()
        runtime.services = services
        await services.start(
            store=store, hedger=hedger, books=books, signer=signer, api_key=api_key, state=state
        )
        return runtime

    async def stop(self) -> None:
        if self.services is not None:
            await self.services.stop()
        if self.rebalancer is not None:
            await self.rebalancer.stop()
        if self.market_states is not None:
            await self.market_states.stop()
        if self.capital is not None:
            await self.capital.stop()
        if self.cash is not None:
            await self.cash.stop()
        if self.resolver is not None:
            await self.resolver.stop()
        if self.follower is not None:
            await self.follower.stop()
        if self.feed is not None:
            await self.feed.stop()
        if self.gate is not None:
            await self.gate.stop()
        await self.state.stop()
        if self.venue is not None:
            await self.venue.aclose()
        self.db.close()
        self.db.database.close()


def _order_budget(state: StateCache) -> OrderBudget:
    """The signer's venue order budget as configured (`venueOrderRate`, `venueOrderBurst`)."""
    settings = state.current.settings
    return OrderBudget(settings.venue_order_rate, settings.venue_order_burst)


def _capital_keeper(
    settings: Settings, database: peewee.Database, db: DatabaseRunner, state: StateCache
) -> CapitalKeeper | None:
    """The redeemer and merger of hedge inventory, for an EOA wallet (signature type 0): the SDK's
    gasless flows for proxy and safe wallets go through Polymarket's relayer, not modelled here."""
    if settings.signature_type != 0 or settings.private_key is None or settings.polymarket_url is None:
        log.warning("capital: redemption and merges are off (they need an EOA wallet, signature type 0)")
        return None
    endpoints = chain_endpoints(
        settings.polymarket_url, settings.gamma_url, settings.rpc_url, settings.chain_id
    )
    return CapitalKeeper(
        CapitalTransfers(database),
        PositionsClient(settings.private_key.reveal(), endpoints, timeout=float(settings.venue_timeout)),
        db,
        lambda: [m for m in state.current.mappings.values() if m.active],
        lambda: state.current.settings.merge_hedge_pairs,
        lock=AdvisoryLocks(settings.database_url, CAPITAL_CLASS, role="capital"),
    )
