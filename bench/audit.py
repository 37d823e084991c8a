"""`python -m bench.audit --bindings N`: the audit queries on a year of realistic history.

Seeds a PostgreSQL database (BENCH_DATABASE_URL, or a fresh one on the local server,
migrated by the project's own migrations and dropped afterwards unless --keep) with N
bindings spread over the last 12 months and about five events each: 50 clients of very
different sizes, riders and drivers who come back (a Zipf-like pool, so some numbers have
thousands of trips), some failures (see bench.audit_seed). Then each query shape runs many
times with varied parameters through the very functions behind GET /v1/bindings and
/v1/events, with AUDIT_HASH_KEY set (the costliest phone search). Progress goes to stderr;
the one line on stdout is a JSON object with p50/p95 per shape.

A given BENCH_DATABASE_URL that already holds bindings is measured as it is, unseeded.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.services.audit import EXPORT_PAGE, Page, binding_page, event_page, reading
from bench.audit_seed import database, migrate, progress, seed

HASH_KEY = "bench-audit-hash-key-0123456789abcdef"
WEEK, MONTH = timedelta(days=7), timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Samples:
    """Real values to search for, drawn from the seeded rows (so busy numbers come up often)."""

    phones: list[str]
    out_ids: list[str]
    binding_ids: list[Any]
    clients: list[str]
    codes: list[str]
    start: datetime
    end: datetime


def draw_samples(conn: sa.Connection, count: int = 400) -> Samples:
    picked = conn.execute(
        sa.text(
            "SELECT id, out_id, phone_a, phone_b, phone_x FROM bindings "
            "TABLESAMPLE BERNOULLI (1) ORDER BY random() LIMIT :n"
        ),
        {"n": count},
    ).all()
    phones = [random.choice([p for p in row[2:] if p]) for row in picked]
    clients = conn.execute(sa.text("SELECT name FROM api_clients")).scalars().all()
    codes = conn.execute(
        sa.text("SELECT DISTINCT upstream_code FROM binding_events WHERE outcome = 'error'")
    ).scalars()
    start, end = conn.execute(
        sa.text("SELECT min(created_at), max(created_at) FROM bindings")
    ).one()
    return Samples(
        phones,
        [row.out_id for row in picked],
        [row.id for row in picked],
        clients,
        list(codes),
        start,
        end,
    )


def shapes(s: Samples) -> dict[str, Callable[[sa.Connection], Page]]:
    """Each audit query shape, with parameters drawn afresh on every call."""

    def moment(span: timedelta = timedelta(0)) -> datetime:
        return s.start + (s.end - span - s.start) * random.random()

    def failures() -> dict[str, Any]:
        code = {"upstream_code": random.choice(s.codes)} if random.random() < 0.5 else {}
        return {"outcome": "error", "occurred_to": moment(), **code}

    def client_week() -> dict[str, Any]:
        start = moment(WEEK)
        return {
            "client": random.choice(s.clients),
            "created_from": start,
            "created_to": start + WEEK,
        }

    def client_month_of_events() -> dict[str, Any]:
        start = moment(MONTH)
        span = {"occurred_from": start, "occurred_to": start + MONTH}
        return {"client": random.choice(s.clients), "limit": EXPORT_PAGE, **span}

    def phone() -> dict[str, Any]:
        return {"phone": random.choice(s.phones)}

    return {
        "bindings_by_phone": lambda c: binding_page(c, phone(), hash_key=HASH_KEY),
        "events_by_phone": lambda c: event_page(c, phone(), hash_key=HASH_KEY),
        "bindings_by_out_id": lambda c: binding_page(c, {"out_id": random.choice(s.out_ids)}),
        "events_by_out_id": lambda c: event_page(c, {"out_id": random.choice(s.out_ids)}),
        "bindings_by_client_and_time": lambda c: binding_page(c, client_week()),
        "binding_timeline": lambda c: event_page(c, {"binding_id": random.choice(s.binding_ids)}),
        "failed_outcomes": lambda c: event_page(c, failures()),
        "csv_first_page": lambda c: event_page(c, client_month_of_events()),
    }


def measure(engine: sa.Engine, repeat: int, explain: bool) -> dict[str, dict[str, float]]:
    """Each call checks a connection out of the pool and back, as a request does."""
    with engine.connect() as conn:
        samples = draw_samples(conn)
    results = {}
    for name, run in shapes(samples).items():
        if explain:
            with reading(engine) as conn:
                show_plan(conn, name, run)
        timings = []
        for attempt in range(repeat + repeat // 10):
            started = time.perf_counter()
            with reading(engine) as conn:
                run(conn)
            if attempt >= repeat // 10:  # the first tenth warms caches and prepared plans
                timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        results[name] = {
            "p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
        }
        progress(f"{name}: {results[name]}")
    return results


def show_plan(conn: sa.Connection, name: str, run: Callable[[sa.Connection], Page]) -> None:
    """EXPLAIN ANALYZE of the statements one call of the shape sends, to stderr."""
    sent: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    sa.event.listen(conn, "before_cursor_execute", capture)
    run(conn)
    sa.event.remove(conn, "before_cursor_execute", capture)
    for statement, parameters in sent:
        plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
        progress(f"--- {name}\n" + "\n".join(row[0] for row in plan))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__)
    parser.add_argument("--bindings", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=200, help="Timed calls per shape.")
    parser.add_argument("--keep", action="store_true", help="Keep the database (bench_audit).")
    parser.add_argument("--explain", action="store_true", help="Print each shape's plan.")
    parser.add_argument("--seed", type=int, default=42, help="Random seed of the parameters.")
    args = parser.parse_args(argv)
    random.seed(args.seed)
    with database(args.keep) as url:
        migrate(url)
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            empty = conn.execute(sa.text("SELECT count(*) FROM bindings")).scalar() == 0
        if empty:
            seed(engine, args.bindings)
        with engine.connect() as conn:
            counts = conn.execute(
                sa.text(
                    "SELECT (SELECT count(*) FROM bindings), (SELECT count(*) FROM binding_events)"
                )
            ).one()
        queries = measure(engine, args.repeat, args.explain)
        engine.dispose()
    print(json.dumps({"bindings": counts[0], "events": counts[1], "queries": queries}))


if __name__ == "__main__":
    main()
