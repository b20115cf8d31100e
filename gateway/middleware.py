"""ASGI guards in front of the GraphQL view: bearer authentication for HTTP and a cap on body size."""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.auth import Unauthenticated, authenticate
from gateway.console import is_public
from gateway.view import PRINCIPAL_KEY
from server.settings import Settings

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024


async def _json(
    send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"errors": [{"message": message}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": body})


class AuthMiddleware:
    """Refuses HTTP requests without a valid bearer token (401) unless in development mode.
    WebSocket connections pass through: they authenticate in connection_init. So do the console's
    static pages and scripts, which hold no data."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                header = value.decode("latin-1")
        try:
            scope[PRINCIPAL_KEY] = authenticate(header, self.settings)
        except Unauthenticated as exc:
            client = scope.get("client") or ("?", 0)
            log.warning("refused an HTTP request from %s: %s", client[0], exc)
            await _json(send, 401, str(exc), [(b"www-authenticate", b'Bearer realm="hedging"')])
            return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Answers 413 to an HTTP body over `limit` bytes, declared or streamed, before it is parsed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await _json(send, 413, f"the request body is limited to {self.limit} bytes")
                return
        received = 0
        too_large = False

        async def limited() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    too_large = True
                    raise _TooLarge
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except _TooLarge:
            if not started:
                await _json(send, 413, f"the request body is limited to {self.limit} bytes")


class _TooLarge(Exception):
    pass
