"""A PostgreSQL whose defaults are not the gateway's: what callers see stays the same.

A DBA may set the server's time zone to China time, its DateStyle to another order, or a
database's client encoding to one without Chinese; the gateway's sessions set all three to
what it reads and writes, so none of them reaches a caller.
"""

from __future__ import annotations

from app.services.clients import READ, WRITE, create_client
from tests.conftest import Caller, migrated_database

CHINA_TIME = "timezone TO 'Asia/Shanghai'"
DAY_FIRST_DATES = "DateStyle TO 'SQL, DMY'"
LATIN_TEXT = "client_encoding TO 'LATIN1'"


def test_a_database_with_its_own_zone_dates_and_encoding_binds_reads_and_unbinds_as_usual(
    app, another_worker
):
    with migrated_database(app, "own_dates", CHINA_TIME, DAY_FIRST_DATES, LATIN_TEXT) as url:
        gateway = another_worker(database_url=url)
        with gateway.app_context():
            rides = Caller(gateway.test_client(), create_client("rides", [WRITE, READ], None))

        made = rides.bind(expect_city="杭州")
        read = rides.get(f"/v1/bindings/{made['id']}")
        ended = rides.delete(f"/v1/bindings/{made['id']}")

    assert read.status_code == 200, read.get_json()
    assert read.get_json()["created_at"] == made["created_at"]
    assert read.get_json()["expect_city"] == "杭州"
    assert made["created_at"].endswith("Z")
    assert ended.status_code == 200, ended.get_json()
    assert ended.get_json()["status"] == "unbound"
