"""What health checks besides the database answering: the venue breaker. While it is tripped this
process cannot hedge, so health says NOT_SERVING and a load balancer sends orders elsewhere."""

from __future__ import annotations

from server.domain.types import BreakerLevel
from server.risk.breakers import BreakerName
from server.store.models import CircuitBreaker


class NotReady(Exception):
    """The database answers but the process cannot serve; the message says why (one line)."""


def check_ready() -> None:
    """One round trip (call from a database thread): raises a database error when the database does
    not answer, `NotReady` while the venue breaker is tripped."""
    venue = CircuitBreaker.get_or_none(CircuitBreaker.name == BreakerName.VENUE)
    if venue is not None and venue.state == BreakerLevel.HALTED:
        raise NotReady(f"the venue breaker is tripped ({venue.reason})")
