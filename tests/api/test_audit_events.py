"""The auditor's search over the event history: GET /v1/events, months later, for any
phone, order, client, outcome and time range, including attempts that failed."""

from __future__ import annotations

import pytest

from tests.audit_seed import ago, seed_bindings, seed_events
from tests.conftest import axb, rows

PASSENGER, DRIVER, NEW_DRIVER = "13800000001", "13900000002", "13900000003"


def actions(answer) -> list[tuple[str, str]]:
    assert answer.status_code == 200, answer.get_json()
    return [(event["action"], event["outcome"]) for event in answer.get_json()["items"]]


@pytest.fixture
def driver_swap(rides):
    """A trip whose driver was swapped mid-way, then ended."""
    trip = rides.bind(out_id="trip-7")
    assert (
        rides.patch(f"/v1/bindings/{trip['id']}", json={"phone_b": NEW_DRIVER}).status_code == 200
    )
    assert rides.delete(f"/v1/bindings/{trip['id']}").status_code == 200
    return trip


@pytest.mark.parametrize(
    ("scopes", "status"), [(("bindings:read", "bindings:write"), 403), (("audit:read",), 200)]
)
def test_only_auditors_read_the_event_history(make_caller, scopes, status):
    assert make_caller("someone", scopes=scopes).get("/v1/events").status_code == status


def test_a_binding_timeline_newest_first(auditor, driver_swap):
    answer = auditor.get(f"/v1/events?binding_id={driver_swap['id']}")

    assert actions(answer) == [
        ("UnbindSubscription", "ok"),
        ("UnbindSubscription", "requested"),
        ("UpdateSubscription.updateNoB", "ok"),
        ("UpdateSubscription.updateNoB", "requested"),
        ("BindAxb", "ok"),
        ("BindAxb", "requested"),
    ]
    event = answer.get_json()["items"][-1]
    assert event["client"] == "rides"
    assert event["params"]["PhoneNoB"] == DRIVER


def test_the_swapped_out_driver_still_finds_the_trip(auditor, driver_swap):
    """Events keep the numbers the binding had when they were written."""
    old = actions(auditor.get(f"/v1/events?phone={DRIVER}"))
    new = actions(auditor.get(f"/v1/events?phone_b={NEW_DRIVER}"))

    assert old == [
        ("UpdateSubscription.updateNoB", "requested"),
        ("BindAxb", "ok"),
        ("BindAxb", "requested"),
    ]
    assert new == [
        ("UnbindSubscription", "ok"),
        ("UnbindSubscription", "requested"),
        ("UpdateSubscription.updateNoB", "ok"),
    ]
    assert (
        auditor.get(f"/v1/events?phone_a={PASSENGER}").get_json()["items"][0]["binding_id"]
        == driver_swap["id"]
    )


def test_a_failed_bind_is_found_by_phone_outcome_and_code(auditor, rides, emulator):
    emulator.fault(action="BindAxb", code="isv.NO_AVAILABLE_NUMBER", count=1)
    assert rides.post("/v1/bindings", json=axb(phone_a="13800000042")).status_code == 409
    rides.bind()

    by_phone = actions(auditor.get("/v1/events?phone=+8613800000042"))
    failures = auditor.get("/v1/events?outcome=error").get_json()["items"]
    by_code = actions(auditor.get("/v1/events?upstream_code=isv.NO_AVAILABLE_NUMBER"))

    assert by_phone == [("BindAxb", "error"), ("BindAxb", "requested")]
    assert [(e["upstream_code"], e["http_status"]) for e in failures] == [
        ("isv.NO_AVAILABLE_NUMBER", 409)
    ]
    assert by_code == [("BindAxb", "error")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "action=UnbindSubscription",
            [("UnbindSubscription", "ok"), ("UnbindSubscription", "requested")],
        ),
        ("outcome=requested&action=BindAxb", [("BindAxb", "requested")]),
        (
            "upstream_code=OK&action=UpdateSubscription.updateNoB",
            [("UpdateSubscription.updateNoB", "ok")],
        ),
        (
            "out_id=trip-7&status=unbound&type=AXB&action=BindAxb",
            [("BindAxb", "ok"), ("BindAxb", "requested")],
        ),
        ("out_id=trip-8", []),
        ("client=rides&outcome=ok&action=BindAxb", [("BindAxb", "ok")]),
        ("client=scooters", []),
    ],
)
def test_every_event_filter(auditor, driver_swap, query, expected):
    assert actions(auditor.get(f"/v1/events?{query}")) == expected


def test_binding_level_filters_reach_the_events(auditor, driver_swap):
    binding = driver_swap
    by_subs = actions(auditor.get(f"/v1/events?subs_id={binding['subs_id']}&action=BindAxb"))
    by_pool = actions(auditor.get(f"/v1/events?pool_key={binding['pool_key']}"))
    by_x = actions(auditor.get(f"/v1/events?phone_x={binding['phone_x']}&outcome=ok"))

    assert by_subs == [("BindAxb", "ok"), ("BindAxb", "requested")]
    assert len(by_pool) == 6
    assert by_x == [
        ("UnbindSubscription", "ok"),
        ("UpdateSubscription.updateNoB", "ok"),
        ("BindAxb", "ok"),
    ]


def test_time_ranges_on_the_event_and_on_its_binding(rides, auditor, gateway):
    seed_bindings(gateway, "rides", 3, ago(days=40), tag="march")
    seed_bindings(gateway, "rides", 2, ago(days=5), tag="april")
    seed_events(gateway, tag="march")
    seed_events(gateway, tag="april")
    month_ago = ago(days=30).isoformat()

    recent = auditor.get("/v1/events", query_string={"from": month_ago}).get_json()["items"]
    older = auditor.get("/v1/events", query_string={"to": month_ago}).get_json()["items"]
    of_old_bindings = auditor.get("/v1/events", query_string={"created_to": month_ago}).get_json()[
        "items"
    ]

    assert len(recent) == 4 and len(older) == 6
    assert {e["id"] for e in of_old_bindings} == {e["id"] for e in older}


def test_a_bindings_cursor_is_refused_by_the_events_list(rides, auditor):
    rides.bind()
    rides.bind(phone_a="13800000005")
    cursor = auditor.get("/v1/bindings?limit=1").get_json()["next_cursor"]

    answer = auditor.get("/v1/events", query_string={"cursor": cursor})

    assert answer.status_code == 422
    assert "cursor" in answer.get_json()["errors"]


def test_event_pages_hold_while_new_events_arrive(rides, auditor, gateway):
    seed_bindings(gateway, "rides", 40, ago(hours=1), tag="busy")
    seed_events(gateway, tag="busy", per_binding=3)
    seen: list[int] = []
    cursor = None
    while True:
        query = {"limit": 45, **({"cursor": cursor} if cursor else {})}
        body = auditor.get("/v1/events", query_string=query).get_json()
        seen += [event["id"] for event in body["items"]]
        rides.bind(phone_a=f"1380000{len(seen):04d}")
        cursor = body["next_cursor"]
        if cursor is None:
            break

    expected = rows(
        gateway,
        "SELECT id FROM binding_events WHERE action = 'BindAxb' AND params->>'OutId' = 'seeded' ORDER BY occurred_at DESC, id DESC",
    )
    assert len(seen) == len(set(seen)) == 120
    assert seen == [row.id for row in expected]
