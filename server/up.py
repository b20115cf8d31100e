"""`hedging up`: the whole system.

The local CLOB V2 simulator (with moving books), the gRPC HedgingService, the GraphQL gateway and a
trickle of demo orders, on the database DATABASE_URL names or, without it, on PostgreSQL of its own
in ./hedging-data/postgres (reused across runs, stopped on exit). Without POLYMARKET_PRIVATE_KEY a
throwaway key is made for the simulator; it is never printed.

The gRPC service runs as `hedging serve --workers N` (`--workers`, default 2). Its supervisor is forked
first (`ServeWorkers.fork`), before this process starts the simulator's and the gateway's threads and
event loop, which a forked worker must not inherit; it waits for the simulator's and the database's
URLs (`start`), then forks the workers."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import secrets
import signal
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg2

from server.app import DRAIN_NOTICE_SECONDS, metrics_banner, serve_banner, start_service
from server.doctor.gate import LiveRefused, live_refusal, stored_mode
from server.preflight import EXIT_FAILED, EXIT_OK, StartupError, describe_database
from server.secret import Secret
from server.settings import Settings
from server.store import config as config_store
from server.store import local_postgres
from server.store import mappings as mapping_store
from server.store.db import bind, open_database
from server.store.migrate import migrate
from server.store.models import HedgeConfig, PolymarketMarketMapping
from server.venue.order_signing import OrderSigner
from server.workers import Ready, die_with_parent, fork

if TYPE_CHECKING:
    from server.sim.markets import SimMarket
    from server.sim.runner import RunningSimulator


log = logging.getLogger(__name__)

# The simulator's books drift a tick at a time. A hedge's FOK limit is the price its quote walked the
# book to, so a book that moved between the quote's read and the hedge's post made it fail now and
# then, which the demo should not show: books are reused for at most 0.5 s here, and the mover leaves
# a market whose book was read in the last MOVER_HOLD seconds alone.
DEMO_CONFIG = {"maxBookAgeMs": "500"}
DEMO_REASON = "demo: quotes read the simulator's drifting books afresh every 0.5 s"
MOVER_HOLD = 2.0

DATA_DIR = Path("hedging-data") / "postgres"
DATABASE = "hedging"


@contextlib.contextmanager
def local_database(settings: Settings) -> Iterator[Settings]:
    """`settings` as they are when DATABASE_URL is set; otherwise starts PostgreSQL in `DATA_DIR`
    (under the working directory; created or reused), makes sure its `hedging` database exists and
    yields the settings pointed at it, stopping the server on leaving."""
    if settings.database_url:
        yield settings
        return
    binaries = local_postgres.default_binaries()
    print(f"starting PostgreSQL ({binaries.source}) in {DATA_DIR.absolute()}", flush=True)
    with local_postgres.running(DATA_DIR, binaries) as server:
        admin = psycopg2.connect(server.url)
        admin.autocommit = True
        try:
            with admin.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            admin.close()
        url = server.database_url(DATABASE)
        print(f"PostgreSQL listening on {url} (data in {server.data_dir})", flush=True)
        yield replace(settings, database_url=url)


def sim_mapping_spec(m: SimMarket) -> mapping_store.MappingSpec:
    """The mapping of a simulator market to the platform event named by its slug (outcome YES)."""
    return mapping_store.MappingSpec(
        event_id=m.slug,
        outcome="YES",
        condition_id=m.condition_id,
        yes_token_id=m.yes_token_id,
        no_token_id=m.no_token_id,
        neg_risk=m.neg_risk,
        tick_size=m.tick_size,
        min_order_size=m.min_order_size,
        fee_rate=m.fee_rate,
        fee_exponent=m.fee_exponent,
        question=m.question,
    )


def _prepare_store(
    settings: Settings, markets: list[SimMarket], refusal: str | None
) -> list[tuple[str, str]]:
    """Migrates, maps every simulator market once and turns live hedging on for a fresh store (paper
    when `refusal` says why a doctor check forbids live)."""
    database = bind(open_database(settings.database_url))
    with database.connection_context():
        migrate(database)
        if PolymarketMarketMapping.select().count() == 0:
            for m in markets:
                mapping_store.create(database, sim_mapping_spec(m), author="hedging up")
        if HedgeConfig.get_or_none(HedgeConfig.key == "mode") is None:
            mode, reason = (
                ("live", "local demo against the CLOB simulator")
                if refusal is None
                else ("paper", f"live refused: {refusal}")
            )
            config_store.set_value(database, "mode", mode, author="hedging up", reason=reason)
            for name, value in DEMO_CONFIG.items():
                config_store.set_value(database, name, value, author="hedging up", reason=DEMO_REASON)
        pairs = [
            (m.event_id, m.outcome)
            for m in PolymarketMarketMapping.select().where(PolymarketMarketMapping.active)
        ]
    database.close()
    return pairs


def demo_settings(settings: Settings) -> Settings:
    """`up`'s settings before anything starts: a throwaway key unless one is configured, and anonymous
    gateway access unless tokens are."""
    return replace(
        settings,
        private_key=settings.private_key or Secret("0x" + secrets.token_hex(32)),
        venue_credentials=None,
        dev_mode=settings.dev_mode or not settings.admin_tokens,
    )


Serve = Callable[[Settings, Callable[[Ready], None]], int]


class WorkersFailed(StartupError):
    """The gRPC workers stopped before serving (their supervisor said why on stderr)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the gRPC workers did not start (exit status {status})")
        self.exit_status = status if status > 0 else EXIT_FAILED


class ServeWorkers:
    """`up`'s gRPC service: `hedging serve --workers N` in a child of this process."""

    def __init__(self, pid: int, go: int, ready: int) -> None:
        self._pid, self._go, self._ready = pid, go, ready

    @classmethod
    def fork(cls, serve: Serve, settings: Settings) -> ServeWorkers:
        """Forks the supervisor (call before any thread or event loop starts here); it waits for
        `start`, or exits 0 if this process ends first."""
        go_read, go_write = os.pipe()
        ready_read, ready_write = os.pipe()

        def supervise(parent: int) -> int:
            os.close(go_write)
            os.close(ready_read)
            die_with_parent(parent)
            return _supervise(serve, settings, go_read, ready_write)

        pid = fork(supervise)
        os.close(go_read)
        os.close(ready_write)
        return cls(pid, go_write, ready_read)

    async def start(self, settings: Settings) -> Ready:
        """Hands over the venue and database `up` settled on; returns once every worker serves."""
        go = {
            "polymarket_url": settings.polymarket_url,
            "database_url": settings.database_url,
            "geoblock_url": settings.geoblock_url,
            "gamma_url": settings.gamma_url,
            "rpc_url": settings.rpc_url,
        }
        os.write(self._go, (json.dumps(go) + "\n").encode())
        line = await asyncio.to_thread(self._read_line)
        if not line:
            raise WorkersFailed(await asyncio.to_thread(self._wait))
        ready = json.loads(line)
        return Ready(ready["port"], tuple(ready["pids"]), tuple(ready["metrics_ports"]))

    async def stop(self) -> int:
        """SIGTERM: every worker drains; returns the supervisor's exit status."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGTERM)
        return await asyncio.to_thread(self._wait)

    def close(self) -> None:
        for fd in (self._go, self._ready):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _read_line(self) -> str:
        data = b""
        while not data.endswith(b"\n"):
            chunk = os.read(self._ready, 4096)
            if not chunk:
                return ""
            data += chunk
        return data.decode()

    def _wait(self) -> int:
        try:
            return os.waitstatus_to_exitcode(os.waitpid(self._pid, 0)[1])
        except ChildProcessError:
            return EXIT_OK  # already reaped


def _supervise(serve: Serve, settings: Settings, go_read: int, ready_write: int) -> int:
    with os.fdopen(go_read) as go:
        line = go.readline()
    if not line:
        return EXIT_OK  # `up` stopped before it needed the workers
    settings = replace(settings, **json.loads(line))

    def announce(ready: Ready) -> None:
        os.write(ready_write, (json.dumps(asdict(ready)) + "\n").encode())

    return serve(settings, announce)


def refuse_next_hedge(sim: RunningSimulator) -> None:
    """The simulator answers the next order post with 400: one hedge FAILED, as the venue refuses."""
    sim.exchange.inject_fault("/order", 1, "before", status=400, method="POST")


async def up(settings: Settings, stop: asyncio.Event, workers: ServeWorkers | None = None) -> None:
    """Runs everything until `stop`; the gRPC service in `workers` when given, else in this process."""
    from server.demo import drive, stock_wallet
    from server.sim.runner import start_simulator

    host, _, port = settings.sim_listen.rpartition(":")
    sim = await asyncio.to_thread(start_simulator, host=host, port=int(port), move_books=True)
    sim.mover.hold = MOVER_HOLD
    settings = replace(
        settings,
        polymarket_url=sim.url,
        geoblock_url=sim.url + "/api/geoblock",
        gamma_url=sim.url + "/gamma",
        rpc_url=sim.url + "/rpc",
    )
    assert settings.private_key is not None
    signer = OrderSigner(
        settings.private_key.reveal(), settings.chain_id, settings.signature_type, settings.funder
    )
    tokens = [t for m in sim.exchange.markets for t in (m.yes_token_id, m.no_token_id)]
    stock_wallet(sim.exchange, signer.maker, tokens)
    refusal = await live_refusal(settings)
    if refusal is not None:
        if await asyncio.to_thread(stored_mode, settings.database_url) == "live":
            raise LiveRefused(f"mode is live but `hedging doctor` fails: {refusal}")
        print(f"live refused, hedging in paper mode: {refusal}", flush=True)
    pairs = await asyncio.to_thread(_prepare_store, settings, list(sim.exchange.markets), refusal)
    runtime = server = None
    try:
        if workers is not None:
            ready = await workers.start(settings)
            grpc_port, banner = ready.port, serve_banner(settings, ready).split("\n", 1)[1]
        else:
            runtime, server = await start_service(settings)
            grpc_port, banner = server.port, metrics_banner(settings, runtime)
    except BaseException:
        await asyncio.to_thread(sim.stop)
        raise
    grpc_host = settings.grpc_listen.rpartition(":")[0]
    gateway = None
    try:
        gateway_app = importlib.import_module("gateway.app")
    except ImportError:
        log.warning("the GraphQL gateway is not installed; running without it")
    else:
        gateway = await gateway_app.start_gateway(settings)
    print(f"CLOB V2 simulator listening on {sim.url}", flush=True)
    print(f"gRPC HedgingService listening on {grpc_host}:{grpc_port}", flush=True)
    print(banner, flush=True)
    if gateway is not None:
        print(f"GraphQL gateway listening on {gateway.url}", flush=True)
        print(f"operator console on {gateway.console_url}", flush=True)
    print(
        f"store: {describe_database(settings.database_url)}; demo orders on {len(pairs)} markets; Ctrl-C to stop",
        flush=True,
    )
    demo = asyncio.create_task(
        drive(f"{grpc_host}:{grpc_port}", pairs, stop, inject_failure=lambda: refuse_next_hedge(sim))
    )
    try:
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await demo
        if gateway is not None:
            await gateway.stop()
        if workers is not None:
            status = await workers.stop()
            if status != EXIT_OK:
                log.error("the gRPC workers stopped with exit status %d", status)
        if server is not None and runtime is not None:
            await server.stop(notice=DRAIN_NOTICE_SECONDS)
            await runtime.stop()
        await asyncio.to_thread(sim.stop)
