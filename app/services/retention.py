"""Retention of the history: monthly partitions ahead of time, purge, and anonymisation.

Purging old events is mostly DDL: whole months past retention are dropped as
partitions, and only the month that straddles the cutoff is deleted row by row,
in short batches. Anonymising keeps the audit trail (who, what, when, outcome) and
replaces phone numbers by a keyed hash, so an exact search still finds the rows
while the numbers themselves are gone.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Engine,
    Table,
    and_,
    bindparam,
    delete,
    or_,
    select,
    text,
    tuple_,
    update,
)

from app.config import ConfigError
from app.extensions import db
from app.models import Binding, BindingEvent
from app.services.connections import reading
from app.services.partitions import ensure_upcoming

BATCH = 5000
HASH_PREFIX = "h"
HASH_DIGITS = 19  # "h" + 19 hex digits = 20 characters, the width of the phone columns
PHONE_COLUMNS = ("phone_a", "phone_b", "phone_x")
PHONE_KEYS = frozenset(
    {"PhoneNoA", "PhoneNoB", "PhoneNoX", "SecretNo", "CallNo", "caller", "called_no"}
    | set(PHONE_COLUMNS)
)
ENDED = ("unbound", "expired", "failed", "unknown")

bindings: Table = Binding.__table__
events: Table = BindingEvent.__table__

EXPIRED_PARTITIONS = text(
    """
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'binding_events'::regclass
      AND substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \\(''(.+)''\\)')::timestamptz
          <= :cutoff
    ORDER BY c.relname
    """
)


def anonymised(phone: str, key: str) -> str:
    """HMAC-SHA256 of the number under the configured key, cut to fit the phone columns.
    Deterministic, so searching a number compares against its hash as well."""
    if phone.startswith(HASH_PREFIX):
        return phone
    digest = hmac.new(key.encode(), phone.encode(), hashlib.sha256).hexdigest()
    return HASH_PREFIX + digest[:HASH_DIGITS]


def is_partitioned() -> bool:
    return db.engine.dialect.name == "postgresql"


def prepare_partitions(months: int) -> list[str]:
    """Create the monthly partitions from this month on that are missing."""
    with db.engine.begin() as conn:
        return ensure_upcoming(conn, months)


def purge(older_than_days: int, anonymise: bool = False) -> dict[str, int]:
    """Remove (or anonymise) events and ended bindings older than the retention period."""
    cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
    if anonymise:
        key = current_app.config["GATEWAY_SETTINGS"].audit_hash_key
        if not key:
            raise ConfigError("AUDIT_HASH_KEY is required to anonymise (it keys the hash)")
        return {
            "events_anonymised": _anonymise(events, _old_events(cutoff), key),
            "bindings_anonymised": _anonymise(bindings, _ended_bindings(cutoff), key),
        }
    dropped = _drop_partitions(cutoff)
    return {
        "partitions_dropped": len(dropped),
        "events_deleted": _delete(events, _old_events(cutoff)),
        "bindings_deleted": _delete(bindings, _ended_bindings(cutoff)),
    }


def _old_events(cutoff: datetime) -> ColumnElement:
    return events.c.occurred_at < cutoff


def _ended_bindings(cutoff: datetime) -> ColumnElement:
    """Ended (or active only in name, past expiry) and untouched since before the cutoff."""
    b = bindings.c
    return and_(
        b.created_at < cutoff,
        b.updated_at < cutoff,
        or_(b.status.in_(ENDED), and_(b.status == "active", b.expires_at < cutoff)),
    )


def _drop_partitions(cutoff: datetime) -> list[str]:
    """Months that end before the cutoff go whole: DROP TABLE, no row-by-row delete."""
    if not is_partitioned():
        return []
    with db.engine.begin() as conn:
        names = conn.execute(EXPIRED_PARTITIONS, {"cutoff": cutoff}).scalars().all()
        for name in names:
            conn.execute(text(f'DROP TABLE "{name}"'))
    return names


def _primary_key(table: Table) -> Sequence:
    return tuple(table.primary_key.columns)


def _delete(table: Table, condition: ColumnElement) -> int:
    """Short batches, each its own transaction: no long lock, no statement timeout."""
    key = tuple_(*_primary_key(table))
    batch = select(*_primary_key(table)).where(condition).limit(BATCH)
    statement = delete(table).where(key.in_(batch))
    total = 0
    while True:
        with db.engine.begin() as conn:
            count = conn.execute(statement).rowcount
        total += count
        if count < BATCH:
            return total


def _not_anonymised(table: Table) -> ColumnElement:
    return or_(*(~table.c[name].startswith(HASH_PREFIX) for name in PHONE_COLUMNS))


def _anonymise(table: Table, condition: ColumnElement, key: str) -> int:
    """Walk the matching rows in primary-key order, rewriting each batch's numbers."""
    pk = _primary_key(table)
    hashed = ("params",) if "params" in table.c else ()
    columns = [*pk, *(table.c[name] for name in (*PHONE_COLUMNS, *hashed))]
    match = [column == bindparam(f"pk_{column.name}") for column in pk]
    statement = update(table).where(*match)
    engine: Engine = db.engine
    total, last = 0, None
    while True:
        query = select(*columns).where(condition, _not_anonymised(table))
        if last is not None:
            query = query.where(tuple_(*pk) > tuple_(*last))
        with reading(engine) as conn:
            rows = conn.execute(query.order_by(*pk).limit(BATCH)).all()
        if not rows:
            return total
        changes = [_anonymised_row(row, pk, key) for row in rows]
        with engine.begin() as conn:
            conn.execute(statement, changes)
        total += len(rows)
        last = tuple(getattr(rows[-1], column.name) for column in pk)


def _anonymised_row(row: Any, pk: Sequence, key: str) -> dict[str, Any]:
    numbers = {getattr(row, name) for name in PHONE_COLUMNS} - {None}
    change = {f"pk_{column.name}": getattr(row, column.name) for column in pk}
    for name in PHONE_COLUMNS:
        value = getattr(row, name)
        change[name] = anonymised(value, key) if value else value
    if "params" in row._fields:
        change["params"] = _scrub(row.params, numbers, key)
    return change


def _scrub(value: Any, numbers: set[str], key: str, name: str = "") -> Any:
    """Hash every phone number in an event's parameters: by key name, or by value."""
    if isinstance(value, dict):
        return {k: _scrub(v, numbers, key, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, numbers, key, name) for v in value]
    if isinstance(value, str) and (name in PHONE_KEYS or value in numbers):
        return anonymised(value, key)
    return value
