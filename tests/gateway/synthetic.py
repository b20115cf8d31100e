"""Synthetic orders and hedges written straight to the tables (for the dashboard parity test and the
benchmark): deterministic for a seed, every amount a Decimal within the schema's CHECKs."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import peewee

from server.store import mappings as mapping_store
from server.store import market_totals, outcome_seconds
from server.store.migrate import migrate
from server.store.models import HedgePosition, UserOrder

CENT = Decimal("0.01")
STATUSES = ["hedged"] * 80 + ["partial"] * 6 + ["failed"] * 8 + ["pending"] * 3 + ["unknown"] * 3


def create_mappings(database: peewee.Database, count: int = 6) -> list[Any]:
    created = []
    for i in range(count):
        created.append(
            mapping_store.create(
                database,
                mapping_store.MappingSpec(
                    event_id=f"event-{i}",
                    outcome="YES",
                    condition_id=f"0x{i:064x}",
                    yes_token_id=str(10_000 + 2 * i),
                    no_token_id=str(10_001 + 2 * i),
                    neg_risk=False,
                    tick_size=CENT,
                    min_order_size=Decimal(5),
                    fee_rate=Decimal("0.02") if i % 2 else Decimal(0),
                    fee_exponent=Decimal(1),
                    question=f"Synthetic market {i}?",
                ),
                author="synthetic",
            )
        )
    return created


def rows(
    mappings: list[Any], count: int, now: datetime, span: timedelta, seed: int = 7
) -> Iterator[tuple[dict, dict | None]]:
    """(order, hedge or None) pairs created uniformly over [now - span, now), oldest first (the
    service appends rows in time order, so the table's physical order follows created_at)."""
    rng = random.Random(seed)
    micros = int(span / timedelta(microseconds=1))
    ages = sorted((rng.randrange(1, micros) for _ in range(count)), reverse=True)
    for age in ages:
        mapping = rng.choice(mappings)
        created = now - timedelta(microseconds=age)
        size = Decimal(rng.randrange(5, 500))
        reference = Decimal(rng.randrange(5, 95)) * CENT
        price = min(reference + CENT * rng.randrange(1, 4), Decimal("0.99"))
        order_id = str(uuid.UUID(int=rng.getrandbits(128)))
        rejected = rng.random() < 0.05
        order = {
            "id": order_id,
            "account_id": f"user-{rng.randrange(50)}",
            "request_id": uuid.UUID(int=rng.getrandbits(128)).hex,
            "request_hash": "0" * 64,
            "mapping": mapping.id,
            "event_id": mapping.event_id,
            "outcome": mapping.outcome,
            "side": "BUY",
            "size": size,
            "limit_price": None,
            "status": "rejected" if rejected else "accepted",
            "reject_reason": "insufficient_liquidity" if rejected else None,
            "message": "synthetic",
            "price": None if rejected else price,
            "notional": None if rejected else size * price,
            "reference_price": reference,
            "hedge_fee_estimate": Decimal(0),
            "hedge_status": "not_attempted" if rejected else "hedged",
            "hedged_size": Decimal(0),
            "created_at": created,
            "updated_at": created,
        }
        if rejected:
            yield order, None
            continue
        status = rng.choice(STATUSES)
        paper = rng.random() < 0.05
        if paper:
            status = "paper" if status in ("hedged", "partial") else "failed"
        filled = {"hedged": size, "paper": size, "partial": (size / 2).quantize(CENT)}.get(status, Decimal(0))
        fill_price = None
        cost = fee = Decimal(0)
        if filled:
            fill_price = reference + CENT * rng.randrange(-1, 2) * (1 if rng.random() < 0.5 else 0)
            fill_price = min(max(fill_price, CENT), Decimal("0.99"))
            cost = filled * fill_price
            fee = (filled * mapping.fee_rate * fill_price * (1 - fill_price)).quantize(Decimal("0.00001"))
        spread = price * filled - cost
        submitted = created + timedelta(microseconds=rng.randrange(100, 2_000))
        resolved = (
            None
            if status in ("pending", "unknown")
            else submitted + timedelta(microseconds=rng.randrange(5_000, 900_000))
        )
        hedge = {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "order": order_id,
            "mapping": mapping.id,
            "parent_hedge": None,
            "token_id": mapping.yes_token_id,
            "leg": "YES",
            "side": "BUY",
            "size": size,
            "limit_price": min(reference + 3 * CENT, Decimal("0.99")),
            "quoted_price": reference,
            "user_price": price,
            "order_type": "FOK",
            "is_paper": paper,
            "status": status,
            "venue_order_id": None if paper else "0x" + uuid.UUID(int=rng.getrandbits(128)).hex * 2,
            "signed_order": None,
            "filled_size": filled,
            "fill_cost": cost,
            "fill_price": fill_price,
            "fee": fee,
            "spread_captured": spread,
            "net_profit": spread - fee,
            "failure_reason": "FOK order not filled" if status in ("failed", "partial") else None,
            "attempt_count": 1,
            "next_check_at": None,
            "created_at": created,
            "updated_at": created,
            "submitted_at": None if paper else submitted,
            "resolved_at": None if paper else resolved,
        }
        yield order, hedge


def insert(database: peewee.Database, pairs: Iterator[tuple[dict, dict | None]], batch: int = 2000) -> int:
    orders: list[dict] = []
    hedges: list[dict] = []
    written = 0

    def flush() -> None:
        with database.atomic():
            if orders:
                UserOrder.insert_many(orders).execute()
            if hedges:
                HedgePosition.insert_many(hedges).execute()
        orders.clear()
        hedges.clear()

    for order, hedge in pairs:
        orders.append(order)
        if hedge is not None:
            hedges.append(hedge)
            written += 1
        if len(orders) >= batch:
            flush()
    flush()
    # Rows written behind the service's back: its running totals are recounted from them.
    market_totals.repair(database)
    outcome_seconds.repair(database)
    return written


def seed(database: peewee.Database, hedges: int, days: float, markets: int = 12) -> int:
    """Migrates `database` and fills it with about `hedges` hedges over the last `days` days (about
    5 % of the orders are rejected and carry none), then ANALYZEs it; returns the hedges written."""
    migrate(database)
    maps = create_mappings(database, markets)
    pairs = rows(maps, int(hedges / 0.95) + 1, datetime.now(UTC), timedelta(days=days))
    written = insert(database, pairs)
    database.execute_sql("ANALYZE")
    return written
