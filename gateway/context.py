"""What every resolver gets: the process's resources and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import peewee
from strawberry.types import Info as StrawberryInfo

from gateway.auth import Principal
from gateway.venue import VenueReader
from server.events.feed import EventFeed
from server.runtime import DatabaseRunner
from server.settings import Settings

T = TypeVar("T")


@dataclass
class Resources:
    """Built once in the app's lifespan and shared by every request."""

    settings: Settings
    database: peewee.Database
    db: DatabaseRunner
    venue: VenueReader | None
    events: EventFeed  # the process's one follower of the event log, for every subscription


@dataclass
class Context:
    resources: Resources
    principal: Principal | None
    request: Any = None
    response: Any = None
    # Set by strawberry from the graphql-transport-ws connection_init payload.
    connection_params: dict[str, Any] = field(default_factory=dict)

    async def run(self, work: Callable[[], T]) -> T:
        """Runs blocking Peewee work on a database thread, never on the event loop."""
        return await self.resources.db(work)

    @property
    def author(self) -> str:
        if self.principal is None:
            raise RuntimeError("no authenticated caller")
        return self.principal.name


Info = StrawberryInfo[Context, None]
