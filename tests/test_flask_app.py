"""The gateway's Flask class answers as Flask's own would, only at less cost."""

from __future__ import annotations

import pytest
from flask import Flask, session

from app.flask_app import GatewayFlask

BODY = {"zeta": "Zürich", "alpha": [1, {"b": None, "a": True}], "when": "2026-11-27T10:00:00Z"}


def test_a_json_response_reads_byte_for_byte_as_flasks_own():
    ours, flasks = GatewayFlask(__name__), Flask(__name__)

    with ours.app_context():
        answer = ours.json.response(BODY).get_data()
    with flasks.app_context():
        expected = flasks.json.response(BODY).get_data()

    assert answer == expected
    assert answer.startswith(b'{"alpha":[1,{"a":true,"b":null}]')
    assert b"Z\\u00fcrich" in answer


def test_indented_json_still_goes_through_flask():
    app = GatewayFlask(__name__)

    assert app.json.dumps({"b": 1, "a": 2}, indent=2) == '{\n  "a": 2,\n  "b": 1\n}'


def test_plain_views_run_as_written_and_async_ones_are_still_flasks_business():
    app = GatewayFlask(__name__)

    def plain():
        return "plain"

    async def asynchronous():
        return "async"

    assert app.ensure_sync(plain) is plain
    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(asynchronous)


def test_the_api_keeps_no_session_even_with_a_secret_key():
    app = GatewayFlask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="set by mistake")

    @app.post("/remember")
    def remember():
        session["caller"] = "rides"
        return "kept"

    @app.get("/ping")
    def ping():
        return "pong"

    client = app.test_client()
    for _ in range(2):
        with pytest.raises(RuntimeError, match="session is unavailable"):
            client.post("/remember")
    answer = client.get("/ping")
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers
