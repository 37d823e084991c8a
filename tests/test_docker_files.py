"""The image definition, checked where no Docker engine runs: what it copies exists,
it runs as a non-root user, and its health check works against a real gunicorn."""

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.reliability.conftest import Instance, free_port

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instruction(name: str) -> list[str]:
    """Every `NAME …` instruction's arguments, continuation lines joined."""
    joined = DOCKERFILE.replace("\\\n", " ")
    return [m.group(1).strip() for m in re.finditer(rf"^{name}\s+(.+)$", joined, re.MULTILINE)]


def healthcheck(bind: str) -> subprocess.CompletedProcess:
    command = json.loads(instruction("HEALTHCHECK")[0].split("CMD", 1)[1])
    assert command[0] == "python"
    env = {**os.environ, "GUNICORN_BIND": bind}
    return subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, timeout=10)


def test_two_stages_and_only_existing_sources_copied():
    assert len(instruction("FROM")) == 2
    for copy in instruction("COPY"):
        if copy.startswith("--from="):
            continue
        *sources, _ = copy.split()
        for source in sources:
            assert (ROOT / source).exists(), source


def test_it_serves_with_gunicorn_as_a_non_root_user():
    assert instruction("USER") == ["${UID}:${UID}"]
    assert "UID=10001" in instruction("ARG")
    assert json.loads(instruction("CMD")[-1]) == [
        "gunicorn",
        "--config",
        "gunicorn.conf.py",
        "wsgi:app",
    ]
    assert "GUNICORN_BIND=0.0.0.0:8000" in DOCKERFILE
    assert "PROMETHEUS_MULTIPROC_DIR=/tmp/gateway-metrics" in DOCKERFILE


def test_the_build_context_leaves_local_state_and_secrets_out():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "instance", ".env", "tests", "bench"} <= ignored


@pytest.mark.slow
def test_the_health_check_passes_on_a_serving_instance_and_fails_without_one(
    gateway, emulator, tmp_path
):
    instance = Instance(emulator.url, tmp_path, "healthcheck")
    instance.start()
    try:
        assert healthcheck(f"0.0.0.0:{instance.port}").returncode == 0
    finally:
        instance.stop()
    assert healthcheck(f"0.0.0.0:{free_port()}").returncode != 0
