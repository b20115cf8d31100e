"""What the conditional-token contracts do to balances at a market's end and for a YES+NO pair, as the
collateral adapters expose them to the official SDK (`polymarket-client`'s `redeem_positions` and
`merge_positions` on a CTF market call `redeemPositions` / `mergePositions` on the adapter).

- Redeem (after resolution): every position of the condition is burnt; each winning token pays 1 USDC,
  a losing one nothing. Before resolution the call reverts, as CTF's does.
- Merge (any time): `shares` of YES and of NO are burnt for `shares` USDC. More than either balance
  reverts (CTF's ERC1155 burn underflows).

Amounts on chain are base units (6 decimals for USDC and for outcome tokens alike). Callers hold the
exchange's lock."""

from __future__ import annotations

from decimal import Decimal

from server.sim.ledger import Ledger
from server.sim.lifecycle import Lifecycle
from server.sim.markets import SimMarket

NOT_RESOLVED = "result for condition not received yet"
UNDERFLOW = "SafeMath: subtraction overflow"


class ChainRevert(Exception):
    """The contract call reverts with `reason`: nothing changes, the transaction still uses its nonce."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_redeem(life: Lifecycle) -> None:
    """Reverts unless the market has resolved."""
    if not life.resolved:
        raise ChainRevert(NOT_RESOLVED)


def redeem(ledger: Ledger, market: SimMarket, life: Lifecycle, holder: str) -> Decimal:
    """Burns all of `holder`'s positions in `market` and pays its winning tokens; returns the payout."""
    check_redeem(life)
    account = ledger.account(holder)
    payout = account.token(life.winning_token_id or "")
    for token_id in market.token_ids:
        ledger.move_tokens(holder, token_id, -account.token(token_id))
    ledger.move_usdc(holder, payout)
    return payout


def check_merge(ledger: Ledger, market: SimMarket, holder: str, shares: Decimal) -> None:
    """Reverts unless `holder` has `shares` of both tokens free of resting orders' holds."""
    account = ledger.account(holder)
    if any(account.available_tokens(t) < shares for t in market.token_ids):
        raise ChainRevert(UNDERFLOW)


def merge(ledger: Ledger, market: SimMarket, holder: str, shares: Decimal) -> None:
    """Burns `shares` YES and `shares` NO of `holder` for `shares` USDC."""
    check_merge(ledger, market, holder, shares)
    for token_id in market.token_ids:
        ledger.move_tokens(holder, token_id, -shares)
    ledger.move_usdc(holder, shares)
