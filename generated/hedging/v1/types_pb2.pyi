import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Side(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIDE_UNSPECIFIED: _ClassVar[Side]
    SIDE_BUY: _ClassVar[Side]
    SIDE_SELL: _ClassVar[Side]

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_ACCEPTED: _ClassVar[OrderStatus]
    ORDER_STATUS_REJECTED: _ClassVar[OrderStatus]

class RejectReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REJECT_REASON_UNSPECIFIED: _ClassVar[RejectReason]
    REJECT_REASON_MARKET_INACTIVE: _ClassVar[RejectReason]
    REJECT_REASON_PRICE_MOVED: _ClassVar[RejectReason]
    REJECT_REASON_BOOK_STALE: _ClassVar[RejectReason]
    REJECT_REASON_INSUFFICIENT_LIQUIDITY: _ClassVar[RejectReason]
    REJECT_REASON_SIZE_TOO_LARGE: _ClassVar[RejectReason]
    REJECT_REASON_SIZE_TOO_SMALL: _ClassVar[RejectReason]
    REJECT_REASON_MARKET_EXPOSURE_LIMIT: _ClassVar[RejectReason]
    REJECT_REASON_TOTAL_EXPOSURE_LIMIT: _ClassVar[RejectReason]
    REJECT_REASON_HALTED: _ClassVar[RejectReason]
    REJECT_REASON_REDUCE_ONLY: _ClassVar[RejectReason]
    REJECT_REASON_VENUE_UNAVAILABLE: _ClassVar[RejectReason]
    REJECT_REASON_MARKET_CLOSED: _ClassVar[RejectReason]
    REJECT_REASON_GROUP_EXPOSURE_LIMIT: _ClassVar[RejectReason]

class MarketState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MARKET_STATE_UNSPECIFIED: _ClassVar[MarketState]
    MARKET_STATE_OPEN: _ClassVar[MarketState]
    MARKET_STATE_NOT_ACCEPTING: _ClassVar[MarketState]
    MARKET_STATE_CLOSED: _ClassVar[MarketState]
    MARKET_STATE_RESOLVED: _ClassVar[MarketState]

class HedgeStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEDGE_STATUS_UNSPECIFIED: _ClassVar[HedgeStatus]
    HEDGE_STATUS_PENDING: _ClassVar[HedgeStatus]
    HEDGE_STATUS_UNKNOWN: _ClassVar[HedgeStatus]
    HEDGE_STATUS_HEDGED: _ClassVar[HedgeStatus]
    HEDGE_STATUS_PARTIALLY_HEDGED: _ClassVar[HedgeStatus]
    HEDGE_STATUS_UNHEDGED: _ClassVar[HedgeStatus]
    HEDGE_STATUS_PAPER: _ClassVar[HedgeStatus]
    HEDGE_STATUS_NOT_ATTEMPTED: _ClassVar[HedgeStatus]

class HedgeSettlement(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEDGE_SETTLEMENT_UNSPECIFIED: _ClassVar[HedgeSettlement]
    HEDGE_SETTLEMENT_SETTLING: _ClassVar[HedgeSettlement]
    HEDGE_SETTLEMENT_SETTLED: _ClassVar[HedgeSettlement]

class BreakerState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BREAKER_STATE_UNSPECIFIED: _ClassVar[BreakerState]
    BREAKER_STATE_ACTIVE: _ClassVar[BreakerState]
    BREAKER_STATE_REDUCING: _ClassVar[BreakerState]
    BREAKER_STATE_HALTED: _ClassVar[BreakerState]
SIDE_UNSPECIFIED: Side
SIDE_BUY: Side
SIDE_SELL: Side
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_ACCEPTED: OrderStatus
ORDER_STATUS_REJECTED: OrderStatus
REJECT_REASON_UNSPECIFIED: RejectReason
REJECT_REASON_MARKET_INACTIVE: RejectReason
REJECT_REASON_PRICE_MOVED: RejectReason
REJECT_REASON_BOOK_STALE: RejectReason
REJECT_REASON_INSUFFICIENT_LIQUIDITY: RejectReason
REJECT_REASON_SIZE_TOO_LARGE: RejectReason
REJECT_REASON_SIZE_TOO_SMALL: RejectReason
REJECT_REASON_MARKET_EXPOSURE_LIMIT: RejectReason
REJECT_REASON_TOTAL_EXPOSURE_LIMIT: RejectReason
REJECT_REASON_HALTED: RejectReason
REJECT_REASON_REDUCE_ONLY: RejectReason
REJECT_REASON_VENUE_UNAVAILABLE: RejectReason
REJECT_REASON_MARKET_CLOSED: RejectReason
REJECT_REASON_GROUP_EXPOSURE_LIMIT: RejectReason
MARKET_STATE_UNSPECIFIED: MarketState
MARKET_STATE_OPEN: MarketState
MARKET_STATE_NOT_ACCEPTING: MarketState
MARKET_STATE_CLOSED: MarketState
MARKET_STATE_RESOLVED: MarketState
HEDGE_STATUS_UNSPECIFIED: HedgeStatus
HEDGE_STATUS_PENDING: HedgeStatus
HEDGE_STATUS_UNKNOWN: HedgeStatus
HEDGE_STATUS_HEDGED: HedgeStatus
HEDGE_STATUS_PARTIALLY_HEDGED: HedgeStatus
HEDGE_STATUS_UNHEDGED: HedgeStatus
HEDGE_STATUS_PAPER: HedgeStatus
HEDGE_STATUS_NOT_ATTEMPTED: HedgeStatus
HEDGE_SETTLEMENT_UNSPECIFIED: HedgeSettlement
HEDGE_SETTLEMENT_SETTLING: HedgeSettlement
HEDGE_SETTLEMENT_SETTLED: HedgeSettlement
BREAKER_STATE_UNSPECIFIED: BreakerState
BREAKER_STATE_ACTIVE: BreakerState
BREAKER_STATE_REDUCING: BreakerState
BREAKER_STATE_HALTED: BreakerState

class MarketRef(_message.Message):
    __slots__ = ("event_id", "outcome")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    outcome: str
    def __init__(self, event_id: _Optional[str] = ..., outcome: _Optional[str] = ...) -> None: ...

class Quote(_message.Message):
    __slots__ = ("market", "side", "size", "price", "reference_price", "hedge_fee", "spread_bps", "notional", "hedge_token_id", "hedge_side", "hedge_limit_price", "tick_size", "book_time")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_PRICE_FIELD_NUMBER: _ClassVar[int]
    HEDGE_FEE_FIELD_NUMBER: _ClassVar[int]
    SPREAD_BPS_FIELD_NUMBER: _ClassVar[int]
    NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    HEDGE_TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    HEDGE_SIDE_FIELD_NUMBER: _ClassVar[int]
    HEDGE_LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    TICK_SIZE_FIELD_NUMBER: _ClassVar[int]
    BOOK_TIME_FIELD_NUMBER: _ClassVar[int]
    market: MarketRef
    side: Side
    size: str
    price: str
    reference_price: str
    hedge_fee: str
    spread_bps: str
    notional: str
    hedge_token_id: str
    hedge_side: Side
    hedge_limit_price: str
    tick_size: str
    book_time: _timestamp_pb2.Timestamp
    def __init__(self, market: _Optional[_Union[MarketRef, _Mapping]] = ..., side: _Optional[_Union[Side, str]] = ..., size: _Optional[str] = ..., price: _Optional[str] = ..., reference_price: _Optional[str] = ..., hedge_fee: _Optional[str] = ..., spread_bps: _Optional[str] = ..., notional: _Optional[str] = ..., hedge_token_id: _Optional[str] = ..., hedge_side: _Optional[_Union[Side, str]] = ..., hedge_limit_price: _Optional[str] = ..., tick_size: _Optional[str] = ..., book_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("order_id", "request_id", "account_id", "market", "side", "size", "limit_price", "status", "reject_reason", "message", "executed_price", "notional", "hedge_status", "hedged_size", "created_at", "updated_at")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EXECUTED_PRICE_FIELD_NUMBER: _ClassVar[int]
    NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    HEDGE_STATUS_FIELD_NUMBER: _ClassVar[int]
    HEDGED_SIZE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    request_id: str
    account_id: str
    market: MarketRef
    side: Side
    size: str
    limit_price: str
    status: OrderStatus
    reject_reason: RejectReason
    message: str
    executed_price: str
    notional: str
    hedge_status: HedgeStatus
    hedged_size: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[str] = ..., request_id: _Optional[str] = ..., account_id: _Optional[str] = ..., market: _Optional[_Union[MarketRef, _Mapping]] = ..., side: _Optional[_Union[Side, str]] = ..., size: _Optional[str] = ..., limit_price: _Optional[str] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., reject_reason: _Optional[_Union[RejectReason, str]] = ..., message: _Optional[str] = ..., executed_price: _Optional[str] = ..., notional: _Optional[str] = ..., hedge_status: _Optional[_Union[HedgeStatus, str]] = ..., hedged_size: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Hedge(_message.Message):
    __slots__ = ("hedge_id", "order_id", "status", "venue_order_id", "token_id", "side", "size", "limit_price", "order_type", "filled_size", "fill_price", "fee", "spread_captured", "net_profit", "failure_reason", "attempt_count", "created_at", "updated_at", "settlement")
    HEDGE_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VENUE_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILLED_SIZE_FIELD_NUMBER: _ClassVar[int]
    FILL_PRICE_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    SPREAD_CAPTURED_FIELD_NUMBER: _ClassVar[int]
    NET_PROFIT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    SETTLEMENT_FIELD_NUMBER: _ClassVar[int]
    hedge_id: str
    order_id: str
    status: HedgeStatus
    venue_order_id: str
    token_id: str
    side: Side
    size: str
    limit_price: str
    order_type: str
    filled_size: str
    fill_price: str
    fee: str
    spread_captured: str
    net_profit: str
    failure_reason: str
    attempt_count: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    settlement: HedgeSettlement
    def __init__(self, hedge_id: _Optional[str] = ..., order_id: _Optional[str] = ..., status: _Optional[_Union[HedgeStatus, str]] = ..., venue_order_id: _Optional[str] = ..., token_id: _Optional[str] = ..., side: _Optional[_Union[Side, str]] = ..., size: _Optional[str] = ..., limit_price: _Optional[str] = ..., order_type: _Optional[str] = ..., filled_size: _Optional[str] = ..., fill_price: _Optional[str] = ..., fee: _Optional[str] = ..., spread_captured: _Optional[str] = ..., net_profit: _Optional[str] = ..., failure_reason: _Optional[str] = ..., attempt_count: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., settlement: _Optional[_Union[HedgeSettlement, str]] = ...) -> None: ...

class HedgeAllocation(_message.Message):
    __slots__ = ("book_hedge_id", "venue_order_id", "shares", "cost", "fee")
    BOOK_HEDGE_ID_FIELD_NUMBER: _ClassVar[int]
    VENUE_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SHARES_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    book_hedge_id: str
    venue_order_id: str
    shares: str
    cost: str
    fee: str
    def __init__(self, book_hedge_id: _Optional[str] = ..., venue_order_id: _Optional[str] = ..., shares: _Optional[str] = ..., cost: _Optional[str] = ..., fee: _Optional[str] = ...) -> None: ...

class Breaker(_message.Message):
    __slots__ = ("name", "state", "reason", "tripped_at", "auto_reset")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TRIPPED_AT_FIELD_NUMBER: _ClassVar[int]
    AUTO_RESET_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: BreakerState
    reason: str
    tripped_at: _timestamp_pb2.Timestamp
    auto_reset: bool
    def __init__(self, name: _Optional[str] = ..., state: _Optional[_Union[BreakerState, str]] = ..., reason: _Optional[str] = ..., tripped_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., auto_reset: _Optional[bool] = ...) -> None: ...
