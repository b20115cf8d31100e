"""The signer's order budget shared through PostgreSQL (`server.store.venue_budget`): takes from several
connections at once never admit more than the bucket allows over any stretch of the database's clock;
a take waits for another's row lock; a Retry-After recorded by one connection holds for all."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import peewee
import psycopg2
import pytest

from server.domain.order_bucket import OrderBudget
from server.store import venue_budget
from server.store.models import VenueOrderBudget

SIGNER = "0x" + "ab" * 20


@pytest.fixture
def db(pg_db: peewee.Database) -> Iterator[peewee.Database]:
    yield pg_db


def test_a_first_take_starts_full_and_batches_are_all_or_nothing(db):
    slow = OrderBudget(rate=1, burst=60)  # 1 a second: the few ms between takes refill no batch
    admitted = [venue_budget.take(db, SIGNER, slow, 15).admitted for _ in range(5)]
    assert admitted == [True, True, True, True, False]
    row = VenueOrderBudget.get_by_id(SIGNER)
    assert row.tokens < 15  # nothing taken by the refusal: what refilled since the 4th take, under 15
    assert row.blocked_until is None
    assert VenueOrderBudget.select().count() == 1


def test_each_signer_has_its_own_bucket(db):
    slow = OrderBudget(rate=1, burst=10)
    assert venue_budget.take(db, SIGNER, slow, 10).admitted
    assert venue_budget.take(db, "0x" + "cd" * 20, slow, 10).admitted
    assert not venue_budget.take(db, SIGNER, slow, 10).admitted


def test_concurrent_takes_from_several_connections_never_exceed_the_budget(db):
    budget = OrderBudget(rate=200, burst=20)
    admitted: list[tuple[object, int]] = []
    refused = 0
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        nonlocal refused
        rng = random.Random(seed)
        try:
            with db.connection_context():  # each thread its own connection
                for _ in range(60):
                    cost = rng.randint(1, 5)
                    taken = venue_budget.take(db, SIGNER, budget, cost)
                    with lock:
                        if taken.admitted:
                            admitted.append((taken.bucket.as_of, cost))
                        else:
                            refused += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and not any(t.is_alive() for t in threads)
    assert admitted and refused  # the bucket was contended, and both answers happened
    admitted.sort(key=lambda a: a[0])
    # Over any stretch [t_i, t_j] of the database's clock, at most a burst plus what refilled in it.
    for i, (start, _) in enumerate(admitted):
        spent = 0
        for end, cost in admitted[i:]:
            spent += cost
            seconds = Decimal((end - start) // timedelta(microseconds=1)) / 1_000_000
            assert spent <= budget.burst + budget.rate * seconds, (start, end, spent)


def wait_until(condition, timeout: float = 10.0) -> None:
    event = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        event.wait(0.01)
    raise AssertionError("condition not met in time")


def test_a_take_waits_for_another_connection_holding_the_row(db, pg_url):
    budget = OrderBudget(rate=1, burst=10)
    assert venue_budget.take(db, SIGNER, budget, 1).admitted
    other = psycopg2.connect(pg_url)
    watcher = psycopg2.connect(pg_url)
    watcher.autocommit = True
    try:
        cur = other.cursor()
        cur.execute("SELECT tokens FROM venue_order_budget WHERE signer = %s FOR UPDATE", (SIGNER,))
        cur.execute("UPDATE venue_order_budget SET tokens = 0 WHERE signer = %s", (SIGNER,))
        result: list[bool] = []

        def take() -> None:
            with db.connection_context():
                result.append(venue_budget.take(db, SIGNER, budget, 5).admitted)

        thread = threading.Thread(target=take)
        thread.start()

        def blocked_on_the_row() -> bool:
            with watcher.cursor() as w:
                w.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE '%%venue_order_budget%%' AND datname = current_database()"
                )
                return w.fetchone()[0] == 1

        wait_until(blocked_on_the_row)
        assert result == []
        other.commit()  # its 0 tokens are what the waiting take then sees: refused
        thread.join(timeout=10)
        assert result == [False]
    finally:
        other.close()
        watcher.close()


def test_a_retry_after_recorded_by_one_connection_holds_for_all(db):
    budget = OrderBudget(rate=1000, burst=60)
    blocked = venue_budget.honour_retry_after(db, SIGNER, budget, timedelta(seconds=30))
    assert blocked.tokens == 0 and blocked.blocked_until is not None
    refused: list[object] = []

    def take() -> None:
        with db.connection_context():
            refused.append(venue_budget.take(db, SIGNER, budget, 1))

    thread = threading.Thread(target=take)
    thread.start()
    thread.join(timeout=10)
    (taken,) = refused
    assert not taken.admitted
    # At least what is left of the 30 s (less than a few seconds of this test have passed), plus 1 ms.
    assert taken.wait > timedelta(seconds=25)
    assert VenueOrderBudget.get_by_id(SIGNER).blocked_until == blocked.blocked_until


CHILD = """
import sys
from server.domain.order_bucket import OrderBudget
from server.store import venue_budget
from server.store.db import bind, open_database

database = bind(open_database(sys.argv[1]))
budget = OrderBudget(rate=200, burst=20)
with database.connection_context():
    for i in range(300):
        taken = venue_budget.take(database, sys.argv[2], budget, 1 + i % 4)
        if taken.admitted:
            print(taken.bucket.as_of.isoformat(), 1 + i % 4, flush=True)
"""


def test_two_server_processes_together_stay_within_the_budget(db, pg_url):
    import subprocess
    import sys
    from datetime import datetime

    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, pg_url, SIGNER], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0]
    admitted = sorted(
        (datetime.fromisoformat(when), int(cost))
        for output in outputs
        for when, cost in (line.split() for line in output.splitlines())
    )
    spans = [
        (min(lines), max(lines))
        for lines in ([datetime.fromisoformat(line.split()[0]) for line in o.splitlines()] for o in outputs)
    ]
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1]  # both took tokens at the same time
    burst, rate = 20, 200
    for i, (start, _) in enumerate(admitted):
        spent = 0
        for end, cost in admitted[i:]:
            spent += cost
            seconds = Decimal((end - start) // timedelta(microseconds=1)) / 1_000_000
            assert spent <= burst + rate * seconds, (start, end, spent)


def test_take_up_to_grants_the_single_orders_the_shared_bucket_holds(db):
    slow = OrderBudget(rate=1, burst=10)  # 1 a second: the few ms between takes refill no whole token
    granted = [venue_budget.take_up_to(db, SIGNER, slow, wanted).count for wanted in (4, 10, 1)]
    assert granted == [4, 6, 0]
    row = VenueOrderBudget.get_by_id(SIGNER)
    assert row.tokens < 1
