"""Who may do what: tokens, scopes, and each client's own bindings."""

import time

import pytest

from tests.conftest import Caller, axb, rows


def test_no_token_is_401_with_a_bearer_challenge(http):
    answer = http.post("/v1/bindings", json=axb())

    assert answer.status_code == 401
    assert answer.get_json()["code"] == "unauthorized"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401(http):
    answer = http.get(
        "/v1/bindings/00000000-0000-0000-0000-000000000000",
        headers={"Authorization": "Bearer pgw_nope"},
    )

    assert answer.status_code == 401


def test_revoked_token_stops_working_at_once(gateway, rides):
    rides.bind()
    runner = gateway.test_cli_runner()
    assert runner.invoke(args=["clients", "revoke", "rides"]).exit_code == 0

    assert rides.post("/v1/bindings", json=axb()).status_code == 401


def test_rotated_token_replaces_the_old_one(gateway, rides):
    result = gateway.test_cli_runner().invoke(args=["clients", "rotate", "rides"])
    new_token = result.output.strip().splitlines()[-1]

    assert rides.post("/v1/bindings", json=axb()).status_code == 401
    rides.token = new_token
    assert rides.post("/v1/bindings", json=axb()).status_code == 201


@pytest.mark.parametrize(
    ("scopes", "method", "status"),
    [
        (("bindings:read",), "POST", 403),
        (("audit:read",), "POST", 403),
        (("bindings:write",), "POST", 201),
        (("bindings:write",), "GET", 403),
        (("bindings:read",), "GET", 404),
        (("audit:read",), "GET", 200),
        (("bindings:read",), "DELETE", 403),
        (("audit:read",), "PATCH", 403),
    ],
)
def test_scope_matrix(make_caller, rides, scopes, method, status):
    binding = rides.bind(phone_a="13800000011")
    caller = make_caller("other", scopes=scopes)
    paths = {"POST": "/v1/bindings", "GET": f"/v1/bindings/{binding['id']}"}
    path = paths.get(method, f"/v1/bindings/{binding['id']}")
    body = {"POST": axb(), "PATCH": {"phone_b": "13900000009"}}.get(method)

    answer = caller._call(method, path, json=body)

    assert answer.status_code == status
    if status == 403:
        assert answer.get_json()["code"] == "forbidden"


def test_another_clients_binding_is_not_found(make_caller, rides):
    binding = rides.bind()
    scooters = make_caller("scooters")
    path = f"/v1/bindings/{binding['id']}"

    for answer in (
        scooters.get(path),
        scooters.patch(path, json={"phone_b": "13900000009"}),
        scooters.delete(path),
        scooters.get(f"{path}/events"),
        scooters.get(f"{path}/call-status?caller=13800000001"),
    ):
        assert answer.status_code == 404
        assert answer.get_json()["code"] == "not_found"


def test_an_auditor_reads_every_binding_but_changes_none(rides, auditor, emulator):
    binding = rides.bind()
    path = f"/v1/bindings/{binding['id']}"

    assert auditor.get(path).get_json()["client"] == "rides"
    assert auditor.get(f"{path}/events").status_code == 200
    assert auditor.delete(path).status_code == 403
    assert auditor.get(f"{path}?refresh=true").status_code == 403
    assert emulator.calls("UnbindSubscription") == []


def test_a_token_revoked_on_another_host_stops_within_the_cache_time(
    another_worker, rides, gateway
):
    app = another_worker(token_cache_s=0.3)
    caller = Caller(app.test_client(), rides.token)
    assert caller.get("/v1/bindings").status_code == 200

    rows(gateway, "UPDATE api_clients SET revoked_at = now() WHERE name = 'rides'")
    time.sleep(0.35)

    assert caller.get("/v1/bindings").status_code == 401
