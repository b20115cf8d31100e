"""Circuit-breaker rules: when each breaker trips, what it imposes and how it resets. Pure: no I/O.

| breaker           | trips when                                                      | imposes  | resets                  |
|-------------------|-----------------------------------------------------------------|----------|-------------------------|
| failure_rate      | failed / final hedges > failureRateThreshold over the window     | HALTED   | by a person             |
|                   | (at least failureRateMinHedges hedges; the window restarts at   |          |                         |
|                   | the last reset)                                                 |          |                         |
| unhedged_exposure | total unhedged exposure > maxUnhedgedExposure                    | REDUCING | by a person             |
| venue             | venue unreachable / 425 / 503 / cancel-only > venueOutageSeconds | HALTED   | itself, once probes have |
|                   |                                                                 |          | succeeded for           |
|                   |                                                                 |          | venueCooldownSeconds    |
| unknown_hedges    | an UNKNOWN hedge older than unknownHedgeMaxAgeSeconds            | HALTED   | by a person             |
| manual            | a person halts                                                  | HALTED   | by a person             |
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from server.domain.types import BreakerLevel


class BreakerName(StrEnum):
    FAILURE_RATE = "failure_rate"
    UNHEDGED_EXPOSURE = "unhedged_exposure"
    VENUE = "venue"
    UNKNOWN_HEDGES = "unknown_hedges"
    MANUAL = "manual"


IMPOSES: dict[BreakerName, BreakerLevel] = {
    BreakerName.FAILURE_RATE: BreakerLevel.HALTED,
    BreakerName.UNHEDGED_EXPOSURE: BreakerLevel.REDUCING,
    BreakerName.VENUE: BreakerLevel.HALTED,
    BreakerName.UNKNOWN_HEDGES: BreakerLevel.HALTED,
    BreakerName.MANUAL: BreakerLevel.HALTED,
}
AUTO_RESET = frozenset({BreakerName.VENUE})


@dataclass(frozen=True)
class Trip:
    name: BreakerName
    reason: str

    @property
    def level(self) -> BreakerLevel:
        return IMPOSES[self.name]


def overall(states: Iterable[str]) -> BreakerLevel:
    """HALTED if any breaker halts, else REDUCING if any reduces, else ACTIVE."""
    level = BreakerLevel.ACTIVE
    for state in states:
        if state == BreakerLevel.HALTED:
            return BreakerLevel.HALTED
        if state == BreakerLevel.REDUCING:
            level = BreakerLevel.REDUCING
    return level


def failure_rate(failed: int, final: int, threshold: Decimal, min_hedges: int) -> Trip | None:
    """Trips when more than `threshold` of the `final` hedges in the window failed."""
    if final < max(min_hedges, 1):
        return None
    rate = Decimal(failed) / Decimal(final)
    if rate <= threshold:
        return None
    shown = (rate * 100).quantize(Decimal("0.1"))
    return Trip(
        BreakerName.FAILURE_RATE,
        f"{failed} of {final} hedges failed ({shown}%), above {threshold * 100:f}%",
    )


def window_start(now: datetime, window_seconds: int, last_reset: datetime | None) -> datetime:
    """The failure-rate window: the last `window_seconds`, restarted when a person resets it."""
    start = now - timedelta(seconds=window_seconds)
    return max(start, last_reset) if last_reset is not None else start


def unhedged_exposure(total: Decimal, limit: Decimal) -> Trip | None:
    if total <= limit:
        return None
    return Trip(
        BreakerName.UNHEDGED_EXPOSURE,
        f"unhedged exposure {total:f} is above maxUnhedgedExposure {limit:f}: only reducing orders",
    )


def unknown_hedges(
    oldest_unknown: datetime | None,
    count: int,
    now: datetime,
    max_age_seconds: int,
    last_reset: datetime | None,
) -> Trip | None:
    """Trips when an UNKNOWN hedge is older than the bound. After a person resets the breaker, the
    hedges it tripped on get the bound again before it may re-trip."""
    if oldest_unknown is None:
        return None
    since = max(oldest_unknown, last_reset) if last_reset is not None else oldest_unknown
    age = (now - since).total_seconds()
    if age <= max_age_seconds:
        return None
    return Trip(
        BreakerName.UNKNOWN_HEDGES,
        f"{count} hedge(s) unresolved; the oldest for {int((now - oldest_unknown).total_seconds())}s, "
        f"above {max_age_seconds}s",
    )


@dataclass
class VenueHealth:
    """What one process has seen of the venue: answers to orders (from the hedger) and probes (a
    cheap read). A refused order keeps the venue "down" until an order is answered again, since the
    venue can answer reads while refusing orders (cancel-only); a failed probe until a probe succeeds.
    Recovery needs probes answered and no refusal for the whole cool-down."""

    order_down_since: datetime | None = None
    probe_down_since: datetime | None = None
    up_since: datetime | None = None
    last_problem: str = ""

    def saw_order(self, problem: str | None, at: datetime) -> None:
        if problem is None:
            self.order_down_since = None
            self.up_since = self.up_since or at
        else:
            self.order_down_since = self.order_down_since or at
            self.up_since = None
            self.last_problem = problem

    def saw_probe(self, problem: str | None, at: datetime) -> None:
        if problem is None:
            self.probe_down_since = None
            self.up_since = self.up_since or at
        else:
            self.probe_down_since = self.probe_down_since or at
            self.up_since = None
            self.last_problem = problem

    @property
    def down_since(self) -> datetime | None:
        times = [t for t in (self.order_down_since, self.probe_down_since) if t is not None]
        return min(times) if times else None

    def outage(self, now: datetime, outage_seconds: int) -> Trip | None:
        """A trip once the venue has been down for longer than `outage_seconds`."""
        since = self.down_since
        if since is None or (now - since).total_seconds() <= outage_seconds:
            return None
        return Trip(
            BreakerName.VENUE,
            f"venue unavailable for {int((now - since).total_seconds())}s: {self.last_problem}",
        )

    def recovered(self, now: datetime, cooldown_seconds: int, tripped_at: datetime | None = None) -> bool:
        """Whether probes have succeeded, with no refusal, for `cooldown_seconds`, counted from the
        trip at the earliest (another process may have tripped the breaker on refusals this one never
        saw: it gives the venue the whole cool-down before letting orders through again)."""
        if self.probe_down_since is not None or self.up_since is None:
            return False
        since = max(self.up_since, tripped_at) if tripped_at is not None else self.up_since
        return (now - since).total_seconds() >= cooldown_seconds

    def reset(self) -> None:
        """After the breaker resets: refusals seen before it are old news."""
        self.order_down_since = None


def venue_problem(status_code: int | None, message: str) -> str | None:
    """The problem an order answer shows with the venue itself, or None when the venue works (a
    definitive rejection of one order says nothing against the venue)."""
    text = message.lower()
    if status_code is None:
        return f"no answer ({message})"
    if status_code in (425, 503) or status_code >= 500:
        return f"HTTP {status_code}"
    if "cancel-only" in text or "cancel only" in text or "trading is currently disabled" in text:
        return "cancel-only"
    return None
