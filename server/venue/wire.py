"""Bytes on the wire for ``POST /order`` and the L2 (HMAC) authentication headers.

Both equal what py-clob-client-v2 1.2.1 sends (``client.post_order``, ``headers.create_level_2_headers``,
``signing.hmac.build_hmac_signature``), so the body that was HMAC'd is the body that is posted.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
from typing import Final

from server.venue.order_signing import SignedOrder

__all__ = ["ORDER_TYPES", "L2Headers", "l2_headers", "post_order_body"]

ORDER_TYPES: Final = frozenset({"GTC", "GTD", "FOK", "FAK"})

POLY_ADDRESS: Final = "POLY_ADDRESS"
POLY_SIGNATURE: Final = "POLY_SIGNATURE"
POLY_TIMESTAMP: Final = "POLY_TIMESTAMP"
POLY_API_KEY: Final = "POLY_API_KEY"
POLY_PASSPHRASE: Final = "POLY_PASSPHRASE"  # noqa: S105 (a header name)

_REDACTED: Final = frozenset({POLY_SIGNATURE, POLY_API_KEY, POLY_PASSPHRASE})


def post_order_body(
    order: SignedOrder,
    owner: str,
    order_type: str,
    post_only: bool = False,
    defer_exec: bool = False,
) -> bytes:
    """The exact UTF-8 body ``ClobClient.post_order`` sends: compact JSON, client key order.

    ``owner`` is the API key. Raises ``ValueError`` for an unknown order type, or ``post_only`` with
    FOK/FAK (the client raises the same).
    """
    if order_type not in ORDER_TYPES:
        raise ValueError(f"order_type must be one of {sorted(ORDER_TYPES)}, got {order_type!r}")
    if post_only and order_type in ("FOK", "FAK"):
        raise ValueError("post_only is not supported for FOK/FAK orders")
    payload = {
        "order": order.to_json_dict(),
        "owner": owner,
        "orderType": order_type,
        "deferExec": defer_exec,
        "postOnly": post_only,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class L2Headers(dict[str, str]):
    """The L2 header dict; its ``repr`` hides the HMAC, API key and passphrase."""

    def __repr__(self) -> str:
        shown = {name: ("<redacted>" if name in _REDACTED else value) for name, value in self.items()}
        return f"L2Headers({shown!r})"

    __str__ = __repr__


@functools.lru_cache(maxsize=4)
def _hmac_key(api_secret: str) -> bytes:
    """The HMAC key of an API secret, decoded once (every authenticated request signs with it)."""
    try:
        return base64.urlsafe_b64decode(api_secret)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError("api_secret is not padded URL-safe base64") from None


def l2_headers(
    api_key: str,
    api_secret: str,
    api_passphrase: str,
    address: str,
    method: str,
    request_path: str,
    body: bytes | None,
    timestamp: int,
) -> L2Headers:
    """``POLY_*`` headers for an authenticated request, equal to the client's.

    The HMAC-SHA256 key is the URL-safe base64 ``api_secret`` (padded); the message is
    ``str(timestamp) + method + path + body`` where ``path`` has no query string and ``body`` is the
    exact bytes sent. The client HMACs the body with ``'`` replaced by ``"`` but sends it unchanged;
    a body with ``'`` would therefore fail the venue's check, so we refuse it.
    """
    if body and b"'" in body:
        raise ValueError("request body contains a single quote; the venue's HMAC check would fail")
    key = _hmac_key(api_secret)
    path = request_path.split("?", 1)[0]
    message = f"{timestamp}{method}{path}".encode()
    if body:
        message += body
    # Not the one-shot `hmac.digest`: it releases the interpreter lock around OpenSSL's call even for a
    # short message, and on the event loop taking it back meant waiting for the database threads.
    signature = base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    return L2Headers(
        {
            POLY_ADDRESS: address,
            POLY_SIGNATURE: signature,
            POLY_TIMESTAMP: str(timestamp),
            POLY_API_KEY: api_key,
            POLY_PASSPHRASE: api_passphrase,
        }
    )
