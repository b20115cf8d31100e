"""What this process last knew of each market's position, for writes that skip the locking read.

A hint is never trusted: a write made from one is guarded by equality with it, so it commits only if
the stored position is still exactly the hinted one (any other writer, in this process or another,
makes it fail, and the caller falls back to reading under lock). The per-market lock keeps this
process's own order and hedge-result transactions on a market from racing each other's hints; it is
always taken before any database lock, and no code waits for it while holding one."""

from __future__ import annotations

import threading
from decimal import Decimal

from server.domain.exposure import Position


class PositionHints:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}
        self._positions: dict[int, Position] = {}
        self._total: Decimal | None = None

    def lock(self, mapping_id: int) -> threading.Lock:
        """The lock this process's writers of the market's position hold while they write it."""
        with self._guard:
            found = self._locks.get(mapping_id)
            if found is None:
                found = self._locks[mapping_id] = threading.Lock()
            return found

    def position(self, mapping_id: int) -> Position | None:
        return self._positions.get(mapping_id)

    def total(self) -> Decimal | None:
        """Total unhedged exposure as last read or written here: a guess, since other processes move
        it; writes from it are guarded by the limit in SQL."""
        return self._total

    def remember(self, mapping_id: int, position: Position, total: Decimal | None) -> None:
        """Records a position just read under lock or just committed (hold the market's lock)."""
        self._positions[mapping_id] = position
        if total is not None:
            self._total = total

    def forget(self, mapping_id: int) -> None:
        """Drops a hint found stale: the next writer reads the market under lock."""
        self._positions.pop(mapping_id, None)
