"""What every request reads but nobody should query per request: config values, breaker state and
market mappings. Refreshed from the database in the background, so a change made anywhere (another
server process, the gateway) takes effect here within `REFRESH_SECONDS`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

from server.domain.config_schema import HedgeSettings
from server.domain.types import BreakerLevel
from server.periodic import Periodic
from server.store.models import CircuitBreaker, HedgeConfig, PolymarketMarketMapping

log = logging.getLogger(__name__)
REFRESH_SECONDS = 0.25
T = TypeVar("T")


class RunInDb(Protocol):
    """Runs blocking database work off the event loop (`server.runtime.DatabaseRunner`)."""

    def __call__(self, work: Callable[[], T]) -> Awaitable[T]: ...


@dataclass(frozen=True)
class Snapshot:
    settings: HedgeSettings
    breaker: BreakerLevel
    breakers: tuple[CircuitBreaker, ...]
    mappings: dict[tuple[str, str], PolymarketMarketMapping] = field(default_factory=dict)


def read_snapshot() -> Snapshot:
    """Reads config, breakers and mappings (call from a database thread)."""
    values = {row.key: row.value for row in HedgeConfig.select(HedgeConfig.key, HedgeConfig.value)}
    breakers = tuple(CircuitBreaker.select())
    level = BreakerLevel.ACTIVE
    for b in breakers:
        if b.state == BreakerLevel.HALTED:
            level = BreakerLevel.HALTED
        elif b.state == BreakerLevel.REDUCING and level is BreakerLevel.ACTIVE:
            level = BreakerLevel.REDUCING
    mappings = {(m.event_id, m.outcome): m for m in PolymarketMarketMapping.select()}
    return Snapshot(HedgeSettings.from_values(values), level, breakers, mappings)


class StateCache:
    def __init__(self, run_in_db: RunInDb) -> None:
        self._run = run_in_db
        self._snapshot: Snapshot | None = None
        self._periodic = Periodic(
            "state-refresh", self.refresh, REFRESH_SECONDS,
            failure="state refresh failed; keeping the last state", logger=log,
        )  # fmt: skip

    @property
    def current(self) -> Snapshot:
        if self._snapshot is None:
            raise RuntimeError("state cache not loaded")
        return self._snapshot

    def remember(self, mapping: PolymarketMarketMapping) -> None:
        """Shows a mapping just changed here without waiting for the next refresh to read it back."""
        snapshot = self.current
        key = (mapping.event_id, mapping.outcome)
        self._snapshot = replace(snapshot, mappings={**snapshot.mappings, key: mapping})

    async def mapping_by_id(self, mapping_id: int) -> PolymarketMarketMapping:
        """The mapping with this id as last read, else as stored now (read on a database thread)."""
        for mapping in self.current.mappings.values():
            if mapping.id == mapping_id:
                return mapping
        stored: PolymarketMarketMapping = await self._run(
            lambda: PolymarketMarketMapping.get_by_id(mapping_id)
        )
        return stored

    async def refresh(self) -> Snapshot:
        self._snapshot = await self._run(read_snapshot)
        return self._snapshot

    async def start(self) -> None:
        await self.refresh()
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
