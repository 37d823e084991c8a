"""A trip is accepted: the backend binds passenger and driver to a virtual number."""

from datetime import UTC, datetime, timedelta

import pytest

from emulator import DEFAULT_POOL_KEY
from tests.conftest import axb, rows


def test_axb_binding_is_created_recorded_and_located(rides, emulator, gateway):
    answer = rides.post("/v1/bindings", json=axb(out_id="trip-42", expect_city="杭州"))

    assert answer.status_code == 201
    binding = answer.get_json()
    assert answer.headers["Location"] == f"/v1/bindings/{binding['id']}"
    assert binding["status"] == "active"
    assert binding["type"] == "AXB"
    assert binding["phone_a"] == "13800000001"
    assert binding["phone_b"] == "13900000002"
    assert binding["phone_x"] and binding["subs_id"]
    assert binding["out_id"] == "trip-42"
    assert binding["client"] == "rides"
    assert binding["expires_at"].endswith("Z")

    stored = rows(gateway, "SELECT status, subs_id, phone_x FROM bindings")
    assert [tuple(r) for r in stored] == [("active", binding["subs_id"], binding["phone_x"])]
    events = rows(
        gateway,
        "SELECT action, outcome, upstream_code, http_status FROM binding_events ORDER BY id",
    )
    assert [tuple(e) for e in events] == [
        ("BindAxb", "requested", None, None),
        ("BindAxb", "ok", "OK", 201),
    ]


def test_bind_sends_alibaba_exactly_its_parameters(rides, emulator):
    expires = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    rides.bind(
        expires_at=expires.isoformat(),
        ttl_seconds=None,
        expect_city="杭州",
        out_id="trip-7",
        record_calls=True,
        call_restrict="CONTROL_BX_DISABLE",
    )

    (call,) = emulator.calls("BindAxb")
    params = call["params"]
    china = (expires + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert params["Expiration"] == china
    assert params["PoolKey"] == DEFAULT_POOL_KEY
    assert params["PhoneNoA"] == "13800000001"
    assert params["PhoneNoB"] == "13900000002"
    assert params["ExpectCity"] == "杭州"
    assert params["OutId"] == "trip-7"
    assert params["IsRecordingEnabled"] == "True"
    assert params["CallRestrict"] == "CONTROL_BX_DISABLE"
    assert "PhoneNoX" not in params
    assert "None" not in params.values()


def test_axn_binding_needs_no_b(rides, emulator):
    binding = rides.bind(type="AXN", phone_b=None)

    assert binding["type"] == "AXN"
    assert binding["phone_b"] is None
    assert "PhoneNoB" not in emulator.calls("BindAxn")[0]["params"]


@pytest.mark.parametrize("written", ["+8613800000001", "8613800000001", " 13800000001 "])
def test_phone_numbers_are_normalised(rides, written):
    assert rides.bind(phone_a=written)["phone_a"] == "13800000001"


def test_landline_numbers_keep_their_area_code(rides):
    assert rides.bind(phone_b="057188992688")["phone_b"] == "057188992688"


def test_pinned_x_is_used(rides, emulator):
    first = rides.bind()
    second = rides.bind(phone_a="13800000003", phone_b="13900000004", phone_x=first["phone_x"])

    assert second["phone_x"] == first["phone_x"]
    assert emulator.calls("BindAxb")[-1]["params"]["PhoneNoX"] == first["phone_x"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"type": "AXG"}, "type"),
        ({"type": None}, "type"),
        ({"pool_key": None}, "pool_key"),
        ({"phone_a": None}, "phone_a"),
        ({"phone_a": "12345"}, "phone_a"),
        ({"phone_a": "+14155550100"}, "phone_a"),
        ({"phone_b": None}, "phone_b"),
        ({"phone_b": "13800000001"}, "phone_b"),
        ({"phone_x": "abc"}, "phone_x"),
        ({"ttl_seconds": 119}, "ttl_seconds"),
        ({"ttl_seconds": "soon"}, "ttl_seconds"),
        ({"ttl_seconds": None}, "expires_at"),
        ({"expires_at": "2030-01-01T00:00:00"}, "expires_at"),
        ({"expires_at": "2030-01-01T00:00:00Z"}, "expires_at"),
        ({"out_id": "x" * 65}, "out_id"),
        ({"call_restrict": "CONTROL_ALL"}, "call_restrict"),
        ({"record_calls": "maybe"}, "record_calls"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(rides, emulator, overrides, field):
    answer = rides.post("/v1/bindings", json=axb(**overrides))

    assert answer.status_code == 422
    problem = answer.get_json()
    assert answer.content_type == "application/problem+json"
    assert problem["code"] == "validation_failed"
    assert field in problem["errors"]
    assert emulator.calls("BindAxb") == []


def test_expiry_too_close_is_refused(rides):
    soon = (datetime.now(UTC) + timedelta(seconds=90)).isoformat()
    answer = rides.post("/v1/bindings", json=axb(ttl_seconds=None, expires_at=soon))

    assert answer.status_code == 422
    assert "expires_at" in answer.get_json()["errors"]


def test_malformed_json_is_a_400_problem(rides):
    answer = rides.post("/v1/bindings", data="{not json", content_type="application/json")

    assert answer.status_code == 400
    assert answer.get_json()["code"] == "malformed_request"


def test_a_pool_outside_the_allow_list_is_forbidden(make_caller, emulator):
    caller = make_caller("scooters", pools=["FC999"])
    answer = caller.post("/v1/bindings", json=axb())

    assert answer.status_code == 403
    assert answer.get_json()["code"] == "forbidden"
    assert emulator.calls("BindAxb") == []
