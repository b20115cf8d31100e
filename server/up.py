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
from typing import TYPE_CHECKING

from server.app import DRAIN_NOTICE_SECONDS, metrics_banner, start_service
from server.doctor.gate import LiveRefused, live_refusal, stored_mode
from server.heap import freeze_startup_heap
from server.secret import Secret
from server.settings import Settings
from server.store import config as config_store
from server.store import mappings as mapping_store
from server.store.db import bind, open_database
from server.store.migrate import migrate
from server.store.models import HedgeConfig, PolymarketMarketMapping
from server.venue.order_signing import OrderSigner

if TYPE_CHECKING:
    from server.sim.runner import RunningSimulator

log = logging.getLogger(__name__)

# The simulator's books drift a tick at a time. A hedge's FOK limit is the price its quote walked the
# book to, so a book that moved between the quote's read and the hedge's post made it fail now and
# then, which the demo should not show: books are reused for at most 0.5 s here, and the mover leaves
# a market whose book was read in the last MOVER_HOLD seconds alone.
DEMO_CONFIG = {"maxBookAgeMs": "500"}
DEMO_REASON = "demo: quotes read the simulator's drifting books afresh every 0.5 s"
MOVER_HOLD = 2.0


def _prepare_store(settings: Settings, markets: list[object], refusal: str | None) -> list[tuple[str, str]]:
    """Migrates, maps every simulator market once and turns live hedging on for a fresh store (paper
    when `refusal` says why a doctor check forbids live)."""
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


def refuse_next_hedge(sim: RunningSimulator) -> None:
    """The simulator answers the next order post with 400: one hedge FAILED, as the venue refuses."""
    sim.exchange.inject_fault("/order", 1, "before", status=400, method="POST")


async def up(settings: Settings, stop: asyncio.Event) -> None:
    from server.demo import drive, stock_wallet
    from server.sim.runner import start_simulator

    host, _, port = settings.sim_listen.rpartition(":")
    sim = await asyncio.to_thread(start_simulator, host=host, port=int(port), move_books=True)
    sim.mover.hold = MOVER_HOLD
    settings = replace(
        settings,
        polymarket_url=sim.url,
        private_key=settings.private_key or Secret("0x" + secrets.token_hex(32)),
        venue_credentials=None,
        dev_mode=settings.dev_mode or not settings.admin_tokens,
        geoblock_url=sim.url + "/api/geoblock",
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
    runtime, server = await start_service(settings)
    grpc_host = settings.grpc_listen.rpartition(":")[0]
    gateway = None
    try:
        gateway_app = importlib.import_module("gateway.app")
    except ImportError:
        log.warning("the GraphQL gateway is not installed; running without it")
    else:
        gateway = await gateway_app.start_gateway(settings)
    freeze_startup_heap()
    print(f"CLOB V2 simulator listening on {sim.url}", flush=True)
    print(f"gRPC HedgingService listening on {grpc_host}:{server.port}", flush=True)
    print(metrics_banner(settings, runtime), flush=True)
    if gateway is not None:
        print(f"GraphQL gateway listening on {gateway.url}", flush=True)
        print(f"operator console on {gateway.console_url}", flush=True)
    print(f"store: {settings.database_url}; demo orders on {len(pairs)} markets; Ctrl-C to stop", flush=True)
    demo = asyncio.create_task(
        drive(f"{grpc_host}:{server.port}", pairs, stop, inject_failure=lambda: refuse_next_hedge(sim))
    )
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
