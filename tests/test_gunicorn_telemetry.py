"""Logs and metrics as operators get them: a real gunicorn with two workers, its real
stderr, and /metrics added up across worker processes."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from emulator import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET
from tests.conftest import axb
from tests.reliability.conftest import Instance

pytestmark = pytest.mark.slow

PHONE = "13800000001"
WORKER_BOOT_S = 15


@pytest.fixture
def served(gateway, emulator, tmp_path) -> Iterator[Instance]:
    """DEBUG on purpose: the most talkative level must leak nothing either."""
    instance = Instance(emulator.url, tmp_path, "telemetry")
    instance.env.update(
        LOG_LEVEL="DEBUG", LOG_FORMAT="json", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics")
    )
    instance.start()
    yield instance
    instance.stop()


def test_the_logs_say_what_happened_and_leak_nothing(served, make_caller):
    token = make_caller("rides").token
    answer = requests.post(
        f"{served.url}/v1/bindings",
        json=axb(phone_a=PHONE),
        # A caller that puts a phone number in its request id gets it masked, too.
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": f"trip-{PHONE}"},
        timeout=10,
    )
    assert answer.status_code == 201
    served.stop()

    output = served.log_path.read_text()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    request_id = "trip-138****0001"
    (access,) = [x for x in lines if x["logger"] == "gateway.access" and x["status"] == 201]
    assert access["request_id"] == request_id
    assert access["client"] == "rides"
    assert access["route"] == "/v1/bindings"
    assert access["latency_ms"] > 0
    assert access["upstream_action"] == "BindAxb"
    assert access["upstream_code"] == "OK"
    assert access["upstream_request_id"]
    (upstream,) = [x for x in lines if x["logger"] == "gateway.upstream"]
    assert upstream["request_id"] == request_id
    assert upstream["upstream_request_id"] == access["upstream_request_id"]

    for secret in (PHONE, SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET, token):
        assert secret not in output


def gauge_writers(metrics_dir: Path) -> set[str]:
    """The pids of the workers whose sampler has written its gauges."""
    return {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("gauge_*")}


def test_metrics_add_up_across_workers(served, tmp_path):
    # /readyz answered once one worker was up; the other may still be booting.
    deadline = time.monotonic() + WORKER_BOOT_S
    while len(gauge_writers(tmp_path / "metrics")) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    probes = 12
    for _ in range(probes):  # a fresh connection each: either worker may answer
        assert requests.get(f"{served.url}/healthz", timeout=5).status_code == 200

    text = requests.get(f"{served.url}/metrics", timeout=5).text

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    labels = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert samples[("gateway_http_request_duration_seconds_count", labels)] == probes
    # Each worker's sampler wrote its gauges: both workers' pools and circuits are summed.
    assert len(gauge_writers(tmp_path / "metrics")) == 2
    assert samples[("gateway_circuit_breaker_state", (("state", "closed"),))] == 2
