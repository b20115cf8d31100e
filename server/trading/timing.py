"""Where PlaceOrder's time goes, by phase. Off unless a benchmark turns it on; when on, each phase's
durations are kept in memory (bounded) for the benchmark to read."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Iterator

PHASES = ("book", "db_place", "sign", "venue_post", "db_record", "total")


class PhaseRecorder:
    def __init__(self, keep: int = 200_000) -> None:
        self.enabled = False
        self._keep = keep
        self.samples: dict[str, deque[float]] = {p: deque(maxlen=keep) for p in PHASES}

    def reset(self) -> None:
        for samples in self.samples.values():
            samples.clear()

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        start = time.perf_counter()
        try:
            yield
        finally:
            self.samples[name].append(time.perf_counter() - start)


recorder = PhaseRecorder()
