"""Mid-trip changes: swap the driver, move the passenger, extend, restrict calls."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import rows


@pytest.mark.parametrize(
    ("body", "operation", "field", "expected"),
    [
        ({"phone_b": "13900000009"}, "updateNoB", "phone_b", "13900000009"),
        ({"phone_a": "+8613800000009"}, "updateNoA", "phone_a", "13800000009"),
        (
            {"call_restrict": "CONTROL_AX_DISABLE"},
            "updateCallRestrict",
            "call_restrict",
            "CONTROL_AX_DISABLE",
        ),
    ],
)
def test_one_change_per_request(rides, emulator, gateway, body, operation, field, expected):
    binding = rides.bind()

    answer = rides.patch(f"/v1/bindings/{binding['id']}", json=body)

    assert answer.status_code == 200
    assert answer.get_json()[field] == expected
    (call,) = emulator.calls("UpdateSubscription")
    assert call["params"]["OperateType"] == operation
    assert call["params"]["SubsId"] == binding["subs_id"]
    assert call["params"]["PhoneNoX"] == binding["phone_x"]
    events = rows(
        gateway,
        "SELECT action, outcome FROM binding_events WHERE action LIKE 'Update%' ORDER BY id",
    )
    assert [tuple(e) for e in events] == [
        (f"UpdateSubscription.{operation}", "requested"),
        (f"UpdateSubscription.{operation}", "ok"),
    ]


def test_extending_the_expiry_sends_china_time(rides, emulator):
    binding = rides.bind()
    later = (datetime.now(UTC) + timedelta(hours=5)).replace(microsecond=0)

    answer = rides.patch(f"/v1/bindings/{binding['id']}", json={"expires_at": later.isoformat()})

    assert answer.status_code == 200
    assert answer.get_json()["expires_at"] == later.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    params = emulator.calls("UpdateSubscription")[0]["params"]
    assert params["OperateType"] == "updateExpire"
    assert params["Expiration"] == (later + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")


def test_ttl_seconds_also_extends(rides, emulator):
    binding = rides.bind()

    answer = rides.patch(f"/v1/bindings/{binding['id']}", json={"ttl_seconds": 7200})

    assert answer.status_code == 200
    assert answer.get_json()["expires_at"] > binding["expires_at"]


def test_null_call_restrict_clears_it(rides, emulator):
    binding = rides.bind(call_restrict="CONTROL_BX_DISABLE")

    answer = rides.patch(f"/v1/bindings/{binding['id']}", json={"call_restrict": None})

    assert answer.status_code == 200
    assert answer.get_json()["call_restrict"] is None
    assert (
        emulator.calls("UpdateSubscription")[0]["params"]["CallRestrict"] == "CONTROL_CLEAR_DISABLE"
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"phone_a": "13800000009", "phone_b": "13900000009"},
        {"ttl_seconds": 600, "call_restrict": None},
    ],
)
def test_exactly_one_change_is_required(rides, emulator, body):
    binding = rides.bind()

    answer = rides.patch(f"/v1/bindings/{binding['id']}", json=body)

    assert answer.status_code == 422
    assert answer.get_json()["code"] == "validation_failed"
    assert emulator.calls("UpdateSubscription") == []


def test_an_unbound_binding_cannot_change(rides, emulator):
    binding = rides.bind()
    rides.delete(f"/v1/bindings/{binding['id']}")

    answer = rides.patch(f"/v1/bindings/{binding['id']}", json={"phone_b": "13900000009"})

    assert answer.status_code == 409
    assert answer.get_json()["code"] == "binding_not_active"
    assert emulator.calls("UpdateSubscription") == []


def test_a_binding_past_its_expiry_reads_expired_and_cannot_change(rides, gateway):
    binding = rides.bind()
    rows(gateway, "UPDATE bindings SET expires_at = now() - interval '1 second' RETURNING id")

    assert rides.get(f"/v1/bindings/{binding['id']}").get_json()["status"] == "expired"
    answer = rides.patch(f"/v1/bindings/{binding['id']}", json={"phone_b": "13900000009"})
    assert answer.status_code == 409
