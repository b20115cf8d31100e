"""A market's hedge policy: the config keys `hedgePolicy`, `hedgeRatio`, `hedgeMinShares` and
`hedgeMaxDelayMs`, each overridden by the market's mapping where it sets its own (None: the key holds).
Overrides are validated by the keys' own schema, so a mapping can hold no value `setConfig` would refuse."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from server.domain.config_schema import KEYS, HedgeSettings
from server.domain.rebalance import RebalancePolicy
from server.errors import InvalidArgument

# config key -> the mapping's column (and HedgeSettings field) that overrides it
OVERRIDABLE: dict[str, str] = {
    "hedgePolicy": "hedge_policy",
    "hedgeRatio": "hedge_ratio",
    "hedgeMinShares": "hedge_min_shares",
    "hedgeMaxDelayMs": "hedge_max_delay_ms",
}


@dataclass(frozen=True)
class PolicyOverrides:
    """What a mapping sets of its own (None: the config key's value holds)."""

    hedge_policy: str | None = None
    hedge_ratio: Decimal | None = None
    hedge_min_shares: Decimal | None = None
    hedge_max_delay_ms: int | None = None


def parse_overrides(texts: Mapping[str, str | None]) -> dict[str, object]:
    """The typed column values of overrides given as config-key name -> text (None clears one).
    Raises `InvalidArgument` naming the key for an unknown key or a value its schema refuses."""
    columns: dict[str, object] = {}
    for name, text in texts.items():
        column = OVERRIDABLE.get(name)
        if column is None:
            raise InvalidArgument(name[:64], "is not a hedge policy key a mapping can override")
        columns[column] = None if text is None else KEYS[name].parse(text)
    return columns


def effective(settings: HedgeSettings, overrides: PolicyOverrides) -> HedgeSettings:
    """The settings one market runs on: the mapping's overrides over the config keys."""
    own = {field: value for field, value in vars(overrides).items() if value is not None}
    return replace(settings, **own) if own else settings


def rebalance_policy(settings: HedgeSettings) -> RebalancePolicy:
    """The rebalancer's policy from (effective) settings."""
    return RebalancePolicy(settings.hedge_ratio, settings.hedge_min_shares, settings.hedge_max_delay_ms)
