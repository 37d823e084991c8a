"""A bind and its unbind cost no more work than when last measured.

The gateway's own CPU per request is the issue's tightest target, and a refactor can add
work to every request without changing a single answer: in the twelfth round a column list
built on every write put 0.3 M instructions back on each request, unnoticed until the next
count (docs/performance.md). Instructions are counted under callgrind, minutes a run; the
Python calls a request makes are counted here in a second, and they rose by a sixth with
that change. Only the gateway's own calls count: the SDK's call runs with the profiler
paused. A change that has to add work raises the budget in the same commit, with the
reason; `python -m bench.app_cpu --calls` shows where the calls go.
"""

import cProfile
import functools
import pstats

import pytest
from aliyunsdkcore.client import AcsClient

from tests.conftest import axb

# Python and built-in calls per request (a POST and a DELETE, halved): 1,441 when first
# measured, 1,673 with the twelfth round's column list put back, 1,381 after the twentieth
# round's cuts.
OWN_CALLS_PER_REQUEST = 1_450
WARMUP_PAIRS = 6  # psycopg prepares a statement on its fifth run
PAIRS = 20


@pytest.fixture
def counted_gateway(gateway, monkeypatch):
    """The gateway's WSGI app under a profiler, paused while the SDK talks to Alibaba."""
    profile = cProfile.Profile()
    call_sdk = AcsClient.do_action_with_exception

    @functools.wraps(call_sdk)
    def uncounted(client, request):
        profile.disable()
        try:
            return call_sdk(client, request)
        finally:
            profile.enable()

    monkeypatch.setattr(AcsClient, "do_action_with_exception", uncounted)
    monkeypatch.setattr(gateway, "wsgi_app", functools.partial(profile.runcall, gateway.wsgi_app))
    return profile


def _pair(rides):
    created = rides.post("/v1/bindings", json=axb())
    assert created.status_code == 201, created.get_json()
    unbound = rides.delete(f"/v1/bindings/{created.get_json()['id']}")
    assert unbound.status_code == 200, unbound.get_json()


def test_a_bind_and_unbind_stay_within_the_measured_calls(rides, counted_gateway):
    for _ in range(WARMUP_PAIRS):
        _pair(rides)
    counted_gateway.clear()

    for _ in range(PAIRS):
        _pair(rides)

    calls = pstats.Stats(counted_gateway).total_calls / (2 * PAIRS)
    assert calls <= OWN_CALLS_PER_REQUEST, f"{calls:.0f} calls per request: more work"
    assert calls >= 0.8 * OWN_CALLS_PER_REQUEST, f"{calls:.0f} calls: lower the budget"
