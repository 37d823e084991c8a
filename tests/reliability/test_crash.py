"""A gateway host dies mid-load; after restart and `bindings reconcile` nothing is untraceable."""

import threading
import time

import requests

from app.providers.aliyun import AliyunProvider
from app.providers.types import SubscriptionRef
from emulator import DEFAULT_POOL_KEY
from emulator.pools import default_catalog
from tests.conftest import axb, rows, test_settings


def load(instance, token: str, stop: threading.Event, worker: int) -> None:
    """Trips that bind and, every other time, end; errors are expected when the host dies."""
    headers = {"Authorization": f"Bearer {token}"}
    i = 0
    while not stop.is_set():
        i += 1
        phones = {"phone_a": f"137{worker:02d}{i:06d}", "phone_b": f"136{worker:02d}{i:06d}"}
        try:
            created = requests.post(
                f"{instance.url}/v1/bindings", json=axb(**phones), headers=headers, timeout=5
            )
            if created.status_code == 201 and i % 2:
                requests.delete(
                    f"{instance.url}/v1/bindings/{created.json()['id']}", headers=headers, timeout=5
                )
        except requests.RequestException:
            time.sleep(0.05)


def upstream_bindings(provider: AliyunProvider) -> dict[str, tuple[str, str]]:
    """SubsId → (A, B) of every live binding upstream, found X by X."""
    found = {}
    for number in default_catalog().pools[DEFAULT_POOL_KEY].numbers:
        for subs_id in provider.query_subs_ids(DEFAULT_POOL_KEY, number.number).unwrap():
            detail = provider.query_detail(
                SubscriptionRef(DEFAULT_POOL_KEY, subs_id, number.number)
            ).unwrap()
            if detail.active:
                found[subs_id] = (detail.phone_a, detail.phone_b)
    return found


def test_sigkill_mid_load_then_reconcile_leaves_nothing_untraceable(
    instances, rides, emulator, gateway
):
    victim, survivor = instances
    emulator.fault(action="BindAxb", stall_ms=300, probability=0.5)
    stop = threading.Event()
    workers = [
        threading.Thread(target=load, args=(target, rides.token, stop, n))
        for n, target in enumerate([victim, victim, victim, victim, survivor, survivor])
    ]
    for worker in workers:
        worker.start()
    time.sleep(2.0)
    victim.kill()
    time.sleep(1.0)
    stop.set()
    for worker in workers:
        worker.join()

    victim.start()
    summary = victim.cli("bindings", "reconcile", "--pending-after", "0")

    assert "failed=0" in summary
    provider = AliyunProvider(test_settings(emulator.url))
    upstream = upstream_bindings(provider)
    local = {
        r.subs_id: r
        for r in rows(
            gateway,
            "SELECT subs_id, status, phone_a, phone_b FROM bindings WHERE subs_id IS NOT NULL",
        )
    }
    by_numbers = {
        (r.phone_a, r.phone_b): r.status
        for r in rows(gateway, "SELECT phone_a, phone_b, status FROM bindings")
    }
    for subs_id, numbers in upstream.items():
        # Found by its SubsId, or (bound on an X this pool never showed us) by its numbers.
        assert subs_id in local or by_numbers.get(numbers) in ("unknown", "pending"), (
            subs_id,
            numbers,
        )
    for subs_id, row in local.items():
        if row.status == "active":
            assert subs_id in upstream, f"ghost active binding {subs_id}"
    assert rows(gateway, "SELECT 1 FROM bindings WHERE status = 'pending'") == []
