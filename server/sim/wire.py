"""Wire formatting shared by the simulator's HTTP and WebSocket surfaces.

Prices, sizes and amounts travel as decimal strings; a few venue fields (``/tick-size``,
``/clob-markets``) are JSON numbers. ``dumps`` renders ``Decimal`` values as JSON numbers
without ever passing through ``float``.
"""

from __future__ import annotations

import json
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal

MICRO = Decimal("0.000001")
ONE = Decimal(1)
ZERO = Decimal(0)
UNITS = Decimal(1_000_000)


def fmt(value: Decimal) -> str:
    """Plain decimal string without exponent or trailing zeros ("100", "0.5", "0.000001")."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def fmt_price(value: Decimal, tick: Decimal) -> str:
    """Price with exactly as many decimals as the tick (the venue prints "0.50" on a 0.01 book)."""
    return format(value.quantize(tick), "f")


def q6(value: Decimal) -> Decimal:
    """Round half-up to the 6-decimal unit both USDC and outcome tokens settle in."""
    return value.quantize(MICRO, rounding=ROUND_HALF_UP)


def floor6(value: Decimal) -> Decimal:
    return value.quantize(MICRO, rounding=ROUND_FLOOR)


def ceil6(value: Decimal) -> Decimal:
    return value.quantize(MICRO, rounding=ROUND_CEILING)


def decimals_of(value: Decimal) -> int:
    """Number of significant decimals (0 for integers), ignoring trailing zeros."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def from_units(units: int) -> Decimal:
    return Decimal(units) / UNITS


def to_units(value: Decimal) -> int:
    return int((value * UNITS).to_integral_value(rounding=ROUND_DOWN))


def dumps(obj: object) -> str:
    """Compact JSON where ``Decimal`` becomes a JSON number (used for venue fields typed as numbers)."""
    if isinstance(obj, Decimal):
        return fmt(obj)
    if isinstance(obj, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + dumps(v) for k, v in obj.items()) + "}"
    if isinstance(obj, list | tuple):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    return json.dumps(obj, ensure_ascii=False)
