"""Per-account balances of collateral (USDC) and outcome tokens, with holds for resting orders.

Addresses are keyed in lower case. ``reserved_*`` is what resting orders hold back; a new order may
only use what is available (balance minus holds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from server.sim.wire import ZERO


@dataclass
class Account:
    usdc: Decimal = ZERO
    tokens: dict[str, Decimal] = field(default_factory=dict)
    reserved_usdc: Decimal = ZERO
    reserved_tokens: dict[str, Decimal] = field(default_factory=dict)
    # USDC the exchange contracts may move for this wallet; None: unlimited (an approved wallet).
    allowance: Decimal | None = None

    def token(self, token_id: str) -> Decimal:
        return self.tokens.get(token_id, ZERO)

    def available_usdc(self) -> Decimal:
        return self.usdc - self.reserved_usdc

    def spendable_usdc(self) -> Decimal:
        """What a BUY may use: the available balance, capped by the allowance."""
        available = self.available_usdc()
        return available if self.allowance is None else min(available, self.allowance)

    def available_tokens(self, token_id: str) -> Decimal:
        return self.token(token_id) - self.reserved_tokens.get(token_id, ZERO)


class Ledger:
    """Balances only; callers hold the exchange lock."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}

    def account(self, address: str) -> Account:
        key = address.lower()
        acct = self.accounts.get(key)
        if acct is None:
            acct = self.accounts[key] = Account()
        return acct

    def move_usdc(self, address: str, delta: Decimal) -> None:
        if delta:
            self.account(address).usdc += delta

    def move_tokens(self, address: str, token_id: str, delta: Decimal) -> None:
        if delta:
            acct = self.account(address)
            acct.tokens[token_id] = acct.token(token_id) + delta

    def hold(self, address: str, token_id: str | None, delta: Decimal) -> None:
        """Change the hold on USDC (``token_id`` None) or on a token by ``delta``."""
        if not delta:
            return
        acct = self.account(address)
        if token_id is None:
            acct.reserved_usdc += delta
        else:
            acct.reserved_tokens[token_id] = acct.reserved_tokens.get(token_id, ZERO) + delta

    def snapshot(self, address: str) -> dict[str, object]:
        acct = self.account(address)
        return {
            "usdc": acct.usdc,
            "usdc_available": acct.available_usdc(),
            "usdc_reserved": acct.reserved_usdc,
            "tokens": {t: v for t, v in acct.tokens.items() if v},
            "tokens_reserved": {t: v for t, v in acct.reserved_tokens.items() if v},
        }
