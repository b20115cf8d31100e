"""The operator console and GraphiQL (development mode only, as introspection is): static pages and
scripts served by the gateway itself, never from a CDN.

The pages hold no data: every figure they show comes from the GraphQL API with the bearer token the
operator gives in the page, so they are served without one, in every mode. The console's data and
its halt/resume go through the same viewer/admin permissions as any other GraphQL call."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
GRAPHIQL_HTML = STATIC / "graphiql.html"


# Same-origin only: scripts, styles, fetches and the event WebSocket all come from the gateway.
_CONSOLE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'"
)
_SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


async def console_page(request: Request) -> Response:
    return FileResponse(
        STATIC / "console.html", headers={"Content-Security-Policy": _CONSOLE_POLICY, **_SECURITY}
    )


async def graphiql_page(request: Request) -> Response:
    return FileResponse(GRAPHIQL_HTML, headers={"X-Frame-Options": "DENY", **_SECURITY})


async def no_graphiql(request: Request) -> Response:
    return PlainTextResponse(
        "GraphiQL is served in development mode only (HEDGING_DEV_MODE=1): outside it the schema is not "
        "introspectable. The operator console is at /console.",
        status_code=404,
    )


def console_routes(*, dev_mode: bool) -> list[BaseRoute]:
    return [
        Route("/console", console_page, methods=["GET"]),
        Route("/graphiql", graphiql_page if dev_mode else no_graphiql, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def is_public(path: str) -> bool:
    """Whether `path` is one of the static pages served without a token."""
    return path in ("/console", "/graphiql", "/favicon.ico") or path.startswith("/static/")
