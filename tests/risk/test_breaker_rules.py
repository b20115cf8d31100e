"""The pure breaker rules, re-hedge timing and notional maths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from server.domain.types import BreakerLevel
from server.risk import breakers
from server.risk.breakers import BreakerName, VenueHealth
from server.risk.notional import order_notional, utilisation
from server.risk.rehedge import due

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("failed", "final", "trips"),
    [
        (2, 24, False),
        (3, 25, True),
        (2, 20, False),
        (3, 19, False),
        (19, 19, False),
        (3, 30, False),
        (4, 30, True),
    ],
)
def test_failure_rate_needs_enough_hedges_and_more_than_the_threshold(failed, final, trips):
    found = breakers.failure_rate(failed, final, Decimal("0.10"), 20)
    assert (found is not None) == trips
    if found:
        assert found.name is BreakerName.FAILURE_RATE and found.level is BreakerLevel.HALTED
        assert f"{failed} of {final}" in found.reason


def test_the_failure_window_restarts_at_a_reset():
    assert breakers.window_start(at(3600), 600, None) == at(3000)
    assert breakers.window_start(at(3600), 600, at(3300)) == at(3300)
    assert breakers.window_start(at(3600), 600, at(100)) == at(3000)


def test_unhedged_exposure_reduces_above_the_limit_only():
    assert breakers.unhedged_exposure(Decimal(100), Decimal(100)) is None
    trip = breakers.unhedged_exposure(Decimal("100.01"), Decimal(100))
    assert trip is not None and trip.level is BreakerLevel.REDUCING


def test_unknown_hedges_trip_on_age_and_a_reset_grants_the_bound_again():
    assert breakers.unknown_hedges(None, 0, at(100), 10, None) is None
    assert breakers.unknown_hedges(at(0), 1, at(10), 10, None) is None
    assert breakers.unknown_hedges(at(0), 1, at(11), 10, None) is not None
    assert breakers.unknown_hedges(at(0), 1, at(11), 10, at(5)) is None
    assert breakers.unknown_hedges(at(0), 1, at(16), 10, at(5)) is not None


def test_overall_level_is_the_strictest():
    assert breakers.overall([]) is BreakerLevel.ACTIVE
    assert breakers.overall(["active", "reducing"]) is BreakerLevel.REDUCING
    assert breakers.overall(["reducing", "halted", "active"]) is BreakerLevel.HALTED


@pytest.mark.parametrize(
    ("status", "message", "problem"),
    [
        (None, "ReadTimeout", True),
        (503, "Trading is currently disabled", True),
        (425, "Too Early", True),
        (500, "boom", True),
        (400, "order couldn't be fully filled", False),
        (400, "the market is in cancel-only mode", True),
        (200, "", False),
    ],
)
def test_which_order_answers_count_against_the_venue(status, message, problem):
    assert (breakers.venue_problem(status, message) is not None) == problem


def test_the_venue_trips_after_a_continuous_outage_and_recovers_after_the_cool_down():
    health = VenueHealth()
    health.saw_probe(None, at(0))
    health.saw_order("HTTP 503", at(1))
    health.saw_probe(None, at(2))  # reads work, orders do not (cancel-only): still down
    assert health.outage(at(30), 30) is None
    trip = health.outage(at(31.5), 30)
    assert trip is not None and trip.name is BreakerName.VENUE and "HTTP 503" in trip.reason
    health.saw_order("HTTP 503", at(40))
    assert not health.recovered(at(50), 60)
    health.saw_probe(None, at(41))
    assert not health.recovered(at(100), 60)
    assert health.recovered(at(101), 60)
    health.reset()
    assert health.outage(at(200), 30) is None


def test_a_good_order_answer_ends_an_outage_and_a_failed_probe_holds_recovery():
    health = VenueHealth()
    health.saw_order("HTTP 425", at(0))
    health.saw_order(None, at(5))
    assert health.outage(at(100), 30) is None
    health.saw_probe("no answer", at(10))
    assert health.outage(at(41), 30) is not None
    assert not health.recovered(at(1000), 1)


def test_recovery_counts_from_the_trip_when_another_process_tripped():
    health = VenueHealth()
    health.saw_probe(None, at(0))
    assert not health.recovered(at(100), 60, tripped_at=at(90))
    assert health.recovered(at(150), 60, tripped_at=at(90))


def test_re_hedges_back_off_and_stop_after_the_attempts():
    assert not due(1, 4.9, 3, 5)
    assert due(1, 5, 3, 5)
    assert not due(2, 9.9, 3, 5)
    assert due(2, 10, 3, 5)
    assert due(3, 20, 3, 5)
    assert not due(4, 1000, 3, 5)
    assert not due(1, 1000, 0, 5)


def test_notional_splits_at_the_hedged_size_and_utilisation_is_a_fraction():
    assert order_notional(Decimal(100), Decimal("0.4"), Decimal(0)) == (Decimal(0), Decimal("40.0"))
    assert order_notional(Decimal(100), Decimal("0.4"), Decimal(30)) == (Decimal("12.0"), Decimal("28.0"))
    assert order_notional(Decimal(100), Decimal("0.4"), Decimal("100.01")) == (
        Decimal("40.0"),
        Decimal("0.0"),
    )
    assert utilisation(Decimal(-5), Decimal(100)) == Decimal("0.000000")
    assert utilisation(Decimal(25), Decimal(100)) == Decimal("0.250000")
    assert utilisation(Decimal(25), Decimal(0)) is None
