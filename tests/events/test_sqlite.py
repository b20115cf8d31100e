"""On the embedded SQLite default (one process, no NOTIFY) the feed polls: the stream and GetExposure
work the same."""

from __future__ import annotations

from decimal import Decimal

from hedging.v1 import events_pb2, types_pb2
from hedging.v1 import hedging_service_pb2 as pb
from server.store.db import bind, open_database
from server.store.migrate import migrate
from server.store.models import HedgeEvent
from tests.events.test_stream import Reader
from tests.harness import order_request, running_service, seed_mappings, service_settings, set_config

MARKET = "fed-cut-december-2026"


def test_stream_and_exposure_on_sqlite(tmp_path, sim):
    url = f"sqlite:///{tmp_path}/hedging.db"
    database = bind(open_database(url))
    migrate(database)
    seed_mappings(database, sim)
    set_config(database, mode="live", rehedgeEnabled="false")
    with running_service(service_settings(url, sim.url, metrics_listen="127.0.0.1:0")) as service:
        reader = Reader(service.stub, pb.StreamHedgeEventsRequest(after_event_id=0))
        try:
            answer = service.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)
            assert answer.hedge_status == types_pb2.HEDGE_STATUS_HEDGED
            ids = [e.id for e in HedgeEvent.select().order_by(HedgeEvent.id)]
            got = reader.events(len(ids))
            assert [e.event_id for e in got] == ids
            assert got[-1].type == events_pb2.HEDGE_EVENT_TYPE_HEDGE_FILLED
        finally:
            reader.close()
        exposure = service.stub.GetExposure(pb.GetExposureRequest(), timeout=10)
        (market,) = exposure.markets
        assert market.market.event_id == MARKET
        assert Decimal(market.hedged_notional) == Decimal(answer.executed_price) * 10
        assert Decimal(market.unhedged_notional) == 0
        assert exposure.as_of_event_id == ids[-1]
    database.close()
