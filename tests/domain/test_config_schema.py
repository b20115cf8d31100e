"""Every configuration key: its bounds (at them and one step beyond), types, defaults and canonical text."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from server.domain.config_schema import KEYS, ConfigKey, HedgeSettings, key
from server.errors import InvalidArgument

# name: (least, greatest, one step) as the product documents them.
NUMERIC = {
    "minSpreadBps": ("0", "5000", "1"),
    "maxSlippageBps": ("0", "5000", "1"),
    "maxPositionSize": ("0", "10000000", "0.01"),
    "maxMarketExposure": ("0", "1000000000", "0.01"),
    "maxUnhedgedExposure": ("0", "1000000000", "0.01"),
    "maxGroupExposure": ("0", "1000000000", "0.01"),
    "maxBookAgeMs": ("50", "600000", "1"),
    "failureRateThreshold": ("0", "1", "0.01"),
    "failureRateWindowSeconds": ("10", "86400", "1"),
    "failureRateMinHedges": ("1", "100000", "1"),
    "venueOutageSeconds": ("1", "3600", "1"),
    "venueCooldownSeconds": ("1", "3600", "1"),
    "unknownHedgeMaxAgeSeconds": ("1", "86400", "1"),
    "snapshotIntervalSeconds": ("1", "86400", "1"),
    "rehedgeMaxAttempts": ("0", "100", "1"),
    "rehedgeBackoffSeconds": ("1", "3600", "1"),
    "hedgeRatio": ("0", "1", "0.01"),
    "hedgeMinShares": ("5", "1000000", "0.01"),  # at least the venue's 5-share minimum
    "hedgeMaxDelayMs": ("0", "3600000", "1"),
    "platformMinShares": ("0.01", "1000000", "0.01"),
    "venueOrderRate": ("1", "100000", "1"),
    "venueOrderBurst": ("1", "100000", "1"),
}


def refused(name: str, text: str) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        KEYS[name].parse(text)
    assert caught.value.field == name
    return caught.value


def test_every_key_is_covered_here():
    assert set(KEYS) == set(NUMERIC) | {
        "mode",
        "hedgeOrderType",
        "rehedgeEnabled",
        "hedgePolicy",
        "mergeHedgePairs",
    }


@pytest.mark.parametrize("name", sorted(NUMERIC))
def test_numeric_bounds_are_inclusive(name):
    least, greatest, _ = NUMERIC[name]
    assert KEYS[name].parse(least) == D(least)
    assert KEYS[name].parse(greatest) == D(greatest)


@pytest.mark.parametrize("name", sorted(NUMERIC))
def test_one_step_beyond_a_bound_is_refused(name):
    least, greatest, step = NUMERIC[name]
    assert f"at least {least}" in refused(name, str(D(least) - D(step))).description
    assert f"at most {greatest}" in refused(name, str(D(greatest) + D(step))).description


@pytest.mark.parametrize("name", sorted(KEYS))
def test_every_default_parses(name):
    KEYS[name].parse(KEYS[name].default)


def test_int_keys_give_ints_and_refuse_fractions():
    value = KEYS["minSpreadBps"].parse("200")
    assert value == 200 and type(value) is int
    assert KEYS["minSpreadBps"].parse("200.0") == 200
    assert refused("minSpreadBps", "200.5").description == "must be a whole number"


def test_decimal_keys_give_decimals():
    value = KEYS["maxPositionSize"].parse(" 12.50 ")
    assert value == D("12.5") and isinstance(value, D)


@pytest.mark.parametrize("text", ["abc", "", "1,5"])
def test_non_numbers_are_refused(text):
    assert "must be a decimal number" in refused("maxPositionSize", text).description
    assert "must be a whole number" in refused("minSpreadBps", text).description


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_non_finite_numbers_are_refused(text):
    assert "finite decimal number" in refused("maxPositionSize", text).description
    assert "finite whole number" in refused("minSpreadBps", text).description


def test_text_longer_than_64_characters_is_refused():
    KEYS["maxPositionSize"].parse("1" + " " * 63)
    too_long = refused("maxPositionSize", "1" + " " * 64).description
    assert too_long == "must be a string of at most 64 characters"


def test_bools():
    k = KEYS["rehedgeEnabled"]
    assert k.parse("true") is True and k.parse(" FALSE ") is False and k.parse("True") is True
    assert refused("rehedgeEnabled", "yes").description == "must be true or false"


def test_enums():
    assert KEYS["mode"].parse(" paper ") == "paper"
    assert refused("mode", "LIVE").description == "must be one of live, paper, off"
    assert KEYS["hedgeOrderType"].parse("FAK") == "FAK"
    assert "FOK, FAK" in refused("hedgeOrderType", "GTC").description
    assert KEYS["hedgePolicy"].parse("netted") == "netted"
    assert refused("hedgePolicy", "NETTED").description == "must be one of per_order, netted"


@pytest.mark.parametrize(
    ("name", "text", "stored"),
    [
        ("minSpreadBps", "0200", "200"),
        ("minSpreadBps", "2E+2", "200"),
        ("maxPositionSize", "1.50", "1.5"),
        ("maxPositionSize", "1E+3", "1000"),
        ("maxPositionSize", "1000", "1000"),
        ("rehedgeEnabled", "TRUE", "true"),
        ("rehedgeEnabled", "False", "false"),
        ("mode", "live", "live"),
    ],
)
def test_canonical_text(name, text, stored):
    assert KEYS[name].canonical(text) == stored


def test_key_lookup():
    assert key("mode") is KEYS["mode"]
    with pytest.raises(InvalidArgument) as caught:
        key("noSuchKey")
    assert caught.value.field == "key"
    assert caught.value.description == "unknown config key 'noSuchKey'"


def test_an_unknown_key_s_name_is_quoted_only_to_64_characters():
    with pytest.raises(InvalidArgument) as caught:
        key("k" * 70)
    assert caught.value.description == f"unknown config key {'k' * 64!r}"


def test_a_text_key_keeps_its_text_trimmed():
    assert ConfigKey("note", "text", "", "free text").parse("  not a number  ") == "not a number"


def test_settings_take_defaults_for_missing_keys():
    s = HedgeSettings.from_values({"mode": "paper", "maxPositionSize": "250"})
    assert s.mode == "paper"
    assert s.max_position_size == D(250)
    assert s.min_spread_bps == 200
    assert s.max_slippage_bps == 100
    assert s.max_market_exposure == D(5000)
    assert s.max_unhedged_exposure == D(10000)
    assert s.hedge_order_type == "FOK"
    assert s.max_book_age_ms == 2000
    assert s.failure_rate_threshold == D("0.10")
    assert s.failure_rate_window_seconds == 3600
    assert s.failure_rate_min_hedges == 20
    assert s.venue_outage_seconds == 30
    assert s.venue_cooldown_seconds == 60
    assert s.unknown_hedge_max_age_seconds == 120
    assert s.snapshot_interval_seconds == 60
    assert s.rehedge_enabled is True
    assert s.rehedge_max_attempts == 3
    assert s.rehedge_backoff_seconds == 5
    assert s.hedge_policy == "per_order"  # today's behaviour stays the default
    assert s.hedge_ratio == D(1)
    assert s.hedge_min_shares == D(10)
    assert s.hedge_max_delay_ms == 1000
    assert s.platform_min_shares == D(1)
    assert (s.venue_order_rate, s.venue_order_burst) == (40, 60)  # the documented Standard tier


def test_settings_refuse_a_bad_stored_value():
    with pytest.raises(InvalidArgument):
        HedgeSettings.from_values({"maxBookAgeMs": "49"})
