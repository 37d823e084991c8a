"""Alibaba is down: after a few failures the gateway answers 503 at once, then recovers."""

import time

from tests.conftest import Caller, axb, rows


def test_failures_open_the_circuit_and_later_calls_fail_fast(rides, emulator, gateway):
    emulator.fault(action="*", code="ServiceUnavailable", http_status=503, count=5)
    for _ in range(5):
        assert rides.post("/v1/bindings", json=axb()).status_code == 502

    answer = rides.post("/v1/bindings", json=axb())

    assert answer.status_code == 503
    assert answer.get_json()["code"] == "upstream_unavailable"
    assert int(answer.headers["Retry-After"]) >= 1
    assert len(emulator.calls("BindAxb")) == 5
    assert len(rows(gateway, "SELECT id FROM bindings")) == 5
    assert gateway.test_client().get("/readyz").get_json()["checks"]["upstream_circuit"] == "open"


def test_after_the_cooldown_a_successful_probe_closes_the_circuit(rides, emulator, another_worker):
    app = another_worker(circuit_threshold=1, circuit_cooldown_s=0.3)
    caller = Caller(app.test_client(), rides.token)
    emulator.fault(action="BindAxb", code="InternalError", http_status=500, count=1)
    assert caller.post("/v1/bindings", json=axb()).status_code == 502
    assert caller.post("/v1/bindings", json=axb()).status_code == 503

    time.sleep(0.35)

    assert caller.post("/v1/bindings", json=axb()).status_code == 201
    assert app.extensions["dypls"].breaker.state == "closed"
    assert len(emulator.calls("BindAxb")) == 2


def test_reads_retry_transient_failures_and_record_each_try(rides, emulator, gateway):
    binding = rides.bind()
    emulator.fault(action="QuerySubscriptionDetail", code="isp.SYSTEM_ERROR", count=2)

    answer = rides.get(f"/v1/bindings/{binding['id']}?refresh=true")

    assert answer.status_code == 200
    assert len(emulator.calls("QuerySubscriptionDetail")) == 3
    events = rows(
        gateway,
        "SELECT upstream_code FROM binding_events WHERE action = 'QuerySubscriptionDetail' ORDER BY id",
    )
    assert [e.upstream_code for e in events] == ["isp.SYSTEM_ERROR", "isp.SYSTEM_ERROR", "OK"]


def test_binds_are_never_retried(rides, emulator):
    emulator.fault(action="BindAxb", code="isp.SYSTEM_ERROR", count=1)

    assert rides.post("/v1/bindings", json=axb()).status_code == 502
    assert len(emulator.calls("BindAxb")) == 1
