"""Request ids, health probes, the spec, and errors that are nobody's fault but ours."""

import pytest

from app import create_app
from tests.conftest import test_settings


def test_a_valid_request_id_is_echoed(http):
    answer = http.get("/healthz", headers={"X-Request-ID": "trip-42/attempt-1"})

    assert answer.headers["X-Request-ID"] == "trip-42/attempt-1"


@pytest.mark.parametrize("offered", ["", "has space", "x" * 129, "ünïcode"])
def test_an_invalid_request_id_is_replaced(http, offered):
    answer = http.get("/healthz", headers={"X-Request-ID": offered})

    assert answer.headers["X-Request-ID"] != offered
    assert len(answer.headers["X-Request-ID"]) == 32


def test_the_request_id_reaches_the_problem_body(http):
    answer = http.get("/v1/bindings/not-a-uuid", headers={"X-Request-ID": "abc-123"})

    assert answer.status_code == 404
    assert answer.get_json()["request_id"] == "abc-123"


def test_wrong_method_is_a_405_problem(rides):
    answer = rides.http.put("/v1/bindings", headers={"Authorization": f"Bearer {rides.token}"})

    assert answer.status_code == 405
    assert answer.get_json()["code"] == "method_not_allowed"
    assert set(answer.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_health_and_readiness(http):
    assert http.get("/healthz").status_code == 200
    ready = http.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {
        "ready": True,
        "checks": {"database": "ok", "schema": "ok", "upstream_circuit": "closed"},
    }


def test_openapi_spec_documents_the_contract(http):
    spec = http.get("/openapi.json").get_json()

    assert spec["info"]["title"] == "Privacy-number gateway"
    paths = spec["paths"]
    assert {"post"} <= set(paths["/v1/bindings"])
    assert {"get", "patch", "delete"} <= set(paths["/v1/bindings/{binding_id}"])
    assert "/v1/bindings/{binding_id}/call-status" in paths
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert (
        "application/problem+json" in paths["/v1/bindings"]["post"]["responses"]["422"]["content"]
    )
    assert http.get("/docs").status_code == 200


def test_an_unexpected_exception_is_a_generic_500_problem(emulator):
    def explode():
        raise RuntimeError("secret internals")

    app = create_app(test_settings(emulator.url))
    app.add_url_rule("/__test/explode", "explode", explode)
    answer = app.test_client().get("/__test/explode")

    assert answer.status_code == 500
    assert answer.get_json()["code"] == "internal_error"
    assert "secret internals" not in answer.get_data(as_text=True)
