"""Binary markets the simulator serves, loaded from ``markets.json``.

Each market has a YES and a NO outcome token (large decimal token ids, as on the venue) and a
``0x``+64-hex condition id. ``seed_book`` is the liquidity provider's starting book, always given
in YES prices: the exchange derives the NO side (a YES bid at p is a NO ask at 1 - p).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

# The six values the client accepts as a key of its rounding table (client ROUNDING_CONFIG).
VALID_TICK_SIZES = frozenset(Decimal(t) for t in ("0.1", "0.01", "0.005", "0.0025", "0.001", "0.0001"))

# Unsigned liquidity-provider orders are booked against this funder unless a market names its own.
DEFAULT_LIQUIDITY_PROVIDER = "0x5e1f000000000000000000000000000000000001"

DEFAULT_MARKETS_PATH = Path(__file__).with_name("markets.json")


@dataclass(frozen=True)
class SeedBook:
    """Resting liquidity in YES prices: ``(price, size)`` pairs, any order."""

    bids: tuple[tuple[Decimal, Decimal], ...] = ()
    asks: tuple[tuple[Decimal, Decimal], ...] = ()


@dataclass(frozen=True)
class SimMarket:
    """Static description of one binary market. Tick size changes live on the exchange."""

    condition_id: str
    question_id: str
    question: str
    slug: str
    yes_token_id: str
    no_token_id: str
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool
    fee_rate: Decimal
    fee_exponent: Decimal
    end_date_iso: str = "2026-12-31T00:00:00Z"
    category: str = ""
    liquidity_provider: str = DEFAULT_LIQUIDITY_PROVIDER
    seed_book: SeedBook = field(default_factory=SeedBook)
    # The neg-risk event (one question, mutually exclusive outcomes) a neg-risk market belongs to;
    # markets of one event share it. Defaults to the market's own question id.
    neg_risk_market_id: str = ""

    @property
    def neg_risk_event(self) -> str:
        """The venue's `neg_risk_market_id` ("" for a market that is not neg-risk)."""
        return (self.neg_risk_market_id or self.question_id) if self.neg_risk else ""

    @property
    def token_ids(self) -> tuple[str, str]:
        return (self.yes_token_id, self.no_token_id)

    def outcome(self, token_id: str) -> str:
        if token_id == self.yes_token_id:
            return "Yes"
        if token_id == self.no_token_id:
            return "No"
        raise KeyError(token_id)

    def is_yes(self, token_id: str) -> bool:
        return token_id == self.yes_token_id

    def complement(self, token_id: str) -> str:
        return self.no_token_id if token_id == self.yes_token_id else self.yes_token_id

    @property
    def fees_enabled(self) -> bool:
        return self.fee_rate > 0


def _pairs(raw: object) -> tuple[tuple[Decimal, Decimal], ...]:
    if not isinstance(raw, list):
        raise ValueError("book side must be a list of [price, size]")
    return tuple((Decimal(str(p)), Decimal(str(s))) for p, s in raw)


def _market(raw: dict[str, object]) -> SimMarket:
    tick = Decimal(str(raw["tick_size"]))
    if tick not in VALID_TICK_SIZES:
        raise ValueError(f"tick size {tick} is not one the client accepts")
    book = raw.get("seed_book") or {}
    assert isinstance(book, dict)
    condition_id = str(raw["condition_id"])
    if not (condition_id.startswith("0x") and len(condition_id) == 66):
        raise ValueError(f"condition id must be 0x + 64 hex: {condition_id}")
    return SimMarket(
        condition_id=condition_id,
        question_id=str(raw["question_id"]),
        question=str(raw["question"]),
        slug=str(raw["slug"]),
        yes_token_id=str(raw["yes_token_id"]),
        no_token_id=str(raw["no_token_id"]),
        tick_size=tick,
        min_order_size=Decimal(str(raw["min_order_size"])),
        neg_risk=bool(raw["neg_risk"]),
        fee_rate=Decimal(str(raw.get("fee_rate", "0"))),
        fee_exponent=Decimal(str(raw.get("fee_exponent", "1"))),
        end_date_iso=str(raw.get("end_date_iso", "2026-12-31T00:00:00Z")),
        category=str(raw.get("category", "")),
        seed_book=SeedBook(bids=_pairs(book.get("bids", [])), asks=_pairs(book.get("asks", []))),
        liquidity_provider=str(raw.get("liquidity_provider", DEFAULT_LIQUIDITY_PROVIDER)),
        neg_risk_market_id=str(raw.get("neg_risk_market_id", "")),
    )


def load_markets(path: str | Path | None = None) -> list[SimMarket]:
    """Read the market list (default: the ``markets.json`` shipped next to this module)."""
    with open(path or DEFAULT_MARKETS_PATH, encoding="utf-8") as fh:
        data = json.load(fh)
    markets = [_market(m) for m in data["markets"]]
    seen: set[str] = set()
    for m in markets:
        for ident in (m.condition_id, *m.token_ids):
            if ident in seen:
                raise ValueError(f"duplicate id in markets file: {ident}")
            seen.add(ident)
    return markets
