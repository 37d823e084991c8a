"""After crashes and timeouts, `bindings reconcile` makes the history agree with Alibaba."""

import sqlalchemy as sa

from app.extensions import db
from app.providers.aliyun import AliyunProvider
from app.providers.types import SubscriptionRef
from app.services.maintenance import RECONCILE_LOCK
from tests.conftest import axb, rows, test_settings


def reconcile(gateway, *extra):
    result = gateway.test_cli_runner().invoke(
        args=["bindings", "reconcile", "--pending-after", "0", *extra]
    )
    assert result.exit_code == 0, result.output
    return dict(pair.split("=") for pair in result.output.split())


def test_a_binding_gone_upstream_is_marked_unbound(gateway, rides, emulator):
    binding = rides.bind()
    AliyunProvider(test_settings(emulator.url)).unbind(
        SubscriptionRef(binding["pool_key"], binding["subs_id"], binding["phone_x"])
    )

    summary = reconcile(gateway)

    assert summary["checked"] == "1" and summary["repaired"] == "1"
    assert rides.get(f"/v1/bindings/{binding['id']}").get_json()["status"] == "unbound"
    actions = [
        e["action"] for e in rides.get(f"/v1/bindings/{binding['id']}/events").get_json()["items"]
    ]
    assert actions[-2:] == ["QuerySubscriptionDetail", "Reconciled"]


def test_a_bind_that_timed_out_but_happened_upstream_is_adopted(gateway, rides, emulator):
    earlier = rides.bind(phone_a="13800000031", phone_b="13900000031")
    emulator.fault(action="BindAxb", stall_ms=2000, count=1)
    # Alibaba can only list bindings per X: reconcile searches the Xs this pool has used.
    lost = rides.post("/v1/bindings", json=axb(phone_x=earlier["phone_x"]))
    assert lost.status_code == 504
    upstream_call = emulator.wait_for_calls("BindAxb", 2)[-1]
    assert upstream_call["code"] == "OK"

    summary = reconcile(gateway)

    assert summary["adopted"] == "1"
    (adopted,) = rows(
        gateway, "SELECT status, subs_id, phone_x FROM bindings WHERE phone_a = '13800000001'"
    )
    assert adopted.status == "active" and adopted.subs_id and adopted.phone_x
    actions = rows(gateway, "SELECT action FROM binding_events WHERE action = 'Adopted'")
    assert len(actions) == 1


def test_a_lost_bind_that_never_happened_becomes_unknown_and_stays_searchable(
    gateway, rides, emulator
):
    emulator.fault(action="BindAxb", drop=True, count=1)
    assert rides.post("/v1/bindings", json=axb(out_id="trip-9")).status_code == 504

    summary = reconcile(gateway)

    assert summary["unknown"] == "1"
    (lost,) = rows(gateway, "SELECT status, out_id FROM bindings")
    assert (lost.status, lost.out_id) == ("unknown", "trip-9")


def test_only_one_reconcile_runs_at_a_time(gateway):
    with gateway.app_context(), db.engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": RECONCILE_LOCK})
        result = gateway.test_cli_runner().invoke(args=["bindings", "reconcile"])
        conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": RECONCILE_LOCK})

    assert result.output.strip() == "another reconcile is running; nothing done"
