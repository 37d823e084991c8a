"""Real gunicorn instances of the gateway, sharing the test database and the emulator."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from emulator import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET
from tests.conftest import ROOT, TEST_DATABASE_URL


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Instance:
    """One `gunicorn wsgi:app` with the production gunicorn.conf.py, in its own session."""

    def __init__(self, emulator_url: str, log_dir: Path, name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": TEST_DATABASE_URL,
            "ALIYUN_ACCESS_KEY_ID": SANDBOX_ACCESS_KEY_ID,
            "ALIYUN_ACCESS_KEY_SECRET": SANDBOX_ACCESS_KEY_SECRET,
            "DYPLS_ENDPOINT": emulator_url,
            "DYPLS_CONNECT_TIMEOUT": "1",
            "DYPLS_READ_TIMEOUT": "1.5",
            "DB_STATEMENT_TIMEOUT_MS": "3000",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "8",
            "LOG_LEVEL": "WARNING",
            "PROMETHEUS_MULTIPROC_DIR": str(log_dir / f"{name}-metrics"),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not become ready")

    def kill(self) -> None:
        """SIGKILL the whole process group: no graceful anything, as a crashed host."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(35)
            except subprocess.TimeoutExpired:
                self.kill()

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return result.stdout


@pytest.fixture
def instances(gateway, emulator, tmp_path) -> Iterator[list[Instance]]:
    """Two gateway instances behind no load balancer: callers pick one each time."""
    pair = [Instance(emulator.url, tmp_path, name) for name in ("a", "b")]
    for instance in pair:
        instance.start()
    yield pair
    for instance in pair:
        instance.stop()
