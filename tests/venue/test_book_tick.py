"""The tick the venue sends with /book is taken only when the signer supports it: anything else leaves
the mapping's tick in charge rather than pricing on a value no order can be signed for."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.venue.client import _tick


@pytest.mark.parametrize("raw", ["0.1", "0.01", "0.005", "0.0025", "0.001", "0.0001", 0.01, "0.010"])
def test_a_supported_tick_is_read(raw: object) -> None:
    assert _tick(raw) == Decimal(str(raw))


@pytest.mark.parametrize("raw", [None, "", "abc", "0.02", "0", "-0.01", "NaN", "sNaN", "Infinity", [], {}])
def test_anything_else_is_no_tick(raw: object) -> None:
    assert _tick(raw) is None
