"""Monthly partitions of the event history: created ahead by a command, filled by month."""

from __future__ import annotations

from datetime import UTC, datetime

from app import create_app
from app.services.partitions import add_months, month_start, partition_name
from tests.conftest import connect, migrated_database, rows, test_settings


def this_month(offset: int = 0) -> str:
    return partition_name(add_months(month_start(datetime.now(UTC).date()), offset))


def partitions(gateway) -> set[str]:
    found = rows(
        gateway,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'binding_events'::regclass",
    )
    return {row.relname for row in found}


def test_the_command_creates_the_missing_months_ahead(gateway):
    rows(gateway, f"DROP TABLE {this_month(2)}")
    runner = gateway.test_cli_runner()

    first = runner.invoke(args=["history", "partitions", "--months", "18"])
    again = runner.invoke(args=["history", "partitions", "--months", "18"])

    assert first.exit_code == 0, first.output
    assert this_month(2) in first.output and this_month(17) in first.output
    assert {this_month(n) for n in range(18)} <= partitions(gateway)
    assert again.output.strip() == "created 0 partitions"


def test_an_event_lands_in_the_partition_of_its_month(gateway, rides):
    rides.bind()

    found = rows(gateway, "SELECT DISTINCT tableoid::regclass::text AS part FROM binding_events")

    assert [row.part for row in found] == [this_month()]


def test_a_month_starts_at_midnight_utc_on_a_server_set_to_china_time(app):
    """Retention drops whole months, and the audit reads them, by the month's UTC dates:
    a server whose sessions default to Asia/Shanghai must not move the bounds eight hours."""
    start = month_start(datetime.now(UTC).date())
    following = add_months(start, 1)

    with (
        migrated_database(app, "china_time", "timezone TO 'Asia/Shanghai'") as url,
        connect(url) as conn,
    ):
        conn.execute("SET TimeZone = 'UTC'")
        bounds = conn.execute(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = %s",
            (partition_name(start),),
        ).fetchone()[0]

    assert bounds == (f"FOR VALUES FROM ('{start} 00:00:00+00') TO ('{following} 00:00:00+00')")


def test_sqlite_has_nothing_to_partition(tmp_path, emulator):
    sandbox = create_app(test_settings(emulator.url, database_url=f"sqlite:///{tmp_path}/g.db"))

    result = sandbox.test_cli_runner().invoke(args=["history", "partitions", "--months", "3"])

    assert result.exit_code == 0
    assert "no partitions to create" in result.output
