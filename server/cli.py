"""The `hedging` command: serve, gateway, migrate, sim and up (everything at once, on PostgreSQL of its own)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace

import peewee

from server import preflight
from server.errors import ConfigurationError, HedgingError
from server.log_format import configure_logging
from server.settings import WORKER_COUNTS, Settings, variables_of, workers_of
from server.version import version
from server.workers import Ready, Slot, unblock_stop_signals

log = logging.getLogger("hedging")

COMMANDS = {
    "serve": "run the gRPC HedgingService (applies pending migrations first)",
    "gateway": "run the GraphQL admin gateway (the database must be migrated)",
    "migrate": "apply pending database migrations; re-running does nothing",
    "check-totals": "recount the running totals from the order and hedge rows and compare (exit 1 on a difference)",
    "sim": "run the local Polymarket CLOB V2 simulator",
    "doctor": "check the venue, the wallet and the database before trading live (PASS/WARN/FAIL)",
    "up": "run the simulator, the gRPC server and the gateway (on PostgreSQL of its own without DATABASE_URL)",
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
        if name in ("serve", "up"):
            sub.add_argument(
                "--workers",
                type=_worker_count,
                help="server processes sharing the gRPC port (default: HEDGING_WORKERS, else "
                + ("1" if name == "serve" else "2")
                + "); see server/workers.py",
            )
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
    sub.add_argument("--seed", type=int, help="random seed of the book mover and the profile (default: 0)")
    sub.add_argument(
        "--profile",
        choices=("fast", "realistic"),
        help="fast: instant, final, unlimited; realistic: latency tail, taker delays, slow and "
        "failing settlement, moving books, finite funds (default: fast)",
    )
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


def _worker_count(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) not in WORKER_COUNTS:
        raise argparse.ArgumentTypeError(f"must be from 1 to {WORKER_COUNTS[-1]}, got {text!r}")
    return int(text)


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
    return _guarded(lambda: _command(args, settings))


def _guarded(body: Callable[[], int]) -> int:
    """Runs `body`, turning each way it can fail into one line on stderr and its exit status."""
    try:
        return body()
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
    if args.command == "up":
        return _up(settings, args.workers)
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
        return _serve(settings, workers_of("serve", settings, args.workers))
    if args.command == "gateway":
        from gateway.app import serve_gateway

        return _run(lambda stop: serve_gateway(settings, stop))
    raise AssertionError(f"unknown command {args.command}")


def _up(settings: Settings, requested_workers: int | None) -> int:
    """`hedging up`: on DATABASE_URL if set, else on PostgreSQL of its own, stopped on the way out. The
    gRPC service runs as `serve --workers N`, its supervisor forked before anything else starts."""
    from server.up import ServeWorkers, demo_settings, local_database, up

    _check_listens("up", settings)
    settings = demo_settings(settings)
    count = workers_of("up", settings, requested_workers)
    settings = replace(settings, workers=count)
    workers = None
    if count > 1:
        workers = ServeWorkers.fork(
            lambda s, announce: _guarded(lambda: _serve(s, count, announce)), settings
        )
    # Until the event loop takes the signals over, SIGTERM unwinds as Ctrl-C does, so a PostgreSQL
    # being started is stopped on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with local_database(settings) as settings:
            preflight.check_database(settings.database_url, require_current=False)
            return _run(lambda stop: up(settings, stop, workers))
    except KeyboardInterrupt:
        return preflight.EXIT_OK
    finally:
        if workers is not None:
            workers.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _preflight(command: str, settings: Settings) -> None:
    """Fails fast, with one line, on what would otherwise surface as a traceback mid-start.
    The metrics address is not checked: metrics that cannot bind are turned off, trading goes on."""
    _check_listens(command, settings)
    if command == "sim":
        return
    if not settings.database_url:
        raise ConfigurationError(
            "DATABASE_URL is not set: `hedging up` runs PostgreSQL of its own, "
            f"`hedging {command}` needs postgresql://user@host:5432/dbname"
        )
    # serve and migrate migrate the database themselves; the gateway only reads and writes it.
    preflight.check_database(settings.database_url, require_current=command == "gateway")


def _check_listens(command: str, settings: Settings) -> None:
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


def _sim_argv(args: argparse.Namespace, settings: Settings) -> list[str]:
    host, _, port = settings.sim_listen.rpartition(":")
    argv = ["--host", host, "--port", port, "--log-level", settings.log_level]
    for option in "markets default_collateral page_size seed order_budget order_budget_mode profile".split():
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


def _serve(settings: Settings, workers: int, announce: Callable[[Ready], None] | None = None) -> int:
    from server.app import serve, serve_banner

    settings = replace(settings, workers=workers)
    if workers == 1:
        return _run(lambda stop: serve(settings, stop))
    from server.workers import Supervisor

    supervisor = Supervisor(
        settings.grpc_listen,
        settings.metrics_listen,
        workers,
        lambda slot: _guarded(lambda: _run(lambda stop: serve_worker(settings, slot, stop))),
        announce or (lambda ready: print(serve_banner(settings, ready), flush=True)),
    )
    return supervisor.run()


def serve_worker(settings: Settings, slot: Slot, stop: asyncio.Event) -> Awaitable[None]:
    """One worker of `hedging serve --workers N` (N > 1), in its forked process."""
    from server.app import serve

    worker_settings = replace(settings, grpc_listen=slot.grpc_listen, metrics_listen=slot.metrics_listen)
    return serve(worker_settings, stop, slot=slot)


def _run(body: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    """Runs `body` until it returns or SIGINT/SIGTERM sets its stop event."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        unblock_stop_signals()  # a forked worker's were held until now
        await body(stop)

    asyncio.run(runner())
    return preflight.EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
