"""Draining: once a server is told to stop, it refuses new calls with UNAVAILABLE (so clients retry
elsewhere), lets the calls in flight finish, and ends its event streams cleanly (status OK: a client
resumes with `after_event_id` on another instance). Health checks and reflection are always served,
so a load balancer sees NOT_SERVING for as long as the drain lasts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import grpc

from server.rpc.interceptor import ServerInterceptor

_ALWAYS_SERVED = ("/grpc.health.v1.Health/", "/grpc.reflection.")


class Drain:
    """Counts the calls in flight and says when draining has begun."""

    def __init__(self) -> None:
        self.draining = asyncio.Event()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def begin(self) -> None:
        """From now on new calls are refused and streams end."""
        self.draining.set()

    async def wait_idle(self, within: float) -> bool:
        """Waits up to `within` seconds for the calls in flight to finish; True if they all did."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True

    @contextlib.contextmanager
    def track(self) -> Any:
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()


class DrainInterceptor(ServerInterceptor):
    """Tracks each call for its `Drain`; refuses new ones while draining; ends streams at its start.
    Put it first among the interceptors, so a refused call costs nothing else."""

    def __init__(self, drain: Drain) -> None:
        self._drain = drain

    async def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method or ""
        if handler is None or method.startswith(_ALWAYS_SERVED):
            return handler
        if self._drain.draining.is_set():
            return _refusal(handler)
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _unary(self, inner: Callable[..., Any]) -> Callable[..., Any]:
        drain = self._drain

        async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            with drain.track():
                return await inner(request, context)

        return call

    def _stream(self, inner: Callable[..., AsyncGenerator[Any, None]]) -> Callable[..., AsyncIterator[Any]]:
        drain = self._drain

        async def stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            with drain.track():
                items = inner(request, context)
                stop = asyncio.ensure_future(drain.draining.wait())
                following: asyncio.Future[Any] | None = None
                try:
                    while True:
                        following = asyncio.ensure_future(anext(items))
                        await asyncio.wait({following, stop}, return_when=asyncio.FIRST_COMPLETED)
                        if not following.done():
                            return  # draining: the stream ends with OK
                        try:
                            item = following.result()
                        except StopAsyncIteration:
                            return
                        yield item
                finally:
                    # Also when the client went away (this task is cancelled): the generator cannot be
                    # closed while the step taken in `following` is still running it.
                    stop.cancel()
                    if following is not None and not following.done():
                        following.cancel()
                        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, Exception):
                            await following
                    await items.aclose()

        return stream


def _refusal(handler: Any) -> Any:
    async def refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(grpc.StatusCode.UNAVAILABLE, "the server is shutting down; retry on another")

    kind = (
        grpc.unary_stream_rpc_method_handler if handler.unary_stream else grpc.unary_unary_rpc_method_handler
    )
    return kind(
        refuse,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
