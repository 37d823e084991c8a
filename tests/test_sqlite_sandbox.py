"""`make run` uses SQLite: the core path must work there too (PostgreSQL is the record)."""

import json

import flask_migrate

from app import create_app
from tests.conftest import Caller, axb, rows, test_settings


def test_bind_and_unbind_on_the_embedded_database(emulator, tmp_path):
    emulator.reset()  # no fault another test left behind
    app = create_app(test_settings(emulator.url, database_url=f"sqlite:///{tmp_path}/gateway.db"))
    with app.app_context():
        flask_migrate.upgrade()
    runner = app.test_cli_runner()
    token = runner.invoke(args=["clients", "create", "rides", "--scope", "bindings:write"]).output
    rides = Caller(app.test_client(), token.splitlines()[-1])

    created = rides.post("/v1/bindings", json=axb())
    assert created.status_code == 201
    unbound = rides.delete(f"/v1/bindings/{created.get_json()['id']}")
    assert unbound.status_code == 200
    assert unbound.get_json()["status"] == "unbound"
    assert unbound.get_json()["client"] == "rides"
    # The history keeps the very parameters Alibaba was sent.
    subs_id = created.get_json()["subs_id"]
    (sent,) = [c for c in emulator.calls("UnbindSubscription") if c["params"]["SubsId"] == subs_id]
    (requested,) = rows(
        app,
        "SELECT params FROM binding_events"
        " WHERE action = 'UnbindSubscription' AND outcome = 'requested'",
    )
    assert json.loads(requested.params) == {
        name: sent["params"][name] for name in ("PoolKey", "SubsId", "SecretNo")
    }
