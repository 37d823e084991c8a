"""The event-numbers trigger fires only for events that come without numbers.

The write path copies A, B and X onto each event itself, in the statement that inserts it,
so the trigger of 0002 had nothing to do for them, yet PostgreSQL called its PL/pgSQL
function on every row (3 % of the database's CPU under load). With the test as the
trigger's WHEN condition, PostgreSQL skips the call. SQLite's trigger has had the
condition from the start.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CREATE = """
CREATE TRIGGER binding_events_numbers BEFORE INSERT ON binding_events
FOR EACH ROW {when} EXECUTE FUNCTION binding_events_numbers()
"""
WITHOUT_NUMBERS = "WHEN (NEW.phone_a IS NULL AND NEW.phone_b IS NULL AND NEW.phone_x IS NULL)"


def _recreate(when: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER binding_events_numbers ON binding_events")
    op.execute(CREATE.format(when=when))


def upgrade():
    _recreate(WITHOUT_NUMBERS)


def downgrade():
    _recreate("")
