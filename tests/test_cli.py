"""Operators manage callers from the command line; tokens are shown once, never stored."""

from app.ids import hash_token
from tests.conftest import rows


def run(gateway, *args):
    return gateway.test_cli_runner().invoke(args=list(args))


def test_create_prints_the_token_alone_on_the_last_line_and_stores_its_hash(gateway):
    result = run(
        gateway, "clients", "create", "rides", "--scope", "bindings:write", "--pool", "FC1"
    )

    assert result.exit_code == 0
    token = result.output.splitlines()[-1]
    assert token.startswith("pgw_") and " " not in token
    (client,) = rows(gateway, "SELECT token_hash, scopes, pools FROM api_clients")
    assert client.token_hash == hash_token(token)
    assert token not in str(tuple(client))
    assert client.pools == ["FC1"]


def test_list_shows_clients_but_no_token(gateway):
    token = run(
        gateway, "clients", "create", "rides", "--scope", "bindings:read"
    ).output.splitlines()[-1]
    run(gateway, "clients", "create", "old", "--scope", "bindings:read")
    run(gateway, "clients", "revoke", "old")

    output = run(gateway, "clients", "list").output

    assert "rides\tbindings:read\tpools=*\trate=default\tactive" in output
    assert "old\tbindings:read\tpools=*\trate=default\trevoked" in output
    assert token not in output


def test_bad_scope_and_duplicate_names_are_refused(gateway):
    assert run(gateway, "clients", "create", "x", "--scope", "root").exit_code != 0
    run(gateway, "clients", "create", "x", "--scope", "bindings:read")
    duplicate = run(gateway, "clients", "create", "x", "--scope", "bindings:read")
    assert duplicate.exit_code != 0
    assert "exists" in duplicate.output


def test_revoking_an_unknown_client_fails(gateway):
    result = run(gateway, "clients", "revoke", "ghost")

    assert result.exit_code != 0
    assert "ghost" in result.output


def test_expire_stores_derived_expiry_and_records_it(gateway, rides):
    binding = rides.bind()
    rows(gateway, "UPDATE bindings SET expires_at = now() - interval '1 minute'")

    assert run(gateway, "bindings", "expire").output.splitlines()[0] == "expired 1 bindings"
    assert rows(gateway, "SELECT status FROM bindings")[0].status == "expired"
    events = rows(
        gateway, "SELECT action FROM binding_events WHERE binding_id = :id", id=binding["id"]
    )
    assert events[-1].action == "Expired"
    assert run(gateway, "bindings", "expire").output.splitlines()[0] == "expired 0 bindings"
