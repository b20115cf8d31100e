"""The one place where service errors become gRPC statuses (with rich details)."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from server.errors import (
    AlreadyExists,
    FailedPrecondition,
    HedgingError,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from server.rpc.decode import Undecodable

log = logging.getLogger(__name__)
S = TypeVar("S")
Request = TypeVar("Request")
Response = TypeVar("Response")
Item = TypeVar("Item")

_CODES: list[tuple[type[HedgingError], grpc.StatusCode, int]] = [
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT, code_pb2.INVALID_ARGUMENT),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS, code_pb2.ALREADY_EXISTS),
    (NotFound, grpc.StatusCode.NOT_FOUND, code_pb2.NOT_FOUND),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION, code_pb2.FAILED_PRECONDITION),
    (Unavailable, grpc.StatusCode.UNAVAILABLE, code_pb2.UNAVAILABLE),
]


def to_status(exc: HedgingError) -> grpc.Status:
    for kind, _code, number in _CODES:
        if isinstance(exc, kind):
            status = status_pb2.Status(code=number, message=str(exc))
            if isinstance(exc, InvalidArgument):
                detail = error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=exc.field, description=exc.description
                        )
                    ]
                )
                status.details.add().Pack(detail)
            return rpc_status.to_status(status)
    return rpc_status.to_status(status_pb2.Status(code=code_pb2.INTERNAL, message="internal error"))


async def _abort(context: grpc.aio.ServicerContext[Any, Any], exc: HedgingError) -> NoReturn:
    status = to_status(exc)
    await context.abort(status.code, status.details, status.trailing_metadata)


def unary(
    method: Callable[[S, Request, grpc.aio.ServicerContext[Request, Response]], Awaitable[Response]],
) -> Callable[[S, Request, grpc.aio.ServicerContext[Request, Response]], Awaitable[Response]]:
    """Maps service errors of a unary handler to statuses; anything else becomes INTERNAL, logged.
    An `Undecodable` request is refused as INVALID_ARGUMENT before the handler runs."""

    @functools.wraps(method)
    async def wrapper(
        self: S, request: Request, context: grpc.aio.ServicerContext[Request, Response]
    ) -> Response:
        try:
            if isinstance(request, Undecodable):
                raise request.error()
            return await method(self, request, context)
        except HedgingError as exc:
            await _abort(context, exc)
        except Exception:
            log.exception("%s failed", method.__name__)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")

    return wrapper


def streaming(
    method: Callable[[S, Request, grpc.aio.ServicerContext[Request, Response]], AsyncIterator[Item]],
) -> Callable[[S, Request, grpc.aio.ServicerContext[Request, Response]], AsyncIterator[Item]]:
    """`unary` for a server-streaming handler."""

    @functools.wraps(method)
    async def wrapper(
        self: S, request: Request, context: grpc.aio.ServicerContext[Request, Response]
    ) -> AsyncIterator[Item]:
        try:
            if isinstance(request, Undecodable):
                raise request.error()
            async for item in method(self, request, context):
                yield item
        except HedgingError as exc:
            await _abort(context, exc)
        except Exception:
            log.exception("%s failed", method.__name__)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")

    return wrapper
