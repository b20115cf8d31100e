"""The service and the gateway in one process (as `hedging up` runs them) share one database object:
a model query inside a service transaction runs on that transaction's connection."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.store import config as config_store
from server.store.db import bind, open_database
from server.store.migrate import migrate
from server.store.models import HedgeConfig, HedgeEvent


class _RolledBack(Exception):
    pass


def test_the_same_url_gives_the_same_database_object(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert open_database(url) is open_database(url)
    assert open_database(url) is not open_database(f"sqlite:///{tmp_path / 'b.db'}")


def test_a_second_component_binding_the_url_keeps_model_queries_in_the_first_ones_transaction(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'hedging.db'}"
    service_db = bind(open_database(url))
    with service_db.connection_context():
        migrate(service_db)
    bind(open_database(url))  # the gateway starting beside the service

    with service_db.connection_context():
        # The write lock is taken on the service's connection; the model write must use it too.
        # With a second connection it would wait on our own lock for busy_timeout, then fail.
        with pytest.raises(_RolledBack), service_db.atomic("IMMEDIATE"):
            config_store.set_value(service_db, "maxPositionSize", "500", author="test", reason="same tx")
            assert HedgeConfig.select().where(HedgeConfig.key == "maxPositionSize").exists()
            assert HedgeEvent.select().count() == 1
            raise _RolledBack
        # Everything was in the one transaction: the rollback took it all back.
        assert not HedgeConfig.select().where(HedgeConfig.key == "maxPositionSize").exists()
