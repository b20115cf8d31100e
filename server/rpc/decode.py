"""Request decoding: bytes that are not a valid request message become INVALID_ARGUMENT, not UNKNOWN.

grpc-python calls the request deserializer before any handler runs, with no context to abort with; a
`DecodeError` raised there (truncated bytes, a bad tag, invalid UTF-8 in a proto3 string) ends the call
as UNKNOWN. So the deserializer answers an `Undecodable` marker instead, and the handler decorators in
`server.rpc.errors` refuse it like any other malformed field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass

from hedging.v1 import hedging_service_pb2, hedging_service_pb2_grpc
from server.errors import InvalidArgument

_SERVICE = hedging_service_pb2.DESCRIPTOR.services_by_name["HedgingService"]
_HANDLERS = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}


@dataclass(frozen=True)
class Undecodable:
    """Stands for request bytes that did not decode as `type_name`."""

    type_name: str

    def error(self) -> InvalidArgument:
        """The refusal, naming the whole request (the decoder does not say which field was bad)."""
        return InvalidArgument(
            "request",
            f"is not a valid {self.type_name}: malformed protobuf, or a string field that is not UTF-8",
        )


def decoder(message: type[Message]) -> Callable[[bytes], Message | Undecodable]:
    """A request deserializer for `message` that answers `Undecodable` instead of raising."""
    marker = Undecodable(message.DESCRIPTOR.full_name)
    parse = message.FromString

    def decode(raw: bytes) -> Message | Undecodable:
        try:
            return parse(raw)
        except DecodeError:
            return marker

    return decode


def encoder(message: type[Message]) -> Callable[[Message | bytes], bytes]:
    """A response serializer for `message` that sends bytes as they are: a response built once for
    many callers (`server.rpc.stream.EventStream`) is serialized once, not once per caller."""
    serialize = message.SerializeToString

    def encode(item: Message | bytes) -> bytes:
        return item if isinstance(item, bytes) else serialize(item)

    return encode


def add_hedging_service(servicer: hedging_service_pb2_grpc.HedgingServiceServicer, server: Any) -> None:
    """Registers `servicer` as the generated `add_HedgingServiceServicer_to_server` does, but with
    `decoder` deserializers and `encoder` serializers."""
    handlers = {}
    for method in _SERVICE.methods:
        request = GetMessageClass(method.input_type)
        response = GetMessageClass(method.output_type)
        make = _HANDLERS[(method.client_streaming, method.server_streaming)]
        handlers[method.name] = make(
            getattr(servicer, method.name),
            request_deserializer=decoder(request),
            response_serializer=encoder(response),
        )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(_SERVICE.full_name, handlers),))
    server.add_registered_method_handlers(_SERVICE.full_name, handlers)
