"""Alibaba bound, but the history could not record it: the X is released, not leaked."""

import threading
import time

import pytest
from flask import Flask

from tests.conftest import Caller, axb, rows

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


@pytest.fixture
def one_connection(another_worker) -> Flask:
    """A worker whose statement pool holds one connection and waits a third of a second for it."""
    return another_worker(db_statement_pool_size=1, db_pool_timeout_s=0.3)


def test_a_bind_whose_outcome_finds_no_free_connection_is_released_upstream(
    one_connection, rides, emulator, gateway
):
    """While Alibaba answers, the worker's every pooled connection is taken: the outcome
    cannot be written, so the X goes back rather than stay bound with no record of it."""
    emulator.fault(action="BindAxb", stall_ms=800, count=1)
    backend = Caller(one_connection.test_client(), rides.token)
    answers = []
    posting = threading.Thread(
        target=lambda: answers.append(backend.post("/v1/bindings", json=axb()))
    )
    posting.start()
    deadline = time.monotonic() + 5
    while not rows(gateway, "SELECT id FROM bindings") and time.monotonic() < deadline:
        time.sleep(0.02)  # the write-ahead is committed: the pool's connection is free again
    with one_connection.extensions["statements"].cursor():
        posting.join(timeout=10)

    (answer,) = answers
    assert answer.status_code == 503
    assert answer.get_json()["code"] == "database_unavailable"
    (bind,) = emulator.calls("BindAxb")
    (unbind,) = emulator.calls("UnbindSubscription")
    assert unbind["params"]["PoolKey"] == bind["params"]["PoolKey"]
    (binding,) = rows(gateway, "SELECT status FROM bindings")
    assert binding.status == "pending"  # for reconcile, which finds the X released
