import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hedging.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HedgeEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEDGE_EVENT_TYPE_UNSPECIFIED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_ORDER_ACCEPTED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_ORDER_REJECTED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_HEDGE_SUBMITTED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_HEDGE_FILLED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_HEDGE_PARTIALLY_FILLED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_HEDGE_FAILED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_HEDGE_UNKNOWN: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_HEDGE_RESOLVED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_HEDGE_PAPER_FILLED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_LIMIT_REACHED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_BREAKER_TRIPPED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_BREAKER_RESET: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_CONFIG_CHANGED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_MAPPING_CHANGED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_HEDGE_TRADE_FAILED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_MARKET_PAYOUT: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_POSITIONS_REDEEMED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_POSITIONS_MERGED: _ClassVar[HedgeEventType]
    HEDGE_EVENT_TYPE_HEDGE_UNAFFORDABLE: _ClassVar[HedgeEventType]
HEDGE_EVENT_TYPE_UNSPECIFIED: HedgeEventType
HEDGE_EVENT_TYPE_ORDER_ACCEPTED: HedgeEventType
HEDGE_EVENT_TYPE_ORDER_REJECTED: HedgeEventType
HEDGE_EVENT_TYPE_HEDGE_SUBMITTED: HedgeEventType
HEDGE_EVENT_TYPE_HEDGE_FILLED: HedgeEventType
HEDGE_EVENT_TYPE_HEDGE_PARTIALLY_FILLED: HedgeEventType
HEDGE_EVENT_TYPE_HEDGE_FAILED: HedgeEventType
HEDGE_EVENT_TYPE_HEDGE_UNKNOWN: HedgeEventType
HEDGE_EVENT_TYPE_HEDGE_RESOLVED: HedgeEventType
HEDGE_EVENT_TYPE_HEDGE_PAPER_FILLED: HedgeEventType
HEDGE_EVENT_TYPE_LIMIT_REACHED: HedgeEventType
HEDGE_EVENT_TYPE_BREAKER_TRIPPED: HedgeEventType
HEDGE_EVENT_TYPE_BREAKER_RESET: HedgeEventType
HEDGE_EVENT_TYPE_CONFIG_CHANGED: HedgeEventType
HEDGE_EVENT_TYPE_MAPPING_CHANGED: HedgeEventType
HEDGE_EVENT_TYPE_HEDGE_TRADE_FAILED: HedgeEventType
HEDGE_EVENT_TYPE_MARKET_PAYOUT: HedgeEventType
HEDGE_EVENT_TYPE_POSITIONS_REDEEMED: HedgeEventType
HEDGE_EVENT_TYPE_POSITIONS_MERGED: HedgeEventType
HEDGE_EVENT_TYPE_HEDGE_UNAFFORDABLE: HedgeEventType

class HedgeEvent(_message.Message):
    __slots__ = ("event_id", "type", "created_at", "market", "order_id", "hedge_id", "message", "data")
    class DataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    HEDGE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    event_id: int
    type: HedgeEventType
    created_at: _timestamp_pb2.Timestamp
    market: _types_pb2.MarketRef
    order_id: str
    hedge_id: str
    message: str
    data: _containers.ScalarMap[str, str]
    def __init__(self, event_id: _Optional[int] = ..., type: _Optional[_Union[HedgeEventType, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., market: _Optional[_Union[_types_pb2.MarketRef, _Mapping]] = ..., order_id: _Optional[str] = ..., hedge_id: _Optional[str] = ..., message: _Optional[str] = ..., data: _Optional[_Mapping[str, str]] = ...) -> None: ...

class StreamHeartbeat(_message.Message):
    __slots__ = ("sent_at", "last_event_id")
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    sent_at: _timestamp_pb2.Timestamp
    last_event_id: int
    def __init__(self, sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_event_id: _Optional[int] = ...) -> None: ...
