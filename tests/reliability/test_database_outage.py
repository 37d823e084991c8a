"""PostgreSQL goes away mid-load and comes back: 503s meanwhile, never a 500, no restart."""

import threading
import time
from collections import Counter

import requests
import sqlalchemy as sa

from tests.conftest import TEST_DATABASE_URL, axb, close_connections


def outage(seconds: float) -> None:
    """What a failover looks like from the gateway: every connection cut, no new ones."""
    admin = sa.create_engine(
        TEST_DATABASE_URL.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
    )
    database = sa.engine.make_url(TEST_DATABASE_URL).database
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
            ),
            {"db": database},
        )
        time.sleep(seconds)
        conn.execute(sa.text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
    admin.dispose()


def test_a_database_outage_is_503_and_service_resumes_without_restart(instances, rides, gateway):
    instance = instances[0]
    headers = {"Authorization": f"Bearer {rides.token}"}
    statuses: Counter[int] = Counter()
    stop = threading.Event()

    def load(worker: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            phones = {"phone_a": f"135{worker:02d}{i:06d}", "phone_b": f"134{worker:02d}{i:06d}"}
            answer = requests.post(
                f"{instance.url}/v1/bindings", json=axb(**phones), headers=headers, timeout=10
            )
            statuses[answer.status_code] += 1
            if answer.status_code >= 500:
                assert answer.headers["Content-Type"] == "application/problem+json"

    threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    outage_thread = threading.Thread(target=outage, args=(2.0,))
    outage_thread.start()
    time.sleep(1.0)
    during = requests.get(f"{instance.url}/readyz", timeout=10)
    outage_thread.join()
    close_connections(gateway)  # the outage cut this test process's own pooled connections too
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join()

    assert during.status_code == 503
    unhandled = [line for line in instance.log_path.read_text().splitlines() if "unhandled" in line]
    assert statuses[500] == 0, (statuses, unhandled[:2])
    assert statuses[503] > 0, statuses
    assert requests.get(f"{instance.url}/readyz", timeout=10).status_code == 200
    after = requests.post(
        f"{instance.url}/v1/bindings", json=axb(phone_a="13300000001"), headers=headers, timeout=10
    )
    assert after.status_code == 201
