"""Idempotency-Key, Stripe's way, shared by every gateway instance through PostgreSQL.

The first request with a key claims it with one INSERT … ON CONFLICT DO NOTHING: the
database, not process memory, decides who runs when duplicates arrive at once on
different instances. Later requests with the same key and body get the stored
answer; with another body, 422; while the first still runs, 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.errors import IdempotencyInProgress, IdempotencyKeyReused
from app.extensions import db
from app.models import IdempotencyKey

LIFETIME = timedelta(hours=24)
keys = IdempotencyKey.__table__


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: str
    headers: dict[str, str]


def _insert(conn: Connection):
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(keys).on_conflict_do_nothing(index_elements=["client_id", "key"])


def _this(client_id: int, key: str):
    return (keys.c.client_id == client_id, keys.c.key == key)


def claim(client_id: int, key: str, fingerprint: str) -> StoredResponse | None:
    """None when this request now owns the key and must run; else the stored answer."""
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        conn.execute(delete(keys).where(*_this(client_id, key), keys.c.expires_at <= now))
        claimed = conn.execute(
            _insert(conn)
            .values(
                client_id=client_id,
                key=key,
                fingerprint=fingerprint,
                state="running",
                created_at=now,
                expires_at=now + LIFETIME,
            )
            .returning(keys.c.key)
        ).first()
        if claimed is not None:
            return None
        row = conn.execute(select(keys).where(*_this(client_id, key))).first()
    if row is None:  # released between our INSERT and SELECT: the first request gave up
        raise IdempotencyInProgress(retry_after=1)
    if row.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if row.state == "running":
        raise IdempotencyInProgress(retry_after=1)
    return StoredResponse(row.response_status, row.response_body, row.response_headers or {})


def complete(client_id: int, key: str, answer: StoredResponse) -> None:
    statement = (
        update(keys)
        .where(*_this(client_id, key))
        .values(
            state="done",
            response_status=answer.status,
            response_body=answer.body,
            response_headers=answer.headers,
        )
    )
    with db.engine.begin() as conn:
        conn.execute(statement)


def release(client_id: int, key: str) -> None:
    """Forget a claim whose request did not run to an answer worth replaying."""
    with db.engine.begin() as conn:
        conn.execute(delete(keys).where(*_this(client_id, key)))


def purge_expired() -> int:
    with db.engine.begin() as conn:
        return conn.execute(delete(keys).where(keys.c.expires_at <= datetime.now(UTC))).rowcount
