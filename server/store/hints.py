"""What this process last knew of each market's position, for writes that skip the locking read.

A hint is never trusted: a write made from one is guarded by equality with it, so it commits only if
the stored position is still exactly the hinted one (any other writer, in this process or another,
makes it fail, and the caller falls back to reading under lock). The per-market lock keeps this
process's own order and hedge-result transactions on a market from racing each other's hints; it is
always taken before any database lock, and no code waits for it while holding one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal

from server.domain.exposure import Position

# After a hint of a market is found stale, its writes go the locked way this long: when another
# process is writing the same market, a hint would mostly be stale, and each failed try costs a wasted
# round trip and signature before the locked way is taken anyway.
STALE_BACKOFF_SECONDS = 1.0


class PositionHints:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._guard = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}
        self._positions: dict[int, Position] = {}
        self._stale_until: dict[int, float] = {}
        self._total: Decimal | None = None

    def lock(self, mapping_id: int) -> threading.Lock:
        """The lock this process's writers of the market's position hold while they write it."""
        with self._guard:
            found = self._locks.get(mapping_id)
            if found is None:
                found = self._locks[mapping_id] = threading.Lock()
            return found

    def position(self, mapping_id: int) -> Position | None:
        """The market's position as last read or written here; None when unknown, or while the
        market backs off after a stale hint (`STALE_BACKOFF_SECONDS`)."""
        until = self._stale_until.get(mapping_id)
        if until is not None:
            if self._clock() < until:
                return None
            del self._stale_until[mapping_id]
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
        """Drops a hint found stale: the market's writers read it under lock for a while."""
        self._positions.pop(mapping_id, None)
        self._stale_until[mapping_id] = self._clock() + STALE_BACKOFF_SECONDS
