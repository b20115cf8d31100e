"""The `hedging` command: serve, gateway, migrate, sim and up (everything at once on the embedded default)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable

import peewee

from server import preflight
from server.errors import ConfigurationError, HedgingError
from server.log_format import configure_logging
from server.settings import Settings, variables_of
from server.version import version

log = logging.getLogger("hedging")

COMMANDS = {
    "serve": "run the gRPC HedgingService (applies pending migrations first)",
    "gateway": "run the GraphQL admin gateway (the database must be migrated)",
    "migrate": "apply pending database migrations; re-running does nothing",
    "check-totals": "recount the running totals from the order and hedge rows and compare (exit 1 on a difference)",
    "sim": "run the local Polymarket CLOB V2 simulator",
    "doctor": "check the venue, the wallet and the database before trading live (PASS/WARN/FAIL)",
    "up": "run the simulator, the gRPC server and the gateway on the embedded default",
}

EXIT_STATUSES = f"""exit status:
  {preflight.EXIT_OK}  stopped cleanly (or, for migrate, the database is up to date)
  {preflight.EXIT_FAILED}  any other failure (one line on stderr says which)
  {preflight.EXIT_USAGE}  bad command line or malformed environment variable
  {preflight.EXIT_CANNOT_LISTEN}  a listen address is in use or not available
  {preflight.EXIT_DATABASE_UNREACHABLE}  the database does not answer
  {preflight.EXIT_DATABASE_NOT_MIGRATED}  the database is not migrated (gateway: run `hedging migrate`)"""

DOCTOR_STATUSES = """
doctor's own exit status: 0 every check passed, 6 the worst is a warning, 7 a check failed"""


def build_parser() -> argparse.ArgumentParser:
    """The command line: `hedging --version`, and each command with its options and environment."""
    parser = argparse.ArgumentParser(
        prog="hedging",
        description=__doc__,
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        sub = commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=_environment_help(name) + "\n\n" + EXIT_STATUSES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if name == "sim":
            _sim_options(sub)
        if name == "doctor":
            sub.add_argument("--json", action="store_true", help="print the report as one JSON document")
            sub.epilog = (sub.epilog or "") + DOCTOR_STATUSES
        if name == "check-totals":
            sub.add_argument(
                "--repair", action="store_true", help="write the recounted totals where they differ"
            )
    return parser


def _sim_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--markets", help="markets JSON (default: the bundled markets.json)")
    sub.add_argument("--default-collateral", help="USDC given to each new API-key address (default: 1000000)")
    sub.add_argument("--page-size", type=int, help="page size of list endpoints (default: 100)")
    sub.add_argument("--move-books", action="store_true", help="drift mid prices randomly")
    sub.add_argument("--seed", type=int, help="random seed of the book mover (default: 0)")
    sub.add_argument(
        "--order-budget",
        choices=("standard", "elite", "off"),
        help="per-signer order token bucket: the venue's tier, or off (default: standard)",
    )
    sub.add_argument(
        "--order-budget-mode",
        choices=("enforce", "warn"),
        help="enforce: 429 over budget; warn: admit with Poly-RateLimit-Warning (default: enforce)",
    )


def _environment_help(command: str) -> str:
    lines = ["environment (read once at start; defaults shown, never a configured value):"]
    for v in variables_of(command):
        secret = " [secret]" if v.secret else ""
        lines.append(f"  {v.name}{secret}\n      {v.meaning}; default: {v.default}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Runs one command; returns its exit status (see `EXIT_STATUSES`)."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
    except ConfigurationError as exc:
        print(f"hedging: configuration error: {exc}", file=sys.stderr)
        return preflight.EXIT_USAGE
    configure_logging(settings.log_level, settings.log_format)
    try:
        return _command(args, settings)
    except preflight.StartupError as exc:
        print(f"hedging: {exc}", file=sys.stderr)
        return exc.exit_status
    except ConfigurationError as exc:
        print(f"hedging: configuration error: {exc}", file=sys.stderr)
        return preflight.EXIT_USAGE
    except HedgingError as exc:
        print(f"hedging: {exc}", file=sys.stderr)
        return preflight.EXIT_FAILED
    except (peewee.OperationalError, peewee.InterfaceError) as exc:
        # The database went away after the start-up check passed.
        log.debug("database error", exc_info=True)
        print(f"hedging: database unreachable ({type(exc).__name__}); check DATABASE_URL", file=sys.stderr)
        return preflight.EXIT_DATABASE_UNREACHABLE
    except Exception as exc:
        # One line for the operator; the traceback only at HEDGING_LOG_LEVEL=DEBUG.
        log.debug("unexpected error", exc_info=True)
        print(f"hedging: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return preflight.EXIT_FAILED


def _command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "doctor":
        return _doctor(settings, as_json=args.json)
    _preflight(args.command, settings)
    if args.command == "sim":
        from server.sim.runner import main as sim_main

        return sim_main(_sim_argv(args, settings))
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


def _preflight(command: str, settings: Settings) -> None:
    """Fails fast, with one line, on what would otherwise surface as a traceback mid-start.
    The metrics address is not checked: metrics that cannot bind are turned off, trading goes on."""
    listens = {
        "serve": [("HEDGING_GRPC_LISTEN", settings.grpc_listen)],
        "gateway": [("HEDGING_GATEWAY_LISTEN", settings.gateway_listen)],
        "sim": [("HEDGING_SIM_LISTEN", settings.sim_listen)],
        "up": [
            ("HEDGING_SIM_LISTEN", settings.sim_listen),
            ("HEDGING_GRPC_LISTEN", settings.grpc_listen),
            ("HEDGING_GATEWAY_LISTEN", settings.gateway_listen),
        ],
    }
    for variable, address in listens.get(command, []):
        preflight.check_listen(address, variable)
    if command != "sim":
        # serve, up and migrate migrate the database themselves; the gateway only reads and writes it.
        preflight.check_database(settings.database_url, require_current=command == "gateway")


def _sim_argv(args: argparse.Namespace, settings: Settings) -> list[str]:
    host, _, port = settings.sim_listen.rpartition(":")
    argv = ["--host", host, "--port", port, "--log-level", settings.log_level]
    for option in ("markets", "default_collateral", "page_size", "seed", "order_budget", "order_budget_mode"):
        value = getattr(args, option)
        if value is not None:
            argv += ["--" + option.replace("_", "-"), str(value)]
    if args.move_books:
        argv.append("--move-books")
    return argv


def _migrate(settings: Settings) -> int:
    from server.store.db import bind, open_database
    from server.store.migrate import migrate

    applied = migrate(bind(open_database(settings.database_url)))
    print("applied: " + ", ".join(applied) if applied else "database is up to date")
    return preflight.EXIT_OK


def _doctor(settings: Settings, *, as_json: bool) -> int:
    """Every check, one line each (or JSON); the exit status is the worst result's."""
    import json

    from server.doctor.run import examine

    report = asyncio.run(examine(settings))
    print(json.dumps(report.as_json(), indent=2) if as_json else "\n".join(report.lines()))
    return report.exit_status


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
    return preflight.EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
