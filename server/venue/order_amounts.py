"""Maker/taker amounts of Polymarket CLOB V2 orders: the client's, and the venue-valid marketable ones.

``limit_order_amounts`` and ``market_order_amounts`` equal what py-clob-client-v2 1.2.1 signs.
``marketable_amounts`` (end of the module) is what hedges sign: the client's market orders carry 5 or 6
taker decimals on fine ticks, which the venue refuses for FOK/FAK orders.

The official client computes amounts with binary floating point (``order_builder/builder.py``
``get_order_amounts`` / ``get_market_order_amounts`` and the helpers in ``order_builder/helpers.py``).
The venue sees those amounts, so ours must be the same integers, including the client's float
artefacts. We never use Python ``float`` here: inputs are ``Decimal`` and every step of the client's
arithmetic is replayed on an exact model of IEEE-754 binary64 built from Python integers (a double
is held as ``(m, e)`` meaning ``m * 2**e`` with ``2**52 <= m < 2**53``, round-to-nearest-even).

Known client artefacts reproduced here (see ``tests/venue/test_order_signing.py``):

* ``round_down(x, d) = floor(x * 10**d) / 10**d`` floors a product that binary64 may put just
  below an integer. A size of ``Decimal("1.15")`` becomes 1.14 shares (``1.15 * 100`` is
  ``114.99999999999999``): 65,624 of the million two-decimal sizes from 0.01 to 10,000 lose one
  cent this way (0.29, 0.57, 0.58, 1.13-1.16, 2.01, ...). The same applies to a market order's
  USDC (BUY) or share (SELL) amount.
* Market orders round the price *down* with the same helper, so some on-tick prices are signed one
  tick lower: 0.29, 0.57 and 0.58 at tick 0.01 (``0.57 * 100`` is ``56.99999999999999``), 18 of
  399 prices at tick 0.0025, 573 of 9,999 at tick 0.0001; none at ticks 0.1, 0.005 and 0.001.
* A product such as ``100 * 0.29`` that binary64 leaves at ``28.999999999999996`` is repaired by the
  client's ``round_up(x, amount_decimals + 4)`` step; the model replays that repair too.
* Market BUY takes ``shares = usdc / price`` and keeps ``amount_decimals`` decimals after the same
  round-up-then-round-down step, so the implied price is slightly above the limit.

Most orders take an integer fast path whose equality with the model is argued next to it and
checked against the client; anything the fast path cannot decide goes through the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Final, Literal

Side = Literal["BUY", "SELL"]

#: Largest size (shares) or amount (USDC) accepted. The model is exact at any magnitude, but the
#: client's ``decimal_places`` switches to exponent notation at 1e16, so we keep far below it.
MAX_QUANTITY: Final = Decimal(10) ** 9


@dataclass(frozen=True, slots=True)
class RoundConfig:
    """Decimal places the client keeps for a tick size (``ROUNDING_CONFIG`` in the client)."""

    price: int
    size: int
    amount: int


ROUNDING_CONFIG: Final[dict[Decimal, RoundConfig]] = {
    Decimal("0.1"): RoundConfig(price=1, size=2, amount=3),
    Decimal("0.01"): RoundConfig(price=2, size=2, amount=4),
    Decimal("0.005"): RoundConfig(price=3, size=2, amount=5),
    Decimal("0.0025"): RoundConfig(price=4, size=2, amount=6),
    Decimal("0.001"): RoundConfig(price=3, size=2, amount=5),
    Decimal("0.0001"): RoundConfig(price=4, size=2, amount=6),
}


class AmountError(ValueError):
    """An order's price, size or amount is outside what the client would sign correctly."""


# --- exact binary64 model -------------------------------------------------------------------------

_F64 = tuple[int, int]
_P53: Final = 1 << 53
_ZERO: Final[_F64] = (0, 0)


def _from_ratio(n: int, d: int) -> _F64:
    """The double nearest to ``n / d`` (``n >= 0``, ``d > 0``), ties to even."""
    if n == 0:
        return _ZERO
    e = n.bit_length() - d.bit_length() - 53
    # n / (d * 2**e) lies in (2**52, 2**54): the quotient has 53 or 54 bits.
    if e >= 0:
        dd = d << e
        q, r = divmod(n, dd)
    else:
        dd = d
        q, r = divmod(n << -e, d)
    if q >= _P53:
        r += (q & 1) * dd
        dd <<= 1
        q >>= 1
        e += 1
    r2 = r << 1
    if r2 > dd or (r2 == dd and q & 1):
        q += 1
        if q == _P53:
            q >>= 1
            e += 1
    return (q, e)


def _from_scaled(n: int, e: int) -> _F64:
    """The double nearest to ``n * 2**e`` (``n >= 0``)."""
    if n == 0:
        return _ZERO
    extra = n.bit_length() - 53
    if extra <= 0:
        return (n << -extra, e + extra)
    q = n >> extra
    r = n - (q << extra)
    half = 1 << (extra - 1)
    if r > half or (r == half and q & 1):
        q += 1
        if q == _P53:
            q >>= 1
            extra += 1
    return (q, e + extra)


def _from_decimal(x: Decimal) -> _F64:
    """``float(x)``: Python parses decimals with correct rounding."""
    n, d = x.as_integer_ratio()
    return _from_ratio(n, d)


def _mul(a: _F64, b: _F64) -> _F64:
    return _from_scaled(a[0] * b[0], a[1] + b[1])


def _div(a: _F64, b: _F64) -> _F64:
    q = _from_ratio(a[0], b[0])
    return (q[0], q[1] + a[1] - b[1]) if q[0] else q


def _floor(a: _F64) -> int:
    m, e = a
    return m << e if e >= 0 else m >> -e


def _ceil(a: _F64) -> int:
    m, e = a
    return m << e if e >= 0 else -((-m) >> -e)


def _round_half_even(a: _F64) -> int:
    """Python's ``round(float)`` (exact value, ties to even)."""
    m, e = a
    if e >= 0:
        return m << e
    q = m >> -e
    r = m - (q << -e)
    half = 1 << (-e - 1)
    if r > half or (r == half and q & 1):
        q += 1
    return q


_POW10: Final[tuple[_F64, ...]] = tuple(_from_ratio(10**k, 1) for k in range(16))


def _round_down(a: _F64, digits: int) -> _F64:
    return _from_ratio(_floor(_mul(a, _POW10[digits])), 10**digits)


def _round_normal(a: _F64, digits: int) -> _F64:
    return _from_ratio(_round_half_even(_mul(a, _POW10[digits])), 10**digits)


def _round_up(a: _F64, digits: int) -> _F64:
    return _from_ratio(_ceil(_mul(a, _POW10[digits])), 10**digits)


def _more_decimals_than(a: _F64, digits: int) -> bool:
    """``decimal_places(a) > digits`` for the client's ``Decimal(str(a))`` (``digits >= 1``).

    ``str`` gives the shortest decimal that reads back as ``a``. Below 1e16 it is positional, so it
    has at most ``digits`` decimals exactly when the nearest ``digits``-decimal number reads back as
    ``a`` (the decimal grid is far coarser than the spacing of doubles in our range).
    """
    m, e = a
    scale = 10**digits
    if e >= 0:
        return False
    q, r = divmod(m * scale, 1 << -e)
    twice = r << 1
    if twice > (1 << -e) or (twice == (1 << -e) and q & 1):
        q += 1
    return _from_ratio(q, scale) != a


def _fix_up(a: _F64, amount_digits: int) -> _F64:
    """The client's repair of a product/quotient with too many decimals."""
    if _more_decimals_than(a, amount_digits):
        a = _round_up(a, amount_digits + 4)
        if _more_decimals_than(a, amount_digits):
            a = _round_down(a, amount_digits)
    return a


_TOKEN_SCALE: Final = _POW10[6]


def _to_token_decimals(a: _F64) -> int:
    # decimal_places(f) is at least 1 for every float below 1e16 ("5000000.0"), so the client
    # always rounds: int(round(10**6 * a)).
    return _round_half_even(_mul(a, _TOKEN_SCALE))


# --- the client's algorithms, replayed on the model (the reference, and the slow path) -------------


def client_limit_amounts(side: Side, price: Decimal, size: Decimal, cfg: RoundConfig) -> tuple[int, int]:
    """``get_order_amounts`` after ``create_order``'s own price rounding, step by step."""
    raw_price = _round_normal(_round_normal(_from_decimal(price), cfg.price), cfg.price)
    shares = _round_down(_from_decimal(size), cfg.size)
    usdc = _fix_up(_mul(shares, raw_price), cfg.amount)
    if side == "BUY":
        return _to_token_decimals(usdc), _to_token_decimals(shares)
    return _to_token_decimals(shares), _to_token_decimals(usdc)


def client_market_amounts(side: Side, amount: Decimal, price: Decimal, cfg: RoundConfig) -> tuple[int, int]:
    """``get_market_order_amounts``, step by step."""
    raw_price = _round_down(_from_decimal(price), cfg.price)
    maker = _round_down(_from_decimal(amount), cfg.size)
    if side == "BUY":
        taker = _fix_up(_div(maker, raw_price), cfg.amount)
    else:
        taker = _fix_up(_mul(maker, raw_price), cfg.amount)
    return _to_token_decimals(maker), _to_token_decimals(taker)


# --- fast path ----------------------------------------------------------------------------------------
#
# In integers and Decimal, valid whenever binary64 rounding cannot move a floor or ceil across an
# integer; otherwise we fall back to the model above. Why each shortcut equals the client:
#
# * ``round_down(q, 2)`` is ``k / 100`` with ``k = floor(fl(fl(q) * 100))``. Two roundings move
#   ``100 q`` by less than ``100 q * 2**-52``; if ``100 q`` is farther than ``100 q * 2**-50`` from an
#   integer, ``k = floor(100 q)``. If ``100 q`` is an integer the float may land just below it (1.15),
#   so that case always goes through the model (cached per ``k``).
# * A limit/SELL product ``M = k * p / 10**(2 + pd)`` has exactly ``amount`` decimals at most
#   (``2 + price decimals == amount decimals`` for every tick). The float product is within 3 ulps of
#   ``M``: either it reads back as ``M`` (no repair), or the client's ``round_up(x, amount + 4)`` lands
#   on ``M`` (from below) or on ``M + 10**-(amount + 4)``, which ``round_down(x, amount)`` brings back
#   to ``M``. That needs ``M * 10**(amount + 4) < ~2e15``: we require ``k * p < 10**11``.
# * A market BUY quotient ``Q = k * 10**pd / (100 * p)`` is repaired to
#   ``ceil(Q * 10**(amount + 4)) // 10**4`` units of ``10**-amount`` when ``Q * 10**(amount + 4)`` is
#   farther than ``2**-50`` (relative) from an integer, or is a multiple of ``10**4``; else the model.

_FAST_LIMIT: Final = 10**11
_FAST_QUOTIENT: Final = 10**15


@lru_cache(maxsize=16384)
def _hundredths_of_integer_cents(k: int) -> int:
    m, e = _from_ratio(k, 100)
    return _floor(_from_scaled(m * 100, e))


def _hundredths(q: Decimal) -> int:
    """``floor(fl(fl(q) * 100))``: the numerator of the client's ``round_down(q, 2)``."""
    n, d = q.as_integer_ratio()
    k, r = divmod(100 * n, d)
    if r == 0:
        return _hundredths_of_integer_cents(k)
    if (r << 50) > 100 * n and ((d - r) << 50) > 100 * n:
        return k
    return _floor(_mul(_from_ratio(n, d), _POW10[2]))


@lru_cache(maxsize=16384)
def _limit_price(price: Decimal, tick_size: Decimal) -> tuple[RoundConfig, int]:
    """Validate a limit price; return the tick's config and ``p = price * 10**price_decimals``.

    The client signs with ``round_normal`` applied twice to ``float(price)``; for every on-tick
    price of every tick that gives back ``float(price)`` = ``fl(p / 10**pd)`` (a finite set, checked
    exhaustively by ``test_every_on_tick_price_is_valid_for_the_client_and_not_moved_by_its_rounding``).
    """
    cfg = round_config(tick_size)
    check_price(price, tick_size)
    return cfg, int(price.scaleb(cfg.price))


@lru_cache(maxsize=16384)
def _market_price(price: Decimal, tick_size: Decimal) -> tuple[RoundConfig, int]:
    """Validate a market price; return the config and the client's ``round_down(price, pd) * 10**pd``."""
    cfg = round_config(tick_size)
    check_price(price, tick_size)
    return cfg, _floor(_mul(_from_decimal(price), _POW10[cfg.price]))


# --- public API -------------------------------------------------------------------------------------


def round_config(tick_size: Decimal) -> RoundConfig:
    """The rounding configuration for one of the six tick sizes; ``AmountError`` otherwise."""
    try:
        return ROUNDING_CONFIG[tick_size]
    except (KeyError, TypeError):
        raise AmountError(f"unsupported tick size {tick_size}") from None


def check_price(price: Decimal, tick_size: Decimal) -> None:
    """Raise ``AmountError`` unless ``price`` is a multiple of ``tick_size`` in ``[tick, 1 - tick]``.

    The client also accepts off-tick prices and rounds them with binary64 ``round``; we refuse them
    instead of reproducing that rounding.
    """
    if not isinstance(price, Decimal) or not price.is_finite() or not (tick_size <= price <= 1 - tick_size):
        raise AmountError(f"invalid price ({price}), min: {tick_size} - max: {1 - tick_size}")
    if price % tick_size != 0:
        raise AmountError(f"price {price} is not a multiple of tick size {tick_size}")


def _check_quantity(name: str, value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or not (0 < value <= MAX_QUANTITY):
        raise AmountError(f"{name} must be a Decimal in (0, {MAX_QUANTITY}], got {value!r}")


def _check_side(side: str) -> None:
    if side != "BUY" and side != "SELL":
        raise AmountError(f"side must be 'BUY' or 'SELL', got {side!r}")


def _nonzero(amounts: tuple[int, int], what: str) -> tuple[int, int]:
    if amounts[0] <= 0 or amounts[1] <= 0:
        raise AmountError(f"{what} rounds to a zero amount (maker={amounts[0]}, taker={amounts[1]})")
    return amounts


def limit_order_amounts(side: Side, price: Decimal, size: Decimal, tick_size: Decimal) -> tuple[int, int]:
    """``(maker_amount, taker_amount)`` in 1e-6 units, as ``ClobClient.create_order`` computes them.

    BUY: maker = USDC paid, taker = shares received; SELL: maker = shares sold, taker = USDC.
    ``size`` is in shares. Raises ``AmountError`` for an invalid side, price, size or tick size, and
    for sizes below 0.01 share (the client would sign zero amounts).
    """
    _check_side(side)
    cfg, p = _limit_price(price, tick_size)
    _check_quantity("size", size)
    k = _hundredths(size)
    if k * p < _FAST_LIMIT:
        shares = k * 10**4
        usdc = k * p * 10 ** (6 - cfg.amount)
        return _nonzero((usdc, shares) if side == "BUY" else (shares, usdc), "limit order")
    return _nonzero(client_limit_amounts(side, price, size, cfg), "limit order")


def market_order_amounts(side: Side, amount: Decimal, price: Decimal, tick_size: Decimal) -> tuple[int, int]:
    """``(maker_amount, taker_amount)`` as ``ClobClient.create_market_order`` computes them.

    ``amount`` is USDC to spend for a BUY and shares to sell for a SELL; ``price`` is the worst
    acceptable price (the client rounds it *down* to the tick's price decimals, see module doc).
    """
    _check_side(side)
    cfg, p = _market_price(price, tick_size)
    _check_quantity("amount", amount)
    k = _hundredths(amount)
    if p > 0:
        if side == "SELL" and k * p < _FAST_LIMIT:
            return _nonzero((k * 10**4, k * p * 10 ** (6 - cfg.amount)), "market order")
        if side == "BUY":
            numerator = k * 10 ** (cfg.price + cfg.amount + 2)
            whole, rest = divmod(numerator, p)
            if whole < _FAST_QUOTIENT:
                if rest == 0 and whole % 10**4 == 0:
                    return _nonzero((k * 10**4, whole // 10**4 * 10 ** (6 - cfg.amount)), "market order")
                if rest and (rest << 50) > numerator and ((p - rest) << 50) > numerator:
                    taker = (whole + 1) // 10**4 * 10 ** (6 - cfg.amount)
                    return _nonzero((k * 10**4, taker), "market order")
    if p <= 0:
        raise AmountError(f"price {price} rounds down to zero")
    return _nonzero(client_market_amounts(side, amount, price, cfg), "market order")


# --- venue-valid marketable (FOK/FAK) amounts ---------------------------------------------------------
#
# The venue caps a marketable order's maker amount at 2 decimals and its taker amount at 4 whatever
# the tick ("invalid amounts, the market buy orders maker amount supports a max accuracy of 2
# decimals, taker amount a max of 4 decimals", py-clob-client-v2 issue #99; the SELL text says "sell
# orders" with the same 2 and 4). The client keeps the tick's ``amount`` decimals instead (5 or 6 on
# fine ticks), so its market orders there are refused; these amounts are what the venue takes.
#
# Which way the taker is rounded is fixed by how an order crosses: the exchange contract compares
# the order's own ratio (BUY ``maker / taker``, SELL ``taker / maker``) with the resting order's
# price (``CalculatorHelper.isCrossing``), and a taker BUY must receive at least ``taker / maker`` of
# every USDC it spends. So a BUY must keep its ratio at or above the limit to take the asks *at* the
# limit, and below the next tick so that no ask above the limit crosses: every fill is then at a
# tick price at most the limit. A SELL mirrors it (ratio in ``(limit - tick, limit]``).

MARKETABLE_MAKER_DECIMALS: Final = 2
MARKETABLE_TAKER_DECIMALS: Final = 4


def marketable_amounts(side: Side, quantity: Decimal, limit: Decimal, tick_size: Decimal) -> tuple[int, int]:
    """``(maker_amount, taker_amount)`` of a FOK/FAK order the venue accepts, crossing up to ``limit``.

    BUY: ``quantity`` is the USDC budget (whole cents, e.g. ``hedge_budget``); the taker amount is the
    budget's shares at ``limit`` rounded down to 4 decimals. SELL: ``quantity`` is the shares sold
    (at most 2 decimals); the taker amount is their USDC at ``limit`` rounded down to 4 decimals.
    The order's ratio always rounds to ``limit`` on the tick grid: it can take the ``limit`` level and
    nothing beyond it. Raises ``AmountError`` for a bad side, price, tick or quantity, or a quantity
    too small for that (below about 1 USDC, under the venue's marketable minimum anyway).
    """
    _check_side(side)
    cfg = round_config(tick_size)
    check_price(limit, tick_size)
    _check_quantity("amount", quantity)
    if quantity != quantity.quantize(Decimal(1).scaleb(-MARKETABLE_MAKER_DECIMALS)):
        raise AmountError(f"amount {quantity} has more than {MARKETABLE_MAKER_DECIMALS} decimals")
    hundredths = int(quantity.scaleb(MARKETABLE_MAKER_DECIMALS))
    p = int(limit.scaleb(cfg.price))  # limit = p / 10**pd
    t = int(tick_size.scaleb(cfg.price))  # tick = t / 10**pd
    scale = 10**cfg.price
    if side == "BUY":
        # shares * 10**4 = floor(budget / limit * 10**4) = floor(hundredths * 10**(pd + 2) / p)
        taker4 = hundredths * scale * 100 // p
        # ratio = hundredths * 100 / taker4 must lie in [p, p + t) / 10**pd
        in_range = taker4 > 0 and p * taker4 <= hundredths * 100 * scale < (p + t) * taker4
    else:
        # usdc * 10**4 = floor(shares * limit * 10**4) = floor(hundredths * p * 100 / 10**pd)
        taker4 = hundredths * p * 100 // scale
        # ratio = taker4 / (100 * hundredths) must lie in (p - t, p] / 10**pd
        in_range = taker4 > 0 and (p - t) * 100 * hundredths < taker4 * scale <= p * 100 * hundredths
    if not in_range:
        raise AmountError(
            f"{side} of {quantity} at {limit} is too small for a marketable order on tick {tick_size}"
        )
    return hundredths * 10**4, taker4 * 100
