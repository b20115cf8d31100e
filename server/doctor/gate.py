"""`live` only while every check passes: the start of `serve` and `up`, and setConfig(mode: live)."""

from __future__ import annotations

import asyncio
import logging

import peewee

from server import preflight
from server.doctor.report import EXIT_FAIL, Report, Status
from server.doctor.run import examine
from server.settings import Settings
from server.store import config as config_store
from server.store.db import bind, open_database

log = logging.getLogger(__name__)


class LiveRefused(preflight.StartupError):
    """The stored mode is live but a doctor check fails."""

    exit_status = EXIT_FAIL


async def live_refusal(settings: Settings) -> str | None:
    """Why `live` must not start now ("check: advice; ..."), or None. Logs every finding short of PASS."""
    report = await examine(settings, schema=False)
    _log(report)
    return report.refusal()


async def check_start(settings: Settings) -> None:
    """Raises `LiveRefused` when the stored mode is live and a check fails; otherwise only logs."""
    refusal = await live_refusal(settings)
    if refusal is not None and await asyncio.to_thread(stored_mode, settings.database_url) == "live":
        raise LiveRefused(
            f"mode is live but `hedging doctor` fails: {refusal} (fix it, or set mode to paper or off)"
        )


def stored_mode(database_url: str) -> str | None:
    """The stored `mode`, or None before it was ever set (or before the schema exists)."""
    database = bind(open_database(database_url))
    try:
        with database.connection_context():
            row = config_store.current_values(database).get("mode")
            return row.value if row is not None else None
    except peewee.DatabaseError:
        return None
    finally:
        database.close()


def _log(report: Report) -> None:
    for finding in report.findings:
        if finding.status is not Status.PASS:
            log.warning("doctor: %s %s: %s", finding.status.name, finding.check, finding.advice)
