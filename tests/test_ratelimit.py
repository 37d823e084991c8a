"""Rate limits count per window, recover when it ends, and share Redis across instances."""

import threading
import time
import uuid

import pytest
import redis

from app.config import Settings
from app.errors import RateLimited
from app.ratelimit import RateLimits
from app.services.clients import Client

REDIS_URL = "redis://127.0.0.1:6379/15"


def a_client(rate_limit: str | None = None) -> Client:
    return Client(
        id=1,
        name=f"client-{uuid.uuid4().hex[:8]}",
        scopes=frozenset({"bindings:write"}),
        pools=None,
        rate_limit=rate_limit,
    )


def limits_on(storage_uri: str = "memory://", **overrides: str) -> RateLimits:
    return RateLimits(Settings(ratelimit_storage_uri=storage_uri, **overrides))


def test_a_client_is_refused_past_its_limit_and_admitted_again_in_the_next_window():
    limits, client = limits_on(), a_client("2/second")
    limits.admit_client(client)
    limits.admit_client(client)

    with pytest.raises(RateLimited) as refused:
        limits.admit_client(client)
    assert refused.value.retry_after == 1

    time.sleep(1.05)
    limits.admit_client(client)


def test_the_account_quota_counts_every_client_together():
    limits = limits_on(account_rate_limit="3/minute")
    for _ in range(3):
        limits.admit_client(a_client())
        limits.admit_account()

    with pytest.raises(RateLimited, match="account"):
        limits.admit_account()


def test_counting_in_memory_starts_no_thread_per_request():
    limits, client = limits_on(), a_client()
    time.sleep(0.05)  # the storage's one sweep at start has ended
    before = threading.active_count()

    for _ in range(200):
        limits.admit_client(client)
        limits.admit_account()
        time.sleep(0.0002)

    assert threading.active_count() == before


def test_instances_on_one_redis_share_the_counters():
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    client = a_client("3/minute")
    one, two = limits_on(REDIS_URL), limits_on(REDIS_URL)

    one.admit_client(client)
    two.admit_client(client)
    one.admit_client(client)

    with pytest.raises(RateLimited):
        two.admit_client(client)
