"""The venue's per-signer order budget: one token bucket per signer address for order placement.

From docs.polymarket.com/api-reference/trading-rate-limits (venue-facts-2026-12.md): tokens refill
continuously at the tier's rate up to its burst; ``POST /order`` costs 1 token and ``POST /orders`` one
per order, a batch admitted only if every entry fits (all or nothing); over budget the answer is 429
with ``Retry-After`` (the least wait, given only when the cost fits in a burst at all: a larger batch
must be split). Evaluated requests carry ``Poly-RateLimit-Remaining`` (whole tokens left),
``Poly-RateLimit-Reset`` (Unix seconds: when enough tokens for a refused request will be there; "now"
for an admitted one) and ``Poly-RateLimit-Tier``. In warning mode (how the venue started, 2026-07-24)
every request is admitted and one that enforcement would refuse carries ``Poly-RateLimit-Warning: true``.

Not modelled: the cancel bucket, tier assignment from 30-day volume (one tier per simulator).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

Mode = Literal["enforce", "warn"]

#: The 429 body text. The docs give the status and headers, not the text; this one is ours.
TOO_MANY_ORDERS: Final = "Too Many Requests: the signer's order budget is spent"


@dataclass(frozen=True)
class Tier:
    """A volume tier's order bucket: ``rate`` tokens a second, holding at most ``burst``."""

    name: str
    rate: int
    burst: int


#: Order-bucket tiers as the docs' table gives them (the lowest and the highest).
TIERS: Final = {
    "standard": Tier("standard", rate=40, burst=60),
    "elite": Tier("elite", rate=600, burst=900),
}


@dataclass(frozen=True)
class Verdict:
    """The limiter's answer to one request: admitted or not, and the headers it carries."""

    admitted: bool
    headers: dict[str, str]


class OrderBudget:
    """Token buckets keyed by signer address; thread-safe; time comes from ``clock`` (Unix seconds)."""

    def __init__(self, tier: Tier, clock: Callable[[], float], mode: Mode = "enforce") -> None:
        self.tier = tier
        self.mode = mode
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # signer -> (tokens, as of)
        self.admitted = 0  # orders admitted (within the budget)
        self.refused = 0  # requests answered 429
        self.warned = 0  # requests over the budget admitted in warning mode

    def charge(self, signer: str, cost: int) -> Verdict:
        """Take ``cost`` tokens from ``signer``'s bucket if they are all there (else take none)."""
        with self._lock:
            now = self._clock()
            tokens, since = self._buckets.get(signer, (float(self.tier.burst), now))
            tokens = min(float(self.tier.burst), tokens + max(0.0, now - since) * self.tier.rate)
            fits = tokens >= cost
            if fits or self.mode == "warn":
                tokens = max(0.0, tokens - cost)
            self._buckets[signer] = (tokens, now)
            self.admitted += cost if fits else 0
            self.warned += 0 if fits or self.mode != "warn" else 1
            self.refused += 0 if fits or self.mode == "warn" else 1
        headers = {
            "Poly-RateLimit-Remaining": str(math.floor(tokens)),
            "Poly-RateLimit-Tier": self.tier.name,
        }
        if fits:
            headers["Poly-RateLimit-Reset"] = str(math.floor(now))
            return Verdict(True, headers)
        wait = (cost - tokens) / self.tier.rate
        if cost <= self.tier.burst:
            headers["Poly-RateLimit-Reset"] = str(math.ceil(now + wait))
        if self.mode == "warn":
            headers["Poly-RateLimit-Warning"] = "true"
            return Verdict(True, headers)
        if cost <= self.tier.burst:
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return Verdict(False, headers)
