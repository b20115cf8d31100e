"""The service's response serializer sends a response serialized once (bytes) as it is, so a stream
event built for many subscribers is not serialized again for each."""

from __future__ import annotations

from hedging.v1 import events_pb2
from hedging.v1 import hedging_service_pb2 as pb
from server.rpc.decode import encoder


def test_bytes_pass_through_and_messages_are_serialized():
    encode = encoder(pb.StreamHedgeEventsResponse)
    message = pb.StreamHedgeEventsResponse(event=events_pb2.HedgeEvent(event_id=7, message="filled"))
    once = message.SerializeToString()
    assert encode(once) is once
    assert pb.StreamHedgeEventsResponse.FromString(encode(message)) == message
