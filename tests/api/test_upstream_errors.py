"""When Alibaba says no, stalls or vanishes: one mapping, one problem shape, one attempt."""

import pytest

from tests.conftest import axb, rows

ERROR_TABLE = [
    ("isv.ILLEGAL_ARGUMENT", 200, 422, "upstream_rejected_input"),
    ("isv.INVALID_PARAMETERS", 200, 422, "upstream_rejected_input"),
    ("isv.MOBILE_NUMBER_ILLEGAL", 200, 422, "upstream_rejected_input"),
    ("isv.EXPIRE_DATE_ILLEGAL", 200, 422, "upstream_rejected_input"),
    ("isv.POOLKEY_NOT_EXISTS", 200, 422, "upstream_rejected_input"),
    ("isv.NO_AVAILABLE_NUMBER", 200, 409, "no_available_number"),
    ("isv.BIND_CONFLICT", 200, 409, "bind_conflict"),
    ("isv.UPDATE_CONFLICT", 200, 409, "bind_conflict"),
    ("isv.NO_USED_BY_OTHERS", 200, 409, "bind_conflict"),
    ("isv.FORBIDDEN_ACTION", 200, 409, "upstream_forbidden"),
    ("isv.SUBS_NOT_EXIST", 200, 409, "binding_not_active"),
    ("isv.NO_NOT_EXIST", 200, 422, "unknown_number"),
    ("isv.FLOW_LIMIT", 200, 429, "upstream_rate_limited"),
    ("Throttling.User", 400, 429, "upstream_rate_limited"),
    ("isp.RAM_PERMISSION_DENY", 200, 502, "upstream_misconfigured"),
    ("Forbidden.RAM", 403, 502, "upstream_misconfigured"),
    ("isv.OUT_OF_SERVICE", 200, 502, "upstream_misconfigured"),
    ("isv.PRODUCT_UN_SUBSCRIPT", 200, 502, "upstream_misconfigured"),
    ("isv.PRODUCT_UNSUBSCRIBE", 200, 502, "upstream_misconfigured"),
    ("isv.ACCOUNT_NOT_EXISTS", 200, 502, "upstream_misconfigured"),
    ("isv.ACCOUNT_ABNORMAL", 200, 502, "upstream_misconfigured"),
    ("isv.PARTNER_NOT_EXIST", 200, 502, "upstream_misconfigured"),
    ("isv.PARTNER_IS_CLOSED", 200, 502, "upstream_misconfigured"),
    ("InvalidAccessKeyId.NotFound", 404, 502, "upstream_misconfigured"),
    ("isp.SYSTEM_ERROR", 200, 502, "upstream_error"),
    ("isp.DAO_EXCEPTION", 200, 502, "upstream_error"),
    ("isp.UNKNOWN_ERR_CODE", 200, 502, "upstream_error"),
    ("isp.GATEWAY_ERROR", 200, 502, "upstream_error"),
    ("isp.VENDOR_UNAVAILABLE", 200, 502, "upstream_error"),
    ("isv.VENDOR_BIND_FAILED", 200, 502, "upstream_error"),
    ("InternalError", 500, 502, "upstream_error"),
    ("ServiceUnavailable", 503, 502, "upstream_error"),
    ("isv.SOMETHING_NEW", 200, 502, "upstream_error"),
]


@pytest.mark.parametrize(("upstream_code", "upstream_http", "status", "code"), ERROR_TABLE)
def test_every_alibaba_code_maps_to_one_problem(
    rides, emulator, gateway, upstream_code, upstream_http, status, code
):
    emulator.fault(
        action="BindAxb", code=upstream_code, http_status=upstream_http, message="nope", count=1
    )

    answer = rides.post("/v1/bindings", json=axb())

    assert answer.status_code == status
    problem = answer.get_json()
    assert answer.content_type == "application/problem+json"
    assert problem["code"] == code
    assert problem["upstream"]["code"] == upstream_code
    assert problem["upstream"]["request_id"]
    assert problem["request_id"] == answer.headers["X-Request-ID"]
    if status == 429:
        assert int(answer.headers["Retry-After"]) >= 1
    assert len(emulator.calls("BindAxb")) == 1
    stored = rows(gateway, "SELECT status FROM bindings")
    assert [r.status for r in stored] == ["failed"]
    events = rows(
        gateway, "SELECT outcome, upstream_code, http_status FROM binding_events ORDER BY id"
    )
    assert [tuple(e) for e in events] == [
        ("requested", None, None),
        ("error", upstream_code, status),
    ]


def test_a_stalled_bind_is_a_504_after_exactly_one_attempt(rides, emulator, gateway):
    emulator.fault(action="BindAxb", stall_ms=2500, count=1)

    answer = rides.post("/v1/bindings", json=axb())

    assert answer.status_code == 504
    assert answer.get_json()["code"] == "upstream_timeout"
    assert "upstream" not in answer.get_json()
    assert len(emulator.wait_for_calls("BindAxb", 1)) == 1
    # The bind may have happened upstream: the binding stays pending for reconcile.
    assert [r.status for r in rows(gateway, "SELECT status FROM bindings")] == ["pending"]
    events = rows(
        gateway, "SELECT outcome, upstream_code, http_status FROM binding_events ORDER BY id"
    )
    assert [tuple(e) for e in events] == [
        ("requested", None, None),
        ("error", "SDK.HttpError", 504),
    ]


def test_a_dropped_connection_is_a_504(rides, emulator):
    emulator.fault(action="BindAxb", drop=True, count=1)

    answer = rides.post("/v1/bindings", json=axb())

    assert answer.status_code == 504
    assert len(emulator.calls("BindAxb")) == 1


def test_upstream_failures_on_reads_are_recorded_too(rides, emulator, gateway):
    binding = rides.bind()
    emulator.fault(action="QuerySubscriptionDetail", code="isp.SYSTEM_ERROR", count=3)

    answer = rides.get(f"/v1/bindings/{binding['id']}?refresh=true")

    assert answer.status_code == 502
    events = rows(
        gateway,
        "SELECT outcome, upstream_code FROM binding_events WHERE action = 'QuerySubscriptionDetail'",
    )
    assert [tuple(e) for e in events] == [("error", "isp.SYSTEM_ERROR")] * 3
