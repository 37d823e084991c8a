"""Alibaba bound, but the history could not record it: the X is released, not leaked."""

import pytest

from tests.conftest import axb, rows

FAIL_ON_ACTIVATION = """
CREATE FUNCTION refuse_activation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'active' AND NEW.out_id = 'doomed' THEN
    RAISE EXCEPTION 'disk full (injected)';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER refuse_activation BEFORE UPDATE ON bindings
  FOR EACH ROW EXECUTE FUNCTION refuse_activation();
"""


@pytest.fixture
def failing_history(gateway):
    """The database refuses to record one binding's activation, as a full disk would."""
    rows(gateway, FAIL_ON_ACTIVATION)
    yield
    rows(gateway, "DROP TRIGGER refuse_activation ON bindings; DROP FUNCTION refuse_activation()")


def test_unrecordable_bind_is_released_upstream(rides, emulator, gateway, failing_history):
    answer = rides.post("/v1/bindings", json=axb(out_id="doomed"))

    assert answer.status_code == 503
    assert answer.get_json()["code"] == "database_unavailable"
    (bind,) = emulator.calls("BindAxb")
    (unbind,) = emulator.calls("UnbindSubscription")
    assert unbind["params"]["PoolKey"] == bind["params"]["PoolKey"]
    assert unbind["params"]["SecretNo"]
    (binding,) = rows(gateway, "SELECT status FROM bindings")
    assert binding.status == "failed"
    actions = rows(gateway, "SELECT action, outcome FROM binding_events ORDER BY id")
    assert [tuple(a) for a in actions] == [
        ("BindAxb", "requested"),
        ("BindAxb", "ok"),
        ("UnbindSubscription", "ok"),
    ]


def test_other_bindings_are_unaffected(rides, failing_history):
    assert rides.post("/v1/bindings", json=axb(out_id="fine")).status_code == 201
