"""Peewee models of the hedging store. The schema itself is owned by the SQL files in migrations/;
`tests/store/test_migrations.py` proves the two agree."""

from __future__ import annotations

import peewee

from server.store.db import database_proxy
from server.store.fields import InstantField, MoneyField


class BaseModel(peewee.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class HedgeConfig(BaseModel):
    key = peewee.TextField(primary_key=True)
    value = peewee.TextField()
    value_type = peewee.TextField()
    version = peewee.IntegerField()
    updated_by = peewee.TextField()
    updated_at = InstantField()


class HedgeConfigHistory(BaseModel):
    id = peewee.BigAutoField()
    key = peewee.TextField()
    old_value = peewee.TextField(null=True)
    new_value = peewee.TextField()
    version = peewee.IntegerField()
    changed_by = peewee.TextField()
    reason = peewee.TextField()
    changed_at = InstantField()


class PolymarketMarketMapping(BaseModel):
    id = peewee.BigAutoField()
    event_id = peewee.TextField()
    outcome = peewee.TextField()
    condition_id = peewee.TextField()
    yes_token_id = peewee.TextField()
    no_token_id = peewee.TextField()
    neg_risk = peewee.BooleanField()
    tick_size = MoneyField()
    min_order_size = MoneyField()
    fee_rate = MoneyField()
    fee_exponent = MoneyField()
    exposure_limit = MoneyField(null=True)
    question = peewee.TextField()
    active = peewee.BooleanField()
    created_at = InstantField()
    updated_at = InstantField()
    # migration 0008: the mapping's own hedge policy keys (None: the config key's value holds)
    hedge_policy = peewee.TextField(null=True)
    hedge_ratio = MoneyField(null=True)
    hedge_min_shares = MoneyField(null=True)
    hedge_max_delay_ms = peewee.IntegerField(null=True)
    # migration 0013: the venue's market state (`server.domain.market_state`) and the neg-risk group
    market_state = peewee.TextField(default="open")
    winning_token_id = peewee.TextField(null=True)
    market_state_at = InstantField(null=True)
    event_group = peewee.TextField(null=True)


class UserOrder(BaseModel):
    mapping_id: int | None  # peewee's accessor for the foreign key's raw value
    id = peewee.TextField(primary_key=True)
    account_id = peewee.TextField()
    request_id = peewee.TextField()
    request_hash = peewee.TextField()
    mapping = peewee.ForeignKeyField(PolymarketMarketMapping, null=True, column_name="mapping_id")
    event_id = peewee.TextField()
    outcome = peewee.TextField()
    side = peewee.TextField()
    size = MoneyField()
    limit_price = MoneyField(null=True)
    status = peewee.TextField()
    reject_reason = peewee.TextField(null=True)
    message = peewee.TextField()
    price = MoneyField(null=True)
    notional = MoneyField(null=True)
    reference_price = MoneyField(null=True)
    hedge_fee_estimate = MoneyField(null=True)
    hedge_status = peewee.TextField()
    hedged_size = MoneyField()
    created_at = InstantField()
    updated_at = InstantField()
    hedge_policy = peewee.TextField(null=True)  # migration 0017


class HedgePosition(BaseModel):
    order_id: str  # peewee's accessors for the foreign keys' raw values
    mapping_id: int
    parent_hedge_id: str | None
    id = peewee.TextField(primary_key=True)
    order = peewee.ForeignKeyField(UserOrder, column_name="order_id")
    mapping = peewee.ForeignKeyField(PolymarketMarketMapping, column_name="mapping_id")
    parent_hedge = peewee.ForeignKeyField("self", null=True, column_name="parent_hedge_id")
    token_id = peewee.TextField()
    leg = peewee.TextField()
    side = peewee.TextField()
    size = MoneyField()
    limit_price = MoneyField()
    quoted_price = MoneyField()
    user_price = MoneyField()
    order_type = peewee.TextField()
    is_paper = peewee.BooleanField()
    status = peewee.TextField()
    venue_order_id = peewee.TextField(null=True, unique=True)
    signed_order = peewee.TextField(null=True)
    filled_size = MoneyField()
    fill_cost = MoneyField()
    fill_price = MoneyField(null=True)
    fee = MoneyField()
    spread_captured = MoneyField()
    net_profit = MoneyField()
    failure_reason = peewee.TextField(null=True)
    attempt_count = peewee.IntegerField()
    next_check_at = InstantField(null=True)
    created_at = InstantField()
    updated_at = InstantField()
    submitted_at = InstantField(null=True)
    resolved_at = InstantField(null=True)
    # A person's request to re-hedge this hedge's residual (migration 0002); kept once consumed.
    rehedge_requested_at = InstantField(null=True)
    rehedge_requested_by = peewee.TextField(null=True)
    rehedge_request_reason = peewee.TextField(null=True)
    # The most this hedge's fill could add to each outcome's loss while it is open (migration 0004).
    worst_loss_if_yes = MoneyField()
    worst_loss_if_no = MoneyField()
    # Where the fill's trades stand on chain (migration 0011; `server.domain.types.Settlement`).
    settlement = peewee.TextField(null=True)


class HedgeTrade(BaseModel):
    """One venue trade of a hedge's fill, followed until CONFIRMED or FAILED (migration 0011)."""

    hedge_id: str
    trade_id = peewee.TextField(primary_key=True)
    hedge = peewee.ForeignKeyField(HedgePosition, column_name="hedge_id")
    status = peewee.TextField()
    shares = MoneyField(null=True)
    price = MoneyField(null=True)
    updated_at = InstantField()


class MarketExposure(BaseModel):
    mapping_id: int  # peewee's accessor for the foreign key's raw value
    mapping = peewee.ForeignKeyField(PolymarketMarketMapping, primary_key=True, column_name="mapping_id")
    user_shares = MoneyField()
    hedge_yes = MoneyField()
    hedge_no = MoneyField()
    yes_reserved_for_sale = MoneyField()
    net_cash = MoneyField()
    worst_case_loss = MoneyField()
    updated_at = InstantField()
    no_reserved_for_sale = MoneyField()  # migration 0008
    # Open hedges at their worst (migration 0004; `Position`).
    in_flight_delta = MoneyField()
    in_flight_loss_if_yes = MoneyField()
    in_flight_loss_if_no = MoneyField()
    # The market's running totals (migration 0006; `server.risk.market_totals`).
    hedged_notional = MoneyField()
    unhedged_notional = MoneyField()
    spread_captured = MoneyField()
    fees = MoneyField()
    net_profit = MoneyField()
    pending_hedges = peewee.IntegerField()
    unknown_hedges = peewee.IntegerField()
    hedged_hedges = peewee.IntegerField()
    partial_hedges = peewee.IntegerField()
    failed_hedges = peewee.IntegerField()
    paper_hedges = peewee.IntegerField()


class HedgeOutcomeSecond(BaseModel):
    """Hedges that ended, by the second they were created (migration 0006; `server.store.outcome_seconds`)."""

    created_second = InstantField(primary_key=True)
    final_hedges = peewee.IntegerField()
    failed_hedges = peewee.IntegerField()


class RiskTotals(BaseModel):
    id = peewee.IntegerField(primary_key=True)
    unhedged_exposure = MoneyField()
    updated_at = InstantField()


class HedgeEvent(BaseModel):
    id = peewee.BigAutoField()
    event_type = peewee.TextField()
    created_at = InstantField()
    event_id = peewee.TextField(null=True)
    outcome = peewee.TextField(null=True)
    order_id = peewee.TextField(null=True)
    hedge_id = peewee.TextField(null=True)
    message = peewee.TextField()
    data = peewee.TextField()


class CircuitBreaker(BaseModel):
    name = peewee.TextField(primary_key=True)
    state = peewee.TextField()
    reason = peewee.TextField()
    tripped_at = InstantField(null=True)
    updated_by = peewee.TextField()
    updated_at = InstantField()


class RiskSnapshot(BaseModel):
    id = peewee.BigAutoField()
    taken_at = InstantField()
    reason = peewee.TextField()
    unhedged_exposure = MoneyField()
    exposure_limit = MoneyField()
    spread_captured = MoneyField()
    fees = MoneyField()
    net_profit = MoneyField()
    pending_hedges = peewee.IntegerField()
    unknown_hedges = peewee.IntegerField()
    breaker_state = peewee.TextField()
    per_market = peewee.TextField()


class VenueOrderBudget(BaseModel):
    """One signer's venue order bucket (migration 0008; `server.store.venue_budget`): tokens left as of
    an instant, and the venue's Retry-After, if any."""

    signer = peewee.TextField(primary_key=True)
    tokens = MoneyField()
    as_of = InstantField()
    blocked_until = InstantField(null=True)


class BookHedge(BaseModel):
    """A rebalancer's hedge of a netted market (migration 0009; `server.store.book_hedges`)."""

    mapping_id: int  # peewee's accessor for the foreign key's raw value
    id = peewee.TextField(primary_key=True)
    mapping = peewee.ForeignKeyField(PolymarketMarketMapping, column_name="mapping_id")
    token_id = peewee.TextField()
    leg = peewee.TextField()
    side = peewee.TextField()
    size = MoneyField()
    limit_price = MoneyField()
    order_type = peewee.TextField()
    status = peewee.TextField()
    venue_order_id = peewee.TextField(unique=True)
    signed_order = peewee.TextField()
    filled_size = MoneyField()
    fill_cost = MoneyField()
    fee = MoneyField()
    failure_reason = peewee.TextField(null=True)
    attempt_count = peewee.IntegerField()
    next_check_at = InstantField(null=True)
    worst_loss_if_yes = MoneyField()
    worst_loss_if_no = MoneyField()
    created_at = InstantField()
    updated_at = InstantField()
    resolved_at = InstantField(null=True)


class HedgeAllocation(BaseModel):
    """The part of a book hedge's fill that covers one user order (migration 0009)."""

    id = peewee.BigAutoField()
    book_hedge = peewee.ForeignKeyField(BookHedge, null=True, column_name="book_hedge_id")
    order = peewee.ForeignKeyField(UserOrder, null=True, column_name="order_id")
    shares = MoneyField()
    cost = MoneyField()
    fee = MoneyField()
    created_at = InstantField()


class MarketSettlement(BaseModel):
    """A resolved market whose user positions were settled (migration 0014; `server.store.settlements`)."""

    mapping_id: int  # peewee's accessor for the foreign key's raw value
    mapping = peewee.ForeignKeyField(PolymarketMarketMapping, primary_key=True, column_name="mapping_id")
    winning_token_id = peewee.TextField()
    winning_leg = peewee.TextField()
    accounts = peewee.IntegerField()
    payout = MoneyField()
    settled_at = InstantField()


class MarketPayout(BaseModel):
    """What the platform owes one account for one resolved market (migration 0014)."""

    mapping_id: int  # peewee's accessor for the foreign key's raw value
    id = peewee.TextField(primary_key=True)
    mapping = peewee.ForeignKeyField(MarketSettlement, column_name="mapping_id")
    account_id = peewee.TextField()
    shares = MoneyField()
    payout = MoneyField()
    created_at = InstantField()


class CapitalTransfer(BaseModel):
    """A redemption or merge of a market's hedge inventory on chain (migration 0015;
    `server.store.capital_transfers`)."""

    mapping_id: int  # peewee's accessor for the foreign key's raw value
    id = peewee.TextField(primary_key=True)
    mapping = peewee.ForeignKeyField(PolymarketMarketMapping, column_name="mapping_id")
    kind = peewee.TextField()
    condition_id = peewee.TextField()
    yes_shares = MoneyField()
    no_shares = MoneyField()
    proceeds = MoneyField()
    status = peewee.TextField()
    nonce = peewee.BigIntegerField(null=True)
    tx_hash = peewee.TextField(null=True)
    attempts = peewee.IntegerField()
    created_at = InstantField()
    updated_at = InstantField()


ALL_MODELS: tuple[type[BaseModel], ...] = (
    HedgeConfig,
    HedgeConfigHistory,
    PolymarketMarketMapping,
    UserOrder,
    HedgePosition,
    HedgeTrade,
    MarketExposure,
    RiskTotals,
    HedgeEvent,
    CircuitBreaker,
    RiskSnapshot,
    HedgeOutcomeSecond,
    VenueOrderBudget,
    BookHedge,
    HedgeAllocation,
    MarketSettlement,
    MarketPayout,
    CapitalTransfer,
)
