"""The service and the gateway in one process (as `hedging up` runs them) share one database object:
a model query inside a service transaction runs on that transaction's connection."""

from __future__ import annotations

import peewee
import pytest

from server.store import config as config_store
from server.store.db import bind, open_database
from server.store.models import HedgeConfig, HedgeEvent
from tests.pgserver import database_url


class _RolledBack(Exception):
    pass


def test_the_same_url_gives_the_same_database_object(pg_url: str, pg_admin_url: str) -> None:
    assert open_database(pg_url) is open_database(pg_url)
    assert open_database(pg_url) is not open_database(database_url(pg_admin_url, "another"))


def test_a_second_component_binding_the_url_keeps_model_queries_in_the_first_ones_transaction(
    pg_db: peewee.Database, pg_url: str
) -> None:
    service_db = bind(open_database(pg_url))
    bind(open_database(pg_url))  # the gateway starting beside the service

    with service_db.connection_context():
        # Were the model writes on a second connection, they would commit on their own and outlive
        # the rollback below.
        with pytest.raises(_RolledBack), service_db.atomic():
            config_store.set_value(service_db, "maxPositionSize", "500", author="test", reason="same tx")
            assert HedgeConfig.select().where(HedgeConfig.key == "maxPositionSize").exists()
            assert HedgeEvent.select().count() == 1
            raise _RolledBack
        # Everything was in the one transaction: the rollback took it all back.
        assert not HedgeConfig.select().where(HedgeConfig.key == "maxPositionSize").exists()
        assert HedgeEvent.select().count() == 0
