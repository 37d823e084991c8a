"""One noisy caller must not burn the account-wide Alibaba quota for everyone."""

from tests.conftest import Caller, axb


def test_a_client_over_its_limit_gets_429_with_retry_after(gateway, make_caller, emulator):
    with gateway.app_context():
        from app.services.clients import create_client

        token = create_client("chatty", ["bindings:write", "bindings:read"], None, "3/minute")
    chatty = Caller(gateway.test_client(), token)
    quiet = make_caller("quiet")

    answers = [chatty.post("/v1/bindings", json=axb(phone_a=f"1380000000{i}")) for i in range(4)]

    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    problem = answers[-1].get_json()
    assert problem["code"] == "rate_limited"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert len(emulator.calls("BindAxb")) == 3
    assert quiet.post("/v1/bindings", json=axb(phone_a="13800000009")).status_code == 201


def test_the_account_quota_is_shared_by_every_client(emulator, another_worker, make_caller):
    app = another_worker(account_rate_limit="2/minute")
    first, second = make_caller("first"), make_caller("second")
    first, second = Caller(app.test_client(), first.token), Caller(app.test_client(), second.token)

    assert first.post("/v1/bindings", json=axb()).status_code == 201
    assert second.post("/v1/bindings", json=axb(phone_a="13800000005")).status_code == 201
    third = first.post("/v1/bindings", json=axb(phone_a="13800000006"))

    assert third.status_code == 429
    assert len(emulator.calls("BindAxb")) == 2
    assert first.get("/v1/bindings?limit=1").status_code == 200


def test_a_bad_limit_is_refused_at_creation(gateway):
    result = gateway.test_cli_runner().invoke(
        args=["clients", "create", "x", "--scope", "bindings:read", "--rate-limit", "lots"]
    )

    assert result.exit_code != 0
    assert "rate_limit" in result.output
