from __future__ import annotations

from collections.abc import Iterator
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


@pytest.fixture
def live(pg_db: Any, pg_url: str, sim: RunningSimulator, mappings: dict[str, Any]) -> Iterator[ServiceThread]:
    """The service in live mode against the simulator, metrics on a free port."""
    set_config(pg_db, mode="live", rehedgeEnabled="false")
    with running_service(service_settings(pg_url, sim.url, metrics_listen="127.0.0.1:0")) as service:
        yield service
