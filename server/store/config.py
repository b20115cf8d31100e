"""Runtime configuration in the database: current values with their version and author, and an
append-only history of every change with its reason. Values are validated by the config schema."""

from __future__ import annotations

import peewee

from server.domain import inputs
from server.domain.config_schema import KEYS, key
from server.errors import InvalidArgument
from server.store import events
from server.store.db import write_transaction
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.models import HedgeConfig, HedgeConfigHistory


def current_values(database: peewee.Database) -> dict[str, HedgeConfig]:
    return {row.key: row for row in HedgeConfig.select()}


def set_value(database: peewee.Database, name: str, text: str, *, author: str, reason: str) -> HedgeConfig:
    """Validates and stores one value; records the change, its author and reason, and an event.
    Setting a key to its current value records nothing and returns the row as it is."""
    spec = key(name)
    canonical = spec.canonical(text)
    reason = inputs.reason(reason)
    author = inputs.author(author)
    now = utcnow()
    with write_transaction(database):
        query = HedgeConfig.select().where(HedgeConfig.key == name)
        row = query.for_update().get_or_none()
        old = row.value if row is not None else None
        if row is not None and old == canonical:
            return row
        version = (row.version + 1) if row is not None else 1
        HedgeConfig.insert(
            key=name,
            value=canonical,
            value_type=spec.value_type,
            version=version,
            updated_by=author,
            updated_at=now,
        ).on_conflict(
            conflict_target=[HedgeConfig.key],
            update={
                HedgeConfig.value: canonical,
                HedgeConfig.version: version,
                HedgeConfig.updated_by: author,
                HedgeConfig.updated_at: now,
            },
        ).execute()
        HedgeConfigHistory.create(
            key=name,
            old_value=old,
            new_value=canonical,
            version=version,
            changed_by=author,
            reason=reason,
            changed_at=now,
        )
        shown_old = old if old is not None else f"{spec.default} (default)"
        events.append(
            database,
            [
                NewEvent(
                    "config_changed",
                    f"{name} changed from {shown_old} to {canonical} by {author}: {reason}",
                    data={
                        "key": name,
                        "old": old or "",
                        "new": canonical,
                        "author": author,
                        "reason": reason,
                    },
                )
            ],
        )
    return HedgeConfig.get_by_id(name)


def history(database: peewee.Database, name: str | None = None, limit: int = 100) -> list[HedgeConfigHistory]:
    query = HedgeConfigHistory.select().order_by(HedgeConfigHistory.id.desc()).limit(limit)
    if name is not None:
        if name not in KEYS:
            raise InvalidArgument("key", f"unknown config key {name[:64]!r}")
        query = query.where(HedgeConfigHistory.key == name)
    return list(query)
