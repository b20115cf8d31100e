"""The platform's P&L in two kinds, read as one snapshot: realised (markets resolved and settled:
the cash they brought, `server.domain.realised_pnl`) and mark-to-market (markets still trading: the
running estimate their hedges' spread less fees gives, settled against cash only at resolution)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import peewee

from server.store import market_books, market_totals
from server.store.market_books import MarketBooks

ZERO = Decimal(0)


@dataclass(frozen=True)
class PnlView:
    """Realised P&L per settled market and in total, and the mark-to-market estimate of the rest."""

    markets: tuple[MarketBooks, ...]
    mark_to_market: Decimal

    @property
    def realised(self) -> Decimal:
        return sum((m.pnl.realised for m in self.markets), ZERO)


def read_pnl(database: peewee.Database) -> PnlView:
    """`PnlView` in one read-only snapshot (call from a database thread)."""
    with database.atomic():
        database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        books = market_books.read_books(database)
        settled = {b.mapping_id for b in books}
        running = market_totals.read(database)
        open_ = sum((t.net_profit for i, t in running.items() if i not in settled), ZERO)
        return PnlView(tuple(books), open_)
