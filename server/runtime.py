"""Builds and tears down everything a server process runs on: the database and its threads, the
venue client and credentials, the caches, the hedger and its resolver, and the order desk."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import peewee

from server.errors import FailedPrecondition, Unavailable
from server.risk.services import RiskServices
from server.settings import Settings
from server.store.db import bind, open_connection, open_database
from server.store.group_commit import GroupCommit, Queued
from server.store.migrate import migrate
from server.store.orders import OrderStore
from server.trading.books import BookCache
from server.trading.desk import OrderDesk
from server.trading.hedger import Hedger
from server.trading.resolver import Resolver
from server.trading.state import StateCache
from server.venue.client import ApiCredentials, VenueClient
from server.venue.order_signing import OrderSigner

log = logging.getLogger(__name__)
T = TypeVar("T")


class DatabaseRunner:
    """Runs blocking Peewee work on a fixed set of threads, each keeping its own connection.

    The hand-off is one queue put and one `call_soon_threadsafe` back: half the cost per call of
    `run_in_executor` (its futures, locks and chained callbacks) here, paid on the event loop that
    every request shares. As with an executor, work not yet started when its caller is cancelled is
    skipped, and work once started always runs to its end (a transaction is never cut short). Writes
    to a market's position (`join`) wait in the market's group-commit queue, not on a thread."""

    def __init__(self, database: peewee.Database, threads: int) -> None:
        self.database = database
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()  # no job is queued behind the stop marks of `close`
        self._closed = False
        self._threads = [
            threading.Thread(target=self._serve, name=f"db-{n}", daemon=True) for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    async def __call__(self, work: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the database runner is closed")
            self._jobs.put((loop, future, work))
        return await future

    async def join(self, group: GroupCommit[Any], queued: Queued[Any]) -> Any:
        """Runs a write with its market's group commit; returns its answer or raises its error. It
        holds no thread while it waits: only the write that finds its market idle takes one, to
        drain the market's queue (a lost connection is dropped and reported as `Unavailable`, as
        for any other work here)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def settle(answer: Any, error: BaseException | None) -> None:
            if isinstance(error, peewee.OperationalError | peewee.InterfaceError):
                error = _unavailable(error)
            outcome = (True, answer) if error is None else (False, error)
            try:
                loop.call_soon_threadsafe(_settle, future, outcome)
            except RuntimeError:
                pass  # the caller's event loop is closed: nobody is waiting

        with self._lock:  # so a drain, once needed, is queued before any stop mark of `close`
            if self._closed:
                raise RuntimeError("the database runner is closed")
            if group.offer(queued.mapping_id, queued.work, settle, future.cancelled):
                self._jobs.put((loop, None, lambda: group.drain(queued.mapping_id)))
        return await future

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, work = job
            if future is None:
                self._drain(work)
                continue
            if future.cancelled():
                continue
            try:
                outcome: tuple[bool, Any] = (True, self._run(work))
            except BaseException as exc:  # handed to the caller, whatever it is
                outcome = (False, exc)
            try:
                loop.call_soon_threadsafe(_settle, future, outcome)
            except RuntimeError:
                pass  # the caller's event loop is closed: nobody is waiting

    def _run(self, work: Callable[[], T]) -> T:
        try:
            open_connection(self.database)
            return work()
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            self._drop_connection()
            raise _unavailable(exc) from None

    def _drain(self, drain: Callable[[], None]) -> None:
        """A market's group commit (`join`). It settles each of its writes with that write's answer or
        error, so none reaches this thread; a connection it broke is dropped here."""
        try:
            open_connection(self.database)
        except (peewee.OperationalError, peewee.InterfaceError):
            pass  # then each write finds the database unavailable itself
        try:
            drain()
        except Exception:
            log.exception("a group commit stopped")
        finally:
            if not self.database.is_closed() and not self.database.is_connection_usable():
                self._drop_connection()

    def _drop_connection(self) -> None:
        """A broken connection is dropped so the next call on this thread opens a fresh one."""
        if not self.database.is_closed():
            self.database.close()

    def close(self) -> None:
        """Lets the work already handed over finish, then stops the threads."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for _ in self._threads:
                self._jobs.put(None)
        for thread in self._threads:
            thread.join()


_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any] | None", Callable[[], Any]]


def _unavailable(exc: BaseException) -> Unavailable:
    return Unavailable(f"database unavailable ({type(exc).__name__})")


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if future.cancelled():
        return
    done, value = outcome
    if done:
        future.set_result(value)
    else:
        future.set_exception(value)


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
        services.metrics.watch_store(store.group_counts)
        services.metrics.watch_mode(lambda: state.current.settings.mode)
        hedger = Hedger(
            store,
            venue,
            db,
            state.mapping_by_id,
            on_outcome=services.on_outcome,
            on_result=services.on_result,
            books=books,
        )
        desk = OrderDesk(
            store=store, state=state, books=books, hedger=hedger, signer=signer, api_key=api_key, run_in_db=db
        )
        resolver = Resolver(
            store, hedger, db, pending_grace=timedelta(seconds=float(settings.venue_timeout) * 2)
        )
        runtime = cls(settings, db, store, state, venue, desk, resolver)
        # Settle whatever an earlier run left open before taking new orders.
        settled = await resolver.resolve_all(include_fresh=settle_fresh)
        if settled:
            log.info("startup: looked up %d open hedges at the venue", settled)
        resolver.start()
        runtime.services = services
        await services.start(
            store=store, hedger=hedger, books=books, signer=signer, api_key=api_key, state=state
        )
        return runtime

    async def stop(self) -> None:
        if self.services is not None:
            await self.services.stop()
        if self.resolver is not None:
            await self.resolver.stop()
        await self.state.stop()
        if self.venue is not None:
            await self.venue.aclose()
        self.db.close()
        self.db.database.close()
