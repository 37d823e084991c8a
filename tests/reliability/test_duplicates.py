"""Fifty copies of one retried bind, spread over two instances, bind exactly once."""

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.conftest import axb, rows


def test_concurrent_duplicates_across_instances_bind_once(instances, rides, emulator, gateway):
    emulator.fault(action="BindAxb", stall_ms=600, count=1)
    headers = {"Authorization": f"Bearer {rides.token}", "Idempotency-Key": "trip-777"}

    def send(i: int) -> requests.Response:
        target = instances[i % 2].url
        return requests.post(f"{target}/v1/bindings", json=axb(), headers=headers, timeout=10)

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(send, range(50)))

    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {201, 409}, statuses
    assert statuses.count(201) >= 1
    created = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(created) == 1
    assert len(emulator.wait_for_calls("BindAxb", 1)) == 1
    assert len(rows(gateway, "SELECT id FROM bindings")) == 1

    replay = send(1)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] in created
