"""Years of history in one statement: rows seeded straight into the tables, for the
audit tests that need more rows than it is sensible to create through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from emulator import DEFAULT_POOL_KEY
from tests.conftest import rows

SEED_BINDINGS = """
INSERT INTO bindings (id, client_id, type, pool_key, subs_id, phone_x, phone_a, phone_b,
                      out_id, record_calls, status, expires_at, created_at, updated_at)
SELECT gen_random_uuid(), c.id, 'AXB', :pool_key, :tag || '-' || n, :phone_x, :phone_a,
       :phone_b, :tag || '-' || n, false, :status, t + interval '1 hour', t, t
FROM api_clients c, generate_series(1, :count) AS n,
     LATERAL (SELECT CAST(:start AS timestamptz) + n * interval '1 second' AS t) AS moment
WHERE c.name = :client
RETURNING id
"""

SEED_EVENTS = """
INSERT INTO binding_events (occurred_at, binding_id, client_id, action, outcome,
                            upstream_code, http_status, params)
SELECT b.created_at + n * interval '1 millisecond', b.id, b.client_id, :action,
       CASE WHEN n % 2 = 1 THEN 'requested' ELSE 'ok' END,
       CASE WHEN n % 2 = 1 THEN NULL ELSE 'OK' END,
       CASE WHEN n % 2 = 1 THEN NULL ELSE 201 END,
       CAST(:params AS json)
FROM bindings b, generate_series(1, :per_binding) AS n
WHERE b.subs_id LIKE :tag || '-%'
"""


def seed_bindings(
    gateway: Flask,
    client: str,
    count: int,
    start: datetime,
    tag: str = "seed",
    **columns: Any,
) -> None:
    """`count` active AXB bindings of `client`, one a second from `start`; subs_id and
    out_id are `tag-1`, `tag-2`, …"""
    values = {
        "pool_key": DEFAULT_POOL_KEY,
        "phone_a": "13800000001",
        "phone_b": "13900000002",
        "phone_x": "17000000000",
        "status": "active",
        **columns,
    }
    seeded = rows(
        gateway, SEED_BINDINGS, client=client, count=count, start=start, tag=tag, **values
    )
    assert len(seeded) == count, f"no client named {client}"


def seed_events(
    gateway: Flask, tag: str = "seed", per_binding: int = 2, action: str = "BindAxb"
) -> None:
    """`per_binding` events for each seeded binding of `tag`, a millisecond apart:
    requested, ok, requested, …; the trigger copies each binding's numbers onto them."""
    params = '{"PhoneNoA": "13800000001", "OutId": "seeded"}'
    rows(gateway, SEED_EVENTS, tag=tag, per_binding=per_binding, action=action, params=params)


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)
