"""`hedging up`: the whole system on the embedded default, in one process.

The local CLOB V2 simulator (with moving books), a SQLite store in the working directory (unless
DATABASE_URL says otherwise), the gRPC HedgingService, the GraphQL gateway and a trickle of demo orders.
Without POLYMARKET_PRIVATE_KEY a throwaway key is made for the simulator; it is never printed."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import secrets
from dataclasses import replace

from server.app import DRAIN_NOTICE_SECONDS, metrics_banner, start_service
from server.secret import Secret
from server.settings import Settings
from server.store import config as config_store
from server.store import mappings as mapping_store
from server.store.db import bind, open_database
from server.store.migrate import migrate
from server.store.models import HedgeConfig, PolymarketMarketMapping

log = logging.getLogger(__name__)


def _prepare_store(settings: Settings, markets: list[object]) -> list[tuple[str, str]]:
    """Migrates, maps every simulator market once and turns live hedging on for a fresh store."""
    database = bind(open_database(settings.database_url))
    with database.connection_context():
        migrate(database)
        if PolymarketMarketMapping.select().count() == 0:
            for m in markets:
                mapping_store.create(
                    database,
                    mapping_store.MappingSpec(
                        event_id=m.slug,  # type: ignore[attr-defined]
                        outcome="YES",
                        condition_id=m.condition_id,  # type: ignore[attr-defined]
                        yes_token_id=m.yes_token_id,  # type: ignore[attr-defined]
                        no_token_id=m.no_token_id,  # type: ignore[attr-defined]
                        neg_risk=m.neg_risk,  # type: ignore[attr-defined]
                        tick_size=m.tick_size,  # type: ignore[attr-defined]
                        min_order_size=m.min_order_size,  # type: ignore[attr-defined]
                        fee_rate=m.fee_rate,  # type: ignore[attr-defined]
                        fee_exponent=m.fee_exponent,  # type: ignore[attr-defined]
                        question=m.question,  # type: ignore[attr-defined]
                    ),
                    author="hedging up",
                )
        if HedgeConfig.get_or_none(HedgeConfig.key == "mode") is None:
            config_store.set_value(
                database, "mode", "live", author="hedging up", reason="local demo against the CLOB simulator"
            )
        pairs = [
            (m.event_id, m.outcome)
            for m in PolymarketMarketMapping.select().where(PolymarketMarketMapping.active)
        ]
    database.close()
    return pairs


async def up(settings: Settings, stop: asyncio.Event) -> None:
    from server.demo import drive
    from server.sim.runner import start_simulator

    host, _, port = settings.sim_listen.rpartition(":")
    sim = await asyncio.to_thread(start_simulator, host=host, port=int(port), move_books=True)
    settings = replace(
        settings,
        polymarket_url=sim.url,
        private_key=settings.private_key or Secret("0x" + secrets.token_hex(32)),
        venue_credentials=None,
        dev_mode=settings.dev_mode or not settings.admin_tokens,
    )
    pairs = await asyncio.to_thread(_prepare_store, settings, list(sim.exchange.markets))
    runtime, server = await start_service(settings)
    grpc_host = settings.grpc_listen.rpartition(":")[0]
    gateway = None
    try:
        gateway_app = importlib.import_module("gateway.app")
    except ImportError:
        log.warning("the GraphQL gateway is not installed; running without it")
    else:
        gateway = await gateway_app.start_gateway(settings)
    print(f"CLOB V2 simulator listening on {sim.url}", flush=True)
    print(f"gRPC HedgingService listening on {grpc_host}:{server.port}", flush=True)
    print(metrics_banner(settings, runtime), flush=True)
    if gateway is not None:
        print(f"GraphQL gateway listening on {gateway.url}", flush=True)
    print(f"store: {settings.database_url}; demo orders on {len(pairs)} markets; Ctrl-C to stop", flush=True)
    demo = asyncio.create_task(drive(f"{grpc_host}:{server.port}", pairs, stop))
    try:
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await demo
        if gateway is not None:
            await gateway.stop()
        await server.stop(notice=DRAIN_NOTICE_SECONDS)
        await runtime.stop()
        await asyncio.to_thread(sim.stop)
