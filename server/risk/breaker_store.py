"""Circuit-breaker rows: tripping and resetting them, each change with its event (and, for a trip,
a risk snapshot) in the same transaction. Changes are conditional updates on the breaker's row, so
any number of processes may evaluate at once: exactly one of them trips (or resets) a breaker and
writes its event."""

from __future__ import annotations

import peewee

from server.domain.types import BreakerLevel
from server.risk import snapshots
from server.risk.breakers import AUTO_RESET, BreakerName, Trip
from server.store import events
from server.store.db import write_transaction
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.models import CircuitBreaker


def _ensure_row(name: BreakerName) -> None:
    now = utcnow()
    CircuitBreaker.insert(
        name=name.value,
        state=BreakerLevel.ACTIVE.value,
        reason="",
        tripped_at=None,
        updated_by="system",
        updated_at=now,
    ).on_conflict_ignore().execute()


def trip(database: peewee.Database, tripped: Trip, *, author: str) -> bool:
    """Trips the breaker unless it is tripped already; returns whether this call tripped it. Writes
    the row, a `breaker_tripped` event and a risk snapshot in one transaction."""
    now = utcnow()
    with write_transaction(database):
        _ensure_row(tripped.name)
        changed = (
            CircuitBreaker.update(
                state=tripped.level.value,
                reason=tripped.reason[:500],
                tripped_at=now,
                updated_by=author,
                updated_at=now,
            )
            .where(
                (CircuitBreaker.name == tripped.name.value)
                & (CircuitBreaker.state == BreakerLevel.ACTIVE.value)
            )
            .execute()
        )
        if changed != 1:
            return False
        snapshots.write(database, f"breaker {tripped.name.value} tripped: {tripped.reason}")
        events.append(
            database,
            [
                NewEvent(
                    "breaker_tripped",
                    f"{tripped.name.value} breaker tripped ({tripped.level.value}) by {author}: {tripped.reason}",
                    data={
                        "breaker": tripped.name.value,
                        "state": tripped.level.value,
                        "reason": tripped.reason,
                        "author": author,
                        "auto_reset": tripped.name in AUTO_RESET,
                    },
                )
            ],
        )
    return True


def reset(database: peewee.Database, name: BreakerName, *, reason: str, author: str) -> bool:
    """Resets a tripped breaker; returns whether this call reset it (False: it was not tripped).
    Writes the row and a `breaker_reset` event in one transaction."""
    now = utcnow()
    with write_transaction(database):
        row = CircuitBreaker.get_or_none(CircuitBreaker.name == name.value)
        if row is None or row.state == BreakerLevel.ACTIVE.value:
            return False
        changed = (
            CircuitBreaker.update(
                state=BreakerLevel.ACTIVE.value,
                reason=reason[:500],
                tripped_at=None,
                updated_by=author,
                updated_at=now,
            )
            .where((CircuitBreaker.name == name.value) & (CircuitBreaker.state == row.state))
            .execute()
        )
        if changed != 1:
            return False
        events.append(
            database,
            [
                NewEvent(
                    "breaker_reset",
                    f"{name.value} breaker reset by {author}: {reason}",
                    data={"breaker": name.value, "was": row.state, "reason": reason, "author": author},
                )
            ],
        )
    return True
