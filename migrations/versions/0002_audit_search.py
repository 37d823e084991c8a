"""Audit search: phone numbers on events, and indexes shaped for newest-first pages.

Each event records the A, B and X of its binding at the moment it is written (a
trigger copies them from the binding), so a phone search finds the events of
bindings that failed or whose numbers changed later, without scanning history.
Phone indexes lead with the number and end with the sort column, so a search is
an ordered index walk that stops after one page. Failed outcomes get partial
indexes, by time and by upstream code: about one row in a hundred, and the rows
an auditor looks for first.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PHONES = ("phone_a", "phone_b", "phone_x")
ERRORS = "outcome = 'error'"
ERROR_CODES = "upstream_code <> 'OK'"

POSTGRES_TRIGGER = """
CREATE FUNCTION binding_events_numbers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.phone_a IS NULL AND NEW.phone_b IS NULL AND NEW.phone_x IS NULL THEN
        SELECT phone_a, phone_b, phone_x INTO NEW.phone_a, NEW.phone_b, NEW.phone_x
        FROM bindings WHERE id = NEW.binding_id;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER binding_events_numbers BEFORE INSERT ON binding_events
FOR EACH ROW EXECUTE FUNCTION binding_events_numbers();
"""

SQLITE_TRIGGER = """
CREATE TRIGGER binding_events_numbers AFTER INSERT ON binding_events
WHEN NEW.phone_a IS NULL AND NEW.phone_b IS NULL AND NEW.phone_x IS NULL
BEGIN
    UPDATE binding_events
    SET (phone_a, phone_b, phone_x) = (
        SELECT phone_a, phone_b, phone_x FROM bindings WHERE id = NEW.binding_id
    )
    WHERE id = NEW.id;
END
"""

BACKFILL = """
UPDATE binding_events SET (phone_a, phone_b, phone_x) = (
    SELECT b.phone_a, b.phone_b, b.phone_x FROM bindings b WHERE b.id = binding_events.binding_id
)
"""


def upgrade():
    for phone in PHONES:
        op.drop_index(f"ix_bindings_{phone}", table_name="bindings")
        op.create_index(f"ix_bindings_{phone}_created", "bindings", [phone, "created_at"])

    for phone in PHONES:
        op.add_column("binding_events", sa.Column(phone, sa.String(length=20), nullable=True))
    op.execute(BACKFILL)
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(POSTGRES_TRIGGER if postgres else SQLITE_TRIGGER)

    for phone in PHONES:
        op.create_index(f"ix_binding_events_{phone}", "binding_events", [phone, "occurred_at"])
    op.create_index(
        "ix_binding_events_errors",
        "binding_events",
        ["occurred_at"],
        postgresql_where=sa.text(ERRORS),
        sqlite_where=sa.text(ERRORS),
    )
    op.create_index(
        "ix_binding_events_error_codes",
        "binding_events",
        ["upstream_code", "occurred_at"],
        postgresql_where=sa.text(ERROR_CODES),
        sqlite_where=sa.text(ERROR_CODES),
    )


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.drop_index("ix_binding_events_error_codes", table_name="binding_events")
    op.drop_index("ix_binding_events_errors", table_name="binding_events")
    for phone in PHONES:
        op.drop_index(f"ix_binding_events_{phone}", table_name="binding_events")
    if postgres:
        op.execute("DROP TRIGGER binding_events_numbers ON binding_events")
        op.execute("DROP FUNCTION binding_events_numbers()")
    else:
        op.execute("DROP TRIGGER binding_events_numbers")
    for phone in PHONES:
        op.drop_column("binding_events", phone)
    for phone in PHONES:
        op.drop_index(f"ix_bindings_{phone}_created", table_name="bindings")
        op.create_index(f"ix_bindings_{phone}", "bindings", [phone])
