"""Prometheus metrics of one server process, served over HTTP at `/metrics` on HEDGING_METRICS_LISTEN.

Each process has its own registry (several services can run in one test process). Counters and
histograms count what this process did, so they sum across processes; gauges read from the shared
database (exposure, breakers, hedges by status) are the same in every process: aggregate them with
max(), not sum()."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from wsgiref.simple_server import WSGIServer

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Metric, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from hedging.v1 import types_pb2
from server.domain.types import BreakerLevel, Mode, Side
from server.rpc.interceptor import ServerInterceptor
from server.version import python_version, version

log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SLIPPAGE_BUCKETS = (-100.0, -50.0, -20.0, -10.0, -5.0, 0.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0)
_BREAKER_VALUE = {BreakerLevel.ACTIVE: 0, BreakerLevel.REDUCING: 1, BreakerLevel.HALTED: 2}


def endpoint_of(path: str) -> str:
    """A venue path without its identifiers, so labels stay few."""
    for prefix in ("/data/order/", "/order/"):
        if path.startswith(prefix):
            return prefix + "{id}"
    return path


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.orders = Counter(
            "hedging_orders",
            "PlaceOrder answers by outcome and reject reason",
            ["outcome", "reason"],
            registry=r,
        )
        self.order_latency = Histogram(
            "hedging_place_order_seconds", "PlaceOrder latency", buckets=_LATENCY_BUCKETS, registry=r
        )
        self.hedge_results = Counter(
            "hedging_hedge_results", "hedge outcomes recorded by this process", ["status"], registry=r
        )
        self.hedges = Gauge(
            "hedging_hedges",
            "hedges in the store by status (pending and unknown on every pass, the rest once a minute)",
            ["status"],
            registry=r,
        )
        self.hedge_latency = Histogram(
            "hedging_hedge_latency_seconds",
            "from booking a hedge to recording its venue outcome",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.hedge_slippage = Histogram(
            "hedging_hedge_slippage_bps",
            "fill price against the quote's reference price, in basis points (positive: worse)",
            buckets=_SLIPPAGE_BUCKETS,
            registry=r,
        )
        self.unhedged_exposure = Gauge(
            "hedging_unhedged_exposure_usdc", "total unhedged exposure", registry=r
        )
        self.exposure_limit = Gauge("hedging_unhedged_exposure_limit_usdc", "maxUnhedgedExposure", registry=r)
        self.market_exposure = Gauge(
            "hedging_market_exposure_usdc", "worst-case loss per market", ["market"], registry=r
        )
        self.open_hedges = Gauge("hedging_open_hedges", "hedges awaiting an outcome", ["status"], registry=r)
        self.breaker = Gauge(
            "hedging_breaker_state", "0 active, 1 reducing, 2 halted", ["breaker"], registry=r
        )
        self.venue_latency = Histogram(
            "hedging_venue_request_seconds",
            "venue HTTP request latency",
            ["endpoint", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.venue_responses = Counter(
            "hedging_venue_responses", "venue HTTP answers", ["endpoint", "method", "status"], registry=r
        )
        self.venue_errors = Counter(
            "hedging_venue_errors", "venue requests with no usable answer", ["endpoint", "status"], registry=r
        )
        self.rpcs = Counter(
            "hedging_grpc_requests",
            "gRPC calls answered, by method and status code",
            ["method", "code"],
            registry=r,
        )
        self.rpc_latency = Histogram(
            "hedging_grpc_request_seconds",
            "latency of unary gRPC calls, by method",
            ["method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.build_info = Gauge(
            "hedging_build_info",
            "always 1: the running version and Python",
            ["version", "python"],
            registry=r,
        )
        self.build_info.labels(version(), python_version()).set(1)
        self._server: WSGIServer | None = None
        self.port: int | None = None
        self._children: dict[tuple[object, ...], Any] = {}

    def _labelled(self, metric: Any, *values: str) -> Any:
        """`metric.labels(*values)`, looked up once per label set: `labels` validates and locks on
        every call, and the order path observes several metrics per order on the event loop."""
        key = (id(metric), *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    # --- observations ---------------------------------------------------------------------------------
    def order_answered(self, outcome: str, reason: str, seconds: float) -> None:
        self._labelled(self.orders, outcome, reason).inc()
        self.order_latency.observe(seconds)

    def rpc_answered(self, method: str, code: str, seconds: float | None) -> None:
        self._labelled(self.rpcs, method, code).inc()
        if seconds is not None:
            self._labelled(self.rpc_latency, method).observe(seconds)

    def hedge_recorded(
        self, status: str, seconds: float, side: Side, reference: Decimal, fill_price: Decimal | None
    ) -> None:
        self._labelled(self.hedge_results, status).inc()
        self.hedge_latency.observe(max(seconds, 0.0))
        if fill_price is not None and reference > 0:
            worse = fill_price - reference if side is Side.BUY else reference - fill_price
            self.hedge_slippage.observe(float(worse / reference * 10_000))

    def venue_failed(self, endpoint: str, status: int | None) -> None:
        if status is None or status >= 500 or status in (425, 429):
            self._labelled(self.venue_errors, endpoint, str(status or "none")).inc()

    def breakers(self, states: dict[str, BreakerLevel]) -> None:
        for name, level in states.items():
            self.breaker.labels(name).set(_BREAKER_VALUE[level])

    def watch_mode(self, mode: Callable[[], str]) -> None:
        """Serves `hedging_mode{mode}`: 1 for the hedging mode in force (`mode()`, read at each
        scrape from the state cache), 0 for the others, so an alert can ask "not live for 15 m"."""
        self.registry.register(_ModeCollector(mode))

    # --- venue HTTP hooks -----------------------------------------------------------------------------
    def venue_answered(self, method: str, path: str, status: int, seconds: float) -> None:
        """Times a venue request and counts its answer by endpoint and status (a venue client observer)."""
        endpoint = endpoint_of(path)
        self._labelled(self.venue_latency, endpoint, method).observe(seconds)
        self._labelled(self.venue_responses, endpoint, method, str(status)).inc()

    # --- serving --------------------------------------------------------------------------------------
    def serve(self, listen: str) -> int | None:
        """Serves `/metrics` on `listen` (port 0: any free port); returns the port, or None when it
        cannot bind (metrics are not worth refusing to trade over: the failure is logged)."""
        host, _, port = listen.rpartition(":")
        try:
            server, _thread = start_http_server(int(port), addr=host, registry=self.registry)
        except OSError as exc:
            log.error("metrics: cannot listen on %s (%s); /metrics is off", listen, exc)
            return None
        self._server = server
        self.port = int(server.server_port)
        log.info("metrics listening on %s:%d/metrics", host, self.port)
        return self.port

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _ModeCollector(Collector):
    def __init__(self, mode: Callable[[], str]) -> None:
        self._mode = mode

    def collect(self) -> Iterator[Metric]:
        try:
            current = self._mode()
        except RuntimeError:  # the state cache is not loaded yet
            current = ""
        family = GaugeMetricFamily(
            "hedging_mode",
            "1 for the hedging mode in force (off, paper or live), 0 for the others",
            labels=["mode"],
        )
        for mode in Mode:
            family.add_metric([mode.value], 1 if current == mode.value else 0)
        yield family


class RpcMetrics(ServerInterceptor):
    """Counts every HedgingService call by method and status code, and times the unary ones (a
    stream is counted when it ends; its length says nothing about the service)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        handler = await continuation(handler_call_details)
        full = handler_call_details.method or ""
        if handler is None or not full.startswith("/hedging."):
            return handler
        method = full.rpartition("/")[2]
        metrics = self._metrics
        if handler.unary_unary is not None:
            inner = handler.unary_unary

            async def call(request: Any, context: Any) -> Any:
                started = time.perf_counter()
                try:
                    response = await inner(request, context)
                except BaseException:
                    metrics.rpc_answered(method, _code_of(context, "UNKNOWN"), time.perf_counter() - started)
                    raise
                metrics.rpc_answered(method, _code_of(context, "OK"), time.perf_counter() - started)
                return response

            return grpc.unary_unary_rpc_method_handler(
                call,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            stream_inner = handler.unary_stream

            async def stream(request: Any, context: Any) -> Any:
                code = "OK"
                try:
                    async for item in stream_inner(request, context):
                        yield item
                except BaseException:
                    code = _code_of(context, "CANCELLED")
                    raise
                finally:
                    metrics.rpc_answered(method, _code_of(context, code), None)

            return grpc.unary_stream_rpc_method_handler(
                stream,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler


def _code_of(context: Any, default: str) -> str:
    """The status code a handler set or aborted with, by name; `default` when it set none."""
    code = context.code()
    if code is None:
        return default
    if isinstance(code, grpc.StatusCode):
        return code.name
    for known in grpc.StatusCode:
        if known.value[0] == code:
            return known.name
    return default


class PlaceOrderMetrics(ServerInterceptor):
    """Counts PlaceOrder answers by outcome and reject reason, and times them."""

    _METHOD = "/hedging.v1.HedgingService/PlaceOrder"

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method != self._METHOD or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        metrics = self._metrics

        async def place(request: Any, context: Any) -> Any:
            started = time.perf_counter()
            try:
                response = await inner(request, context)
            except BaseException:
                metrics.order_answered("error", "", time.perf_counter() - started)
                raise
            if response is None:  # aborted: the status carries the error
                metrics.order_answered("error", "", time.perf_counter() - started)
                return response
            outcome = "accepted" if response.status == types_pb2.ORDER_STATUS_ACCEPTED else "rejected"
            reason = ""
            if response.reject_reason:
                reason = (
                    types_pb2.RejectReason.Name(response.reject_reason).removeprefix("REJECT_REASON_").lower()
                )
            metrics.order_answered(outcome, reason, time.perf_counter() - started)
            return response

        return grpc.unary_unary_rpc_method_handler(
            place,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
