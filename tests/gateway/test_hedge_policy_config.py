"""The hedge policy keys through the real gateway: defaults listed, in-range values stored and audited,
out-of-range values refused with a typed error naming the key, changing nothing."""

from __future__ import annotations

import pytest

from server.store.models import HedgeConfig, HedgeConfigHistory, HedgeEvent, PolymarketMarketMapping
from tests.gateway.test_config import SET

POLICY_KEYS = {
    "hedgePolicy": "per_order",
    "hedgeRatio": "1",
    "hedgeMinShares": "10",
    "hedgeMaxDelayMs": "1000",
    "platformMinShares": "1",
    "venueOrderRate": "40",
    "venueOrderBurst": "60",
    "mergeHedgePairs": "false",
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
        ("mergeHedgePairs", "yes", "must be true or false"),
        ("mergeHedgePairs", "", "must be true or false"),
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
        ("mergeHedgePairs", "true"),
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
    assert HedgeEvent.select().where(HedgeEvent.event_type == "config_changed").count() == 7


UPDATE = """
mutation Update($input: UpdateMappingInput!) {
  updateMapping(input: $input) {
    __typename
    ... on MappingSuccess { mapping { id hedgePolicy hedgeRatio hedgeMinShares hedgeMaxDelayMs } }
    ... on UserError { message }
    ... on InvalidInputError { field }
  }
}
"""


def _mapping_rows() -> tuple[list[tuple], int]:
    rows = [
        (m.id, m.hedge_policy, m.hedge_ratio, m.hedge_min_shares, m.hedge_max_delay_ms, m.updated_at)
        for m in PolymarketMarketMapping.select().order_by(PolymarketMarketMapping.id)
    ]
    return rows, HedgeEvent.select().count()


def test_a_mapping_overrides_the_policy_keys_and_clears_them(gateway, admin, mappings):
    mapping_id = next(iter(mappings.values())).id
    own = {"id": mapping_id, "hedgePolicy": "netted", "hedgeRatio": "0.75", "hedgeMinShares": "20",
           "hedgeMaxDelayMs": "250"}  # fmt: skip
    result = admin(UPDATE, input=own)["updateMapping"]
    assert result["mapping"] == {"id": mapping_id, "hedgePolicy": "netted", "hedgeRatio": "0.75",
                                 "hedgeMinShares": "20", "hedgeMaxDelayMs": 250}  # fmt: skip
    event = (
        HedgeEvent.select()
        .where(HedgeEvent.event_type == "mapping_changed")
        .order_by(HedgeEvent.id.desc())
        .get()
    )
    assert "hedge_ratio=0.75" in event.message and "by alice" in event.message
    cleared = admin(UPDATE, input={"id": mapping_id, "clearHedgeOverrides": ["hedgeRatio", "hedgePolicy"]})
    assert cleared["updateMapping"]["mapping"] == {"id": mapping_id, "hedgePolicy": None, "hedgeRatio": None,
                                                   "hedgeMinShares": "20", "hedgeMaxDelayMs": 250}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"hedgeRatio": "1.5"}, "hedgeRatio", "at most 1"),
        ({"hedgeMinShares": "4"}, "hedgeMinShares", "at least 5"),
        ({"hedgeMaxDelayMs": "-5"}, "hedgeMaxDelayMs", "at least 0"),
        ({"hedgePolicy": "sometimes"}, "hedgePolicy", "one of per_order, netted"),
        ({"clearHedgeOverrides": ["maxPositionSize"]}, "maxPositionSize", "not a hedge policy key"),
        ({"hedgeRatio": "0.5", "clearHedgeOverrides": ["hedgeRatio"]}, "hedgeRatio", "not both"),
        # One bad key refuses the whole update: the good one is not written either.
        ({"hedgePolicy": "netted", "hedgeRatio": "2"}, "hedgeRatio", "at most 1"),
    ],
)
def test_out_of_range_overrides_are_refused_naming_the_key_and_change_nothing(
    gateway, admin, mappings, change, field, message
):
    mapping_id = next(iter(mappings.values())).id
    before = _mapping_rows()
    result = admin(UPDATE, input={"id": mapping_id, **change})["updateMapping"]
    assert result["__typename"] == "InvalidInputError"
    assert result["field"] == field
    assert message in result["message"]
    assert _mapping_rows() == before
