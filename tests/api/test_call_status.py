"""Before dialling, the app asks which number to call."""

import requests

from tests.conftest import rows


def test_a_healthy_binding_says_dial_x(rides, emulator):
    binding = rides.bind()

    answer = rides.get(f"/v1/bindings/{binding['id']}/call-status?caller=13800000001")

    assert answer.status_code == 200
    assert answer.get_json() == {
        "status": 1,
        "called_no": binding["phone_x"],
        "dial": {"number": binding["phone_x"], "kind": "x"},
        "source": "QueryCallStatus",
    }
    (call,) = emulator.calls("QueryCallStatus")
    assert call["params"]["CallNo"] == "13800000001"
    assert call["params"]["SubsId"] == binding["subs_id"]


def test_an_upstream_without_querycallstatus_falls_back_to_the_detail(rides, emulator, gateway):
    binding = rides.bind()
    emulator.fault(action="QueryCallStatus", code="InvalidApi.NotFound", http_status=404, count=1)

    answer = rides.get(f"/v1/bindings/{binding['id']}/call-status?caller=+8613900000002")

    assert answer.status_code == 200
    assert answer.get_json()["source"] == "QuerySubscriptionDetail"
    assert answer.get_json()["dial"] == {"number": binding["phone_x"], "kind": "x"}
    events = rows(
        gateway,
        "SELECT action, upstream_code FROM binding_events WHERE action LIKE 'Query%' ORDER BY id",
    )
    assert [tuple(e) for e in events] == [
        ("QueryCallStatus", "InvalidApi.NotFound"),
        ("QuerySubscriptionDetail", "OK"),
    ]


def test_caller_must_be_a_phone_number(rides):
    binding = rides.bind()

    answer = rides.get(f"/v1/bindings/{binding['id']}/call-status?caller=nobody")

    assert answer.status_code == 422
    assert "caller" in answer.get_json()["errors"]


def test_an_unbound_binding_has_nothing_to_dial(rides, emulator):
    binding = rides.bind()
    rides.delete(f"/v1/bindings/{binding['id']}")

    answer = rides.get(f"/v1/bindings/{binding['id']}/call-status?caller=13800000001")

    assert answer.status_code == 409
    assert emulator.calls("QueryCallStatus") == []


def dial_advice(emulator, **advice):
    requests.post(
        f"{emulator.url}/__emulator/call-status", json=advice, timeout=5
    ).raise_for_status()


def test_the_platform_asks_to_degrade_to_the_real_number(rides, emulator):
    binding = rides.bind()
    dial_advice(emulator, subs_id=binding["subs_id"], status=3)

    passenger = rides.get(f"/v1/bindings/{binding['id']}/call-status?caller=13800000001")
    driver = rides.get(f"/v1/bindings/{binding['id']}/call-status?caller=13900000002")

    assert passenger.get_json()["dial"] == {"number": "13900000002", "kind": "direct"}
    assert driver.get_json()["dial"] == {"number": "13800000001", "kind": "direct"}
    assert passenger.get_json()["status"] == 3


def test_a_temporary_x_is_dialled_when_the_platform_assigns_one(rides, emulator):
    binding = rides.bind()
    dial_advice(emulator, subs_id=binding["subs_id"], status=2, called_no="17099999999")

    answer = rides.get(f"/v1/bindings/{binding['id']}/call-status?caller=13800000001")

    assert answer.get_json()["dial"] == {"number": "17099999999", "kind": "temporary_x"}


def test_an_expired_binding_says_dial_nothing(rides, emulator):
    binding = rides.bind(ttl_seconds=300)
    requests.post(f"{emulator.url}/__emulator/clock", json={"advance_s": 600}, timeout=5)

    answer = rides.get(f"/v1/bindings/{binding['id']}/call-status?caller=13800000001")

    assert answer.status_code == 200
    assert answer.get_json()["status"] == 4
    assert answer.get_json()["dial"] == {"number": None, "kind": "none"}
