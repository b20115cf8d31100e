"""The `hedging` command: serve, gateway, migrate, sim and up (everything at once on the embedded default)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable

from server.errors import ConfigurationError, HedgingError
from server.settings import Settings

log = logging.getLogger("hedging")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hedging", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the gRPC HedgingService")
    commands.add_parser("gateway", help="run the GraphQL admin gateway")
    commands.add_parser("migrate", help="apply pending database migrations")
    check = commands.add_parser(
        "check-totals", help="recount the running totals from the order and hedge rows and compare"
    )
    check.add_argument("--repair", action="store_true", help="write the recounted totals where they differ")
    commands.add_parser("sim", help="run the local Polymarket CLOB V2 simulator")
    commands.add_parser(
        "up", help="run the simulator, the gRPC server and the gateway on the embedded default"
    )
    args, rest = parser.parse_known_args(argv)

    try:
        settings = Settings.from_env(os.environ)
    except ConfigurationError as exc:
        print(f"hedging: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per venue request is noise at INFO; failures are logged by the service itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)

    if args.command == "sim":
        from server.sim.runner import main as sim_main

        host, _, port = settings.sim_listen.rpartition(":")
        return sim_main(["--host", host, "--port", port, *rest])
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        if args.command == "migrate":
            return _migrate(settings)
        if args.command == "check-totals":
            return _check_totals(settings, repair=args.repair)
        if args.command == "serve":
            from server.app import serve

            return _run(lambda stop: serve(settings, stop))
        if args.command == "gateway":
            from gateway.app import serve_gateway

            return _run(lambda stop: serve_gateway(settings, stop))
        from server.up import up

        return _run(lambda stop: up(settings, stop))
    except HedgingError as exc:
        print(f"hedging: {exc}", file=sys.stderr)
        return 1


def _migrate(settings: Settings) -> int:
    from server.store.db import bind, open_database
    from server.store.migrate import migrate

    applied = migrate(bind(open_database(settings.database_url)))
    print("applied: " + ", ".join(applied) if applied else "database is up to date")
    return 0


def _check_totals(settings: Settings, *, repair: bool) -> int:
    from server.store import market_totals, outcome_seconds
    from server.store.db import bind, open_database

    database = bind(open_database(settings.database_url))
    found = [
        line for m in (market_totals, outcome_seconds) for line in (m.repair if repair else m.check)(database)
    ]
    for line in found:
        print(line)
    if repair:
        print(f"repaired {len(found)} difference(s)" if found else "totals agree with the rows")
        return 0
    print(f"{len(found)} difference(s)" if found else "totals agree with the rows")
    return 1 if found else 0


def _run(body: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    """Runs `body` until it returns or SIGINT/SIGTERM sets its stop event."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await body(stop)

    asyncio.run(runner())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
