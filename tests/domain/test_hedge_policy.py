"""A market's hedge policy: the mapping's overrides over the config keys, validated by the keys' schema."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from server.domain.config_schema import HedgeSettings
from server.domain.hedge_policy import PolicyOverrides, effective, parse_overrides, rebalance_policy
from server.domain.rebalance import RebalancePolicy
from server.errors import InvalidArgument

CONFIG = HedgeSettings.from_values({"hedgePolicy": "netted", "hedgeRatio": "0.9", "hedgeMaxDelayMs": "500"})


def test_no_override_leaves_the_config():
    assert effective(CONFIG, PolicyOverrides()) == CONFIG
    assert rebalance_policy(CONFIG) == RebalancePolicy(D("0.9"), D(10), 500)


def test_each_override_replaces_its_key_only():
    own = effective(CONFIG, PolicyOverrides(hedge_policy="per_order", hedge_min_shares=D(25)))
    assert (own.hedge_policy, own.hedge_ratio, own.hedge_min_shares, own.hedge_max_delay_ms) == (
        "per_order", D("0.9"), D(25), 500,
    )  # fmt: skip
    zero = effective(CONFIG, PolicyOverrides(hedge_ratio=D(0), hedge_max_delay_ms=0))
    assert rebalance_policy(zero) == RebalancePolicy(D(0), D(10), 0)  # zero is a value, not "unset"


def test_overrides_parse_to_their_columns_and_none_clears():
    assert parse_overrides({"hedgeRatio": "0.50", "hedgeMaxDelayMs": "100", "hedgePolicy": None}) == {
        "hedge_ratio": D("0.5"), "hedge_max_delay_ms": 100, "hedge_policy": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("texts", "field"),
    [({"hedgeRatio": "1.01"}, "hedgeRatio"), ({"hedgeMinShares": "4.99"}, "hedgeMinShares"),
     ({"maxPositionSize": "1"}, "maxPositionSize"), ({"venueOrderRate": "1"}, "venueOrderRate")],
)  # fmt: skip
def test_overrides_outside_the_schema_or_not_overridable_are_refused_naming_the_key(texts, field):
    with pytest.raises(InvalidArgument) as caught:
        parse_overrides(texts)
    assert caught.value.field == field
