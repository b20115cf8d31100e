"""The state cache hands the hedger a market's mapping without a database call on the event loop:
from its last read, else read on a database thread."""

from __future__ import annotations

import asyncio
import threading

from server.runtime import DatabaseRunner
from server.store import mappings as mapping_store
from server.trading.state import StateCache


def test_a_mapping_is_served_from_the_last_read_else_read_on_a_database_thread(pg_db, mappings):
    runner = DatabaseRunner(pg_db, 1)
    threads: list[str] = []

    async def traced(work):
        def run():
            threads.append(threading.current_thread().name)
            return work()

        return await runner(run)

    async def scenario():
        state = StateCache(traced)
        await state.refresh()
        known = next(iter(mappings.values()))
        threads.clear()
        cached = await state.mapping_by_id(known.id)
        assert (cached.id, cached.event_id, threads) == (known.id, known.event_id, [])

        spec = mapping_store.MappingSpec(
            event_id="added-later", outcome="YES", condition_id="0x" + "ab" * 32,
            yes_token_id="901", no_token_id="902", neg_risk=False, tick_size=known.tick_size,
            min_order_size=known.min_order_size, fee_rate=known.fee_rate, fee_exponent=known.fee_exponent,
            question="added after the last read",
        )  # fmt: skip
        added = await runner(lambda: mapping_store.create(pg_db, spec, author="test"))
        threads.clear()
        read = await state.mapping_by_id(added.id)
        assert (read.id, read.event_id) == (added.id, "added-later")
        assert threads == ["db_0"]  # a database thread, not the event loop's

    try:
        asyncio.run(scenario())
    finally:
        runner.close()
