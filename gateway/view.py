"""The GraphQL endpoint: strawberry's ASGI view with the caller resolved before anything runs.

HTTP callers are authenticated by `AuthMiddleware` (the principal travels in the ASGI scope);
WebSocket callers authenticate in graphql-transport-ws `connection_init` with
``{"Authorization": "Bearer ..."}``, and a failure closes the socket with 4403 before any operation."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from gateway.auth import Principal, Unauthenticated, authenticate
from gateway.context import Context, Resources

log = logging.getLogger(__name__)
PRINCIPAL_KEY = "hedging.principal"
RESOURCES_KEY = "hedging.resources"


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: Any, *, dev_mode: bool) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if dev_mode else None,
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=10,
        )

    @property
    def graphql_ide_html(self) -> str:
        """GraphiQL on the gateway's own copies of its scripts (strawberry's page loads them from a CDN)."""
        from gateway.console import GRAPHIQL_HTML

        return GRAPHIQL_HTML.read_text()

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        resources: Resources = request.app.state.resources
        principal = request.scope.get(PRINCIPAL_KEY)
        return Context(resources=resources, principal=principal, request=request, response=response)

    async def on_ws_connect(self, context: Context) -> None:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        header = params.get("Authorization") or params.get("authorization")
        try:
            context.principal = authenticate(
                header if isinstance(header, str) else None, context.resources.settings
            )
        except Unauthenticated as exc:
            log.warning("refused a WebSocket connection: %s", exc)
            raise ConnectionRejectionError from None
        log.info("WebSocket connection by %s", context.principal.name)


def principal_of(scope: dict[str, Any]) -> Principal | None:
    value = scope.get(PRINCIPAL_KEY)
    return value if isinstance(value, Principal) else None
