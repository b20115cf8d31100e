"""Reading our side of a venue trade record (`GET /data/trades`), as the settlement follower does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from server.venue.trade_record import OurTrade, our_side

OURS = "0x" + "11" * 32
THEIRS = "0x" + "22" * 32


def record(status: str = "MATCHED", taker: str = OURS, maker: str = THEIRS) -> dict[str, Any]:
    return {
        "id": "trade-1",
        "taker_order_id": taker,
        "status": status,
        "size": "12.5",
        "price": "0.41",
        "maker_orders": [{"order_id": maker, "matched_amount": "12.5", "price": "0.59"}],
    }


def test_as_the_taker_our_side_is_the_trades_size_and_price():
    assert our_side(record("MINED"), OURS) == OurTrade(
        "trade-1", "mined", Decimal("12.5"), Decimal("0.41"), True
    )


def test_as_a_maker_our_side_is_our_maker_entry():
    found = our_side(record("CONFIRMED", taker=THEIRS, maker=OURS), OURS)
    assert found == OurTrade("trade-1", "confirmed", Decimal("12.5"), Decimal("0.59"), False)


def test_every_settlement_status_is_read_in_lower_case():
    for status in ("MATCHED", "MINED", "RETRYING", "CONFIRMED", "FAILED"):
        found = our_side(record(status), OURS)
        assert found is not None and found.status == status.lower()


def test_a_record_of_another_order_an_unknown_status_or_bad_amounts_is_not_ours():
    assert our_side(record(), "0x" + "33" * 32) is None
    assert our_side(record("SETTLED"), OURS) is None
    assert our_side({**record(), "size": "lots"}, OURS) is None
    assert our_side({k: v for k, v in record().items() if k != "price"}, OURS) is None
