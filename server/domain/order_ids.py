"""Order ids: the service names each order with a UUID, so anything else cannot name an order."""

from __future__ import annotations

import uuid

from server.errors import InvalidArgument


def order_id(field: str, value: str) -> str:
    """`value` as the service writes order ids (a lower-case hyphenated UUID); raises
    `InvalidArgument` naming `field` when it is not a UUID at all."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgument(field, "must be an order id (a UUID, as PlaceOrder returns)") from None
