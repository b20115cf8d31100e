"""The checks that ask the venue: reachable, clock, credentials, funds, geoblock, mapped markets."""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation
from typing import Any

from server.doctor.facts import MappedMarket
from server.doctor.probe import NoAnswer, VenueProbe, get_absolute
from server.doctor.report import Finding, failed, passed, warned
from server.settings import Settings
from server.venue.client import ApiCredentials
from server.venue.order_signing import EXCHANGE_V2, NEG_RISK_EXCHANGE_V2

# The venue's /time has whole seconds: a second of disagreement is rounding, two are worth a look,
# and past ten the L2 signatures' and GTD expirations' timestamps are off enough to be refused.
CLOCK_WARN_SECONDS = Decimal(2)
CLOCK_FAIL_SECONDS = Decimal(10)
USDC_UNITS = Decimal(1_000_000)


async def check_reachable(probe: VenueProbe, url: str) -> Finding:
    try:
        status, _ = await probe.get("/ok")
    except NoAnswer as exc:
        return failed("venue", f"{exc}: check POLYMARKET_CLOB_URL and this host's network")
    if status != 200:
        return failed("venue", f"{url}/ok answered HTTP {status}: check POLYMARKET_CLOB_URL")
    return passed("venue", f"{url} answers")


async def check_clock(probe: VenueProbe) -> Finding:
    before = time.time()
    try:
        status, body = await probe.get("/time")
    except NoAnswer as exc:
        return warned("clock", f"not checked: {exc}")
    after = time.time()
    if status != 200 or isinstance(body, bool) or not isinstance(body, int | Decimal):
        return warned("clock", f"not checked: /time answered HTTP {status} without a time")
    # Our clock at the moment the venue read its own: the middle of the round trip. The venue's answer
    # is truncated to its second, so the middle of that second is the best estimate of its reading.
    offset = Decimal(body) + Decimal("0.5") - Decimal(repr((before + after) / 2))
    ahead = "ahead of" if offset < 0 else "behind"
    shown = f"{abs(offset):.0f} s"
    if abs(offset) > CLOCK_FAIL_SECONDS:
        return failed("clock", f"this host's clock is {shown} {ahead} the venue's: sync it with NTP")
    if abs(offset) > CLOCK_WARN_SECONDS:
        return warned("clock", f"this host's clock is {shown} {ahead} the venue's: check NTP")
    return passed("clock", "agrees with the venue's within 2 s")


async def check_credentials(probe: VenueProbe, signed: tuple[ApiCredentials, str]) -> Finding:
    try:
        status, _ = await probe.get("/auth/api-keys", signed=signed)
    except NoAnswer as exc:
        return warned("credentials", f"not checked: {exc}")
    if status in (401, 403):
        return failed(
            "credentials",
            f"the venue refused the L2 API credentials (HTTP {status}): unset POLYMARKET_API_KEY/SECRET/"
            "PASSPHRASE to derive them from the key, or set the ones created for this key",
        )
    if status != 200:
        return warned("credentials", f"not checked: /auth/api-keys answered HTTP {status}")
    return passed("credentials", "the venue accepts the L2 API credentials")


async def check_funds(
    probe: VenueProbe, signed: tuple[ApiCredentials, str], settings: Settings, markets: list[MappedMarket]
) -> list[Finding]:
    """USDC balance, and the allowance of each exchange contract the mapped markets trade on, against
    the sum of the markets' exposure limits (what hedges may spend at most)."""
    holder = settings.funder or signed[1]
    params = {"asset_type": "COLLATERAL", "signature_type": str(settings.signature_type)}
    try:
        status, body = await probe.get("/balance-allowance", params, signed=signed)
    except NoAnswer as exc:
        return [warned("balance", f"not checked: {exc}")]
    if status != 200 or not isinstance(body, dict):
        return [warned("balance", f"not checked: /balance-allowance answered HTTP {status}")]
    need = sum((m.limit for m in markets), Decimal(0))
    balance = _usdc(body.get("balance"))
    allowances = body.get("allowances")
    allowances = allowances if isinstance(allowances, dict) else {}
    spenders = {EXCHANGE_V2: ""} | (
        {NEG_RISK_EXCHANGE_V2: "neg-risk "} if any(m.neg_risk for m in markets) else {}
    )
    found = [_cover("balance", holder, "holds", balance, need, "deposit USDC into it")]
    for spender, name in spenders.items():
        allowed = _usdc(_lookup(allowances, spender))
        found.append(
            _cover(
                f"{name}allowance",
                holder,
                f"lets the {name}exchange contract {spender} spend",
                allowed,
                need,
                f"approve USDC for {spender} from the wallet",
            )
        )
    return found


def _cover(check: str, holder: str, verb: str, amount: Decimal | None, need: Decimal, todo: str) -> Finding:
    if amount is None:
        return warned(check, f"not checked: the venue gave no figure for {holder}")
    if amount <= 0:
        return failed(check, f"wallet {holder} {verb} 0 USDC: {todo}")
    if amount < need:
        return warned(
            check,
            f"wallet {holder} {verb} {amount:f} USDC, less than the {need:f} the exposure limits allow: "
            f"{todo}, or lower the limits",
        )
    return passed(check, f"wallet {holder} {verb} enough USDC for the limits ({need:f})")


def _usdc(raw: Any) -> Decimal | None:
    try:
        return Decimal(str(raw)) / USDC_UNITS if raw is not None else None
    except InvalidOperation:
        return None


def _lookup(allowances: dict[str, Any], spender: str) -> Any:
    return next((v for k, v in allowances.items() if str(k).lower() == spender.lower()), None)


async def check_geoblock(url: str, seconds: float) -> Finding:
    try:
        status, body = await get_absolute(url, seconds=seconds)
    except NoAnswer as exc:
        return warned("geoblock", f"not checked: {exc}; check POLYMARKET_GEOBLOCK_URL")
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("blocked"), bool):
        return warned("geoblock", f"not checked: {url} answered HTTP {status} without a verdict")
    where = "/".join(str(body.get(k) or "?") for k in ("country", "region"))
    if body["blocked"]:
        return failed(
            "geoblock",
            f"Polymarket blocks trading from this host's region ({where}): run the service from an "
            "allowed region",
        )
    return passed("geoblock", f"region {where} is not blocked")


async def check_markets(probe: VenueProbe, markets: list[MappedMarket]) -> list[Finding]:
    if not markets:
        return [warned("mappings", "no active mapping: nothing will be hedged; add one with createMapping")]
    found = [f for m in markets if (f := await _check_market(probe, m)) is not None]
    return found or [passed("mappings", f"all {len(markets)} active mappings match the venue's markets")]


async def _check_market(probe: VenueProbe, market: MappedMarket) -> Finding | None:
    try:
        status, body = await probe.get(f"/clob-markets/{market.condition_id}")
    except NoAnswer as exc:
        return warned(market.label, f"not checked: {exc}")
    if status == 404:
        return failed(
            market.label,
            f"condition {market.condition_id} is unknown at the venue: deactivate the mapping "
            "(updateMapping active: false)",
        )
    if status != 200 or not isinstance(body, dict):
        return warned(market.label, f"not checked: the venue answered HTTP {status}")
    listed = {str(t.get("t")) for t in body.get("t", []) if isinstance(t, dict)}
    missing = [t for t in market.token_ids if t not in listed]
    if missing:
        return failed(
            market.label,
            f"token {missing[0]} is not one of the market's tokens at the venue: deactivate the mapping "
            "and map the right token",
        )
    tick, minimum = body.get("mts"), body.get("mos")
    if _differs(tick, market.tick_size) or _differs(minimum, market.min_order_size):
        return warned(
            market.label,
            f"stores tick {market.tick_size:f} and minimum {market.min_order_size:f}, the venue lists "
            f"{tick} and {minimum}: updateMapping(refreshFromVenue: true)",
        )
    return None


def _differs(raw: Any, stored: Decimal) -> bool:
    try:
        return Decimal(str(raw)) != stored
    except InvalidOperation:
        return True
