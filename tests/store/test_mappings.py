"""Mappings: one venue token stands for at most one active platform market."""

from __future__ import annotations

from decimal import Decimal

import peewee
import pytest

from server.errors import AlreadyExists
from server.store import mappings
from server.store.models import HedgeEvent, MarketExposure, PolymarketMarketMapping


def spec(event_id: str) -> mappings.MappingSpec:
    return mappings.MappingSpec(
        event_id, "YES", "0x" + "ab" * 32, "111", "222", False, Decimal("0.01"), Decimal("5"), Decimal(0),
        Decimal(1), "Will it?",
    )  # fmt: skip


def rows() -> tuple[int, int, int]:
    return (
        PolymarketMarketMapping.select().count(),
        MarketExposure.select().count(),
        HedgeEvent.select().count(),
    )


def check_one_active_mapping_per_token(database: peewee.Database) -> None:
    first = mappings.create(database, spec("fed-cut"), author="alice")
    before = rows()
    with pytest.raises(AlreadyExists, match="fed-cut/YES"):
        mappings.create(database, spec("fed-cut-copy"), author="alice")
    assert rows() == before

    # Once the first is inactive the token may stand for another market...
    mappings.update(database, first.id, author="alice", active=False)
    second = mappings.create(database, spec("fed-cut-copy"), author="alice")
    # ...and the first cannot come back while the second is active.
    before = rows()
    with pytest.raises(AlreadyExists, match="fed-cut-copy/YES"):
        mappings.update(database, first.id, author="alice", active=True)
    assert rows() == before and not PolymarketMarketMapping.get_by_id(first.id).active
    assert PolymarketMarketMapping.get_by_id(second.id).active

    # The schema holds the rule too, for writers that race past the check.
    with pytest.raises(peewee.IntegrityError), database.atomic():
        PolymarketMarketMapping.update(active=True).where(PolymarketMarketMapping.id == first.id).execute()


def test_one_active_mapping_per_token_on_postgresql(pg_db: peewee.Database) -> None:
    with pg_db.connection_context():
        check_one_active_mapping_per_token(pg_db)
