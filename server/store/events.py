"""The append-only event log. Ids are handed out in commit order so that a reader who has seen id N
has seen every event below N: writers take one transaction-scoped advisory lock right
before inserting (and hold it to commit).

Subscribers in every process are woken by a NOTIFY on `NOTIFY_CHANNEL` (a wake-up only; the table
is the truth). Occasional writers send it inside their transaction. The order path, which writes
events hundreds of times a second, leaves it out (`notify=False`) and announces after COMMIT
through its process's event listener: a NOTIFY inside a transaction holds PostgreSQL's global
notify-queue lock through that transaction's commit, which serialises every order's commit and
cost a quarter of a millisecond each."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import peewee

from server.store.fields import utcnow
from server.store.sql import Statement, insert_many, run

_EVENT_LOCK = 0x4845_4447  # "HEDG"
NOTIFY_CHANNEL = "hedge_events"

# Readers of the log read `id > cursor AND id < ID_CEILING`, never `id > cursor` alone: without
# statistics (a new table, or autovacuum off) PostgreSQL estimates `id > cursor` to match a third of
# the table and then scans and sorts all of it on every read, which grows with the log (0.5 ms at
# 3,000 events, an order's worth of database time). The second bound, always true, makes the pair
# estimate as a narrow range, so the primary key's index is used whatever the statistics say.
ID_CEILING = 2**63 - 1


@dataclass(frozen=True)
class NewEvent:
    event_type: str
    message: str
    event_id: str | None = None
    outcome: str | None = None
    order_id: str | None = None
    hedge_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def statements(database: peewee.Database, events: list[NewEvent], *, notify: bool = True) -> list[Statement]:
    """The statements that write `events`; run them last in the caller's transaction, just before
    commit (the event lock is held from there to commit, so ids commit in order). With `notify`
    False the caller must announce the events itself once committed (see the module's text)."""
    if not events:
        return []
    now = utcnow()
    rows = insert_many(
        "hedge_event",
        [
            {
                "event_type": e.event_type,
                "created_at": now,
                "event_id": e.event_id,
                "outcome": e.outcome,
                "order_id": e.order_id,
                "hedge_id": e.hedge_id,
                "message": e.message,
                "data": json.dumps({k: str(v) for k, v in e.data.items()}, sort_keys=True),
            }
            for e in events
        ],
    )
    wake: list[Statement] = [("SELECT pg_notify(%s, '')", (NOTIFY_CHANNEL,))] if notify else []
    return [("SELECT pg_advisory_xact_lock(%s)", (_EVENT_LOCK,)), *rows, *wake]


def append(database: peewee.Database, events: list[NewEvent]) -> None:
    """Writes `events` inside the caller's transaction; call it last, just before commit."""
    run(database, statements(database, events))


def latest_id(database: peewee.Database) -> int:
    row = database.execute_sql("SELECT COALESCE(MAX(id), 0) FROM hedge_event").fetchone()
    return int(row[0])
