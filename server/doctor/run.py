"""Runs every check against the configured venue, wallet and store, and gathers the report."""

from __future__ import annotations

import asyncio
import logging

import peewee

from server.doctor import venue_checks as venue
from server.doctor.facts import MappedMarket, mapped_markets
from server.doctor.probe import VenueProbe
from server.doctor.report import Finding, Report, Status, failed
from server.doctor.schema import check_schema
from server.doctor.wallet import check_wallet, key_address
from server.errors import HedgingError
from server.settings import Settings
from server.store.db import bind, open_database
from server.venue.client import ApiCredentials

log = logging.getLogger(__name__)


async def examine(settings: Settings, *, schema: bool = True) -> Report:
    """Every check. `schema=False` leaves out the migrations (for `serve`, which applies them itself)."""
    findings: list[Finding] = []
    if schema:
        findings.append(await asyncio.to_thread(check_schema, settings.database_url))
    markets = await asyncio.to_thread(_markets, settings.database_url)
    address = await asyncio.to_thread(key_address, settings)
    if settings.polymarket_url is None:
        findings.append(
            failed("venue", "POLYMARKET_CLOB_URL is not set: set it, as https://clob.polymarket.com")
        )
    else:
        findings += await _venue_findings(settings, settings.polymarket_url, address, markets)
    findings.append(check_wallet(settings, address))
    return Report(tuple(findings))


async def _venue_findings(
    settings: Settings, url: str, address: str | None, markets: list[MappedMarket]
) -> list[Finding]:
    timeout = float(settings.venue_timeout)
    probe = VenueProbe(url, timeout=timeout)
    try:
        reachable = await venue.check_reachable(probe, url)
        if reachable.status is Status.FAIL:
            return [reachable]  # the other checks would only repeat it
        clock, geoblock = await asyncio.gather(
            venue.check_clock(probe), venue.check_geoblock(settings.geoblock_url, timeout)
        )
        found = [reachable, clock, geoblock]
        if address is not None:
            found += await _wallet_findings(probe, settings, address, markets)
        return found + await venue.check_markets(probe, markets)
    finally:
        await probe.aclose()


async def _wallet_findings(
    probe: VenueProbe, settings: Settings, address: str, markets: list[MappedMarket]
) -> list[Finding]:
    try:
        credentials = await asyncio.to_thread(_credentials, settings)
    except HedgingError as exc:
        return [failed("credentials", f"{exc}: check POLYMARKET_PRIVATE_KEY")]
    signed = (credentials, address)
    auth = await venue.check_credentials(probe, signed)
    if auth.status is not Status.PASS:
        return [auth]
    return [auth, *await venue.check_funds(probe, signed, settings, markets)]


def _credentials(settings: Settings) -> ApiCredentials:
    from server.runtime import derive_credentials

    return derive_credentials(settings)


def _markets(database_url: str) -> list[MappedMarket]:
    """The active mappings, or none when the store cannot be read (the schema check says why)."""
    database = bind(open_database(database_url))
    try:
        return mapped_markets(database)
    except peewee.DatabaseError:
        log.debug("doctor: mappings not readable", exc_info=True)
        return []
    finally:
        database.close()
