"""Retention: old history is dropped by the month, or anonymised and still searchable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.services.partitions import add_months, ensure_partitions, month_start, partition_name
from tests.audit_seed import ago, seed_bindings, seed_events
from tests.conftest import rows

PASSENGER, DRIVER = "13800000001", "13900000002"
HASH_KEY = "an-audit-hash-key-of-32-characters!"


def purge(app, *options: str):
    """`flask history purge` of that app (the test's own app context is the other one)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=["history", "purge", *options])


def test_purge_drops_old_months_whole_and_deletes_the_rest(gateway, rides):
    ancient = add_months(month_start(datetime.now(UTC).date()), -36)
    with db.engine.begin() as conn:
        ensure_partitions(conn, ancient, 1)
    start = datetime(ancient.year, ancient.month, 3, tzinfo=UTC)
    seed_bindings(gateway, "rides", 10, start, tag="ancient", status="unbound")
    seed_bindings(gateway, "rides", 5, ago(days=400), tag="last-year", status="expired")
    seed_bindings(gateway, "rides", 5, ago(days=10), tag="recent", status="unbound")
    seed_bindings(gateway, "rides", 3, ago(days=400), tag="long", status="active")
    rows(
        gateway,
        "UPDATE bindings SET expires_at = now() + interval '1 day' WHERE subs_id LIKE 'long-%'",
    )
    for tag in ("ancient", "last-year", "recent"):
        seed_events(gateway, tag=tag)

    result = purge(gateway, "--older-than", "365")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "partitions_dropped=1 events_deleted=10 bindings_deleted=15"
    assert (
        rows(gateway, "SELECT to_regclass(:name) AS found", name=partition_name(ancient))[0].found
        is None
    )
    left = rows(
        gateway, "SELECT split_part(subs_id, '-', 1) AS tag, count(*) FROM bindings GROUP BY 1"
    )
    assert dict(left) == {"recent": 5, "long": 3}
    assert rows(gateway, "SELECT count(*) FROM binding_events")[0][0] == 10


@pytest.fixture
def keyed(another_worker):
    """The gateway configured with AUDIT_HASH_KEY, on the same database."""
    return another_worker(audit_hash_key=HASH_KEY)


def test_anonymised_history_is_still_found_by_the_exact_number(gateway, keyed, rides, auditor):
    trip = rides.bind(out_id="trip-old")
    assert rides.delete(f"/v1/bindings/{trip['id']}").status_code == 200
    past = datetime.now(UTC) - timedelta(days=100)
    rows(gateway, "UPDATE bindings SET created_at = :t, updated_at = :t, unbound_at = :t", t=past)
    rows(gateway, "UPDATE binding_events SET occurred_at = occurred_at - interval '100 days'")
    fresh = rides.bind(phone_a="13800000005")

    result = purge(keyed, "--older-than", "30", "--anonymise")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "events_anonymised=4 bindings_anonymised=1"
    (stored,) = rows(
        gateway, "SELECT phone_a, phone_b, phone_x FROM bindings WHERE out_id = 'trip-old'"
    )
    assert all(number.startswith("h") and len(number) == 20 for number in stored)
    history = " ".join(
        row.p
        for row in rows(
            gateway,
            "SELECT params::text AS p FROM binding_events WHERE binding_id = :id",
            id=trip["id"],
        )
    )
    assert PASSENGER not in history and DRIVER not in history and trip["phone_x"] not in history

    auditor.http = keyed.test_client()
    found = auditor.get(f"/v1/bindings?phone={PASSENGER}").get_json()["items"]
    events = auditor.get(f"/v1/events?phone_b={DRIVER}&binding_id={trip['id']}").get_json()["items"]
    assert [(b["id"], b["phone_a"]) for b in found] == [(trip["id"], stored.phone_a)]
    assert len(events) == 4
    assert auditor.get("/v1/bindings?phone=13800000005").get_json()["items"][0]["id"] == fresh["id"]
    assert (
        purge(keyed, "--older-than", "30", "--anonymise").output.strip()
        == "events_anonymised=0 bindings_anonymised=0"
    )


def test_anonymising_needs_the_hash_key(gateway):
    result = purge(gateway, "--older-than", "30", "--anonymise")

    assert result.exit_code != 0
    assert "AUDIT_HASH_KEY" in result.output
