"""Tables: callers, bindings and their append-only event history.

Models describe the schema (and drive migrations); the hot path reads and writes
them with SQLAlchemy Core statements built in app/services/queries.py, so no ORM
objects are created per request.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

BIGINT_ID = BigInteger().with_variant(Integer, "sqlite")
STATUSES = ("pending", "active", "unbound", "expired", "failed", "unknown")
TYPES = ("AXB", "AXN")
OUTCOMES = ("requested", "ok", "error", "changed")
ERRORS = text("outcome = 'error'")
ERROR_CODES = text("upstream_code <> 'OK'")


class ApiClient(db.Model):
    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(BIGINT_ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    pools: Mapped[list[str] | None] = mapped_column(JSON)
    rate_limit: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Binding(db.Model):
    __tablename__ = "bindings"
    __table_args__ = (
        UniqueConstraint("pool_key", "subs_id", name="uq_bindings_pool_subs"),
        CheckConstraint(f"status IN {STATUSES!r}", name="ck_bindings_status"),
        CheckConstraint(f"type IN {TYPES!r}", name="ck_bindings_type"),
        Index("ix_bindings_client_created", "client_id", "created_at"),
        Index("ix_bindings_created", "created_at"),
        Index("ix_bindings_phone_a_created", "phone_a", "created_at"),
        Index("ix_bindings_phone_b_created", "phone_b", "created_at"),
        Index("ix_bindings_phone_x_created", "phone_x", "created_at"),
        Index("ix_bindings_out_id", "out_id"),
        Index("ix_bindings_subs_id", "subs_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[int] = mapped_column(BIGINT_ID, ForeignKey("api_clients.id"))
    type: Mapped[str] = mapped_column(String(3))
    pool_key: Mapped[str] = mapped_column(String(64))
    subs_id: Mapped[str | None] = mapped_column(String(32))
    phone_x: Mapped[str | None] = mapped_column(String(20))
    extension: Mapped[str | None] = mapped_column(String(20))
    phone_a: Mapped[str] = mapped_column(String(20))
    phone_b: Mapped[str | None] = mapped_column(String(20))
    expect_city: Mapped[str | None] = mapped_column(String(32))
    out_id: Mapped[str | None] = mapped_column(String(64))
    record_calls: Mapped[bool] = mapped_column(Boolean, default=False)
    call_restrict: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    unbound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BindingEvent(db.Model):
    """One row per upstream call or state change; never updated, never deleted but by retention.

    phone_a/phone_b/phone_x are the binding's numbers when the event was written,
    copied by a database trigger (migration 0002) so phone searches need no join.
    """

    __tablename__ = "binding_events"
    __table_args__ = (
        Index("ix_binding_events_binding", "binding_id", "occurred_at"),
        Index("ix_binding_events_occurred", "occurred_at"),
        Index("ix_binding_events_client_occurred", "client_id", "occurred_at"),
        Index("ix_binding_events_phone_a", "phone_a", "occurred_at"),
        Index("ix_binding_events_phone_b", "phone_b", "occurred_at"),
        Index("ix_binding_events_phone_x", "phone_x", "occurred_at"),
        Index("ix_binding_events_errors", "occurred_at", postgresql_where=ERRORS),
        Index(
            "ix_binding_events_error_codes",
            "upstream_code",
            "occurred_at",
            postgresql_where=ERROR_CODES,
        ),
    )

    id: Mapped[int] = mapped_column(BIGINT_ID, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    binding_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    client_id: Mapped[int] = mapped_column(BIGINT_ID)
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    upstream_code: Mapped[str | None] = mapped_column(String(64))
    upstream_request_id: Mapped[str | None] = mapped_column(String(64))
    http_status: Mapped[int | None] = mapped_column(SmallInteger)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    request_id: Mapped[str | None] = mapped_column(String(128))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    phone_a: Mapped[str | None] = mapped_column(String(20))
    phone_b: Mapped[str | None] = mapped_column(String(20))
    phone_x: Mapped[str | None] = mapped_column(String(20))


class IdempotencyKey(db.Model):
    """A client's Idempotency-Key: the request it was first used for, and its stored answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_expires", "expires_at"),)

    client_id: Mapped[int] = mapped_column(BIGINT_ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    response_status: Mapped[int | None] = mapped_column(SmallInteger)
    response_body: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
