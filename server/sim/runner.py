"""Start the simulator: in a background thread for tests, or in the foreground for the CLI.

``start_simulator(port=0)`` lets uvicorn bind the port itself (a pre-made socket stalls responses by
~44 ms) and reads the real port back once uvicorn reports it is serving.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import TracebackType

import uvicorn

from server.listening import ListeningServer
from server.sim.exchange import Exchange
from server.sim.http_app import build_app
from server.sim.markets import load_markets
from server.sim.mover import BookMover
from server.sim.order_budget import Mode
from server.sim.profile import PROFILES, Profile, apply_profile, profile_named

log = logging.getLogger(__name__)

_STARTUP_TIMEOUT = 15.0
# The per-signer order budget every simulator starts with: the venue's Standard tier, enforced.
DEFAULT_ORDER_BUDGET = "standard"


def build_exchange(
    markets_path: str | Path | None = None,
    *,
    default_collateral: Decimal | None = None,
    seed: int = 0,
    page_size: int = 100,
    order_budget: str | None = DEFAULT_ORDER_BUDGET,
    order_budget_mode: Mode = "enforce",
    profile: Profile = PROFILES["fast"],
) -> Exchange:
    """A fresh exchange; ``default_collateral`` None takes the profile's."""
    collateral = profile.default_collateral if default_collateral is None else default_collateral
    exchange = Exchange(
        load_markets(markets_path), default_collateral=collateral, seed=seed, page_size=page_size
    )
    exchange.set_order_budget(order_budget, order_budget_mode)
    return exchange


def _build(
    markets_path: str | Path | None,
    default_collateral: Decimal | None,
    move_books: bool,
    seed: int,
    page_size: int,
    order_budget: str | None,
    order_budget_mode: Mode,
    profile: str,
) -> tuple[Exchange, BookMover]:
    chosen = profile_named(profile)
    exchange = build_exchange(
        markets_path,
        default_collateral=default_collateral,
        seed=seed,
        page_size=page_size,
        order_budget=order_budget,
        order_budget_mode=order_budget_mode,
        profile=chosen,
    )
    mover = BookMover(exchange, seed=seed, enabled=move_books)
    apply_profile(chosen, exchange, mover, seed)
    return exchange, mover


def _config(exchange: Exchange, mover: BookMover, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        build_app(exchange, mover=mover),
        host=host,
        port=port,
        http="httptools",
        ws="websockets-sansio",
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
    )


@dataclass
class RunningSimulator:
    """A simulator serving on ``url``; ``exchange`` is its in-process state and control API."""

    url: str
    exchange: Exchange
    mover: BookMover
    _server: ListeningServer
    _thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def ws_url(self) -> str:
        return "ws" + self.url[len("http") :] + "/ws/market"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout=5)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_simulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    markets_path: str | Path | None = None,
    default_collateral: Decimal | None = None,
    move_books: bool = False,
    seed: int = 0,
    page_size: int = 100,
    order_budget: str | None = DEFAULT_ORDER_BUDGET,
    order_budget_mode: Mode = "enforce",
    profile: str = "fast",
) -> RunningSimulator:
    """Serve a fresh exchange from a background thread; returns once the port is known.

    ``profile`` ("fast" or "realistic", ``profile.py``) sets latency, taker delays, settlement, book
    moves and funding; ``default_collateral`` None takes the profile's."""
    exchange, mover = _build(
        markets_path,
        default_collateral,
        move_books,
        seed,
        page_size,
        order_budget,
        order_budget_mode,
        profile,
    )
    listening = threading.Event()
    server = ListeningServer(_config(exchange, mover, host, port), listening)
    thread = threading.Thread(target=server.run, name="clob-sim", daemon=True)
    thread.start()
    if not listening.wait(_STARTUP_TIMEOUT):
        server.should_exit = True
        raise RuntimeError("simulator did not start")
    url = f"http://{host}:{server.bound_port()}"
    log.info("CLOB V2 simulator listening on %s", url)
    return RunningSimulator(url=url, exchange=exchange, mover=mover, _server=server, _thread=thread)


def main(argv: list[str] | None = None) -> int:
    """``python -m server.sim --host 127.0.0.1 --port 8081``: serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m server.sim", description="Polymarket CLOB V2 simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--markets", default=None, help="markets JSON (default: the bundled markets.json)")
    parser.add_argument(
        "--default-collateral",
        default=None,
        help="USDC given to each new API-key address (default: the profile's; fast: 1000000)",
    )
    parser.add_argument(
        "--profile",
        default="fast",
        choices=sorted(PROFILES),
        help="fast: instant and final; realistic: latency tail, taker delays, slow and failing "
        "settlement, moving books, finite funds (server/sim/profile.py)",
    )
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--move-books", action="store_true", help="drift mid prices randomly")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--order-budget",
        default=DEFAULT_ORDER_BUDGET,
        choices=("standard", "elite", "off"),
        help="per-signer order token bucket: the venue's tier, or off",
    )
    parser.add_argument(
        "--order-budget-mode",
        default="enforce",
        choices=("enforce", "warn"),
        help="enforce: 429 over budget; warn: admit with Poly-RateLimit-Warning (the venue's first phase)",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    sim = start_simulator(
        host=args.host,
        port=args.port,
        markets_path=args.markets,
        default_collateral=None if args.default_collateral is None else Decimal(args.default_collateral),
        move_books=args.move_books,
        seed=args.seed,
        page_size=args.page_size,
        order_budget=None if args.order_budget == "off" else args.order_budget,
        order_budget_mode=args.order_budget_mode,
        profile=args.profile,
    )
    print(f"CLOB V2 simulator listening on {sim.url}", flush=True)
    for market in sim.exchange.markets:
        print(f"  {market.slug}: condition {market.condition_id} tick {market.tick_size}", flush=True)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0
