"""Injected failures and latency for the venue endpoints (never for ``/_sim/``).

A fault applies to the next ``count`` requests whose path matches (exact, or a prefix when the pattern
ends in ``*``), optionally only for one HTTP method:

* ``mode="before"``: the request is dropped before the exchange sees it; the client gets ``status``
  (or, with ``delay``, no answer for ``delay`` seconds, then a 504).
* ``mode="after"``: the exchange processes the request (state changes!), then the response is lost:
  replaced by ``status``, or held for ``delay`` seconds before it is sent.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

from server.sim.latency import Latency

FaultMode = Literal["before", "after"]

# Bodies the venue (or the proxy in front of it) sends with these statuses. A 400 carries the commonest
# documented refusal, so an injected 400 is a refusal the service must record as FAILED (inject it
# `before`: after processing it would be a venue lying); every other status here proves nothing about
# the order (server/venue/answers.py).
FAULT_BODIES: dict[int, str] = {
    400: "not enough balance / allowance",
    408: "Request Timeout",
    425: "Too Early",
    429: "Too Many Requests",
    500: "could not run the execution",
    502: "Bad Gateway",
    503: "Trading is currently disabled. Check polymarket.com for updates",
    504: "Gateway Timeout",
    520: "error code: 520",  # Cloudflare: the origin answered something unexpected
    524: "error code: 524",  # Cloudflare: the origin took too long to answer
}


@dataclass
class Fault:
    path: str
    remaining: int
    mode: FaultMode
    status: int | None
    delay: float | None
    method: str | None
    error: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


@dataclass(frozen=True)
class FaultAction:
    """What to do with one request: fail/hang before or after processing."""

    mode: FaultMode
    status: int | None
    delay: float | None
    error: str | None = None  # the answer's error text; None: the usual one for the status

    @property
    def body(self) -> dict[str, str]:
        status = self.status if self.status is not None else 504
        return {"error": self.error or FAULT_BODIES.get(status, "fault injected")}


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.latency = 0.0
        # Drawn per request once its body is read (the realistic profile); None: no distribution.
        self.distribution: Latency | None = None

    def inject(
        self,
        path: str,
        count: int,
        mode: FaultMode,
        *,
        status: int | None = None,
        delay: float | None = None,
        method: str | None = None,
        error: str | None = None,
    ) -> None:
        """The next `count` requests matching `path` (and `method`) fail as `mode` says, answered
        `status` (with `error` as the answer's text, else the usual text for that status) or held for
        `delay` seconds."""
        if mode not in ("before", "after"):
            raise ValueError("mode must be 'before' or 'after'")
        if (status is None) == (delay is None):
            raise ValueError("give exactly one of status or delay")
        if count < 1:
            raise ValueError("count must be positive")
        with self._lock:
            self._faults.append(
                Fault(path, count, mode, status, delay, method.upper() if method else None, error)
            )

    def transit(self) -> float:
        """Seconds a venue request read in full spends on its way to the exchange (the distribution's
        draw): a client that gives up meanwhile has still sent an order the exchange will process."""
        distribution = self.distribution
        return distribution.sample() if distribution is not None else 0.0

    def take(self, method: str, path: str) -> FaultAction | None:
        """Consume one use of the first fault matching this request, if any."""
        if not self._faults:
            return None
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return FaultAction(fault.mode, fault.status, fault.delay, fault.error)
        return None

    def pending(self) -> list[dict[str, object]]:
        with self._lock:
            return [
                {
                    "path": f.path,
                    "remaining": f.remaining,
                    "mode": f.mode,
                    "status": f.status,
                    "delay": f.delay,
                    "method": f.method,
                }
                for f in self._faults
            ]

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self.latency = 0.0
            self.distribution = None
