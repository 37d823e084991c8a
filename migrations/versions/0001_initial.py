"""Clients, bindings and the event history (monthly partitions on PostgreSQL).

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from app.services.partitions import add_months, ensure_partitions, month_start

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
EVENT_COLUMNS = """
    id BIGSERIAL NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    binding_id UUID NOT NULL,
    client_id BIGINT NOT NULL,
    action VARCHAR(64) NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    upstream_code VARCHAR(64),
    upstream_request_id VARCHAR(64),
    http_status SMALLINT,
    latency_ms DOUBLE PRECISION,
    request_id VARCHAR(128),
    idempotency_key VARCHAR(255),
    params JSON,
    PRIMARY KEY (id, occurred_at)
"""


def upgrade():
    op.create_table(
        "api_clients",
        sa.Column("id", BIGINT_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("pools", sa.JSON(), nullable=True),
        sa.Column("rate_limit", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "bindings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", BIGINT_ID, nullable=False),
        sa.Column("type", sa.String(length=3), nullable=False),
        sa.Column("pool_key", sa.String(length=64), nullable=False),
        sa.Column("subs_id", sa.String(length=32), nullable=True),
        sa.Column("phone_x", sa.String(length=20), nullable=True),
        sa.Column("extension", sa.String(length=20), nullable=True),
        sa.Column("phone_a", sa.String(length=20), nullable=False),
        sa.Column("phone_b", sa.String(length=20), nullable=True),
        sa.Column("expect_city", sa.String(length=32), nullable=True),
        sa.Column("out_id", sa.String(length=64), nullable=True),
        sa.Column("record_calls", sa.Boolean(), nullable=False),
        sa.Column("call_restrict", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'unbound', 'expired', 'failed', 'unknown')",
            name="ck_bindings_status",
        ),
        sa.CheckConstraint("type IN ('AXB', 'AXN')", name="ck_bindings_type"),
        sa.ForeignKeyConstraint(["client_id"], ["api_clients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pool_key", "subs_id", name="uq_bindings_pool_subs"),
    )
    for name, columns in (
        ("ix_bindings_client_created", ["client_id", "created_at"]),
        ("ix_bindings_created", ["created_at"]),
        ("ix_bindings_out_id", ["out_id"]),
        ("ix_bindings_phone_a", ["phone_a"]),
        ("ix_bindings_phone_b", ["phone_b"]),
        ("ix_bindings_phone_x", ["phone_x"]),
        ("ix_bindings_subs_id", ["subs_id"]),
    ):
        op.create_index(name, "bindings", columns)

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"CREATE TABLE binding_events ({EVENT_COLUMNS}) PARTITION BY RANGE (occurred_at)")
        op.execute("CREATE TABLE binding_events_default PARTITION OF binding_events DEFAULT")
        this_month = month_start(datetime.now(UTC).date())
        ensure_partitions(bind, add_months(this_month, -1), 14)
    else:
        op.create_table(
            "binding_events",
            sa.Column("id", BIGINT_ID, autoincrement=True, nullable=False),
            sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("binding_id", sa.Uuid(), nullable=False),
            sa.Column("client_id", BIGINT_ID, nullable=False),
            sa.Column("action", sa.String(length=64), nullable=False),
            sa.Column("outcome", sa.String(length=16), nullable=False),
            sa.Column("upstream_code", sa.String(length=64), nullable=True),
            sa.Column("upstream_request_id", sa.String(length=64), nullable=True),
            sa.Column("http_status", sa.SmallInteger(), nullable=True),
            sa.Column("latency_ms", sa.Float(), nullable=True),
            sa.Column("request_id", sa.String(length=128), nullable=True),
            sa.Column("idempotency_key", sa.String(length=255), nullable=True),
            sa.Column("params", sa.JSON(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
    for name, columns in (
        ("ix_binding_events_binding", ["binding_id", "occurred_at"]),
        ("ix_binding_events_occurred", ["occurred_at"]),
        ("ix_binding_events_client_occurred", ["client_id", "occurred_at"]),
    ):
        op.create_index(name, "binding_events", columns)


def downgrade():
    op.drop_table("binding_events")
    op.drop_table("bindings")
    op.drop_table("api_clients")
