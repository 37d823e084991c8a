"""An operator asks Alibaba what it knows and the gateway reconciles its record."""

from tests.conftest import rows


def test_refresh_without_drift_changes_nothing(rides, gateway):
    binding = rides.bind()

    answer = rides.get(f"/v1/bindings/{binding['id']}?refresh=true")

    assert answer.status_code == 200
    assert answer.get_json() == binding
    assert rows(gateway, "SELECT 1 FROM binding_events WHERE action = 'Reconciled'") == []


def test_refresh_repairs_drift_and_records_it(rides, gateway):
    binding = rides.bind()
    rows(gateway, "UPDATE bindings SET phone_b = '13900000099' RETURNING id")

    answer = rides.get(f"/v1/bindings/{binding['id']}?refresh=true")

    assert answer.get_json()["phone_b"] == "13900000002"
    (event,) = rows(gateway, "SELECT params FROM binding_events WHERE action = 'Reconciled'")
    assert event.params == {"from": {"phone_b": "13900000099"}, "to": {"phone_b": "13900000002"}}


def test_refresh_of_a_binding_gone_upstream_marks_it_unbound(rides, emulator):
    binding = rides.bind()
    emulator.fault(action="QuerySubscriptionDetail", code="isv.SUBS_NOT_EXIST", count=1)

    answer = rides.get(f"/v1/bindings/{binding['id']}?refresh=true")

    assert answer.status_code == 200
    assert answer.get_json()["status"] == "unbound"
