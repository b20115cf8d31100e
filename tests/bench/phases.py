"""Where PlaceOrder's time goes, by phase, for the benchmark only: `instrument()` wraps the desk's
entry, the book fetch, the signing and the venue post of an in-process server with timers, so the
production path carries no timing code at all. What is left of the desk's time is the database's
(booking the order and recording its hedge result)."""

from __future__ import annotations

import functools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

PHASES = ("book", "sign", "venue_post", "total")


class PhaseRecorder:
    """Each phase's durations, in memory (bounded)."""

    def __init__(self, keep: int = 200_000) -> None:
        self.samples: dict[str, deque[float]] = {p: deque(maxlen=keep) for p in PHASES}

    def reset(self) -> None:
        for samples in self.samples.values():
            samples.clear()

    def timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.samples[name].append(time.perf_counter() - start)

        return wrapper

    def timed_async(self, name: str, function: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        @functools.wraps(function)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                self.samples[name].append(time.perf_counter() - start)

        return wrapper


def instrument() -> PhaseRecorder:
    """Times every in-process server's phases from now on; returns where the samples go."""
    from server.trading import desk
    from server.trading.books import BookCache
    from server.venue.client import VenueClient

    recorder = PhaseRecorder()
    desk.OrderDesk.place = recorder.timed_async("total", desk.OrderDesk.place)  # type: ignore[method-assign]
    BookCache.get = recorder.timed_async("book", BookCache.get)  # type: ignore[method-assign]
    desk.sign_hedge = recorder.timed("sign", desk.sign_hedge)
    VenueClient.post_order = recorder.timed_async("venue_post", VenueClient.post_order)  # type: ignore[method-assign]
    return recorder
