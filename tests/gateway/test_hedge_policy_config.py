"""The hedge policy keys through the real gateway: defaults listed, in-range values stored and audited,
out-of-range values refused with a typed error naming the key, changing nothing."""

from __future__ import annotations

import pytest

from server.store.models import HedgeConfig, HedgeConfigHistory, HedgeEvent
from tests.gateway.test_config import SET

POLICY_KEYS = {
    "hedgePolicy": "per_order",
    "hedgeRatio": "1",
    "hedgeMinShares": "10",
    "hedgeMaxDelayMs": "1000",
    "platformMinShares": "1",
    "venueOrderRate": "40",
    "venueOrderBurst": "60",
}


def _tables() -> tuple[list[tuple], int, int]:
    config = [(r.key, r.value, r.version) for r in HedgeConfig.select().order_by(HedgeConfig.key)]
    return config, HedgeConfigHistory.select().count(), HedgeEvent.select().count()


def test_the_policy_keys_are_listed_with_their_defaults(gateway, admin):
    listed = {e["key"]: e for e in admin("{ config { key value isDefault } }")["config"]}
    for name, default in POLICY_KEYS.items():
        assert listed[name] == {"key": name, "value": default, "isDefault": True}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("hedgePolicy", "batch", "one of per_order, netted"),
        ("hedgeRatio", "1.01", "at most 1"),
        ("hedgeRatio", "-0.01", "at least 0"),
        ("hedgeMinShares", "4.99", "at least 5"),  # below the venue's minimum order
        ("hedgeMaxDelayMs", "-1", "at least 0"),
        ("hedgeMaxDelayMs", "1.5", "whole number"),
        ("platformMinShares", "0", "at least 0.01"),
        ("venueOrderRate", "0", "at least 1"),
        ("venueOrderRate", "-40", "at least 1"),
        ("venueOrderBurst", "-1", "at least 1"),
        ("venueOrderBurst", "NaN", "finite"),
    ],
)
def test_out_of_range_policy_values_are_refused_naming_the_key_and_change_nothing(
    gateway, admin, key, value, message
):
    before = _tables()
    result = admin(SET, input={"key": key, "value": value, "reason": "try"})["setConfig"]
    assert result["__typename"] == "InvalidInputError"
    assert result["field"] == key
    assert message in result["message"]
    assert _tables() == before


def test_in_range_policy_values_are_stored_and_audited(gateway, admin):
    for key, value in [
        ("hedgePolicy", "netted"),
        ("hedgeRatio", "0.5"),
        ("hedgeMinShares", "5"),
        ("hedgeMaxDelayMs", "0"),
        ("venueOrderRate", "600"),
        ("venueOrderBurst", "900"),
    ]:
        result = admin(SET, input={"key": key, "value": value, "reason": "elite tier, half hedged"})[
            "setConfig"
        ]
        assert result["__typename"] == "SetConfigSuccess", result
        assert result["entry"]["value"] == value
    history = admin('{ configHistory(key: "hedgeRatio") { oldValue newValue changedBy reason } }')
    assert history["configHistory"] == [
        {"oldValue": None, "newValue": "0.5", "changedBy": "alice", "reason": "elite tier, half hedged"}
    ]
    assert HedgeEvent.select().where(HedgeEvent.event_type == "config_changed").count() == 6
