"""What a person does to the breakers (the GraphQL gateway calls these): halt trading, resume it, or
reset one breaker. Each change is audited: its event names who did it and why. Every server process
sees the change within a second (each refreshes breaker state every 0.25 s).

Call from a database thread (blocking Peewee work)."""

from __future__ import annotations

import peewee

from server.domain import inputs
from server.errors import InvalidArgument
from server.risk import breaker_store
from server.risk.breakers import AUTO_RESET, BreakerName, Trip


def _check(reason: str, author: str) -> str:
    inputs.author(author)
    return inputs.reason(reason)


def halt(database: peewee.Database, reason: str, author: str) -> bool:
    """Halts trading (the `manual` breaker): every new order is rejected with REJECT_REASON_HALTED.
    Returns False when trading was already halted by hand (nothing is written then)."""
    reason = _check(reason, author)
    return breaker_store.trip(database, Trip(BreakerName.MANUAL, reason), author=author)


def resume(database: peewee.Database, reason: str, author: str) -> list[str]:
    """Lifts a manual halt and resets every breaker that waits for a person (failure rate, unhedged
    exposure, unknown hedges). The venue breaker is left to reset itself once the venue answers.
    Returns the names of the breakers reset (an automatic breaker whose cause persists trips again)."""
    reason = _check(reason, author)
    reset = []
    for name in BreakerName:
        if name in AUTO_RESET:
            continue
        if breaker_store.reset(database, name, reason=reason, author=author):
            reset.append(name.value)
    return reset


def reset_breaker(database: peewee.Database, name: str, reason: str, author: str) -> bool:
    """Resets one breaker by name (failure_rate, unhedged_exposure, venue, unknown_hedges, manual);
    returns False when it was not tripped."""
    reason = _check(reason, author)
    try:
        breaker = BreakerName(name)
    except ValueError:
        names = ", ".join(n.value for n in BreakerName)
        raise InvalidArgument("name", f"must be one of {names}") from None
    return breaker_store.reset(database, breaker, reason=reason, author=author)
