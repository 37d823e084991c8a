"""The provider speaks to Alibaba (here: the emulator) through the unmodified SDK."""

import json
import socket
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.config import parse_endpoint
from app.errors import BindConflict, UpstreamMisconfigured, UpstreamTimeout
from app.providers.aliyun import AliyunProvider
from app.providers.types import BindRequest, SubscriptionRef, to_china_time
from bench.load_proc import established_tcp
from emulator import DEFAULT_POOL_KEY, SANDBOX_ACCESS_KEY_ID
from emulator.app import create_app as create_emulator
from emulator.server import serve_in_background
from tests.conftest import test_settings


def trip(**overrides) -> BindRequest:
    values = {
        "type": "AXB",
        "pool_key": DEFAULT_POOL_KEY,
        "phone_a": "13800000001",
        "phone_b": "13900000002",
        "expires_at": datetime.now(UTC) + timedelta(hours=1),
    }
    values.update(overrides)
    return BindRequest(**values)


@pytest.fixture
def provider(emulator):
    emulator.reset()
    return AliyunProvider(test_settings(emulator.url))


def test_china_time_is_utc_plus_eight():
    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert to_china_time(moment) == "2025-01-02 11:04:05"
    assert to_china_time(moment.astimezone(timezone(timedelta(hours=-5)))) == "2025-01-02 11:04:05"


def test_a_bind_comes_back_typed_with_its_call_facts(provider):
    attempt = provider.bind(trip())

    assert attempt.error is None
    assert attempt.value.subs_id and attempt.value.phone_x
    (call,) = attempt.calls
    assert call.action == "BindAxb"
    assert call.code == "OK"
    assert call.request_id
    assert call.latency_ms > 0
    assert call.params["PhoneNoA"] == "13800000001"


def test_a_business_error_in_an_http_200_is_an_error_not_a_success(provider):
    first = provider.bind(trip()).unwrap()

    attempt = provider.bind(trip(phone_x=first.phone_x))

    assert isinstance(attempt.error, BindConflict)
    assert attempt.error.upstream.code == "isv.BIND_CONFLICT"
    assert attempt.last.code == "isv.BIND_CONFLICT"


def test_unbind_and_detail_round_trip(provider):
    bound = provider.bind(trip()).unwrap()
    ref = SubscriptionRef(DEFAULT_POOL_KEY, bound.subs_id, bound.phone_x)

    detail = provider.query_detail(ref).unwrap()
    assert (detail.phone_a, detail.phone_b, detail.active) == ("13800000001", "13900000002", True)
    assert detail.expires_at.tzinfo is not None
    assert provider.unbind(ref).error is None


def test_a_wrong_secret_is_misconfiguration_and_leaks_nothing(emulator):
    provider = AliyunProvider(test_settings(emulator.url, access_key_secret="wrong"))

    attempt = provider.bind(trip())

    assert isinstance(attempt.error, UpstreamMisconfigured)
    assert attempt.error.upstream.code == "InvalidAccessKeySecret"
    rendered = json.dumps(attempt.error.upstream.as_dict()) + attempt.error.detail
    assert SANDBOX_ACCESS_KEY_ID not in rendered
    assert "wrong" not in rendered


def test_an_unknown_key_is_misconfiguration(emulator):
    provider = AliyunProvider(test_settings(emulator.url, access_key_id="LTAIunknown"))

    attempt = provider.bind(trip())

    assert isinstance(attempt.error, UpstreamMisconfigured)
    assert attempt.error.upstream.code.startswith("InvalidAccessKeyId")


def test_nobody_listening_is_a_timeout_class_failure():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = AliyunProvider(
        test_settings(f"http://127.0.0.1:{port}").with_overrides(
            endpoint=parse_endpoint(f"http://127.0.0.1:{port}")
        )
    )

    attempt = provider.bind(trip())

    assert isinstance(attempt.error, UpstreamTimeout)
    assert attempt.last.code == "SDK.HttpError"
    assert attempt.error.upstream is None


def test_an_environment_proxy_is_not_used_for_a_loopback_endpoint(emulator, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    provider = AliyunProvider(test_settings(emulator.url))

    assert provider.bind(trip()).error is None


def keepalive_timers_towards(port: int) -> list[float | None]:
    """For each established connection to `port` on this host, as the kernel lists it:
    seconds until its next keepalive probe, or None without a keepalive timer."""
    timers: list[float | None] = []
    for cols in established_tcp(port, remote=True):
        timer, when = cols[5].split(":")
        timers.append(int(when, 16) / 100 if timer == "02" else None)
    return timers


def test_a_quiet_upstream_connection_is_kept_alive():
    """Between two trips the SDK's pooled connection probes Alibaba every 30 s, so a NAT
    table or firewall on the way keeps it rather than dropping it silently."""
    with serve_in_background(create_emulator()) as upstream:
        provider = AliyunProvider(test_settings(upstream.url))
        provider.bind(trip()).unwrap()

        timers = keepalive_timers_towards(upstream.port)

    assert timers, "no pooled connection to the upstream"
    assert all(timer is not None and 0 < timer <= 30 for timer in timers), timers
