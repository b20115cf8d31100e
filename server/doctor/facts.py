"""What the doctor needs from the store: the active mappings and the exposure each may reach."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import peewee

from server.domain.config_schema import KEYS
from server.store import config as config_store
from server.store.models import PolymarketMarketMapping


@dataclass(frozen=True)
class MappedMarket:
    """An active mapping as stored, with the exposure limit in force for it (USDC)."""

    label: str  # "mapping 3 (event 123 YES)"
    condition_id: str
    token_ids: tuple[str, str]
    neg_risk: bool
    tick_size: Decimal
    min_order_size: Decimal
    limit: Decimal


def mapped_markets(database: peewee.Database) -> list[MappedMarket]:
    """Blocking (call from a thread): every active mapping, oldest first."""
    with database.connection_context():
        stored = config_store.current_values(database).get("maxMarketExposure")
        default = Decimal(stored.value if stored is not None else KEYS["maxMarketExposure"].default)
        rows = PolymarketMarketMapping.select().where(PolymarketMarketMapping.active)
        return [
            MappedMarket(
                label=f"mapping {m.id} (event {m.event_id} {m.outcome})",
                condition_id=m.condition_id,
                token_ids=(m.yes_token_id, m.no_token_id),
                neg_risk=m.neg_risk,
                tick_size=m.tick_size,
                min_order_size=m.min_order_size,
                limit=m.exposure_limit if m.exposure_limit is not None else default,
            )
            for m in rows.order_by(PolymarketMarketMapping.id)
        ]
