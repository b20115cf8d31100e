"""Reads the public market endpoints of the venue (no credentials) to validate market mappings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from server.errors import Unavailable


@dataclass(frozen=True)
class VenueMarket:
    """A binary market as the venue describes it at /clob-markets/{condition_id}."""

    condition_id: str
    yes_token_id: str
    no_token_id: str
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool
    fee_rate: Decimal
    fee_exponent: Decimal

    def complement(self, token_id: str) -> str | None:
        if token_id == self.yes_token_id:
            return self.no_token_id
        if token_id == self.no_token_id:
            return self.yes_token_id
        return None


class VenueReader:
    """An async HTTP client for the venue's public market data, used from one event loop."""

    def __init__(self, base_url: str, *, timeout: float = 5.0) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def clob_market(self, condition_id: str) -> VenueMarket | None:
        """The market of `condition_id`, or None when the venue does not know it."""
        data = await self._get(f"/clob-markets/{quote(condition_id, safe='')}")
        if data is None:
            return None
        try:
            tokens = {str(t["o"]).lower(): str(t["t"]) for t in data["t"]}
            fees = data.get("fd") or {}
            return VenueMarket(
                condition_id=condition_id,
                yes_token_id=tokens["yes"],
                no_token_id=tokens["no"],
                tick_size=_decimal(data["mts"]),
                min_order_size=_decimal(data["mos"]),
                neg_risk=bool(data.get("nr", False)),
                fee_rate=_decimal(fees.get("r", 0)),
                fee_exponent=_decimal(fees.get("e", 1)),
            )
        except (KeyError, TypeError, ValueError, ArithmeticError):
            raise Unavailable("the venue described the market in an unexpected form") from None

    async def condition_of_token(self, token_id: str) -> str | None:
        """The condition id a token belongs to, or None when the venue does not know the token."""
        data = await self._get(f"/markets-by-token/{quote(token_id, safe='')}")
        if data is None:
            return None
        value = data.get("condition_id") if isinstance(data, dict) else None
        if not isinstance(value, str):
            raise Unavailable("the venue answered /markets-by-token in an unexpected form")
        return value

    async def question(self, condition_id: str) -> str:
        """The market's question, or an empty string when the venue does not give one."""
        data = await self._get(f"/markets/{quote(condition_id, safe='')}")
        value = data.get("question") if isinstance(data, dict) else None
        return value if isinstance(value, str) else ""

    async def midpoint(self, token_id: str) -> Decimal | None:
        """The mid of the best bid and ask, or None when one side of the book is empty."""
        data = await self._get("/book", params={"token_id": token_id})
        if not isinstance(data, dict):
            return None
        try:
            bids = [_decimal(level["price"]) for level in data.get("bids", [])]
            asks = [_decimal(level["price"]) for level in data.get("asks", [])]
        except (KeyError, TypeError, ValueError, ArithmeticError):
            raise Unavailable("the venue answered /book in an unexpected form") from None
        if not bids or not asks:
            return None
        return (max(bids) + min(asks)) / 2

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = await self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise Unavailable(f"the venue did not answer ({type(exc).__name__})") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise Unavailable(f"the venue answered {path.split('/')[1]} with HTTP {response.status_code}")
        try:
            return json.loads(response.text, parse_float=Decimal)
        except ValueError:
            raise Unavailable("the venue sent a body that is not JSON") from None


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise TypeError("not a decimal")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError("not finite")
    return number
