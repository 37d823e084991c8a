"""The emulator's CPU per call stays small enough not to skew the gateway's benchmarks.

Measured as the benchmark will load it: a separate emulator process, one keep-alive connection,
calls paced at about 1,000/s, CPU read from /proc before and after. Requests are signed up front
so the client's own cost stays out of the way.
"""

import http.client
import os
import time
import uuid
from pathlib import Path

import pytest

from emulator import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET
from emulator.protocol import signed_query
from tests.emulator.cli_process import start_cli, stop

CALLS = 3000
RATE_PER_S = 1000
BUDGET_MS = 0.5

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time from /proc"),
]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def signed_call() -> str:
    params = {
        "Action": "QuerySecretNoRemain",
        "Version": "2017-05-25",
        "Format": "JSON",
        "RegionId": "cn-hangzhou",
        "AccessKeyId": SANDBOX_ACCESS_KEY_ID,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureType": "",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "SpecId": "1",
        "City": "杭州",
    }
    return "/?" + signed_query("POST", params, SANDBOX_ACCESS_KEY_SECRET)


def test_a_call_costs_the_emulator_under_half_a_millisecond_of_cpu(monkeypatch):
    monkeypatch.delenv("EMULATOR_ACCESS_KEYS", raising=False)
    targets = [signed_call() for _ in range(CALLS)]
    process, port, _ = start_cli()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        before = cpu_seconds(process.pid)
        started = time.perf_counter()
        for sent, target in enumerate(targets, start=1):
            connection.request("POST", target, headers={"Content-Length": "0"})
            assert connection.getresponse().read().startswith(b'{"RequestId"')
            time.sleep(max(0.0, started + sent / RATE_PER_S - time.perf_counter()))
        per_call_ms = (cpu_seconds(process.pid) - before) / CALLS * 1000
    finally:
        connection.close()
        stop(process)

    assert per_call_ms <= BUDGET_MS
