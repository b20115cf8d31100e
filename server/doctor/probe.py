"""The doctor's HTTP client for the venue: public reads, and reads signed with the L2 credentials."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import httpx

from server.venue.client import ApiCredentials
from server.venue.wire import l2_headers


class NoAnswer(Exception):
    """The venue gave no usable answer; the message says what happened (never a secret)."""


class VenueProbe:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(
        self,
        path: str,
        params: dict[str, str] | None = None,
        *,
        signed: tuple[ApiCredentials, str] | None = None,
    ) -> tuple[int, Any]:
        """(HTTP status, JSON body or None). `signed` is (credentials, address) for an L2 request."""
        headers: dict[str, str] = {}
        if signed is not None:
            creds, address = signed
            headers = l2_headers(
                creds.api_key.reveal(),
                creds.api_secret.reveal(),
                creds.api_passphrase.reveal(),
                address,
                "GET",
                path,
                None,
                int(time.time()),
            )
        try:
            response = await self._http.get(path, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise NoAnswer(f"no answer from {self._http.base_url} ({type(exc).__name__})") from None
        try:
            body = json.loads(response.text, parse_float=Decimal) if response.text else None
        except ValueError:
            body = None
        return response.status_code, body


async def get_absolute(url: str, *, seconds: float) -> tuple[int, Any]:
    """One GET of a full URL (another host than the CLOB, as polymarket.com/api/geoblock)."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(seconds)) as client:
        try:
            response = await client.get(url)
        except httpx.HTTPError as exc:
            raise NoAnswer(f"no answer from {url} ({type(exc).__name__})") from None
    try:
        return response.status_code, json.loads(response.text, parse_float=Decimal)
    except ValueError:
        return response.status_code, None
