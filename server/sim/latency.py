"""A seeded latency distribution with a tail, for the venue endpoints of the realistic profile.

Most answers take about ``median`` seconds, spread log-normally (``sigma``); a ``spike_rate`` share of
them is held ``spike`` seconds longer (a uniform draw between its bounds), the stalls a client behind
Cloudflare sees now and then. Nothing exceeds ``cap``. Draws come from a ``random.Random`` of their own,
so a seed gives the same sequence of delays (which request gets which depends on arrival order).
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class LatencySpec:
    """The shape of the distribution, in seconds."""

    median: float
    sigma: float
    spike_rate: float
    spike: tuple[float, float]
    cap: float

    def __post_init__(self) -> None:
        low, high = self.spike
        if self.median < 0 or self.sigma < 0 or not 0 <= self.spike_rate <= 1 or not 0 <= low <= high:
            raise ValueError(f"invalid latency distribution {self}")


class Latency:
    """Thread-safe sampler of one ``LatencySpec``."""

    def __init__(self, spec: LatencySpec, seed: int) -> None:
        self.spec = spec
        self._rng = random.Random(f"latency:{seed}")
        self._lock = threading.Lock()

    def sample(self) -> float:
        """One delay in seconds, in ``[0, cap]``."""
        spec = self.spec
        with self._lock:
            delay = spec.median * math.exp(spec.sigma * self._rng.gauss(0.0, 1.0))
            if self._rng.random() < spec.spike_rate:
                delay += self._rng.uniform(*spec.spike)
        return min(delay, spec.cap)
