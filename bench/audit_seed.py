"""Seeding for `python -m bench.audit`: a migrated database and a year of history in it.

Set-based SQL (generate_series), with the secondary indexes dropped during the load and
rebuilt after it exactly as the migrations define them, each step on one session per core.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa

from app.services.partitions import add_months, ensure_partitions, month_start

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
CLIENTS = 50
WORKERS = 2  # the cores of the machine the targets are set for
SEED_SESSION = (
    "SET synchronous_commit = off",
    "SET maintenance_work_mem = '1GB'",
    "SET max_parallel_maintenance_workers = 0",
    "SET work_mem = '256MB'",
)
SECONDARY_INDEXES = sa.text(
    """
    SELECT indexname, replace(indexdef, ' ON ONLY ', ' ON ') AS definition FROM pg_indexes
    WHERE schemaname = 'public' AND tablename IN ('bindings', 'binding_events')
      AND indexname NOT IN (SELECT conname FROM pg_constraint)
    """
)
SEED_CLIENTS = sa.text(
    """
    INSERT INTO api_clients (name, token_hash, scopes, created_at)
    SELECT 'client-' || lpad(n::text, 2, '0'), md5('bench' || n) || md5('token' || n),
           '["bindings:write", "bindings:read"]', now() - interval '400 days'
    FROM generate_series(1, :clients) AS n
    """
)
# Riders and drivers are drawn as floor(pool * u^2): a few numbers take many trips.
SEED_BINDINGS = sa.text(
    """
    INSERT INTO bindings (id, client_id, type, pool_key, subs_id, phone_x, phone_a, phone_b,
                          out_id, record_calls, status, expires_at, created_at, updated_at,
                          unbound_at)
    SELECT (lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') || '7'
            || substr(r, 14, 3) || substr(r, 17, 16))::uuid,
           ids[1 + floor(array_length(ids, 1) * power(u_client, 3))::int],
           kind, 'FC10000000000000' || (1 + n % 5), n::text,
           CASE WHEN NOT failed THEN '170' || lpad((n::bigint * 7919 % 5000)::text, 8, '0') END,
           '138' || lpad(floor(:riders * u_rider * u_rider)::text, 8, '0'),
           CASE WHEN kind = 'AXB' THEN '139' || lpad(floor(:drivers * u_driver * u_driver)::text, 8, '0') END,
           'trip-' || n, false, status, t + interval '1 hour', t,
           t + CASE WHEN status = 'active' THEN interval '0' ELSE interval '30 minutes' END,
           CASE WHEN status = 'unbound' THEN t + interval '30 minutes' END
    FROM (
        SELECT *, CASE WHEN failed THEN 'failed' WHEN t > now() - interval '1 hour' THEN 'active'
                       WHEN random() < 0.72 THEN 'unbound' ELSE 'expired' END AS status
        FROM (
            SELECT n, now() - interval '365 days' * random() AS t, random() AS u_client,
                   random() AS u_rider, random() AS u_driver, random() < 0.02 AS failed,
                   CASE WHEN random() < 0.15 THEN 'AXN' ELSE 'AXB' END AS kind,
                   replace(gen_random_uuid()::text, '-', '') AS r
            FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS n
        ) AS drawn
    ) AS trip, (SELECT array_agg(id ORDER BY id) AS ids FROM api_clients) AS c
    """
)
# Per binding: bind requested/answered, a call-status query, then unbind (or a driver
# swap) requested/answered. Failed binds stop at step 2, active ones at step 3.
SEED_EVENTS = sa.text(
    """
    INSERT INTO binding_events (occurred_at, binding_id, client_id, action, outcome,
        upstream_code, upstream_request_id, http_status, latency_ms, request_id, params,
        phone_a, phone_b, phone_x)
    SELECT at, id, client_id, action, outcome,
           CASE outcome WHEN 'ok' THEN 'OK' WHEN 'error' THEN code END,
           CASE WHEN outcome <> 'requested' THEN md5(id::text || k) END,
           CASE outcome WHEN 'ok' THEN 200 WHEN 'error' THEN 409 END,
           CASE WHEN outcome <> 'requested' THEN 20 + 80 * random() END,
           md5(id::text || (k + 1) / 2),
           json_build_object('PoolKey', pool_key, 'PhoneNoA', phone_a, 'PhoneNoB', phone_b,
                             'OutId', out_id),
           phone_a, phone_b, CASE WHEN k > 1 THEN phone_x END
    FROM (
        SELECT b.*, k,
               b.created_at + CASE k WHEN 1 THEN interval '0' WHEN 2 THEN interval '60 ms'
                   WHEN 3 THEN interval '5 minutes' WHEN 4 THEN interval '30 minutes'
                   ELSE interval '30 minutes 40 ms' END AS at,
               CASE WHEN k <= 2 THEN CASE b.type WHEN 'AXB' THEN 'BindAxb' ELSE 'BindAxn' END
                    WHEN k = 3 THEN 'QueryCallStatus'
                    WHEN b.status = 'unbound' THEN 'UnbindSubscription'
                    ELSE 'UpdateSubscription.updateNoB' END AS action,
               CASE WHEN k IN (1, 4) THEN 'requested'
                    WHEN k = 2 AND b.status = 'failed' THEN 'error'
                    WHEN k > 2 AND random() < 0.01 THEN 'error' ELSE 'ok' END AS outcome,
               (ARRAY['isv.NO_AVAILABLE_NUMBER', 'isv.NO_AVAILABLE_NUMBER', 'isp.SYSTEM_ERROR',
                      'isv.BIND_CONFLICT', 'isv.MOBILE_NUMBER_ILLEGAL', 'isv.SUBS_NOT_EXIST',
                      'isv.FLOW_LIMIT'])[1 + floor(7 * random())::int] AS code
        FROM bindings b, generate_series(1, 5) AS k
        WHERE (k <= 2 OR b.status <> 'failed') AND (k <= 3 OR b.status <> 'active')
          AND CAST(b.subs_id AS bigint) % :parts = :part
    ) AS step
    """
)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def database(keep: bool) -> Iterator[str]:
    """BENCH_DATABASE_URL as given, or a new database dropped afterwards unless `keep`."""
    given = os.environ.get("BENCH_DATABASE_URL")
    if given:
        yield given
        return
    name = "bench_audit" if keep else f"bench_audit_{os.getpid()}"
    server = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        if not keep:
            with server.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


def migrate(url: str) -> None:
    import flask_migrate

    from app import create_app
    from app.config import Settings
    from emulator import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET

    settings = Settings(
        database_url=url,
        access_key_id=SANDBOX_ACCESS_KEY_ID,
        access_key_secret=SANDBOX_ACCESS_KEY_SECRET,
    )
    with create_app(settings).app_context():
        flask_migrate.upgrade()


def seed(engine: sa.Engine, bindings: int) -> None:
    """Load with the secondary indexes dropped, then rebuild them: far faster than
    maintaining them row by row. Each step runs as WORKERS sessions, one per core."""
    started = time.perf_counter()
    with engine.begin() as conn:
        ensure_partitions(conn, add_months(month_start(datetime.now(UTC).date()), -12), 14)
        indexes = conn.execute(SECONDARY_INDEXES).all()
        for index in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{index.indexname}"')
        conn.execute(SEED_CLIENTS, {"clients": CLIENTS})
    sizes = {"riders": max(1000, bindings // 5), "drivers": max(200, bindings // 50)}
    share = -(-bindings // WORKERS)
    in_parallel(
        engine,
        [
            (
                SEED_BINDINGS,
                {"first": 1 + part * share, "last": min(bindings, (part + 1) * share), **sizes},
            )
            for part in range(WORKERS)
        ],
    )
    progress(f"seeded {bindings} bindings in {time.perf_counter() - started:.1f} s")
    in_parallel(
        engine, [(SEED_EVENTS, {"parts": WORKERS, "part": part}) for part in range(WORKERS)]
    )
    progress(f"seeded their events at {time.perf_counter() - started:.1f} s")
    in_parallel(engine, [(sa.text(index.definition), {}) for index in indexes])
    progress(f"rebuilt {len(indexes)} indexes at {time.perf_counter() - started:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    progress(f"vacuumed and analysed at {time.perf_counter() - started:.1f} s")


def in_parallel(engine: sa.Engine, statements: list[tuple[sa.TextClause, dict]]) -> None:
    """Run the statements on WORKERS sessions at once, each in its own transaction."""

    def run(statement: sa.TextClause, params: dict) -> None:
        with engine.begin() as conn:
            for setting in SEED_SESSION:
                conn.exec_driver_sql(setting)
            conn.execute(statement, params)

    with ThreadPoolExecutor(WORKERS) as pool:
        for done in [pool.submit(run, statement, params) for statement, params in statements]:
            done.result()
