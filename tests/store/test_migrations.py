from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import peewee
import psycopg2
import pytest

from server.store.db import bind, open_database
from server.store.migrate import MIGRATIONS_DIR, migrate
from server.store.models import ALL_MODELS, PolymarketMarketMapping, UserOrder
from tests.pgserver import database_url

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.fixture
def empty_pg(pg_admin_url: str):
    name = f"hedging_empty_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(pg_admin_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    database = bind(open_database(database_url(pg_admin_url, name)))
    yield database
    database.close()
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def empty_db(empty_pg: peewee.Database) -> peewee.Database:
    return empty_pg


def _schema(database: peewee.Database) -> dict[str, set[str]]:
    return {t: {c.name for c in database.get_columns(t)} for t in database.get_tables()}


def test_migrations_apply_on_an_empty_database_and_rerunning_changes_nothing(empty_db):
    every = [p.stem for p in sorted(MIGRATIONS_DIR.glob("*.sql"))]
    assert every[0] == "0001_initial"
    assert migrate(empty_db) == every
    before = _schema(empty_db)
    rows_before = empty_db.execute_sql("SELECT count(*) FROM schema_migrations").fetchone()
    assert migrate(empty_db) == []
    assert _schema(empty_db) == before
    assert empty_db.execute_sql("SELECT count(*) FROM schema_migrations").fetchone() == rows_before


def test_models_and_migrated_schema_agree(empty_db):
    migrate(empty_db)
    schema = _schema(empty_db)
    for model in ALL_MODELS:
        table = model._meta.table_name
        assert table in schema, f"model {model.__name__} has no table"
        columns = {f.column_name for f in model._meta.sorted_fields}
        assert columns == schema[table], f"{table}: model {sorted(columns)} vs schema {sorted(schema[table])}"
        nullable = {c.name: c.null for c in empty_db.get_columns(table)}
        for field in model._meta.sorted_fields:
            if not field.primary_key:
                assert nullable[field.column_name] == field.null, f"{table}.{field.column_name} nullability"
    tables = {m._meta.table_name for m in ALL_MODELS} | {"schema_migrations"}
    assert set(schema) == tables


def _mapping() -> PolymarketMarketMapping:
    return PolymarketMarketMapping.create(
        event_id="e1",
        outcome="YES",
        condition_id="0x" + "ab" * 32,
        yes_token_id="1",
        no_token_id="2",
        neg_risk=False,
        tick_size=Decimal("0.01"),
        min_order_size=Decimal("5"),
        fee_rate=Decimal("0"),
        fee_exponent=Decimal("0"),
        question="q",
        active=True,
        created_at=NOW,
        updated_at=NOW,
    )


def _order(mapping: PolymarketMarketMapping, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = dict(
        id=uuid.uuid4().hex,
        account_id="a",
        request_id=uuid.uuid4().hex,
        request_hash="h",
        mapping=mapping,
        event_id="e1",
        outcome="YES",
        side="BUY",
        size=Decimal("10"),
        status="accepted",
        message="",
        price=Decimal("0.52"),
        hedge_status="pending",
        hedged_size=Decimal("0"),
        created_at=NOW,
        updated_at=NOW,
    )
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    "bad",
    [
        {"size": Decimal("-1")},
        {"size": Decimal("0")},
        {"price": Decimal("1")},
        {"price": Decimal("0")},
        {"limit_price": Decimal("1.5")},
        {"side": "HOLD"},
    ],
    ids=["negative-size", "zero-size", "price-1", "price-0", "limit-above-1", "bad-side"],
)
def test_check_constraints_keep_out_what_must_never_be_stored(empty_db, bad):
    migrate(empty_db)
    mapping = _mapping()
    with pytest.raises(peewee.IntegrityError), empty_db.atomic():
        UserOrder.create(**_order(mapping, **bad))
    assert UserOrder.select().count() == 0


def test_money_and_instants_round_trip_exactly(empty_db):
    migrate(empty_db)
    mapping = _mapping()
    UserOrder.create(**_order(mapping, size=Decimal("123456789.123456"), price=Decimal("0.123456")))
    stored = UserOrder.get()
    assert stored.size == Decimal("123456789.123456")
    assert stored.price == Decimal("0.123456")
    assert stored.created_at == NOW
    assert stored.created_at.tzinfo is not None


def test_a_changed_migration_is_refused(empty_db, tmp_path, monkeypatch):
    from server.errors import FailedPrecondition
    from server.store import migrate as migrate_module

    migrate(empty_db)
    fake_dir = tmp_path / "migrations"
    fake_dir.mkdir()
    original = (migrate_module.MIGRATIONS_DIR / "0001_initial.sql").read_text()
    (fake_dir / "0001_initial.sql").write_text(original + "\n-- edited\n")
    monkeypatch.setattr(migrate_module, "MIGRATIONS_DIR", fake_dir)
    monkeypatch.setattr(migrate_module.discover, "__defaults__", (fake_dir,))
    with pytest.raises(FailedPrecondition, match="changed after it was applied"):
        migrate(empty_db)


def _fresh_pg(admin_url: str) -> str:
    name = f"hedging_race_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return name


def _drop_pg(admin_url: str, name: str) -> None:
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


@pytest.mark.parametrize("attempt", range(3))
def test_three_concurrent_migrate_runs_all_succeed_and_apply_each_file_once(pg_admin_url, attempt):
    every = [p.stem for p in sorted(MIGRATIONS_DIR.glob("*.sql"))]
    name = _fresh_pg(pg_admin_url)
    url = database_url(pg_admin_url, name)
    # Each thread holds its own connection: a peewee database keeps one per thread.
    database = open_database(url)
    start = threading.Barrier(3)
    answers: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            answers.append(migrate(database))
        except BaseException as exc:
            errors.append(exc)

    try:
        threads = [threading.Thread(target=run) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert sorted(answers, key=len) == [[], [], every]
        with database.connection_context():
            rows = database.execute_sql("SELECT name FROM schema_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == every
    finally:
        database.close()
        _drop_pg(pg_admin_url, name)


def test_three_concurrent_hedging_migrate_commands_all_exit_0(pg_admin_url):
    every = [p.stem for p in sorted(MIGRATIONS_DIR.glob("*.sql"))]
    name = _fresh_pg(pg_admin_url)
    env = {**os.environ, "DATABASE_URL": database_url(pg_admin_url, name)}
    try:
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "server.cli", "migrate"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        outputs = [run.communicate(timeout=60) for run in runs]
        assert [run.returncode for run in runs] == [0, 0, 0], outputs
        said = sorted(out for out, _ in outputs)
        assert said == ["applied: " + ", ".join(every) + "\n"] + ["database is up to date\n"] * 2
        check = psycopg2.connect(database_url(pg_admin_url, name))
        with check.cursor() as cur:
            cur.execute("SELECT name FROM schema_migrations ORDER BY version")
            assert [r[0] for r in cur.fetchall()] == every
        check.close()
    finally:
        _drop_pg(pg_admin_url, name)


def test_migration_0014_recounts_the_total_with_groups_at_their_worst_case(empty_db, tmp_path, monkeypatch):
    from server.store import migrate as migrate_module
    from tests.gateway import synthetic

    before = tmp_path / "migrations"
    before.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if int(path.name[:4]) < 14:
            (before / path.name).write_text(path.read_text())
    monkeypatch.setattr(migrate_module.discover, "__defaults__", (before,))
    migrate(empty_db)
    one, two, alone = (m.id for m in synthetic.create_mappings(empty_db, 3))
    # Two markets of one group sold 100 YES at 0.20 (80 if YES, -20 if NO), one alone sold 50 at 0.40
    # (30 if YES, -20 if NO): the markets' own worst cases add up to 190, the total stored so.
    for mapping_id, shares, group in ((one, 100, "g"), (two, 100, "g"), (alone, 50, None)):
        empty_db.execute_sql(
            "UPDATE market_exposure SET user_shares = %s, net_cash = 20 WHERE mapping_id = %s",
            (shares, mapping_id),
        )
        empty_db.execute_sql(
            "UPDATE polymarket_market_mapping SET event_group = %s WHERE id = %s", (group, mapping_id)
        )
    empty_db.execute_sql("UPDATE risk_totals SET unhedged_exposure = 190 WHERE id = 1")

    monkeypatch.setattr(migrate_module.discover, "__defaults__", (MIGRATIONS_DIR,))
    assert migrate(empty_db)[0] == "0014_settlement_and_group_total"  # then the later ones
    # The group: none wins -40, either wins 80 - 20 = 60; with the market alone, 60 + 30.
    total = empty_db.execute_sql("SELECT unhedged_exposure FROM risk_totals WHERE id = 1").fetchone()[0]
    assert Decimal(total) == Decimal("90")
