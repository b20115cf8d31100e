"""Parsing of caller-supplied values. Every request field is checked here, at the edge, before
anything is written or sent: a malformed value raises `InvalidArgument` naming the field."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from server.errors import InvalidArgument

MAX_ID_LENGTH = 128
MAX_REASON = 500  # why a person changed something (a halt, a config value, a re-hedge request)
MAX_AUTHOR = 128
SHARE_DECIMALS = 2  # the venue's share precision
_MAX_DIGITS = 18
# Applied with `fullmatch`: `$` would also match before a final "\n", so "5\n" would pass.
_NUMBER = re.compile(r"[0-9]{1,12}(\.[0-9]{1,12})?")
_ID = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces


def identifier(field: str, value: str) -> str:
    if not value:
        raise InvalidArgument(field, "is required")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidArgument(field, f"must be at most {MAX_ID_LENGTH} characters")
    if not _ID.fullmatch(value):
        raise InvalidArgument(field, "must be printable ASCII without spaces")
    return value


def text(field: str, value: str) -> str:
    """Any text the store can hold: PostgreSQL refuses NUL in a string, and UTF-8 (the database's
    encoding) cannot encode a lone surrogate, which a JSON "\\ud800" escape decodes to."""
    if "\x00" in value:
        raise InvalidArgument(field, "must not contain NUL (U+0000)")
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise InvalidArgument(
                field, "must be valid Unicode text (it holds an unpaired surrogate)"
            ) from None
    return value


def reason(value: str | None) -> str:
    """Why a person changes something, as recorded: stripped, required, at most `MAX_REASON`
    characters of text the store can hold."""
    stripped = text("reason", (value or "").strip())
    if not stripped:
        raise InvalidArgument("reason", "is required: say why")
    if len(stripped) > MAX_REASON:
        raise InvalidArgument("reason", f"must be at most {MAX_REASON} characters")
    return stripped


def author(value: str | None) -> str:
    """Who changes something: required, at most `MAX_AUTHOR` characters."""
    if not value or len(value) > MAX_AUTHOR:
        raise InvalidArgument("author", f"is required (at most {MAX_AUTHOR} characters)")
    return text("author", value)


def _plain_decimal(field: str, value: str) -> Decimal:
    """A plain positional decimal: no sign, exponent, NaN, infinity or more than 12+12 digits."""
    if not value:
        raise InvalidArgument(field, "is required")
    if len(value) > 2 * _MAX_DIGITS or not _NUMBER.fullmatch(value):
        raise InvalidArgument(field, f"must be a plain positive decimal such as 12.5, got {value[:40]!r}")
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes it
        raise InvalidArgument(field, "is not a decimal number") from None


def size(field: str, value: str) -> Decimal:
    """A positive share count with at most the venue's share precision."""
    number = _plain_decimal(field, value)
    if number <= 0:
        raise InvalidArgument(field, "must be greater than 0")
    if -number.as_tuple().exponent > SHARE_DECIMALS:  # type: ignore[operator]  # finite: an int exponent
        raise InvalidArgument(
            field, f"must have at most {SHARE_DECIMALS} decimal places (the venue's share precision)"
        )
    return number


def price(field: str, value: str) -> Decimal:
    """A price strictly between 0 and 1 (its tick is checked against the market separately)."""
    number = _plain_decimal(field, value)
    if not Decimal(0) < number < Decimal(1):
        raise InvalidArgument(field, "must lie strictly between 0 and 1")
    return number


def on_tick(field: str, value: Decimal, tick: Decimal) -> Decimal:
    if value % tick != 0:
        raise InvalidArgument(field, f"must be a multiple of the market's tick size {tick}")
    return value
