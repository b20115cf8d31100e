"""Checks against the venue before a mapping or a config value is written: a mapping's condition and
token ids must exist and belong together, and its market parameters are read from the venue, never
typed in."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gateway.venue import VenueMarket, VenueReader
from server.domain import inputs
from server.errors import InvalidArgument, Unavailable
from server.store.mappings import MappingSpec

MAX_QUESTION = 500


@dataclass(frozen=True)
class NewMapping:
    event_id: str
    outcome: str
    condition_id: str
    token_id: str
    exposure_limit: Decimal | None
    question: str | None


def _venue(venue: VenueReader | None) -> VenueReader:
    if venue is None:
        raise Unavailable("no venue is configured (POLYMARKET_CLOB_URL): markets cannot be checked")
    return venue


async def venue_market(venue: VenueReader | None, condition_id: str, token_id: str) -> VenueMarket:
    """The venue's market for `condition_id`, after checking that `token_id` is one of its tokens."""
    reader = _venue(venue)
    market = await reader.clob_market(condition_id)
    if market is None:
        raise InvalidArgument("conditionId", "the venue has no market with this condition id")
    token_condition = await reader.condition_of_token(token_id)
    if token_condition is None:
        raise InvalidArgument("tokenId", "the venue has no token with this id")
    if token_condition != condition_id or market.complement(token_id) is None:
        raise InvalidArgument("tokenId", "the token belongs to another market than conditionId")
    return market


async def mapping_spec(venue: VenueReader | None, new: NewMapping) -> MappingSpec:
    """Validates the fields, then reads the market's parameters from the venue."""
    event_id = inputs.identifier("eventId", new.event_id)
    outcome = inputs.identifier("outcome", new.outcome)
    condition_id = inputs.identifier("conditionId", new.condition_id)
    token_id = inputs.identifier("tokenId", new.token_id)
    if new.exposure_limit is not None and new.exposure_limit < 0:
        raise InvalidArgument("exposureLimit", "must be zero or more")
    if new.question is not None and len(new.question) > MAX_QUESTION:
        raise InvalidArgument("question", f"must be at most {MAX_QUESTION} characters")
    market = await venue_market(venue, condition_id, token_id)
    question = new.question if new.question else await _venue(venue).question(condition_id)
    complement = market.complement(token_id)
    assert complement is not None  # checked by venue_market
    return MappingSpec(
        event_id=event_id,
        outcome=outcome,
        condition_id=condition_id,
        yes_token_id=token_id,
        no_token_id=complement,
        neg_risk=market.neg_risk,
        tick_size=market.tick_size,
        min_order_size=market.min_order_size,
        fee_rate=market.fee_rate,
        fee_exponent=market.fee_exponent,
        question=question,
        exposure_limit=new.exposure_limit,
    )
