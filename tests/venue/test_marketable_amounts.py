"""Hedge orders (FOK/FAK) carry amounts the venue accepts on every tick, and never reach past the limit.

The venue caps a marketable order's maker amount at 2 decimals and its taker amount at 4, whatever the
tick (py-clob-client-v2 issue #99); the official client keeps 5 or 6 on fine ticks and is refused.
The property test signs hedges exactly as the order desk does (``sign_hedge``) and runs them through
the simulator's own order validation; the HTTP test posts them to a running simulator and fills them.
Expected amounts are worked out here with ``Fraction`` arithmetic, not with the code under test.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from fractions import Fraction
from math import ceil, floor

import httpx
import pytest
from eth_account import Account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from py_clob_client_v2.client import ClobClient

from server.domain.types import Side
from server.sim.errors import SimError
from server.sim.markets import SimMarket, load_markets
from server.sim.orders import check_terms, parse_order_request
from server.sim.runner import start_simulator
from server.trading.hedge_signing import sign_hedge
from server.venue.order_amounts import AmountError, marketable_amounts
from server.venue.order_signing import OrderSigner
from server.venue.wire import l2_headers

KEY = "0x" + "5a" * 32
TICKS = ("0.1", "0.01", "0.005", "0.0025", "0.001", "0.0001")
MICRO = 10**6


def _market(tick: Decimal) -> SimMarket:
    """A market on ``tick``; its resting-order minimum is lowered so only amount rules are exercised."""
    base = load_markets()[0]
    return SimMarket(
        condition_id=base.condition_id,
        question_id=base.question_id,
        question=base.question,
        slug=base.slug,
        yes_token_id=base.yes_token_id,
        no_token_id=base.no_token_id,
        tick_size=tick,
        min_order_size=Decimal("0.01"),
        neg_risk=False,
        fee_rate=Decimal(0),
        fee_exponent=Decimal(1),
    )


@st.composite
def hedges(draw: st.DrawFn) -> tuple[Decimal, Decimal, Decimal, Side]:
    """(tick, limit on the tick, size in hundredths of a share, side) with at least 1 USDC of notional."""
    tick = Decimal(draw(st.sampled_from(TICKS)))
    steps = int(1 / tick)
    limit = tick * draw(st.integers(1, steps - 1))
    low = ceil(Fraction(100) / Fraction(limit))  # hundredths of a share worth 1 USDC at the limit
    size = Decimal(draw(st.integers(low, 10**7))) / 100
    return tick, limit, size, draw(st.sampled_from((Side.BUY, Side.SELL)))


SIGNER = OrderSigner(KEY, 137)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hedges())
def test_signed_hedges_pass_the_simulators_validation_and_reach_exactly_the_limit(
    hedge: tuple[Decimal, Decimal, Decimal, Side],
) -> None:
    tick, limit, size, side = hedge
    market = _market(tick)
    intent = sign_hedge(
        SIGNER, "owner-key", token_id=market.yes_token_id, side=side, size=size, limit_price=limit,
        tick_size=tick, neg_risk=False, order_type="FOK",
    )  # fmt: skip
    request = parse_order_request(json.loads(intent.body))
    terms = check_terms(request, market, tick, intent.venue_order_id)  # raises SimError if the venue refuses
    maker, taker = request.fields.maker_amount, request.fields.taker_amount
    assert maker % 10**4 == 0 and taker % 100 == 0  # 2 and 4 decimals
    p, t = Fraction(limit), Fraction(tick)
    # The tick price the order reaches never exceeds the limit (BUY) nor falls below it (SELL).
    assert terms.price == limit
    if side is Side.BUY:
        budget_cents = ceil(Fraction(size) * p * 100)  # hedge_budget: size x limit, rounded up to a cent
        assert maker == budget_cents * 10**4
        assert taker == floor(Fraction(budget_cents, 100) / p * 10**4) * 100
        assert taker >= size * MICRO  # the minimum it receives covers the hedge
        ratio = Fraction(maker, taker)
        assert p <= ratio < p + t  # crosses asks at the limit, none above it
    else:
        assert maker == size * MICRO
        assert taker == floor(Fraction(size) * p * 10**4) * 100
        ratio = Fraction(taker, maker)
        assert p - t < ratio <= p  # crosses bids at the limit, none below it


def test_the_official_clients_fine_tick_amounts_are_what_the_venue_refuses() -> None:
    """The issue #99 example, signed both ways: the client's taker has 5 decimals, ours 4."""
    market = _market(Decimal("0.001"))
    client_order = SIGNER.build_market_order(
        market.yes_token_id, Decimal("9.98"), "BUY", Decimal("0.985"), Decimal("0.001"), False,
        salt=1, timestamp_ms=1,
    )  # fmt: skip
    assert (client_order.maker_amount, client_order.taker_amount) == (9980000, 10131970)
    body = {"order": client_order.to_json_dict(), "owner": "o", "orderType": "FAK"}
    with pytest.raises(SimError) as refused:
        check_terms(parse_order_request(body), market, Decimal("0.001"), client_order.order_hash)
    assert refused.value.status == 400
    assert refused.value.message == (
        "invalid amounts, the market buy orders maker amount supports a max accuracy of 2 decimals, "
        "taker amount a max of 4 decimals"
    )
    # 9.98 / 0.985 = 10.131979..., kept to 4 decimals: 10.1319.
    assert marketable_amounts("BUY", Decimal("9.98"), Decimal("0.985"), Decimal("0.001")) == (
        9980000,
        10131900,
    )


@pytest.mark.parametrize(
    ("side", "quantity", "limit", "tick", "message"),
    [
        ("BUY", Decimal("10.001"), Decimal("0.5"), Decimal("0.01"), "more than 2 decimals"),
        ("SELL", Decimal("1.005"), Decimal("0.5"), Decimal("0.01"), "more than 2 decimals"),
        ("BUY", Decimal("0.01"), Decimal("0.9999"), Decimal("0.0001"), "too small"),
        ("SELL", Decimal("0.01"), Decimal("0.9999"), Decimal("0.0001"), "too small"),
        ("BUY", Decimal("10"), Decimal("0.505"), Decimal("0.01"), "not a multiple"),
        ("BUY", Decimal("10"), Decimal("0.5"), Decimal("0.02"), "unsupported tick"),
        ("HOLD", Decimal("10"), Decimal("0.5"), Decimal("0.01"), "side"),
    ],
)
def test_marketable_amounts_refuse_what_they_cannot_sign_exactly(
    side: str, quantity: Decimal, limit: Decimal, tick: Decimal, message: str
) -> None:
    with pytest.raises(AmountError, match=message):
        marketable_amounts(side, quantity, limit, tick)  # type: ignore[arg-type]


@pytest.mark.parametrize("order_type", ["GTC", "GTD"])
def test_a_hedge_is_never_signed_as_a_resting_order(order_type: str) -> None:
    """Hedges carry no expiration: a GTD one would break the venue's 3-minute rule, a GTC one never end."""
    with pytest.raises(ValueError, match="FOK or FAK"):
        sign_hedge(
            SIGNER, "owner-key", token_id="1", side=Side.BUY, size=Decimal(10), limit_price=Decimal("0.5"),
            tick_size=Decimal("0.01"), neg_risk=False, order_type=order_type,
        )  # fmt: skip


# --- over HTTP: hedges on every tick fill at the limit --------------------------------------------------

# (tick, limit, size): awkward quotients on purpose (9.98 / 0.985, 5.01 / 0.9999, ...); sizes at or
# above the simulator markets' 5-share minimum.
HTTP_CASES = [
    ("0.1", "0.7", "13.37"),
    ("0.01", "0.57", "10.13"),
    ("0.005", "0.985", "10.13"),
    ("0.0025", "0.3325", "7.77"),
    ("0.001", "0.985", "10.13"),
    ("0.0001", "0.9999", "5.01"),
    ("0.0001", "0.4321", "7.77"),
]


@pytest.mark.timeout(60)
def test_hedges_on_every_tick_fill_at_the_limit_over_http() -> None:
    with start_simulator(port=0) as sim:
        client = ClobClient(sim.url, 137, key=KEY)
        creds = client.create_or_derive_api_key()
        address = Account.from_key(KEY).address
        market = next(m for m in sim.exchange.markets if not m.neg_risk and m.fee_rate == 0)
        token = market.yes_token_id
        sim.exchange.fund(address, usdc=1000, tokens={token: 1000})
        with httpx.Client(base_url=sim.url, timeout=10) as http:
            for tick_text, limit_text, size_text in HTTP_CASES:
                tick, limit, size = Decimal(tick_text), Decimal(limit_text), Decimal(size_text)
                sim.exchange.set_book(token)  # empty, so the tick may change without orphaned levels
                sim.exchange.set_tick_size(market.condition_id, tick)
                for side in (Side.BUY, Side.SELL):
                    # The level at the limit, and a better-for-us level one tick beyond it that must stay.
                    beyond = limit + tick if side is Side.BUY else limit - tick
                    levels = [(limit, 1000)] + ([(beyond, 1000)] if tick <= beyond <= 1 - tick else [])
                    if side is Side.BUY:
                        sim.exchange.set_book(token, asks=levels)
                    else:
                        sim.exchange.set_book(token, bids=levels)
                    intent = sign_hedge(
                        SIGNER, creds.api_key, token_id=token, side=side, size=size, limit_price=limit,
                        tick_size=tick, neg_risk=False, order_type="FOK",
                    )  # fmt: skip
                    body = intent.body.encode()
                    headers = l2_headers(
                        creds.api_key, creds.api_secret, creds.api_passphrase, address, "POST", "/order",
                        body, int(time.time()),
                    )  # fmt: skip
                    answer = http.post("/order", content=body, headers=dict(headers))
                    assert answer.status_code == 200, (tick, side, answer.text)
                    assert answer.json()["status"] == "matched"
                    trades = [sim.exchange.trade(i) for i in answer.json()["tradeIDs"]]
                    assert {Decimal(str(t["price"])) for t in trades if t} == {limit}, (tick, side)
                    filled = Decimal(answer.json()["takingAmount" if side is Side.BUY else "makingAmount"])
                    assert filled >= size, (tick, side, filled)
