"""Property tests: random orders and cancels from several accounts keep the exchange sound.

Invariants after every step: books uncrossed and equal to the live orders; collateral plus locked
pairs plus fees conserved; outcome tokens conserved per market up to mints/merges; no order filled
beyond its size (or budget); holds equal to what live orders need; no negative balance; a rejected
request changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from py_clob_client_v2.clob_types import MarketOrderArgsV2, OrderArgsV2, OrderType
from py_clob_client_v2.exceptions import PolyApiException

from server.sim.errors import SimError
from server.sim.exchange import Exchange
from server.sim.markets import SimMarket, load_markets
from server.sim.runner import start_simulator
from server.sim.wire import ceil6
from tests.sim.conftest import CHAIN_ID, private_key

ACCOUNTS = ("0x" + "a1" * 20, "0x" + "b2" * 20, "0x" + "c3" * 20)
# A 0.01 fee-free market, a 0.001 neg-risk fee market, and an exponent-2 fee market with a 15 minimum.
SLUGS = ("fed-cut", "lakeshore", "riverton")


@dataclass(frozen=True)
class Place:
    account: int
    market: int
    yes: bool
    side: str
    offset: int  # aggressiveness in ticks: positive offsets reach across the mid
    size: int  # hundredths of a share
    order_type: str


@dataclass(frozen=True)
class Cancel:
    pick: int


places = st.builds(
    Place,
    account=st.integers(0, len(ACCOUNTS) - 1),
    market=st.integers(0, len(SLUGS) - 1),
    yes=st.booleans(),
    side=st.sampled_from(("BUY", "SELL")),
    offset=st.integers(-6, 8),
    size=st.integers(100, 6000),
    order_type=st.sampled_from(("GTC", "GTC", "GTC", "FOK", "FAK")),
)
operations = st.lists(
    st.one_of(places, places, st.builds(Cancel, pick=st.integers(0, 1000))), min_size=20, max_size=80
)


def _markets() -> list[SimMarket]:
    by_slug = {m.slug: m for m in load_markets()}
    return [next(m for s, m in by_slug.items() if s.startswith(prefix)) for prefix in SLUGS]


MARKETS = _markets()


def _fresh_exchange() -> Exchange:
    exchange = Exchange(MARKETS, default_collateral=Decimal(0))
    for address in ACCOUNTS:
        exchange.fund(address, usdc=500, tokens={t: 300 for m in MARKETS for t in m.token_ids})
    return exchange


def _fingerprint(exchange: Exchange) -> object:
    return (
        [exchange.book(t) for m in MARKETS for t in m.token_ids],
        [exchange.balances(a) for a in (*ACCOUNTS, *(m.liquidity_provider for m in MARKETS))],
        exchange.orders(),
        len(exchange.trades()),
        exchange.totals(),
    )


def check_invariants(
    exchange: Exchange,
    initial: dict[str, object],
    markets: list[SimMarket] = MARKETS,
    accounts: tuple[str, ...] = ACCOUNTS,
    *,
    check_providers: bool = True,
) -> None:
    totals = exchange.totals()
    locked: dict[str, Decimal] = totals["locked"]  # type: ignore[assignment]
    tokens: dict[str, Decimal] = totals["tokens"]  # type: ignore[assignment]
    start_locked: dict[str, Decimal] = initial["locked"]  # type: ignore[assignment]
    start_tokens: dict[str, Decimal] = initial["tokens"]  # type: ignore[assignment]
    assert totals["usdc"] + totals["fees"] + sum(locked.values()) == initial["usdc"] + sum(
        start_locked.values()
    )  # type: ignore[operator]
    for market in markets:
        minted = locked[market.condition_id] - start_locked[market.condition_id]
        for token_id in market.token_ids:
            assert tokens.get(token_id, 0) == start_tokens.get(token_id, 0) + minted

    orders = exchange.orders()
    holds: dict[str, Decimal] = {}
    for market in markets:
        book = exchange.book(market.yes_token_id)
        if book["bids"] and book["asks"]:
            assert book["bids"][0][0] < book["asks"][0][0], "crossed book"
        levels: dict[tuple[str, Decimal], Decimal] = {}
        for order in orders:
            if order["market"] != market.condition_id or order["status"] != "LIVE":
                continue
            price = Decimal(str(order["price"]))
            is_yes = order["outcome"] == "Yes"
            is_bid = (order["side"] == "BUY") == is_yes
            key = ("bid" if is_bid else "ask", price if is_yes else 1 - price)
            remaining: Decimal = order["remaining"]  # type: ignore[assignment]
            levels[key] = levels.get(key, Decimal(0)) + remaining
            if order["side"] == "BUY":
                maker = str(order["maker_address"])
                holds[maker] = holds.get(maker, Decimal(0)) + ceil6(remaining * price)
        expected_bids = sorted(((p, s) for (side, p), s in levels.items() if side == "bid"), reverse=True)
        expected_asks = sorted((p, s) for (side, p), s in levels.items() if side == "ask")
        assert book["bids"] == expected_bids and book["asks"] == expected_asks

    for order in orders:
        matched = Decimal(str(order["size_matched"]))
        budget = order["budget"]
        if budget is None:
            assert matched <= Decimal(str(order["original_size"])), order
        else:
            assert order["spent"] <= budget, order  # type: ignore[operator]
    providers = tuple(m.liquidity_provider for m in markets) if check_providers else ()
    for address in (*accounts, *providers):
        bal = exchange.balances(address)
        assert bal["usdc"] >= 0, (address, bal)  # type: ignore[operator]
        assert all(v >= 0 for v in bal["tokens"].values())  # type: ignore[attr-defined]
        assert bal["usdc_reserved"] == holds.get(address.lower(), Decimal(0))


def _apply(exchange: Exchange, op: Place | Cancel) -> None:
    if isinstance(op, Cancel):
        live = [str(o["id"]) for o in exchange.orders() if o["status"] == "LIVE" and not o["is_lp"]]
        if live:
            exchange.cancel_by_id(live[op.pick % len(live)])
        return
    market = MARKETS[op.market]
    token_id = market.yes_token_id if op.yes else market.no_token_id
    mid = (
        exchange.midpoint(market.yes_token_id)
        if exchange.book(market.yes_token_id)["asks"]
        else Decimal("0.5")
    )
    own_mid = mid if op.yes else 1 - mid
    tick = market.tick_size
    step = tick * (10 if tick < Decimal("0.01") else 1)
    direction = 1 if op.side == "BUY" else -1
    price = (own_mid / tick).to_integral_value() * tick + step * op.offset * direction
    price = min(max(price, tick), 1 - tick)
    size = Decimal(op.size) / 100
    budget = (size * price).quantize(Decimal("0.01")) if op.side == "BUY" and op.order_type != "GTC" else None
    exchange.place_unsigned(
        ACCOUNTS[op.account], token_id, op.side, price, size, order_type=op.order_type, budget=budget
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
def test_random_orders_and_cancels_keep_the_exchange_sound(ops: list[Place | Cancel]) -> None:
    exchange = _fresh_exchange()
    initial = exchange.totals()
    check_invariants(exchange, initial)
    for op in ops:
        before = _fingerprint(exchange)
        try:
            _apply(exchange, op)
        except SimError:
            assert _fingerprint(exchange) == before, "a rejected order changed state"
        check_invariants(exchange, initial)
    event(f"trades: {min(len(exchange.trades()) // 5 * 5, 20)}+")


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 1), st.sampled_from(("BUY", "SELL")), st.integers(-3, 3), st.booleans()),
        min_size=4,
        max_size=10,
    )
)
def test_signed_orders_over_http_keep_the_exchange_sound(steps: list[tuple[int, str, int, bool]]) -> None:
    from py_clob_client_v2.client import ClobClient

    with start_simulator(port=0) as sim:
        exchange = sim.exchange
        market = next(m for m in exchange.markets if m.slug.startswith("fed-cut"))
        clients: list[tuple[ClobClient, str]] = []
        for name in ("prop-a", "prop-b"):
            client = ClobClient(sim.url, CHAIN_ID, key=private_key(name))
            client.set_api_creds(client.create_or_derive_api_key())
            address = str(client.get_address())
            exchange.fund(address, tokens={market.yes_token_id: 200})
            clients.append((client, address))
        initial = exchange.totals()
        accounts = tuple(address for _, address in clients)
        for who, side, offset, marketable in steps:
            client, _ = clients[who]
            price = float(Decimal("0.62") + Decimal("0.01") * offset)
            try:
                if marketable:
                    amount = 6.0 if side == "BUY" else 10.0
                    client.create_and_post_market_order(
                        MarketOrderArgsV2(
                            token_id=market.yes_token_id, amount=amount, side=side, price=price
                        ),
                        order_type=OrderType.FAK,
                    )
                else:
                    client.create_and_post_order(
                        OrderArgsV2(token_id=market.yes_token_id, price=price, size=10, side=side)
                    )
            except PolyApiException as err:
                assert err.status_code == 400
            # The provider also quotes markets outside this check, so its holds are not compared here.
            check_invariants(exchange, initial, [market], accounts, check_providers=False)
