"""Simulator profiles: ``fast`` (the default: instant, final, unlimited unless a test says otherwise)
and ``realistic`` (what the venue does to a client on an ordinary day), applied to a fresh exchange.

The realistic figures and where they come from (venue-facts-2026-12.md unless said otherwise):

* latency: log-normal around 40 ms (sigma 0.6, so p99 about 160 ms), plus a stall of 0.5-1.5 s on 2 %
  of requests, capped at 2 s, spent once the request has been read (``http_app.py``). Our own choice:
  the venue publishes no latency figures; the stalls are there so that some posts outlast a 1 s
  client timeout and are executed all the same, so the UNKNOWN path and its look-ups run.
* taker delay: marketable orders on Sports markets wait 3 s before matching (clob-v1-venue-semantics.md
  §"Sports markets", from the order docs' ``delayed`` status), on Crypto markets 50 ms (changelog
  2026-08-17).
* settlement: MATCHED, MINED after 2 s, CONFIRMED after 4 s (a few Polygon blocks); 5 % of trades
  go FAILED instead, their balance moves reverted. The venue publishes no failure rate: 5 % is high on
  purpose, so a short run sees some.
* books move: one market shifts by one tick every 0.5 s (``mover.py``).
* funding: a new API-key address gets 5,000 USDC, not a million.
* the per-signer order budget at the Standard tier, enforced (``order_budget.py``; every profile has
  it unless ``--order-budget off``).

Every random draw is seeded from the simulator's seed: a run's sequence of delays, failures and book
moves is reproducible, though which request meets which draw follows arrival order and wall time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from server.sim.exchange import Exchange
from server.sim.latency import Latency, LatencySpec
from server.sim.mover import BookMover


@dataclass(frozen=True)
class Profile:
    """How a simulator behaves beyond its markets; ``None`` or 0 leaves a behaviour off."""

    name: str
    latency: LatencySpec | None = None
    # Taker delay (seconds) by market category.
    taker_delay: dict[str, float] = field(default_factory=dict)
    settlement_delay: float = 0.0
    trade_failure_rate: float = 0.0
    move_books: bool = False
    move_interval: float = 0.5
    default_collateral: Decimal = Decimal("1000000")


PROFILES: Final = {
    "fast": Profile("fast"),
    "realistic": Profile(
        "realistic",
        latency=LatencySpec(median=0.04, sigma=0.6, spike_rate=0.02, spike=(0.5, 1.5), cap=2.0),
        taker_delay={"Sports": 3.0, "Crypto": 0.05},
        settlement_delay=4.0,
        trade_failure_rate=0.05,
        move_books=True,
        default_collateral=Decimal("5000"),
    ),
}


def profile_named(name: str) -> Profile:
    """The profile called ``name``; ``ValueError`` naming the choices otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown simulator profile {name!r}; choose one of {sorted(PROFILES)}") from None


def apply_profile(profile: Profile, exchange: Exchange, mover: BookMover, seed: int) -> None:
    """Set ``exchange`` and ``mover`` up as ``profile`` says (collateral and budget are set at build)."""
    exchange.faults.distribution = Latency(profile.latency, seed) if profile.latency is not None else None
    for market in exchange.markets:
        delay = profile.taker_delay.get(market.category)
        if delay:
            exchange.set_taker_delay(market.condition_id, delay)
    exchange.set_settlement(profile.settlement_delay)
    exchange.set_trade_failure_rate(profile.trade_failure_rate, seed)
    mover.interval = profile.move_interval
    mover.enabled = mover.enabled or profile.move_books
