from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from server.sim.runner import RunningSimulator, start_simulator
from tests.harness import ServiceThread, running_service, seed_mappings, service_settings, set_config


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with start_simulator(port=0) as running:
        yield running


@pytest.fixture
def mappings(pg_db: Any, sim: RunningSimulator) -> dict[str, Any]:
    return seed_mappings(pg_db, sim)


# While a hedge is held this long at the venue, a test acts on the market or the hedge. The `patient`
# service's venue timeout is well above it, so the post is answered, not UNKNOWN, however slow the
# machine.
VENUE_DELAY = 1.5


@pytest.fixture
def patient(
    pg_db: Any, pg_url: str, sim: RunningSimulator, mappings: dict[str, Any]
) -> Iterator[ServiceThread]:
    """The service in live mode with a venue timeout far above `VENUE_DELAY`."""
    set_config(pg_db, mode="live")
    with running_service(service_settings(pg_url, sim.url, venue_timeout=Decimal("6"))) as service:
        yield service


@pytest.fixture
def live(pg_db: Any, pg_url: str, sim: RunningSimulator, mappings: dict[str, Any]) -> Iterator[ServiceThread]:
    """The service in live mode against the simulator."""
    set_config(pg_db, mode="live")
    with running_service(service_settings(pg_url, sim.url)) as service:
        yield service
