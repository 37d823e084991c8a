"""Before dialling, the app asks which number to call."""

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
