"""Instants on the wire: `convert.timestamp` must give exactly what protobuf's own `FromDatetime`
gives (it replaces it on the order path for speed), for aware datetimes in any offset and for naive
ones, which both read as UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from server.rpc.convert import timestamp

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.none() | st.just(UTC) | offsets,
)


@given(instants)
def test_timestamp_equals_protobufs_own_conversion(value: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(value)
    assert timestamp(value) == expected


def test_no_instant_is_no_timestamp() -> None:
    assert timestamp(None) is None
