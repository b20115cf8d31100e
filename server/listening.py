"""uvicorn, told to report when its sockets listen (it binds them itself, so port 0 is only known then)."""

from __future__ import annotations

import asyncio
import socket
import threading

import uvicorn


class ListeningServer(uvicorn.Server):
    """Sets `ready` once listening: an `asyncio.Event` for a caller on the same loop, a
    `threading.Event` for one in another thread."""

    def __init__(self, config: uvicorn.Config, ready: asyncio.Event | threading.Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    def bound_port(self) -> int:
        for server in self.servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        raise RuntimeError("uvicorn is not listening")
