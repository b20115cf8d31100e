"""Neg-risk event groups set on mappings through the gateway, validated before anything is written;
the market state the service follows is shown on the mapping."""

from __future__ import annotations

import pytest

from server.store.models import HedgeEvent, PolymarketMarketMapping

UPDATE = """
mutation Update($input: UpdateMappingInput!) {
  updateMapping(input: $input) {
    __typename
    ... on MappingSuccess { mapping { id eventGroup negRisk marketState winningTokenId } }
    ... on UserError { message }
    ... on InvalidInputError { field }
  }
}
"""
NEG_RISK = "lakeshore-mayor-2027-rivera"
PLAIN = "fed-cut-december-2026"


def _written() -> tuple[list[tuple[int, str | None]], int]:
    groups = [
        (m.id, m.event_group) for m in PolymarketMarketMapping.select().order_by(PolymarketMarketMapping.id)
    ]
    return groups, HedgeEvent.select().count()


def test_a_neg_risk_market_joins_and_leaves_a_group(gateway, admin, mappings):
    mapping_id = mappings[NEG_RISK].id
    joined = admin(UPDATE, input={"id": mapping_id, "eventGroup": "lakeshore-mayor-2027"})["updateMapping"]
    assert joined["mapping"] == {
        "id": mapping_id,
        "eventGroup": "lakeshore-mayor-2027",
        "negRisk": True,
        "marketState": "open",
        "winningTokenId": None,
    }
    audit = (
        HedgeEvent.select().where(HedgeEvent.event_type == "mapping_changed").order_by(HedgeEvent.id.desc())
    )
    assert "event_group=lakeshore-mayor-2027" in audit.get().message
    left = admin(UPDATE, input={"id": mapping_id, "clearEventGroup": True})["updateMapping"]
    assert left["mapping"]["eventGroup"] is None


@pytest.mark.parametrize(
    ("slug", "fields", "field"),
    [
        (PLAIN, {"eventGroup": "fed"}, "eventGroup"),  # not a neg-risk market
        (NEG_RISK, {"eventGroup": ""}, "eventGroup"),
        (NEG_RISK, {"eventGroup": "has space"}, "eventGroup"),
        (NEG_RISK, {"eventGroup": "x" * 300}, "eventGroup"),
        (NEG_RISK, {"eventGroup": "g", "clearEventGroup": True}, "eventGroup"),
    ],
)
def test_a_bad_group_is_refused_and_nothing_is_written(gateway, admin, mappings, slug, fields, field):
    before = _written()
    answer = admin(UPDATE, input={"id": mappings[slug].id, **fields})["updateMapping"]
    assert answer["__typename"] == "InvalidInputError", answer
    assert answer["field"] == field
    assert _written() == before


def test_the_exposure_shows_each_group(gateway, admin, mappings):
    for slug in (NEG_RISK, "riverton-rockets-championship-2027"):
        admin(UPDATE, input={"id": mappings[slug].id, "eventGroup": "neg-risk-pair"})
    query = (
        "{ exposure { groups { eventGroup markets { eventId } worstCaseLoss worstOutcome { eventId } "
        "lossIfNone limit utilisation sumOfMarketWorstCases } markets { eventId marketState } } }"
    )
    exposure = admin(query)["exposure"]
    # No positions: every way the event ends costs 0; an outcome is named over "none" on a tie.
    assert exposure["groups"] == [
        {
            "eventGroup": "neg-risk-pair",
            "markets": [{"eventId": NEG_RISK}, {"eventId": "riverton-rockets-championship-2027"}],
            "worstCaseLoss": "0",
            "worstOutcome": {"eventId": NEG_RISK},
            "lossIfNone": "0",
            "limit": "5000",
            "utilisation": "0.000000",
            "sumOfMarketWorstCases": "0",
        }
    ]
    assert {m["marketState"] for m in exposure["markets"]} == {"open"}
