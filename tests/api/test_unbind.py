"""The trip ends: unbind, safely, as often as the backend retries."""

from tests.conftest import Caller, axb, rows

UNBIND_EVENTS = (
    "SELECT outcome, params FROM binding_events "
    "WHERE binding_id = :id AND action = 'UnbindSubscription' ORDER BY id"
)


def test_unbind_then_again_calls_alibaba_once(rides, emulator):
    binding = rides.bind()
    path = f"/v1/bindings/{binding['id']}"

    first = rides.delete(path)
    second = rides.delete(path)

    assert first.status_code == second.status_code == 200
    assert first.get_json()["status"] == "unbound"
    assert first.get_json()["unbound_at"] is not None
    assert second.get_json() == first.get_json()
    (call,) = emulator.calls("UnbindSubscription")
    assert call["params"]["SecretNo"] == binding["phone_x"]
    assert call["params"]["SubsId"] == binding["subs_id"]


def test_already_gone_upstream_counts_as_unbound_and_is_recorded(rides, emulator, gateway):
    binding = rides.bind()
    emulator.fault(action="UnbindSubscription", code="isv.SUBS_NOT_EXIST", count=1)

    answer = rides.delete(f"/v1/bindings/{binding['id']}")

    assert answer.status_code == 200
    assert answer.get_json()["status"] == "unbound"
    events = rows(
        gateway,
        "SELECT outcome, upstream_code, http_status FROM binding_events WHERE action = 'UnbindSubscription' ORDER BY id",
    )
    assert [tuple(e) for e in events] == [
        ("requested", None, None),
        ("error", "isv.SUBS_NOT_EXIST", 200),
    ]


def test_unbind_failure_keeps_the_binding_active(rides, emulator):
    binding = rides.bind()
    emulator.fault(action="UnbindSubscription", code="isp.SYSTEM_ERROR", count=1)

    answer = rides.delete(f"/v1/bindings/{binding['id']}")

    assert answer.status_code == 502
    assert answer.get_json()["upstream"]["code"] == "isp.SYSTEM_ERROR"
    assert rides.get(f"/v1/bindings/{binding['id']}").get_json()["status"] == "active"


def test_timeline_lists_every_step_oldest_first(rides):
    binding = rides.bind()
    path = f"/v1/bindings/{binding['id']}"
    rides.patch(path, json={"phone_b": "13900000009"})
    rides.delete(path)

    items = rides.get(f"{path}/events").get_json()["items"]

    assert [(e["action"], e["outcome"]) for e in items] == [
        ("BindAxb", "requested"),
        ("BindAxb", "ok"),
        ("UpdateSubscription.updateNoB", "requested"),
        ("UpdateSubscription.updateNoB", "ok"),
        ("UnbindSubscription", "requested"),
        ("UnbindSubscription", "ok"),
    ]
    assert all(e["client"] == "rides" and e["binding_id"] == binding["id"] for e in items)
    assert items[1]["upstream_request_id"] and items[1]["latency_ms"] >= 0
    assert items[1]["params"]["PhoneNoA"] == "13800000001"


def test_the_request_event_holds_what_alibaba_was_sent(rides, emulator, gateway):
    binding = rides.bind()

    rides.delete(f"/v1/bindings/{binding['id']}")

    (call,) = emulator.calls("UnbindSubscription")
    requested, answered = rows(gateway, UNBIND_EVENTS, id=binding["id"])
    assert requested.outcome == "requested"
    assert requested.params == answered.params
    assert {k: call["params"][k] for k in requested.params} == requested.params


def test_another_clients_unbind_is_a_404_that_writes_nothing(rides, make_caller, emulator, gateway):
    binding = rides.bind()
    other = make_caller("deliveries")

    answer = other.delete(f"/v1/bindings/{binding['id']}")

    assert answer.status_code == 404
    assert rows(gateway, UNBIND_EVENTS, id=binding["id"]) == []
    assert emulator.calls("UnbindSubscription") == []


def test_while_the_circuit_is_open_nothing_is_written_ahead(
    rides, emulator, gateway, another_worker
):
    app = another_worker(circuit_threshold=1, circuit_cooldown_s=60)
    caller = Caller(app.test_client(), rides.token)
    live, done = caller.bind(), caller.bind(phone_a="13800000007")
    assert caller.delete(f"/v1/bindings/{done['id']}").status_code == 200
    emulator.fault(action="BindAxb", code="InternalError", http_status=500, count=1)
    assert caller.post("/v1/bindings", json=axb(phone_a="13800000008")).status_code == 502

    refused = caller.delete(f"/v1/bindings/{live['id']}")
    again = caller.delete(f"/v1/bindings/{done['id']}")

    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) >= 1
    assert rows(gateway, UNBIND_EVENTS, id=live["id"]) == []
    assert again.status_code == 200
    assert again.get_json()["status"] == "unbound"
    assert len(emulator.calls("UnbindSubscription")) == 1
