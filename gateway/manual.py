"""The manual kill switch: halt and resume trading, recorded with author and reason.

Delegates to the shared `server.risk.manual` when it is deployed; until then the fallback below
writes the `manual` circuit breaker row and a breaker event in one transaction. Running servers read
breakers every 0.25 s (`server.trading.state`), so a halt takes effect within a second."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import peewee

from server.errors import InvalidArgument
from server.store import events
from server.store.db import write_transaction
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.models import CircuitBreaker

MANUAL = "manual"
MAX_REASON = 500


def _shared(name: str) -> Callable[..., Any] | None:
    try:
        module = importlib.import_module("server.risk.manual")
    except ImportError:
        return None
    found = getattr(module, name, None)
    return found if callable(found) else None


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidArgument("reason", "is required: say why")
    if len(reason) > MAX_REASON:
        raise InvalidArgument("reason", f"must be at most {MAX_REASON} characters")
    return reason


def halt(database: peewee.Database, reason: str, author: str) -> None:
    """Stops new orders on every server until `resume`."""
    reason = _reason(reason)
    shared = _shared("halt")
    if shared is not None:
        shared(database, reason, author)
        return
    _set(database, "halted", reason, author, "breaker_tripped", f"trading halted by {author}: {reason}")


def resume(database: peewee.Database, reason: str, author: str) -> None:
    """Lifts a manual halt (other breakers keep their own state)."""
    reason = _reason(reason)
    shared = _shared("resume")
    if shared is not None:
        shared(database, reason, author)
        return
    _set(database, "active", reason, author, "breaker_reset", f"trading resumed by {author}: {reason}")


def _set(database: peewee.Database, state: str, reason: str, author: str, kind: str, message: str) -> None:
    now = utcnow()
    with write_transaction(database):
        CircuitBreaker.insert(
            name=MANUAL,
            state=state,
            reason=reason,
            tripped_at=now if state == "halted" else None,
            updated_by=author,
            updated_at=now,
        ).on_conflict(
            conflict_target=[CircuitBreaker.name],
            update={
                CircuitBreaker.state: state,
                CircuitBreaker.reason: reason,
                CircuitBreaker.tripped_at: now if state == "halted" else None,
                CircuitBreaker.updated_by: author,
                CircuitBreaker.updated_at: now,
            },
        ).execute()
        events.append(
            database,
            [
                NewEvent(
                    kind,
                    message,
                    data={"breaker": MANUAL, "state": state, "author": author, "reason": reason},
                )
            ],
        )
