"""Monthly range partitions of `binding_events` (PostgreSQL), so retention is DDL.

A DEFAULT partition catches anything outside the prepared months, so an insert
never fails for want of a partition; `flask --app wsgi history partitions`
creates months ahead of time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Connection, text

PARENT = "binding_events"


def month_start(moment: date) -> date:
    return date(moment.year, moment.month, 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{PARENT}_{month:%Y_%m}"


def ensure_partitions(conn: Connection, first: date, months: int) -> list[str]:
    """Create the monthly partitions from `first` on that are missing; returns their names."""
    if conn.dialect.name != "postgresql":
        return []
    created = []
    month = month_start(first)
    for _ in range(months):
        name = partition_name(month)
        following = add_months(month, 1)
        exists = conn.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar()
        if exists is None:
            conn.execute(
                text(
                    f"CREATE TABLE {name} PARTITION OF {PARENT} "
                    f"FOR VALUES FROM ('{month.isoformat()}') TO ('{following.isoformat()}')"
                )
            )
            created.append(name)
        month = following
    return created


def ensure_upcoming(conn: Connection, months: int) -> list[str]:
    """This month and the next `months - 1`."""
    return ensure_partitions(conn, datetime.now(UTC).date(), months)
