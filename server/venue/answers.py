"""The answers to `POST /order` that prove the venue refused the order: the only ones a hedge may be
recorded FAILED on, and so the only ones after which the re-hedger may buy again.

This is an allow-list. Any answer not on it leaves the order's fate unknown (it may have executed), and
the hedge is settled by looking its hash up: 408, 425, 429, every 5xx (a proxy's 52x, and even the
venue's documented 503s, since a proxy or a failing engine sends 5xx too), any other status, any text
not listed here, an unparseable body, a reset connection, a timeout. Reading a refusal as unknown
costs a lookup and a re-post of the same signed bytes, which the venue refuses again or executes once;
reading an unknown as a refusal can buy the same hedge twice.

A refusal is recognised by the venue's exact text, with a placeholder only where the venue names the
order, a price or an amount. Sources, all under /work/shared/reference/:

* [D-err] docs.polymarket.com/resources/error-codes, quoted in clob-v1-venue-semantics.md §5.4 (the
  POST /order rejection catalogue) and clob-v2-client-protocol.md §12.3 ("Exact error strings").
* [D-legacy] the older docs' `errorMsg` codes, clob-v1-venue-semantics.md §5.1 and §5.4.
* [issue] live answers quoted in client issues: clob-v1-venue-semantics.md §4.6 and §5.4,
  clob-v2-client-protocol.md §2 and §12.3, venue-facts-2026-12.md ("Market BUY precision", "Version
  mismatch").
* [sim] our simulator's text where the venue's is undocumented (server/sim/errors.py).

Documented texts that are deliberately NOT refusals: `order {id} is invalid. Duplicated.` (the venue
holds that hash already: a lookup says what became of it), `order match delayed due to market
conditions` (being matched), `context canceled` (a 400 for a request cut off mid-way, [D-err] server
rule), 425 `Too Early` (engine restarting), 429 `Too Many Requests`, and every 5xx text: 503 `Trading
is currently disabled…`, `…cancel-only…`, `post-only mode…`, 500 `could not run the execution` and the
engine's 500s (`FOK orders are filled or killed`, `there are no matching orders`, …). Legacy codes
`INVALID_ORDER_DUPLICATED`, `INVALID_ORDER_ERROR`, `EXECUTION_ERROR`, `ORDER_DELAYED` and
`DELAYING_ORDER_ERROR` are not refusals either: they say the order was held or failed mid-way.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    """One documented refusal: the HTTP status it comes with, the venue's text and where it is documented."""

    status: int
    text: str  # the venue's words; `{…}` stands for whatever the venue fills in
    source: str

    def matches(self, text: str) -> bool:
        return _pattern(self.text).fullmatch(text) is not None


@functools.cache
def _pattern(text: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^}]*\}", text)
    return re.compile(".+?".join(re.escape(part) for part in parts))


# HTTP 400 {"error": text}: the venue checked the order and refused it before matching (or, for FOK and
# FAK, matched nothing and killed it). Each text must match whole, word for word around its
# placeholders, so no placeholder can swallow an answer of another kind.
REFUSALS: tuple[Refusal, ...] = (
    Refusal(400, "Invalid order payload", "D-err"),
    Refusal(400, "the order owner has to be the owner of the API KEY", "D-err"),
    Refusal(400, "the order signer address has to be the address of the API KEY", "D-err"),
    Refusal(400, "'{address}' address banned", "D-err"),
    Refusal(400, "'{address}' address in closed only mode", "D-err"),
    Refusal(
        400, "maker address not allowed, please use the deposit wallet flow", "issue py-clob-client-v2#50"
    ),
    Refusal(400, "invalid fee rate ({rate}), current market's taker fee: {fee}", "issue (live V1 400s)"),
    Refusal(400, "order {id} is invalid. Price ({price}) breaks minimum tick size rule: {tick}", "D-err"),
    Refusal(400, "order {id} is invalid. Size ({size}) lower than the minimum: {minimum}", "D-err"),
    Refusal(
        400, "invalid amounts, {precision rule}", "issue clob-client#124, #253, #305, py-clob-client-v2#99"
    ),
    Refusal(
        400, "invalid amount for a marketable BUY order ({amount}), min size: {minimum}", "issue (live 400s)"
    ),
    Refusal(400, "not enough balance / allowance", "D-err"),
    Refusal(400, "invalid expiration", "D-err"),
    Refusal(400, "invalid post-only order: order crosses book", "D-err"),
    Refusal(400, "order {id} crosses the book", "D-err; issue clob-client#305"),
    Refusal(400, "invalid post-only order: only GTC and GTD order types are allowed", "D-legacy"),
    Refusal(400, "order couldn't be fully filled. FOK orders are fully filled or killed.", "D-err"),
    Refusal(
        400,
        "no orders found to match with FAK order. FAK orders are partially filled or killed if no match "
        "is found.",
        "D-err",
    ),
    Refusal(400, "order canceled in the CTF exchange contract", "D-err"),
    Refusal(400, "the market is not yet ready to process new orders", "D-err"),
    Refusal(400, "order_version_mismatch", "issue py-clob-client#335; venue-facts-2026-12"),
    Refusal(400, "invalid signature", "sim (the venue's text is undocumented)"),
    # L2 authentication runs before the order is read.
    Refusal(401, "Unauthorized/Invalid api key", "D-err"),
)

# HTTP 200 `{"success": false, "errorMsg": code}` from the older API: the codes that mean "refused".
LEGACY_REFUSAL_CODES: frozenset[str] = frozenset(
    {
        "INVALID_ORDER_MIN_TICK_SIZE",
        "INVALID_ORDER_MIN_SIZE",
        "INVALID_ORDER_NOT_ENOUGH_BALANCE",
        "INVALID_ORDER_EXPIRATION",
        "INVALID_POST_ONLY_ORDER_TYPE",
        "INVALID_POST_ONLY_ORDER",
        "FOK_ORDER_NOT_FILLED_ERROR",
        "MARKET_NOT_READY",
    }
)


def is_refusal(status: int, text: str) -> bool:
    """Whether an answer with this HTTP status and error text proves the venue refused the order.
    A 200 counts when its `errorMsg` is a refusal the venue otherwise sends with 400, or a legacy code
    (the caller checks the body reports no placement)."""
    text = text.strip()
    if status == 200:
        return text in LEGACY_REFUSAL_CODES or any(r.status == 400 and r.matches(text) for r in REFUSALS)
    return any(r.status == status and r.matches(text) for r in REFUSALS)
