"""The auditor's search over bindings: GET /v1/bindings with every filter, keyset pages,
each client confined to its own bindings, and reads from the audit replica."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.audit_seed import ago, seed_bindings
from tests.conftest import Caller, axb, migrated_database, rows

PASSENGER, DRIVER, OTHER_DRIVER = "13800000001", "13900000002", "13900000003"


def ids(answer) -> list[str]:
    assert answer.status_code == 200, answer.get_json()
    return [item["id"] for item in answer.get_json()["items"]]


@pytest.fixture
def trips(rides: Caller, make_caller, gateway):
    """A morning of trips: two AXB rides, one AXN, one ended, one failed at Alibaba, and one
    by another app."""
    first = rides.bind(out_id="trip-1", expect_city="杭州")
    second = rides.bind(phone_a="13800000005", phone_b=OTHER_DRIVER, out_id="trip-2")
    axn = rides.bind(type="AXN", phone_a="13800000006", phone_b=None, out_id="trip-3")
    ended = rides.bind(phone_a="13800000007", phone_b="13900000008", out_id="trip-4")
    assert rides.delete(f"/v1/bindings/{ended['id']}").status_code == 200
    scooters = make_caller("scooters")
    theirs = scooters.bind(phone_a="13800000009", phone_b="13900000010", out_id="ride-9")
    return {"first": first, "second": second, "axn": axn, "ended": ended, "theirs": theirs}


def test_the_rides_app_lists_only_its_own_bindings_newest_first(rides, trips):
    answer = rides.get("/v1/bindings")

    mine = [trips[name]["id"] for name in ("ended", "axn", "second", "first")]
    assert ids(answer) == mine
    assert answer.get_json()["next_cursor"] is None
    assert answer.get_json()["items"][0]["client"] == "rides"


def test_a_client_filter_does_not_open_another_clients_bindings(rides, trips):
    assert ids(rides.get("/v1/bindings?client=scooters")) == []
    assert ids(rides.get(f"/v1/bindings?phone_a={trips['theirs']['phone_a']}")) == []


def test_the_auditor_sees_every_client(auditor, trips):
    assert len(ids(auditor.get("/v1/bindings"))) == 5
    assert ids(auditor.get("/v1/bindings?client=scooters")) == [trips["theirs"]["id"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"phone={PASSENGER}", ["first"]),
        (f"phone={OTHER_DRIVER}", ["second"]),
        (f"phone=%2B86{DRIVER}", ["first"]),
        ("phone_a=13800000006", ["axn"]),
        (f"phone_b={DRIVER}", ["first"]),
        (f"phone_a={DRIVER}", []),
        ("out_id=trip-2", ["second"]),
        ("type=AXN", ["axn"]),
        ("status=unbound", ["ended"]),
        ("status=active&type=AXB", ["theirs", "second", "first"]),
        ("client=rides&out_id=trip-1", ["first"]),
        ("client=scooters", ["theirs"]),
    ],
)
def test_every_filter_narrows_the_search(auditor, trips, query, expected):
    assert ids(auditor.get(f"/v1/bindings?{query}")) == [trips[name]["id"] for name in expected]


def test_phone_also_matches_the_virtual_number_and_subs_id_finds_one(auditor, trips):
    first = trips["first"]

    by_x = ids(auditor.get(f"/v1/bindings?phone={first['phone_x']}&client=rides"))
    by_x_column = ids(auditor.get(f"/v1/bindings?phone_x={first['phone_x']}&client=rides"))
    by_subs = ids(auditor.get(f"/v1/bindings?subs_id={first['subs_id']}"))

    assert first["id"] in by_x
    assert by_x == by_x_column
    assert by_subs == [first["id"]]


def test_pool_and_creation_time_ranges(auditor, trips, gateway):
    rows(
        gateway,
        "UPDATE bindings SET created_at = now() - interval '3 days' WHERE out_id = 'trip-1'",
    )
    pool = trips["first"]["pool_key"]
    since = ago(days=1).isoformat()
    until = ago(days=2).isoformat()

    recent = ids(auditor.get("/v1/bindings", query_string={"created_from": since}))
    older = ids(auditor.get("/v1/bindings", query_string={"created_to": until}))
    in_pool = ids(auditor.get("/v1/bindings", query_string={"pool_key": pool}))
    other_pool = ids(auditor.get("/v1/bindings?pool_key=FC999"))

    assert trips["first"]["id"] not in recent and len(recent) == 4
    assert older == [trips["first"]["id"]]
    assert len(in_pool) == 5 and other_pool == []


def test_a_failed_binding_is_found_by_its_numbers_and_status(auditor, rides, emulator):
    emulator.fault(action="BindAxb", code="isv.NO_AVAILABLE_NUMBER", count=1)
    assert rides.post("/v1/bindings", json=axb(phone_a="13800000042")).status_code == 409

    found = auditor.get("/v1/bindings?phone=13800000042&status=failed").get_json()["items"]

    assert [item["status"] for item in found] == ["failed"]


def test_status_is_derived_from_the_expiry(auditor, trips, gateway):
    rows(
        gateway,
        "UPDATE bindings SET expires_at = now() - interval '1 minute' WHERE out_id = 'trip-2'",
    )

    expired = auditor.get("/v1/bindings?status=expired").get_json()["items"]
    active = ids(auditor.get("/v1/bindings?status=active"))

    assert [(b["id"], b["status"]) for b in expired] == [(trips["second"]["id"], "expired")]
    assert trips["second"]["id"] not in active and trips["first"]["id"] in active


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("bindings", "limit=0", "limit"),
        ("bindings", "limit=501", "limit"),
        ("events", "limit=abc", "limit"),
        ("bindings", "cursor=not-a-cursor", "cursor"),
        ("bindings", "cursor=WyJlIiwiMjAyNi0wMS0wMVQwMDowMDowMCswMDowMCIsIjEiXQ", "cursor"),
        ("events", "cursor=eyJ9", "cursor"),
        ("bindings", "phone=12345", "phone"),
        ("bindings", "status=gone", "status"),
        ("events", "outcome=maybe", "outcome"),
        ("events", "binding_id=42", "binding_id"),
        ("bindings", "created_from=2026-01-01T00:00:00", "created_from"),
        (
            "bindings",
            "created_from=2026-02-01T00:00:00Z&created_to=2026-01-01T00:00:00Z",
            "created_to",
        ),
        ("events", "from=2026-01-01", "from"),
        ("events", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"),
        ("bindings", "colour=blue", "colour"),
        ("events", "occurred_from=2026-01-01T00:00:00Z", "occurred_from"),
    ],
)
def test_a_bad_search_is_422_naming_the_field(auditor, path, query, field):
    answer = auditor.get(f"/v1/{path}?{query}")

    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    assert field in answer.get_json()["errors"]


def test_pages_have_no_duplicates_and_no_gaps_while_trips_keep_coming(rides, auditor, gateway):
    seed_bindings(gateway, "rides", 120, ago(hours=2), tag="old")
    seen: list[str] = []
    cursor = None
    for page in range(3):
        query = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        body = auditor.get("/v1/bindings", query_string=query).get_json()
        seen += [item["id"] for item in body["items"]]
        seed_bindings(gateway, "rides", 5, ago(seconds=1), tag=f"new{page}")
        cursor = body["next_cursor"]

    assert cursor is None
    assert len(seen) == len(set(seen)) == 120
    expected = rows(
        gateway, "SELECT id FROM bindings WHERE subs_id LIKE 'old-%' ORDER BY created_at DESC"
    )
    assert seen == [str(row.id) for row in expected]


def test_a_busy_driver_pages_through_every_trip_as_driver_or_passenger(rides, auditor, gateway):
    busy = "13900000077"
    seed_bindings(gateway, "rides", 70, ago(hours=3), tag="driving", phone_b=busy)
    seed_bindings(gateway, "rides", 50, ago(hours=3, seconds=30), tag="riding", phone_a=busy)
    seed_bindings(gateway, "rides", 30, ago(hours=2), tag="others")
    seen, cursor = [], None
    while True:
        query = {"phone": busy, "limit": 40, **({"cursor": cursor} if cursor else {})}
        body = auditor.get("/v1/bindings", query_string=query).get_json()
        seen += [(item["created_at"], item["id"]) for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 120
    assert seen == sorted(seen, reverse=True)


@pytest.fixture(scope="module")
def replica_url(app) -> Iterator[str]:
    """A second database standing in for the read replica, migrated like the main one, and
    dropped after this module."""
    with migrated_database(app, "audit_replica") as url:
        yield url


REPLICA_ONLY = """
INSERT INTO api_clients (id, name, token_hash, scopes, created_at)
VALUES (1, 'replica-only', 'x', '[]', now());
INSERT INTO bindings (id, client_id, type, pool_key, phone_a, record_calls, status, expires_at,
                      created_at, updated_at)
VALUES ('00000000-0000-7000-8000-000000000001', 1, 'AXN', 'FC1', '13800000099', false,
        'active', now() + interval '1 hour', now(), now());
INSERT INTO binding_events (occurred_at, binding_id, client_id, action, outcome)
VALUES (now(), '00000000-0000-7000-8000-000000000001', 1, 'BindAxn', 'requested');
"""


def test_lists_read_from_the_audit_replica(another_worker, auditor, replica_url):
    replica = sa.create_engine(replica_url)
    with replica.begin() as conn:
        conn.execute(sa.text("TRUNCATE binding_events, bindings, api_clients"))
        conn.exec_driver_sql(REPLICA_ONLY)
    replica.dispose()
    gateway_on_replica = another_worker(audit_database_url=replica_url)
    auditor.http = gateway_on_replica.test_client()

    bindings = auditor.get("/v1/bindings").get_json()["items"]
    events = auditor.get("/v1/events").get_json()["items"]

    assert [(b["client"], b["phone_a"]) for b in bindings] == [("replica-only", "13800000099")]
    assert [e["action"] for e in events] == ["BindAxn"]
