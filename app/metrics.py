"""Prometheus metrics: what operators graph and alert on, served at /metrics.

Under gunicorn every worker is its own process, so prometheus-client runs in its
multiprocess mode: gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR before the app
is imported, workers write their samples there, and a scrape adds them up. Without
that variable (tests, `flask run`) one in-process registry serves.

Counters and histograms are written where things happen (one observe per request
and per upstream call). Gauges of state — the circuit breaker and the database
pools — are sampled from the live objects instead: at scrape time, and in
multiprocess mode also by a small thread per worker, because a scrape reaches only
one worker. Labels hold route templates, action names, Alibaba codes and client
names: never a phone number, a path with an id in it, or a secret.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from functools import cache

from flask import Flask
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from sqlalchemy.pool import QueuePool

from app.extensions import db
from app.providers.breaker import CLOSED, HALF_OPEN, OPEN
from app.providers.types import UpstreamCall

MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ
SAMPLE_INTERVAL_S = 5.0
# From the gateway's own few milliseconds to Alibaba's read timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE = "unmatched"
NO_CODE = "none"

log = logging.getLogger(__name__)
# `_created` timestamps are series nobody graphs (and `bindings_created_created` reads badly).
disable_created_metrics()

HTTP_REQUEST_SECONDS = Histogram(
    "gateway_http_request_duration_seconds",
    "Time from request to response, by route template, method and HTTP status.",
    ("route", "method", "status"),
    buckets=LATENCY_BUCKETS,
)
UPSTREAM_CALL_SECONDS = Histogram(
    "gateway_upstream_call_duration_seconds",
    "Dyplsapi calls by action and Alibaba's Code (OK, isv.*, isp.*, SDK.HttpError, ...).",
    ("action", "code"),
    buckets=LATENCY_BUCKETS,
)
BINDINGS_CREATED = Counter(
    "gateway_bindings_created",
    "Bindings that Alibaba confirmed, by type (AXB/AXN) and client.",
    ("type", "client"),
)
BINDINGS_UNBOUND = Counter(
    "gateway_bindings_unbound",
    "Bindings released through DELETE, by type and client.",
    ("type", "client"),
)
CIRCUIT_STATE = Gauge(
    "gateway_circuit_breaker_state",
    "1 for the upstream circuit's current state; summed over workers: workers in that state.",
    ("state",),
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "gateway_db_pool_size",
    "Connections each pool keeps, summed over workers: main and audit (DB_POOL_SIZE), "
    "statements (DB_STATEMENT_POOL_SIZE).",
    ("database",),
    multiprocess_mode="livesum",
)
DB_POOL_CHECKED_OUT = Gauge(
    "gateway_db_pool_checked_out",
    "Connections in use right now, summed over workers.",
    ("database",),
    multiprocess_mode="livesum",
)


@cache
def _series(metric: Counter | Histogram, *labels: object) -> Counter | Histogram:
    """A metric's child for these label values, found once. `labels()` checks, converts and
    locks on every call (11k instructions, three times a request); the values are few, as
    Prometheus needs them to be."""
    return metric.labels(*labels)


def observe_request(route: str | None, method: str, status: int, seconds: float) -> None:
    _series(HTTP_REQUEST_SECONDS, route or UNMATCHED_ROUTE, method, status).observe(seconds)


def observe_upstream(call: UpstreamCall) -> None:
    series = _series(UPSTREAM_CALL_SECONDS, call.action, call.code or NO_CODE)
    series.observe(call.latency_ms / 1000)


def binding_created(binding_type: str, client: str) -> None:
    _series(BINDINGS_CREATED, binding_type, client).inc()


def binding_unbound(binding_type: str, client: str) -> None:
    _series(BINDINGS_UNBOUND, binding_type, client).inc()


def sample(app: Flask) -> None:
    """Copy the circuit's state and each pool's counters into their gauges."""
    state = app.extensions["dypls"].breaker.state
    for name in (CLOSED, OPEN, HALF_OPEN):
        CIRCUIT_STATE.labels(name).set(1 if name == state else 0)
    with app.app_context():
        engines = db.engines
    for key, engine in engines.items():
        pool = engine.pool
        if not isinstance(pool, QueuePool):
            continue
        database = key or "main"
        DB_POOL_SIZE.labels(database).set(pool.size())
        DB_POOL_CHECKED_OUT.labels(database).set(pool.checkedout())
    statements = app.extensions.get("statements")
    if statements is not None:
        DB_POOL_SIZE.labels("statements").set(statements.size)
        DB_POOL_CHECKED_OUT.labels("statements").set(statements.checked_out)


def exposition(app: Flask) -> tuple[bytes, str]:
    """The text a scrape gets: every worker's samples in multiprocess mode, else this process's."""
    sample(app)
    if not MULTIPROCESS:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def start_sampler(app: Flask, interval_s: float = SAMPLE_INTERVAL_S) -> threading.Thread:
    """Keep this worker's gauges fresh between scrapes (gunicorn's post_worker_init calls it)."""

    def run() -> None:
        while True:
            try:
                sample(app)
            except Exception:
                log.exception("sampling the metrics gauges failed")
            time.sleep(interval_s)

    thread = threading.Thread(target=run, name="metrics-sampler", daemon=True)
    thread.start()
    return thread
