"""Every runtime configuration key: its type, default, bounds and meaning. The one place where a
config value is parsed and validated; the store, the gRPC server and the GraphQL gateway all use it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from server.errors import InvalidArgument

ValueType = Literal["decimal", "int", "bool", "enum", "text"]
ConfigValue = Decimal | int | bool | str


@dataclass(frozen=True)
class ConfigKey:
    name: str
    value_type: ValueType
    default: str
    description: str
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    choices: tuple[str, ...] = ()

    def parse(self, text: str) -> ConfigValue:
        """Returns the typed value of `text`, or raises `InvalidArgument` naming this key."""
        if not isinstance(text, str) or len(text) > 64:
            raise InvalidArgument(self.name, "must be a string of at most 64 characters")
        raw = text.strip()
        if self.value_type == "bool":
            if raw.lower() not in ("true", "false"):
                raise InvalidArgument(self.name, "must be true or false")
            return raw.lower() == "true"
        if self.value_type == "enum":
            if raw not in self.choices:
                raise InvalidArgument(self.name, "must be one of " + ", ".join(self.choices))
            return raw
        if self.value_type == "text":
            return raw
        try:
            number = Decimal(raw)
        except InvalidOperation:
            raise InvalidArgument(self.name, f"must be a {self._kind()}") from None
        if not number.is_finite():
            raise InvalidArgument(self.name, f"must be a finite {self._kind()}")
        if self.value_type == "int" and number != number.to_integral_value():
            raise InvalidArgument(self.name, "must be a whole number")
        if self.minimum is not None and number < self.minimum:
            raise InvalidArgument(self.name, f"must be at least {self.minimum}")
        if self.maximum is not None and number > self.maximum:
            raise InvalidArgument(self.name, f"must be at most {self.maximum}")
        return int(number) if self.value_type == "int" else number

    def canonical(self, text: str) -> str:
        """The stored text of a valid value (so "0200" and "200" are one value)."""
        value = self.parse(text)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, Decimal):
            return format(value.normalize(), "f")
        return str(value)

    def _kind(self) -> str:
        return "whole number" if self.value_type == "int" else "decimal number"


_D = Decimal
# The venue's smallest resting order (5 shares: venue-facts-2026-12.md "Minimums"); a market may ask more.
VENUE_MIN_SHARES = _D(5)

KEYS: dict[str, ConfigKey] = {
    k.name: k
    for k in (
        ConfigKey(
            "mode",
            "enum",
            "off",
            "live: hedge on Polymarket; paper: simulate hedges against the book; "
            "off: do not hedge (orders are booked unhedged within maxUnhedgedExposure)",
            choices=("live", "paper", "off"),
        ),
        ConfigKey(
            "minSpreadBps",
            "int",
            "200",
            "spread over the hedge price, after the venue's taker fee, in basis points",
            _D(0),
            _D(5000),
        ),
        ConfigKey(
            "maxSlippageBps",
            "int",
            "100",
            "how far the hedge may fill beyond the quote's reference price, in basis points",
            _D(0),
            _D(5000),
        ),
        ConfigKey(
            "maxPositionSize", "decimal", "1000", "largest single order, in shares", _D(0), _D(10_000_000)
        ),
        ConfigKey(
            "maxMarketExposure",
            "decimal",
            "5000",
            "default exposure limit of one market in USDC (a mapping may set its own)",
            _D(0),
            _D(1_000_000_000),
        ),
        ConfigKey(
            "maxUnhedgedExposure",
            "decimal",
            "10000",
            "limit on total unhedged exposure (sum over markets of worst-case loss) in USDC",
            _D(0),
            _D(1_000_000_000),
        ),
        ConfigKey(
            "maxGroupExposure",
            "decimal",
            "5000",
            "exposure limit of one neg-risk event group in USDC: its worst case over which single outcome "
            "wins (or none); it stands in for maxMarketExposure in the group's markets",
            _D(0),
            _D(1_000_000_000),
        ),
        ConfigKey(
            "hedgeOrderType",
            "enum",
            "FOK",
            "order type of hedges: FOK fills completely or not at all, FAK fills what it can",
            choices=("FOK", "FAK"),
        ),
        ConfigKey(
            "maxBookAgeMs",
            "int",
            "2000",
            "oldest Polymarket book a quote may use, in milliseconds",
            _D(50),
            _D(600_000),
        ),
        ConfigKey(
            "failureRateThreshold",
            "decimal",
            "0.10",
            "hedge failure rate over the window that trips the failure-rate breaker",
            _D(0),
            _D(1),
        ),
        ConfigKey(
            "failureRateWindowSeconds",
            "int",
            "3600",
            "sliding window of the failure-rate breaker",
            _D(10),
            _D(86_400),
        ),
        ConfigKey(
            "failureRateMinHedges",
            "int",
            "20",
            "hedges needed in the window before the failure-rate breaker may trip",
            _D(1),
            _D(100_000),
        ),
        ConfigKey(
            "venueOutageSeconds",
            "int",
            "30",
            "how long the venue may be unreachable or refusing orders before the venue breaker trips",
            _D(1),
            _D(3600),
        ),
        ConfigKey(
            "venueCooldownSeconds",
            "int",
            "60",
            "how long the venue must answer again before the venue breaker resets",
            _D(1),
            _D(3600),
        ),
        ConfigKey(
            "unknownHedgeMaxAgeSeconds",
            "int",
            "120",
            "age at which an unresolved UNKNOWN hedge trips the unknown-hedges breaker",
            _D(1),
            _D(86_400),
        ),
        ConfigKey(
            "snapshotIntervalSeconds", "int", "60", "seconds between risk snapshots", _D(1), _D(86_400)
        ),
        ConfigKey("rehedgeEnabled", "bool", "true", "retry unhedged residuals in the background"),
        ConfigKey("rehedgeMaxAttempts", "int", "3", "re-hedge attempts per residual", _D(0), _D(100)),
        ConfigKey(
            "rehedgeBackoffSeconds",
            "int",
            "5",
            "first wait before a re-hedge, doubled each attempt",
            _D(1),
            _D(3600),
        ),
        ConfigKey(
            "hedgePolicy",
            "enum",
            "per_order",
            "per_order: each user order gets its own venue hedge; netted: a rebalancer keeps each market's "
            "hedges at hedgeRatio of its directional exposure, one venue order for the net gap",
            choices=("per_order", "netted"),
        ),
        ConfigKey(
            "hedgeRatio",
            "decimal",
            "1",
            "netted: the share of a market's directional exposure to hedge (1 = fully, below 1 = partially)",
            _D(0),
            _D(1),
        ),
        ConfigKey(
            "hedgeMinShares",
            "decimal",
            "10",
            "netted: a market's unhedged residual is sent at once from this many shares "
            "(at least the venue's 5-share minimum order)",
            VENUE_MIN_SHARES,
            _D(1_000_000),
        ),
        ConfigKey(
            "hedgeMaxDelayMs",
            "int",
            "1000",
            "netted: a residual below hedgeMinShares is sent once it has waited this long "
            "(and is at least the venue's minimum), in milliseconds",
            _D(0),
            _D(3_600_000),
        ),
        ConfigKey(
            "platformMinShares",
            "decimal",
            "1",
            "netted: the smallest user order accepted, in shares (below the venue's minimum: the "
            "rebalancer hedges it together with others)",
            _D("0.01"),
            _D(1_000_000),
        ),
        ConfigKey(
            "venueOrderRate",
            "int",
            "40",
            "the signer's venue order budget: orders a second (the documented Standard tier: 40)",
            _D(1),
            _D(100_000),
        ),
        ConfigKey(
            "venueOrderBurst",
            "int",
            "60",
            "the signer's venue order budget: the most orders at once (the documented Standard tier: 60)",
            _D(1),
            _D(100_000),
        ),
        ConfigKey(
            "mergeHedgePairs",
            "bool",
            "false",
            "merge YES+NO pairs held as hedge inventory back into USDC on chain (they pay 1 USDC "
            "whatever wins, so merging frees capital and changes no exposure)",
        ),
    )
}


def key(name: str) -> ConfigKey:
    """The key called `name`, or `InvalidArgument` if there is none."""
    found = KEYS.get(name)
    if found is None:
        raise InvalidArgument("key", f"unknown config key {name[:64]!r}")
    return found


@dataclass(frozen=True)
class HedgeSettings:
    """A typed view of every key's current value."""

    mode: str
    min_spread_bps: int
    max_slippage_bps: int
    max_position_size: Decimal
    max_market_exposure: Decimal
    max_unhedged_exposure: Decimal
    max_group_exposure: Decimal
    hedge_order_type: str
    max_book_age_ms: int
    failure_rate_threshold: Decimal
    failure_rate_window_seconds: int
    failure_rate_min_hedges: int
    venue_outage_seconds: int
    venue_cooldown_seconds: int
    unknown_hedge_max_age_seconds: int
    snapshot_interval_seconds: int
    rehedge_enabled: bool
    rehedge_max_attempts: int
    rehedge_backoff_seconds: int
    hedge_policy: str
    hedge_ratio: Decimal
    hedge_min_shares: Decimal
    hedge_max_delay_ms: int
    platform_min_shares: Decimal
    venue_order_rate: int
    venue_order_burst: int
    merge_hedge_pairs: bool

    @classmethod
    def from_values(cls, values: dict[str, str]) -> HedgeSettings:
        """Builds the view from stored text values; missing keys take their defaults."""
        typed = {name: k.parse(values.get(name, k.default)) for name, k in KEYS.items()}
        return cls(**{_snake(name): value for name, value in typed.items()})  # type: ignore[arg-type]  # each parsed by its key


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)
