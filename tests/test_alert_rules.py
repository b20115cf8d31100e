"""The Prometheus alert rules in server/ops/alerts.yml and the Grafana dashboard in
server/ops/dashboard.json parse, have what Prometheus and Grafana require, and name only metrics the
service serves. Also: build_info and the mode gauge are served."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path

import yaml
from prometheus_client import generate_latest

from server.metrics import Metrics

OPS = Path(__file__).resolve().parents[1] / "server" / "ops"
RULES = OPS / "alerts.yml"
DASHBOARD = OPS / "dashboard.json"
_DURATION = re.compile(r"^\d+[smhdwy]$")
_METRIC = re.compile(r"\bhedging_[a-z0-9_]+\b")
_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}


def _served_names() -> set[str]:
    """Every sample name a service's registry can serve, worked out from the families' types."""
    metrics = Metrics()
    metrics.watch_mode(lambda: "live")
    names = set()
    for family in metrics.registry.collect():
        if family.type == "gauge":
            names.add(family.name)
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ()))
    return names


def test_the_alert_rules_parse_and_name_only_served_metrics():
    document = yaml.safe_load(RULES.read_text())
    served = _served_names()
    alerts = []
    for group in document["groups"]:
        assert group["name"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            alerts.append(rule["alert"])
            assert _DURATION.match(rule["for"]), rule["for"]
            assert rule["labels"]["severity"] in ("critical", "warning", "info")
            assert rule["annotations"]["summary"]
            unknown = set(_METRIC.findall(rule["expr"])) - served
            assert not unknown, f"{rule['alert']} names metrics the service does not serve: {unknown}"
    assert len(alerts) == len(set(alerts))
    assert {"HedgingHedgeFailureRate", "HedgingBreakerHalted", "HedgingNotLive"} <= set(alerts)


def test_the_dashboard_parses_and_names_only_served_metrics():
    dashboard = json.loads(DASHBOARD.read_text())
    served = _served_names()
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    cells = set()
    for panel in panels:
        assert panel["title"] and panel["targets"]
        grid = panel["gridPos"]
        covered = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not covered & cells, f"{panel['title']} overlaps another panel"
        cells |= covered
        for target in panel["targets"]:
            names = set(_METRIC.findall(target["expr"]))
            assert names, target["expr"]
            assert not names - served, f"{panel['title']} names metrics the service does not serve"


def test_a_misspelt_metric_would_be_caught():
    assert "hedging_hedge_result_total" not in _served_names()
    assert "hedging_hedge_results" not in _served_names()  # a counter is served as ..._total
    assert "hedging_hedge_results_total" in _served_names()


def test_build_info_and_mode_are_served():
    metrics = Metrics()
    metrics.watch_mode(lambda: "paper")
    text = generate_latest(metrics.registry).decode()
    assert 'hedging_build_info{python="' in text
    assert f'version="{version("polymarket-hedging")}"}} 1.0' in text
    assert 'hedging_mode{mode="paper"} 1.0' in text
    assert 'hedging_mode{mode="live"} 0.0' in text
    assert 'hedging_mode{mode="off"} 0.0' in text
