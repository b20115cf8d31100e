"""The one exception the simulator raises toward a client, carrying the venue's status and message.

The HTTP layer renders every ``SimError`` as ``{"error": message}`` (plus ``extra`` fields) with its
status, which is how the Polymarket CLOB reports failures.
"""

from __future__ import annotations


class SimError(Exception):
    """A venue-visible failure: HTTP ``status`` and the exact ``message`` the venue uses."""

    def __init__(self, status: int, message: str, extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra or {}

    def body(self) -> dict[str, object]:
        return {"error": self.message, **self.extra}


def rejected(message: str) -> SimError:
    """An order or request the venue refuses with 400."""
    return SimError(400, message)


UNAUTHORIZED = "Unauthorized/Invalid api key"
INVALID_L1 = "Invalid L1 Request headers"
INVALID_PAYLOAD = "Invalid order payload"
NOT_ENOUGH_BALANCE = "not enough balance / allowance"
INVALID_EXPIRATION = "invalid expiration"
POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
POST_ONLY_TYPE = "invalid post-only order: only GTC and GTD order types are allowed"
FOK_NOT_FILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_NO_MATCH = (
    "no orders found to match with FAK order. FAK orders are partially filled or killed if no match is found."
)
OWNER_MISMATCH = "the order owner has to be the owner of the API KEY"
SIGNER_MISMATCH = "the order signer address has to be the address of the API KEY"
INVALID_SIGNATURE = "invalid signature"
CANCEL_ONLY = "Trading is currently cancel-only. New orders are not accepted, but cancels are allowed."
TRADING_DISABLED = "Trading is currently disabled. Check polymarket.com for updates"
POST_ONLY_MODE = "post-only mode: only post-only orders and cancels are allowed"
# HTTP 425 on every order-related endpoint while the matching engine restarts (docs
# trading/matching-engine). The docs give the status only; the body text is the status's reason phrase.
ENGINE_RESTARTING = "Too Early"
MARKET_NOT_READY = "the market is not yet ready to process new orders"
INVALID_TOKEN = "Invalid token id"  # noqa: S105 - an error message, not a secret
NO_ORDERBOOK = "No orderbook exists for the requested token id"
MARKET_NOT_FOUND = "market not found"
TOO_MANY_ORDERS = "Too many orders in payload: {n}, max allowed: {m}"
# An order built for another exchange version (polymarket-cli #69, py-clob-client-v2 #32: V1 orders
# after the 2026-04-28 cutover).
ORDER_VERSION_MISMATCH = "order_version_mismatch"
# Marketable (FOK/FAK) amounts: 2 decimals for the maker, 4 for the taker, whatever the tick
# (py-clob-client-v2 issue #99 for BUY; the SELL text is quoted by several clients' issue threads).
MARKET_BUY_PRECISION = (
    "invalid amounts, the market buy orders maker amount supports a max accuracy of 2 decimals, "
    "taker amount a max of 4 decimals"
)
MARKET_SELL_PRECISION = (
    "invalid amounts, the sell orders maker amount supports a max accuracy of 2 decimals, "
    "taker amount a max of 4 decimals"
)


def duplicated(order_id: str) -> SimError:
    return rejected(f"order {order_id} is invalid. Duplicated.")


def breaks_tick(order_id: str, price: str, tick: str) -> SimError:
    return rejected(f"order {order_id} is invalid. Price ({price}) breaks minimum tick size rule: {tick}")


def below_min_size(order_id: str, size: str, minimum: str) -> SimError:
    return rejected(f"order {order_id} is invalid. Size ({size}) lower than the minimum: {minimum}")
