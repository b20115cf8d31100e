import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hedging.v1 import events_pb2 as _events_pb2
from hedging.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetQuoteRequest(_message.Message):
    __slots__ = ("account_id", "market", "side", "size")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    market: _types_pb2.MarketRef
    side: _types_pb2.Side
    size: str
    def __init__(self, account_id: _Optional[str] = ..., market: _Optional[_Union[_types_pb2.MarketRef, _Mapping]] = ..., side: _Optional[_Union[_types_pb2.Side, str]] = ..., size: _Optional[str] = ...) -> None: ...

class GetQuoteResponse(_message.Message):
    __slots__ = ("quote", "reject_reason", "message")
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    REJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    quote: _types_pb2.Quote
    reject_reason: _types_pb2.RejectReason
    message: str
    def __init__(self, quote: _Optional[_Union[_types_pb2.Quote, _Mapping]] = ..., reject_reason: _Optional[_Union[_types_pb2.RejectReason, str]] = ..., message: _Optional[str] = ...) -> None: ...

class PlaceOrderRequest(_message.Message):
    __slots__ = ("request_id", "account_id", "market", "side", "size", "limit_price")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    account_id: str
    market: _types_pb2.MarketRef
    side: _types_pb2.Side
    size: str
    limit_price: str
    def __init__(self, request_id: _Optional[str] = ..., account_id: _Optional[str] = ..., market: _Optional[_Union[_types_pb2.MarketRef, _Mapping]] = ..., side: _Optional[_Union[_types_pb2.Side, str]] = ..., size: _Optional[str] = ..., limit_price: _Optional[str] = ...) -> None: ...

class PlaceOrderResponse(_message.Message):
    __slots__ = ("order_id", "status", "executed_price", "hedge_status", "reject_reason", "message", "order", "quote")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXECUTED_PRICE_FIELD_NUMBER: _ClassVar[int]
    HEDGE_STATUS_FIELD_NUMBER: _ClassVar[int]
    REJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    status: _types_pb2.OrderStatus
    executed_price: str
    hedge_status: _types_pb2.HedgeStatus
    reject_reason: _types_pb2.RejectReason
    message: str
    order: _types_pb2.Order
    quote: _types_pb2.Quote
    def __init__(self, order_id: _Optional[str] = ..., status: _Optional[_Union[_types_pb2.OrderStatus, str]] = ..., executed_price: _Optional[str] = ..., hedge_status: _Optional[_Union[_types_pb2.HedgeStatus, str]] = ..., reject_reason: _Optional[_Union[_types_pb2.RejectReason, str]] = ..., message: _Optional[str] = ..., order: _Optional[_Union[_types_pb2.Order, _Mapping]] = ..., quote: _Optional[_Union[_types_pb2.Quote, _Mapping]] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("order_id", "request")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    request: RequestKey
    def __init__(self, order_id: _Optional[str] = ..., request: _Optional[_Union[RequestKey, _Mapping]] = ...) -> None: ...

class RequestKey(_message.Message):
    __slots__ = ("account_id", "request_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    request_id: str
    def __init__(self, account_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order", "hedges", "allocations")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    HEDGES_FIELD_NUMBER: _ClassVar[int]
    ALLOCATIONS_FIELD_NUMBER: _ClassVar[int]
    order: _types_pb2.Order
    hedges: _containers.RepeatedCompositeFieldContainer[_types_pb2.Hedge]
    allocations: _containers.RepeatedCompositeFieldContainer[_types_pb2.HedgeAllocation]
    def __init__(self, order: _Optional[_Union[_types_pb2.Order, _Mapping]] = ..., hedges: _Optional[_Iterable[_Union[_types_pb2.Hedge, _Mapping]]] = ..., allocations: _Optional[_Iterable[_Union[_types_pb2.HedgeAllocation, _Mapping]]] = ...) -> None: ...

class GetExposureRequest(_message.Message):
    __slots__ = ("markets",)
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    markets: _containers.RepeatedCompositeFieldContainer[_types_pb2.MarketRef]
    def __init__(self, markets: _Optional[_Iterable[_Union[_types_pb2.MarketRef, _Mapping]]] = ...) -> None: ...

class MarketExposure(_message.Message):
    __slots__ = ("market", "condition_id", "user_shares", "hedge_yes_shares", "hedge_no_shares", "net_cash", "loss_if_yes", "loss_if_no", "worst_case_loss", "limit", "utilisation", "hedged_notional", "unhedged_notional", "pending_hedges", "unknown_hedges", "in_flight_loss_if_yes", "in_flight_loss_if_no", "in_flight_shares", "market_state")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    CONDITION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_SHARES_FIELD_NUMBER: _ClassVar[int]
    HEDGE_YES_SHARES_FIELD_NUMBER: _ClassVar[int]
    HEDGE_NO_SHARES_FIELD_NUMBER: _ClassVar[int]
    NET_CASH_FIELD_NUMBER: _ClassVar[int]
    LOSS_IF_YES_FIELD_NUMBER: _ClassVar[int]
    LOSS_IF_NO_FIELD_NUMBER: _ClassVar[int]
    WORST_CASE_LOSS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    UTILISATION_FIELD_NUMBER: _ClassVar[int]
    HEDGED_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    UNHEDGED_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    PENDING_HEDGES_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_HEDGES_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_LOSS_IF_YES_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_LOSS_IF_NO_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_SHARES_FIELD_NUMBER: _ClassVar[int]
    MARKET_STATE_FIELD_NUMBER: _ClassVar[int]
    market: _types_pb2.MarketRef
    condition_id: str
    user_shares: str
    hedge_yes_shares: str
    hedge_no_shares: str
    net_cash: str
    loss_if_yes: str
    loss_if_no: str
    worst_case_loss: str
    limit: str
    utilisation: str
    hedged_notional: str
    unhedged_notional: str
    pending_hedges: int
    unknown_hedges: int
    in_flight_loss_if_yes: str
    in_flight_loss_if_no: str
    in_flight_shares: str
    market_state: _types_pb2.MarketState
    def __init__(self, market: _Optional[_Union[_types_pb2.MarketRef, _Mapping]] = ..., condition_id: _Optional[str] = ..., user_shares: _Optional[str] = ..., hedge_yes_shares: _Optional[str] = ..., hedge_no_shares: _Optional[str] = ..., net_cash: _Optional[str] = ..., loss_if_yes: _Optional[str] = ..., loss_if_no: _Optional[str] = ..., worst_case_loss: _Optional[str] = ..., limit: _Optional[str] = ..., utilisation: _Optional[str] = ..., hedged_notional: _Optional[str] = ..., unhedged_notional: _Optional[str] = ..., pending_hedges: _Optional[int] = ..., unknown_hedges: _Optional[int] = ..., in_flight_loss_if_yes: _Optional[str] = ..., in_flight_loss_if_no: _Optional[str] = ..., in_flight_shares: _Optional[str] = ..., market_state: _Optional[_Union[_types_pb2.MarketState, str]] = ...) -> None: ...

class ExposureTotals(_message.Message):
    __slots__ = ("unhedged_exposure", "limit", "utilisation", "hedged_notional", "unhedged_notional", "pending_hedges", "unknown_hedges", "wallet_usdc_available")
    UNHEDGED_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    UTILISATION_FIELD_NUMBER: _ClassVar[int]
    HEDGED_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    UNHEDGED_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    PENDING_HEDGES_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_HEDGES_FIELD_NUMBER: _ClassVar[int]
    WALLET_USDC_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    unhedged_exposure: str
    limit: str
    utilisation: str
    hedged_notional: str
    unhedged_notional: str
    pending_hedges: int
    unknown_hedges: int
    wallet_usdc_available: str
    def __init__(self, unhedged_exposure: _Optional[str] = ..., limit: _Optional[str] = ..., utilisation: _Optional[str] = ..., hedged_notional: _Optional[str] = ..., unhedged_notional: _Optional[str] = ..., pending_hedges: _Optional[int] = ..., unknown_hedges: _Optional[int] = ..., wallet_usdc_available: _Optional[str] = ...) -> None: ...

class GetExposureResponse(_message.Message):
    __slots__ = ("totals", "markets", "breaker_state", "breakers", "as_of", "as_of_event_id", "groups")
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    BREAKER_STATE_FIELD_NUMBER: _ClassVar[int]
    BREAKERS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    AS_OF_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    totals: ExposureTotals
    markets: _containers.RepeatedCompositeFieldContainer[MarketExposure]
    breaker_state: _types_pb2.BreakerState
    breakers: _containers.RepeatedCompositeFieldContainer[_types_pb2.Breaker]
    as_of: _timestamp_pb2.Timestamp
    as_of_event_id: int
    groups: _containers.RepeatedCompositeFieldContainer[GroupExposure]
    def __init__(self, totals: _Optional[_Union[ExposureTotals, _Mapping]] = ..., markets: _Optional[_Iterable[_Union[MarketExposure, _Mapping]]] = ..., breaker_state: _Optional[_Union[_types_pb2.BreakerState, str]] = ..., breakers: _Optional[_Iterable[_Union[_types_pb2.Breaker, _Mapping]]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., as_of_event_id: _Optional[int] = ..., groups: _Optional[_Iterable[_Union[GroupExposure, _Mapping]]] = ...) -> None: ...

class GroupExposure(_message.Message):
    __slots__ = ("event_group", "markets", "worst_case_loss", "worst_outcome", "loss_if_none", "limit", "utilisation", "sum_of_market_worst_cases")
    EVENT_GROUP_FIELD_NUMBER: _ClassVar[int]
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    WORST_CASE_LOSS_FIELD_NUMBER: _ClassVar[int]
    WORST_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    LOSS_IF_NONE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    UTILISATION_FIELD_NUMBER: _ClassVar[int]
    SUM_OF_MARKET_WORST_CASES_FIELD_NUMBER: _ClassVar[int]
    event_group: str
    markets: _containers.RepeatedCompositeFieldContainer[_types_pb2.MarketRef]
    worst_case_loss: str
    worst_outcome: _types_pb2.MarketRef
    loss_if_none: str
    limit: str
    utilisation: str
    sum_of_market_worst_cases: str
    def __init__(self, event_group: _Optional[str] = ..., markets: _Optional[_Iterable[_Union[_types_pb2.MarketRef, _Mapping]]] = ..., worst_case_loss: _Optional[str] = ..., worst_outcome: _Optional[_Union[_types_pb2.MarketRef, _Mapping]] = ..., loss_if_none: _Optional[str] = ..., limit: _Optional[str] = ..., utilisation: _Optional[str] = ..., sum_of_market_worst_cases: _Optional[str] = ...) -> None: ...

class StreamHedgeEventsRequest(_message.Message):
    __slots__ = ("after_event_id", "from_now", "markets", "types", "heartbeat_seconds")
    AFTER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_NOW_FIELD_NUMBER: _ClassVar[int]
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    after_event_id: int
    from_now: bool
    markets: _containers.RepeatedCompositeFieldContainer[_types_pb2.MarketRef]
    types: _containers.RepeatedScalarFieldContainer[_events_pb2.HedgeEventType]
    heartbeat_seconds: int
    def __init__(self, after_event_id: _Optional[int] = ..., from_now: _Optional[bool] = ..., markets: _Optional[_Iterable[_Union[_types_pb2.MarketRef, _Mapping]]] = ..., types: _Optional[_Iterable[_Union[_events_pb2.HedgeEventType, str]]] = ..., heartbeat_seconds: _Optional[int] = ...) -> None: ...

class StreamHedgeEventsResponse(_message.Message):
    __slots__ = ("event", "heartbeat", "sent_at")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.HedgeEvent
    heartbeat: _events_pb2.StreamHeartbeat
    sent_at: _timestamp_pb2.Timestamp
    def __init__(self, event: _Optional[_Union[_events_pb2.HedgeEvent, _Mapping]] = ..., heartbeat: _Optional[_Union[_events_pb2.StreamHeartbeat, _Mapping]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
