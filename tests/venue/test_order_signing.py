"""OrderSigner / wire against py-clob-client-v2 1.2.1: same orders, hashes, signatures and bytes.

The client is the reference. To make it deterministic and offline, the test (never our code) pins
three of its internals for the duration of the module:

* the salt: ``ExchangeOrderBuilderV2.__init__`` binds ``generate_order_salt`` as a default
  argument, so we replace that default (``__init__.__defaults__``);
* the order timestamp: ``order_builder.builder`` reads ``time.time_ns()``, so we swap that
  module's ``time`` for a stub;
* its caches (name-mangled ``_ClobClient__*``): tick size, version 2 and an empty fee info per
  token, so ``create_order``/``create_market_order`` do not call ``/tick-size``, ``/version`` or
  ``/markets-by-token``; ``neg_risk`` goes in through ``PartialCreateOrderOptions``.

``post_order`` runs for real; only ``_post`` (the HTTP call) is replaced to capture the body and
headers, and ``_get_timestamp`` to pin the L2 timestamp. Any ``_get`` fails the test.
"""

from __future__ import annotations

import json
import pickle
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import coincurve
import pytest
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    ApiCreds,
    FeeInfo,
    MarketOrderArgs,
    OrderArgs,
    PartialCreateOrderOptions,
)
from py_clob_client_v2.order_builder.builder import ROUNDING_CONFIG as CLIENT_ROUNDING
from py_clob_client_v2.order_builder.builder import OrderBuilder
from py_clob_client_v2.order_builder.helpers import round_normal
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2
from py_clob_client_v2.signing.hmac import build_hmac_signature
from py_clob_client_v2.utilities import price_valid

from server.venue import order_amounts
from server.venue.order_amounts import AmountError, Side, limit_order_amounts, market_order_amounts
from server.venue.order_signing import (
    BYTES32_ZERO,
    EXCHANGE_V2,
    NEG_RISK_EXCHANGE_V2,
    OrderSigner,
    SignedOrder,
    keccak256,
    new_salt,
)
from server.venue.wire import l2_headers, post_order_body

# Appendix A of the protocol reference (captured from the real client).
TEST_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
TEST_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
A3_TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
A3_OWNER = "11111111-2222-3333-4444-555555555555"
A3_SECRET = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
A3_BODY = (
    b'{"order":{"salt":1706854103298,"maker":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",'
    b'"signer":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",'
    b'"tokenId":"71321045679252212594626385532706912750332728571942532289631379312455583992563",'
    b'"makerAmount":"5000000","takerAmount":"10000000","side":"BUY","expiration":"0","signatureType":0,'
    b'"timestamp":"1795579659878",'
    b'"metadata":"0x0000000000000000000000000000000000000000000000000000000000000000",'
    b'"builder":"0x0000000000000000000000000000000000000000000000000000000000000000",'
    b'"signature":"0x42eae1e444b4de90ae2165d5c0f95c4129f33409af7b68db7042e0f6901dba0a'
    b'151f1e1866dd93410790352b6be05d24be7adbd97a0a7a3014953b465902e15e1c"},'
    b'"owner":"11111111-2222-3333-4444-555555555555","orderType":"GTC","deferExec":false,"postOnly":false}'
)
A3_ORDER_ID = "0xf27021f6024f0c6dd990d913b991a2135e4ecc5fea6ee8ec90ae1a3d973583f2"
A3_HMAC = "DLKalc0XxgjKcZIhTQYg4RqEa7fdRaCW-wMFe6sVECM="

SIDES: tuple[Side, Side] = ("BUY", "SELL")
TICKS = ("0.1", "0.01", "0.005", "0.0025", "0.001", "0.0001")
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


# --- the client, made deterministic and offline -------------------------------------------------------


@dataclass
class _Pins:
    salt: int = 0
    timestamp_ms: int = 0


class _PinnedTime:
    def __init__(self, pins: _Pins) -> None:
        self._pins = pins

    def time_ns(self) -> int:
        return self._pins.timestamp_ms * 1_000_000


@pytest.fixture(scope="module")
def pins() -> Iterator[_Pins]:
    import py_clob_client_v2.order_builder.builder as client_builder

    pinned = _Pins()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            ExchangeOrderBuilderV2.__init__,
            "__defaults__",
            (lambda: str(pinned.salt), ExchangeOrderBuilderV2.__init__.__defaults__[1]),
        )
        mp.setattr(client_builder, "time", _PinnedTime(pinned))
        yield pinned


@dataclass
class _Captured:
    calls: list[tuple[str, dict[str, str], str]] = field(default_factory=list)


def _offline_client(
    key: str, chain_id: int, signature_type: int, funder: str | None, creds: ApiCreds, l2_ts: int
) -> tuple[ClobClient, _Captured]:
    client = ClobClient(
        "http://venue.invalid", chain_id, key=key, creds=creds, signature_type=signature_type, funder=funder
    )
    captured = _Captured()

    def no_get(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"client attempted HTTP GET {args!r}")

    def capture_post(
        endpoint: str, headers: Any = None, data: Any = None, params: Any = None
    ) -> dict[str, Any]:
        captured.calls.append((endpoint, headers, data))
        return {"success": True, "orderID": "", "status": "live", "tradeIDs": [], "transactionsHashes": []}

    client._get = no_get
    client._post = capture_post
    client._get_timestamp = lambda: l2_ts
    client._ClobClient__cached_version = 2
    return client, captured


def _cache_market(client: ClobClient, token_id: str, tick: str) -> None:
    client._ClobClient__tick_sizes[token_id] = tick
    client._ClobClient__fee_infos[token_id] = FeeInfo()


def _client_order_hash(client: ClobClient, order: Any, chain_id: int, neg_risk: bool) -> str:
    exchange = NEG_RISK_EXCHANGE_V2 if neg_risk else EXCHANGE_V2
    builder = ExchangeOrderBuilderV2(exchange, chain_id, client.signer)
    digest: str = builder.build_order_hash(builder.build_order_typed_data(order))
    return digest


# --- strategies ---------------------------------------------------------------------------------------

keys = st.integers(1, SECP256K1_N - 1).map(lambda k: "0x" + k.to_bytes(32, "big").hex())
addresses = st.tuples(st.binary(min_size=20, max_size=20), st.booleans()).map(
    lambda t: to_checksum_address(t[0]) if t[1] else "0x" + t[0].hex()
)
token_ids = st.integers(0, 2**256 - 1).map(str)
bytes32 = st.one_of(st.just(BYTES32_ZERO), st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex()))


@st.composite
def wallets(draw: st.DrawFn) -> tuple[str, int, int, str | None]:
    signature_type = draw(st.sampled_from((0, 1, 2)))
    funder = draw(st.none() | addresses) if signature_type == 0 else draw(addresses)
    return draw(keys), draw(st.sampled_from((137, 80002))), signature_type, funder


@st.composite
def tick_and_price(draw: st.DrawFn) -> tuple[str, Decimal]:
    tick = draw(st.sampled_from(TICKS))
    steps = int(1 / Decimal(tick))
    return tick, Decimal(tick) * draw(st.integers(1, steps - 1))


quantities = st.one_of(
    # two decimals: where binary64 floors lose a cent (1.15 -> 1.14)
    st.integers(1, 10**7).map(lambda k: Decimal(k) / 100),
    # any number of decimals, small to large
    st.tuples(st.integers(1, 10**12), st.integers(0, 12)).map(lambda t: Decimal(t[0]).scaleb(-t[1])),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**6), places=6, allow_nan=False),
).filter(lambda q: Decimal("0.01") <= q <= Decimal(10**9))

owners = st.one_of(
    st.uuids().map(str), st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
).filter(lambda s: "'" not in s)


@st.composite
def post_options(draw: st.DrawFn) -> tuple[str, bool, bool]:
    order_type = draw(st.sampled_from(("GTC", "GTD", "FOK", "FAK")))
    post_only = draw(st.booleans()) if order_type in ("GTC", "GTD") else False
    return order_type, post_only, draw(st.booleans())


_SETTINGS = settings(
    max_examples=1500,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _assert_same_as_client(
    ours: SignedOrder,
    theirs: Any,
    client: ClobClient,
    captured: _Captured,
    chain_id: int,
    neg_risk: bool,
    post: tuple[str, bool, bool],
    owner: str,
    creds: ApiCreds,
    l2_ts: int,
) -> None:
    order_type, post_only, defer_exec = post
    assert ours.to_json_dict() == order_to_json_v2(theirs, owner, order_type)["order"]
    assert ours.order_hash == _client_order_hash(client, theirs, chain_id, neg_risk)
    assert ours.signature == theirs.signature

    client.post_order(theirs, order_type, post_only, defer_exec)
    (endpoint, headers, data) = captured.calls[-1]
    assert endpoint == "http://venue.invalid/order"
    body = post_order_body(ours, owner, order_type, post_only, defer_exec)
    assert body == data.encode("utf-8")
    ours_headers = l2_headers(
        creds.api_key, creds.api_secret, creds.api_passphrase, ours.signer, "POST", "/order", body, l2_ts
    )
    assert ours_headers == headers


# --- Appendix A and fixed vectors ---------------------------------------------------------------------


def test_appendix_a_order_body_id_and_hmac_reproduce() -> None:
    signer = OrderSigner(TEST_KEY, 137)
    assert signer.address == TEST_ADDRESS
    order = signer.build_limit_order(
        A3_TOKEN, Decimal("0.5"), Decimal("10"), "BUY", Decimal("0.01"), False,
        salt=1706854103298, timestamp_ms=1795579659878,
    )  # fmt: skip
    body = post_order_body(order, A3_OWNER, "GTC")
    assert body == A3_BODY
    assert order.order_hash == A3_ORDER_ID
    headers = l2_headers(A3_OWNER, A3_SECRET, "pass", signer.address, "POST", "/order", body, 1795579659)
    assert headers["POLY_SIGNATURE"] == A3_HMAC
    assert headers["POLY_ADDRESS"] == TEST_ADDRESS
    assert headers["POLY_TIMESTAMP"] == "1795579659"


def test_hmac_vector_from_client_tests_and_query_string_is_not_signed() -> None:
    secret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    headers = l2_headers(
        "k", secret, "p", TEST_ADDRESS, "test-sign", "/orders", b'{"hash": "0x123"}', 1000000
    )
    assert headers["POLY_SIGNATURE"] == "ZwAdJKvoYRlEKDkNMwd5BuwNNtg93kNaR_oU2HrfVvc="
    with_query = l2_headers(
        "k", secret, "p", TEST_ADDRESS, "GET", "/data/orders?next_cursor=MA%3D%3D", None, 7
    )
    assert with_query["POLY_SIGNATURE"] == build_hmac_signature(secret, 7, "GET", "/data/orders")


def test_domain_separators_and_keccak_match_eth_libraries() -> None:
    signer = OrderSigner(TEST_KEY, 80002)
    for neg_risk, exchange in ((False, EXCHANGE_V2), (True, NEG_RISK_EXCHANGE_V2)):
        builder = ExchangeOrderBuilderV2(exchange, 80002, ClobClient("http://x", 80002, key=TEST_KEY).signer)
        assert signer.domain_separator(neg_risk) == builder.app_domain_separator
    rng = random.Random(7)
    for size in (0, 1, 65, 66, 135, 136, 137, 384, 1000):
        data = rng.randbytes(size)
        assert keccak256(data) == keccak(data)


@pytest.mark.parametrize(
    ("kind", "tick", "side", "quantity", "price", "maker", "taker"),
    [
        # the worked examples of the protocol reference, section 9.3
        ("limit", "0.01", "BUY", "10", "0.5", 5000000, 10000000),
        ("limit", "0.01", "BUY", "100", "0.29", 29000000, 100000000),
        ("limit", "0.01", "BUY", "33.337", "0.57", 18998100, 33330000),
        ("limit", "0.01", "SELL", "12.345", "0.47", 12340000, 5799800),
        ("limit", "0.001", "BUY", "10.555", "0.123", 1297650, 10550000),
        ("limit", "0.001", "SELL", "7.777", "0.999", 7770000, 7762230),
        ("limit", "0.1", "BUY", "3.333", "0.3", 999000, 3330000),
        ("limit", "0.0001", "BUY", "21.5", "0.0123", 264450, 21500000),
        ("market", "0.01", "BUY", "25", "0.52", 25000000, 48076900),
        ("market", "0.01", "SELL", "48.0769", "0.48", 48070000, 23073600),
        # client float artefacts we reproduce on purpose:
        # 1.15 * 100 == 114.99999999999999, so round_down(1.15, 2) == 1.14 share
        ("limit", "0.01", "BUY", "1.15", "0.5", 570000, 1140000),
        ("limit", "0.01", "SELL", "1.15", "0.5", 1140000, 570000),
        # market orders floor the price: 0.57 * 100 == 56.99999999999999 -> signed at 0.56
        ("market", "0.01", "SELL", "10", "0.57", 10000000, 5600000),
        ("market", "0.01", "BUY", "10", "0.57", 10000000, 17857100),
    ],
)
def test_amounts_equal_client_examples_and_artefacts(
    kind: str, tick: str, side: Side, quantity: str, price: str, maker: int, taker: int
) -> None:
    q, p, t = Decimal(quantity), Decimal(price), Decimal(tick)
    if kind == "limit":
        ours = limit_order_amounts(side, p, q, t)
        _, c_maker, c_taker = OrderBuilder(None).get_order_amounts(
            side, float(q), round_normal(float(p), CLIENT_ROUNDING[tick].price), CLIENT_ROUNDING[tick]
        )
    else:
        ours = market_order_amounts(side, q, p, t)
        _, c_maker, c_taker = OrderBuilder(None).get_market_order_amounts(
            side, float(q), float(p), CLIENT_ROUNDING[tick]
        )
    assert ours == (maker, taker) == (c_maker, c_taker)


def test_every_on_tick_price_is_valid_for_the_client_and_not_moved_by_its_rounding() -> None:
    for tick in TICKS:
        t = Decimal(tick)
        places = CLIENT_ROUNDING[tick].price
        for k in range(1, int(1 / t)):
            price = t * k
            assert price_valid(float(price), tick)
            once = round_normal(float(price), places)
            assert round_normal(once, places) == float(price)
            order_amounts.check_price(price, t)


def test_fast_path_equals_client_model_and_client_on_many_random_orders() -> None:
    """Seeded sweep (no signing): our amounts == the client's float code == our binary64 model."""
    rng = random.Random(20261125)
    builder = OrderBuilder(None)
    for _ in range(25_000):
        tick = rng.choice(TICKS)
        t = Decimal(tick)
        cfg = CLIENT_ROUNDING[tick]
        price = t * rng.randint(1, int(1 / t) - 1)
        quantity = Decimal(rng.randint(1, 10 ** rng.randint(1, 11))).scaleb(
            -rng.choice((0, 1, 2, 2, 2, 3, 4, 6, 9))
        )
        if not Decimal("0.01") <= quantity <= order_amounts.MAX_QUANTITY:
            continue
        side = rng.choice(SIDES)
        ours_limit = limit_order_amounts(side, price, quantity, t)
        model_limit = order_amounts.client_limit_amounts(side, price, quantity, order_amounts.round_config(t))
        client_limit = builder.get_order_amounts(
            side, float(quantity), round_normal(float(price), cfg.price), cfg
        )[1:]
        assert ours_limit == model_limit == client_limit, (side, price, quantity, tick)
        ours_market = market_order_amounts(side, quantity, price, t)
        model_market = order_amounts.client_market_amounts(
            side, quantity, price, order_amounts.round_config(t)
        )
        client_market = builder.get_market_order_amounts(side, float(quantity), float(price), cfg)[1:]
        assert ours_market == model_market == client_market, (side, price, quantity, tick)


# --- property tests against the real client -------------------------------------------------------------


@_SETTINGS
@given(
    wallet=wallets(),
    token_id=token_ids,
    tick_price=tick_and_price(),
    size=quantities,
    side=st.sampled_from(SIDES),
    neg_risk=st.booleans(),
    salt=st.integers(0, 2**53 - 1),
    timestamp_ms=st.integers(1_600_000_000_000, 2_100_000_000_000),
    expiration=st.one_of(st.just(0), st.integers(1, 2**40)),
    codes=st.tuples(bytes32, bytes32),
    post=post_options(),
    owner=owners,
    l2_ts=st.integers(1_600_000_000, 2_100_000_000),
)
def test_limit_orders_are_identical_to_the_client(
    pins: _Pins,
    wallet: tuple[str, int, int, str | None],
    token_id: str,
    tick_price: tuple[str, Decimal],
    size: Decimal,
    side: Side,
    neg_risk: bool,
    salt: int,
    timestamp_ms: int,
    expiration: int,
    codes: tuple[str, str],
    post: tuple[str, bool, bool],
    owner: str,
    l2_ts: int,
) -> None:
    key, chain_id, signature_type, funder = wallet
    tick, price = tick_price
    builder_code, metadata = codes
    creds = ApiCreds(api_key=owner, api_secret=A3_SECRET, api_passphrase="pp")
    client, captured = _offline_client(key, chain_id, signature_type, funder, creds, l2_ts)
    _cache_market(client, token_id, tick)
    pins.salt, pins.timestamp_ms = salt, timestamp_ms
    theirs = client.create_order(
        OrderArgs(
            token_id=token_id, price=float(price), size=float(size), side=side,
            expiration=expiration, builder_code=builder_code, metadata=metadata,
        ),
        PartialCreateOrderOptions(tick_size=tick, neg_risk=neg_risk),
    )  # fmt: skip
    signer = OrderSigner(key, chain_id, signature_type, funder)
    try:
        ours = signer.build_limit_order(
            token_id, price, size, side, Decimal(tick), neg_risk,
            salt=salt, timestamp_ms=timestamp_ms, expiration=expiration,
            builder_code=builder_code, metadata=metadata,
        )  # fmt: skip
    except AmountError:
        assert "0" in (theirs.makerAmount, theirs.takerAmount)
        return
    _assert_same_as_client(ours, theirs, client, captured, chain_id, neg_risk, post, owner, creds, l2_ts)


@_SETTINGS
@given(
    wallet=wallets(),
    token_id=token_ids,
    tick_price=tick_and_price(),
    amount=quantities,
    side=st.sampled_from(SIDES),
    neg_risk=st.booleans(),
    salt=st.integers(0, 2**53 - 1),
    timestamp_ms=st.integers(1_600_000_000_000, 2_100_000_000_000),
    codes=st.tuples(bytes32, bytes32),
    post=post_options(),
    owner=owners,
    l2_ts=st.integers(1_600_000_000, 2_100_000_000),
)
def test_market_orders_are_identical_to_the_client(
    pins: _Pins,
    wallet: tuple[str, int, int, str | None],
    token_id: str,
    tick_price: tuple[str, Decimal],
    amount: Decimal,
    side: Side,
    neg_risk: bool,
    salt: int,
    timestamp_ms: int,
    codes: tuple[str, str],
    post: tuple[str, bool, bool],
    owner: str,
    l2_ts: int,
) -> None:
    key, chain_id, signature_type, funder = wallet
    tick, price = tick_price
    builder_code, metadata = codes
    creds = ApiCreds(api_key=owner, api_secret=A3_SECRET, api_passphrase="pp")
    client, captured = _offline_client(key, chain_id, signature_type, funder, creds, l2_ts)
    _cache_market(client, token_id, tick)
    pins.salt, pins.timestamp_ms = salt, timestamp_ms
    theirs = client.create_market_order(
        MarketOrderArgs(
            token_id=token_id, amount=float(amount), side=side, price=float(price),
            builder_code=builder_code, metadata=metadata,
        ),
        PartialCreateOrderOptions(tick_size=tick, neg_risk=neg_risk),
    )  # fmt: skip
    signer = OrderSigner(key, chain_id, signature_type, funder)
    try:
        ours = signer.build_market_order(
            token_id, amount, side, price, Decimal(tick), neg_risk,
            salt=salt, timestamp_ms=timestamp_ms, builder_code=builder_code, metadata=metadata,
        )  # fmt: skip
    except AmountError:
        assert "0" in (theirs.makerAmount, theirs.takerAmount)
        return
    _assert_same_as_client(ours, theirs, client, captured, chain_id, neg_risk, post, owner, creds, l2_ts)


# --- signatures recover to the signer -----------------------------------------------------------------


def test_signatures_recover_to_the_signer_address() -> None:
    rng = random.Random(5)
    for signature_type in (0, 1, 2):
        key = "0x" + rng.randbytes(32).hex()
        funder = None if signature_type == 0 else to_checksum_address(rng.randbytes(20))
        signer = OrderSigner(key, 137, signature_type, funder)
        assert signer.address == Account.from_key(key).address
        for i in range(20):
            order = signer.build_limit_order(
                str(rng.getrandbits(256)), Decimal("0.42"), Decimal(rng.randint(1, 10**6)) / 100,
                rng.choice(SIDES), Decimal("0.01"), bool(i % 2),
                salt=new_salt(), timestamp_ms=1_795_579_659_878 + i,
            )  # fmt: skip
            digest = bytes.fromhex(order.order_hash[2:])
            signature = bytes.fromhex(order.signature[2:])
            assert len(signature) == 65 and signature[64] in (27, 28)
            public = coincurve.PublicKey.from_signature_and_message(
                signature[:64] + bytes([signature[64] - 27]), digest, hasher=None
            )
            assert to_checksum_address(keccak(public.format(compressed=False)[1:])[-20:]) == signer.address
            assert Account._recover_hash(digest, signature=signature) == signer.address
            assert order.signer == signer.address
            assert order.maker == (funder or signer.address)


def test_concurrent_signing_gives_the_same_bytes_as_sequential() -> None:
    signer = OrderSigner(TEST_KEY, 137)

    def build(i: int) -> SignedOrder:
        return signer.build_limit_order(
            A3_TOKEN, Decimal("0.01") * (1 + i % 98), Decimal(i + 1), "BUY", Decimal("0.01"), False,
            salt=i, timestamp_ms=1_795_579_659_878,
        )  # fmt: skip

    expected = [build(i) for i in range(400)]
    results: dict[int, list[SignedOrder]] = {}

    def worker(n: int) -> None:
        results[n] = [build(i) for i in range(400)]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[n] == expected for n in range(4))


# --- secrets stay secret ----------------------------------------------------------------------------


def _key_forms(key: str) -> list[str]:
    bare = key[2:]
    return [bare, bare.upper(), bare[:16], bare[-16:]]


def test_signer_repr_and_errors_do_not_reveal_the_key() -> None:
    signer = OrderSigner(TEST_KEY, 137, 1, "0x" + "ab" * 20)
    texts = [repr(signer), str(signer), f"{signer}", repr([signer])]
    with pytest.raises(ValueError) as bad_token:
        signer.build_limit_order(
            "0xdead", Decimal("0.5"), Decimal(1), "BUY", Decimal("0.01"), False, salt=1, timestamp_ms=1
        )
    texts.append(str(bad_token.value))
    with pytest.raises(TypeError) as no_pickle:
        pickle.dumps(signer)
    texts.append(str(no_pickle.value))
    for broken in (TEST_KEY[:-2] + "zz", TEST_KEY + "00", TEST_KEY[:-4]):
        with pytest.raises(ValueError) as bad_key:
            OrderSigner(broken, 137)
        texts += [str(bad_key.value), repr(bad_key.value)]
        assert bad_key.value.__cause__ is None
        assert bad_key.value.__context__ is None or bad_key.value.__suppress_context__
    assert TEST_ADDRESS in repr(signer)
    for text in texts:
        for form in _key_forms(TEST_KEY):
            assert form not in text


def test_l2_headers_repr_and_errors_do_not_reveal_secrets() -> None:
    headers = l2_headers(
        "api-key-123", A3_SECRET, "passphrase-xyz", TEST_ADDRESS, "GET", "/data/orders", None, 1
    )
    for text in (repr(headers), str(headers)):
        for secret in ("api-key-123", "passphrase-xyz", headers["POLY_SIGNATURE"], A3_SECRET):
            assert secret not in text
    broken = "c2VjcmV0LXNlY3JldC1zZWNyZXQ"  # no padding
    with pytest.raises(ValueError) as error:
        l2_headers("k", broken, "p", TEST_ADDRESS, "GET", "/x", None, 1)
    assert broken not in str(error.value)
    assert error.value.__suppress_context__


# --- bad input is refused with a clear error ------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "size", "tick", "side", "message"),
    [
        ("0.555", "10", "0.01", "BUY", "not a multiple of tick size"),
        ("0", "10", "0.01", "BUY", "invalid price"),
        ("1", "10", "0.01", "SELL", "invalid price"),
        ("0.99", "10", "0.1", "BUY", "invalid price"),
        ("0.5", "0.009", "0.01", "BUY", "zero amount"),
        ("0.5", "0", "0.01", "BUY", "size must be"),
        ("0.5", "-1", "0.01", "BUY", "size must be"),
        ("0.5", "NaN", "0.01", "BUY", "size must be"),
        ("0.5", "1E+10", "0.01", "BUY", "size must be"),
        ("0.5", "10", "0.02", "BUY", "unsupported tick size"),
        ("0.5", "10", "0.01", "buy", "side must be"),
    ],
)
def test_bad_limit_orders_are_refused(price: str, size: str, tick: str, side: Any, message: str) -> None:
    signer = OrderSigner(TEST_KEY, 137)
    with pytest.raises(AmountError, match=message):
        signer.build_limit_order(
            A3_TOKEN, Decimal(price), Decimal(size), side, Decimal(tick), False,
            salt=1, timestamp_ms=1,
        )  # fmt: skip


def test_bad_order_fields_and_wallets_are_refused() -> None:
    signer = OrderSigner(TEST_KEY, 137)
    args: tuple[str, Decimal, Decimal, Side, Decimal, bool] = (
        A3_TOKEN, Decimal("0.5"), Decimal(10), "BUY", Decimal("0.01"), False,
    )  # fmt: skip
    for kwargs, message in (
        ({"salt": -1, "timestamp_ms": 1}, "salt"),
        ({"salt": 2**53, "timestamp_ms": 1}, "salt"),
        ({"salt": 1, "timestamp_ms": 0}, "timestamp_ms"),
        ({"salt": 1, "timestamp_ms": 1, "expiration": -5}, "expiration"),
        ({"salt": 1, "timestamp_ms": 1, "builder_code": "0x12"}, "builder_code"),
        ({"salt": 1, "timestamp_ms": 1, "metadata": "zz"}, "metadata"),
    ):
        with pytest.raises(ValueError, match=message):
            signer.build_limit_order(*args, **kwargs)
    with pytest.raises(ValueError, match="token_id"):
        signer.build_limit_order(str(2**256), *args[1:], salt=1, timestamp_ms=1)
    with pytest.raises(NotImplementedError, match="POLY_1271"):
        OrderSigner(TEST_KEY, 137, 3, "0x" + "11" * 20)
    with pytest.raises(ValueError, match="chain_id"):
        OrderSigner(TEST_KEY, 1)
    with pytest.raises(ValueError, match="checksum"):
        OrderSigner(TEST_KEY, 137, 1, "0xF39fd6e51aad88F6F4ce6aB8827279cffFb92266")
    with pytest.raises(ValueError, match="funder"):
        OrderSigner(TEST_KEY, 137, 1, "0x1234")
    order = signer.build_limit_order(*args, salt=1, timestamp_ms=1)
    with pytest.raises(ValueError, match="post_only"):
        post_order_body(order, A3_OWNER, "FOK", post_only=True)
    with pytest.raises(ValueError, match="order_type"):
        post_order_body(order, A3_OWNER, "IOC")
    with pytest.raises(ValueError, match="single quote"):
        l2_headers("k", A3_SECRET, "p", TEST_ADDRESS, "POST", "/order", b'{"owner":"o\'brien"}', 1)


def test_signed_order_is_frozen_and_serialises_in_client_key_order() -> None:
    order = OrderSigner(TEST_KEY, 137).build_market_order(
        A3_TOKEN, Decimal(25), "BUY", Decimal("0.52"), Decimal("0.01"), True, salt=3, timestamp_ms=4
    )
    with pytest.raises(AttributeError):
        order.salt = 5  # type: ignore[misc]
    assert list(order.to_json_dict()) == list(json.loads(A3_BODY)["order"])
    assert order.expiration == "0" and order.timestamp == "4"


def test_new_salt_is_like_the_clients() -> None:
    salts = {new_salt() for _ in range(1000)}
    assert len(salts) > 990
    assert all(0 <= s < 2_100_000_000_000 for s in salts)
