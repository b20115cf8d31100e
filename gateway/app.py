"""`hedging gateway`: the GraphQL admin API (strawberry on Starlette under uvicorn).

`build_app` wires the resources in the app's lifespan; `serve_gateway` runs until its stop event is
set; `start_gateway` runs it in the background (for `hedging up` and tests) and reports its URL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import peewee
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from gateway.console import console_routes
from gateway.context import Resources
from gateway.middleware import AuthMiddleware, BodyLimitMiddleware
from gateway.schema import build_schema
from gateway.venue import VenueReader
from gateway.view import GraphQLView
from server.errors import ConfigurationError
from server.events.feed import EventFeed
from server.listening import ListeningServer
from server.runtime import DatabaseRunner
from server.settings import Settings
from server.store.db import bind, open_database

log = logging.getLogger(__name__)
PATH = "/graphql"
_STARTUP_TIMEOUT = 15.0


def build_app(settings: Settings, database: peewee.Database) -> Starlette:
    """The gateway's ASGI app. Its database threads and venue client live for the app's lifespan."""
    if not settings.dev_mode and not settings.admin_tokens:
        raise ConfigurationError(
            "HEDGING_ADMIN_TOKENS must name at least one token (or set HEDGING_DEV_MODE=1 for local use)"
        )
    view = GraphQLView(build_schema(dev_mode=settings.dev_mode), dev_mode=settings.dev_mode)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = DatabaseRunner(database, settings.db_threads)
        venue = (
            VenueReader(settings.polymarket_url, timeout=float(settings.venue_timeout))
            if settings.polymarket_url
            else None
        )
        events = EventFeed(database, db)
        await events.start()
        app.state.resources = Resources(
            settings=settings, database=database, db=db, venue=venue, events=events
        )
        try:
            yield
        finally:
            await events.stop()
            if venue is not None:
                await venue.aclose()
            await asyncio.to_thread(db.close)

    return Starlette(
        routes=[
            Route(PATH, view, methods=["GET", "POST"]),
            WebSocketRoute(PATH, view),
            *console_routes(dev_mode=settings.dev_mode),
        ],
        middleware=[Middleware(AuthMiddleware, settings=settings), Middleware(BodyLimitMiddleware)],
        lifespan=lifespan,
    )


@dataclass
class RunningGateway:
    """A gateway serving at `url` (ending in /graphql) until `stop()`."""

    url: str
    _server: ListeningServer
    _task: asyncio.Task[None]
    _database: peewee.Database

    @property
    def console_url(self) -> str:
        return self.url.removesuffix(PATH) + "/console"

    async def stop(self) -> None:
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 10)
        except TimeoutError:
            self._server.force_exit = True
            await self._task
        self._database.close()


async def start_gateway(settings: Settings) -> RunningGateway:
    """Starts the gateway on `settings.gateway_listen` (port 0 picks a free port) in the background."""
    database = bind(open_database(settings.database_url))
    host, _, port = settings.gateway_listen.rpartition(":")
    config = uvicorn.Config(
        build_app(settings, database),
        host=host,
        port=int(port),
        http="httptools",
        ws="websockets-sansio",
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    listening = asyncio.Event()
    server = ListeningServer(config, listening)
    task = asyncio.create_task(server.serve(), name="graphql-gateway")
    ready = asyncio.create_task(listening.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=_STARTUP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        server.should_exit = True
        if task in done:
            task.result()  # raises what stopped it
        raise RuntimeError(f"the GraphQL gateway did not start on {settings.gateway_listen}")
    if task.done() or server.should_exit:
        raise RuntimeError(f"the GraphQL gateway could not listen on {settings.gateway_listen}")
    url = f"http://{host}:{server.bound_port()}{PATH}"
    if settings.dev_mode:
        log.warning("development mode: anonymous callers are admins; GraphiQL is served at %s", url)
    return RunningGateway(url, server, task, database)


async def serve_gateway(settings: Settings, stop: asyncio.Event) -> None:
    """Serves until `stop` is set, then drains and closes."""
    gateway = await start_gateway(settings)
    print(f"GraphQL gateway listening on {gateway.url}", flush=True)
    print(f"operator console on {gateway.console_url}", flush=True)
    try:
        await stop.wait()
    finally:
        await gateway.stop()
