"""Order ids and event-type names, as request fields name them."""

from __future__ import annotations

import pytest

from server.domain.event_types import event_type
from server.domain.order_ids import order_id
from server.errors import InvalidArgument

ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize("given", [ID, ID.upper(), ID.replace("-", ""), "{" + ID + "}"])
def test_an_order_id_is_read_in_any_uuid_spelling_and_written_as_the_service_writes_it(given):
    assert order_id("order_id", given) == ID


@pytest.mark.parametrize("given", ["", "nope", ID[:-1], ID + "0", "1"])
def test_anything_else_is_not_an_order_id_and_the_error_names_the_field(given):
    with pytest.raises(InvalidArgument) as caught:
        order_id("order.id", given)
    assert caught.value.field == "order.id"
    assert caught.value.description == "must be an order id (a UUID, as PlaceOrder returns)"


@pytest.mark.parametrize("name", ["order_accepted", "hedge_unknown", "mapping_changed"])
def test_a_known_event_type_is_returned_as_given(name):
    assert event_type("filter.types", name) == name


def test_an_unknown_event_type_names_the_field_the_value_and_every_known_type():
    with pytest.raises(InvalidArgument) as caught:
        event_type("filter.types", "Order_Accepted")
    assert caught.value.field == "filter.types"
    description = caught.value.description
    assert description.startswith(
        "unknown event type 'Order_Accepted'; known types: breaker_reset, breaker_tripped, "
    )
    assert description.endswith(", order_accepted, order_rejected, positions_merged, positions_redeemed")


def test_an_unknown_event_type_is_quoted_at_most_64_characters_long():
    with pytest.raises(InvalidArgument) as caught:
        event_type("filter.types", "x" * 100)
    assert caught.value.description.startswith(f"unknown event type {'x' * 64!r};")
