"""The Decimal scalar: money, prices and sizes travel as decimal strings, never binary floats."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types.scalar import ScalarDefinition

# [0-9], not \d (which takes any script's digits, and Decimal reads them), applied with fullmatch
# to the value as given: `$` would pass a final newline, and surrounding spaces are not a number.
_PLAIN = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,18})?")


def serialize_decimal(value: Any) -> str:
    if not isinstance(value, Decimal):
        raise TypeError(f"Decimal fields take a Decimal, not {type(value).__name__}")
    return format(value, "f")


def parse_decimal(value: Any) -> Decimal:
    """Accepts plain decimal strings only: no exponent, NaN, infinity or JSON numbers (floats)."""
    if not isinstance(value, str) or not _PLAIN.fullmatch(value):
        raise ValueError('a Decimal is a string of plain decimal digits, as "1250.50"')
    return Decimal(value)


DECIMAL_SCALAR: ScalarDefinition = strawberry.scalar(
    name="Decimal",
    description='An exact decimal number as a string, as "0.52" or "1000". Never a float.',
    serialize=serialize_decimal,
    parse_value=parse_decimal,
)
