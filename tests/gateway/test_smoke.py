from __future__ import annotations


def test_config_query(admin, mappings):
    data = admin("{ config { key type default value isDefault version } mappings { id eventId tickSize } }")
    assert {e["key"] for e in data["config"]} >= {"mode", "minSpreadBps"}
    assert data["mappings"]
