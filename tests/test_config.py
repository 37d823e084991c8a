"""Operators configure the gateway through its environment; mistakes stop it at start-up."""

import os
import re
import runpy
import subprocess
import sys

import pytest

from app import server
from app.config import ConfigError, load_settings
from emulator import SANDBOX_ACCESS_KEY_ID
from emulator.app import access_keys_from_env
from tests.conftest import ROOT

VARIABLES = (
    "ALIYUN_ACCESS_KEY_ID",
    "ALIYUN_ACCESS_KEY_SECRET",
    "ALIYUN_ACCESS_KEY_ID_FILE",
    "ALIYUN_ACCESS_KEY_SECRET_FILE",
    "GATEWAY_SANDBOX",
    "DYPLS_ENDPOINT",
    "DYPLS_CONNECT_TIMEOUT",
    "DATABASE_URL",
    "LOG_FORMAT",
)


@pytest.fixture
def env(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_needs_an_access_key(env):
    with pytest.raises(ConfigError, match="ALIYUN_ACCESS_KEY_ID is required"):
        load_settings()


def test_sandbox_uses_the_emulator(env):
    env.setenv("GATEWAY_SANDBOX", "1")

    settings = load_settings()

    assert settings.access_key_id == SANDBOX_ACCESS_KEY_ID
    assert str(settings.endpoint) == "http://127.0.0.1:9000"
    assert settings.database_url == "sqlite:///instance/gateway.db"


def test_an_idle_check_of_zero_means_before_every_use(env):
    env.setenv("GATEWAY_SANDBOX", "1")
    env.setenv("DB_POOL_IDLE_CHECK_SECONDS", "0")

    assert load_settings().db_pool_idle_check_s == 0


def test_keys_can_come_from_files(env, tmp_path):
    (tmp_path / "id").write_text("LTAIfromfile\n")
    (tmp_path / "secret").write_text("s3cret\n")
    env.setenv("ALIYUN_ACCESS_KEY_ID_FILE", str(tmp_path / "id"))
    env.setenv("ALIYUN_ACCESS_KEY_SECRET_FILE", str(tmp_path / "secret"))

    settings = load_settings()

    assert (settings.access_key_id, settings.access_key_secret) == ("LTAIfromfile", "s3cret")
    assert "s3cret" not in repr(settings)
    assert str(settings.endpoint) == "https://dyplsapi.aliyuncs.com"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DYPLS_ENDPOINT", "ftp://x", "DYPLS_ENDPOINT"),
        ("DYPLS_ENDPOINT", "http://127.0.0.1:9000/path", "DYPLS_ENDPOINT"),
        ("DYPLS_CONNECT_TIMEOUT", "soon", "DYPLS_CONNECT_TIMEOUT"),
        ("DYPLS_CONNECT_TIMEOUT", "0", "DYPLS_CONNECT_TIMEOUT"),
        ("DB_POOL_TIMEOUT_SECONDS", "0", "DB_POOL_TIMEOUT_SECONDS"),
        ("DB_POOL_IDLE_CHECK_SECONDS", "-1", "DB_POOL_IDLE_CHECK_SECONDS must be 0"),
        ("DB_STATEMENT_POOL_SIZE", "0", "DB_STATEMENT_POOL_SIZE"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT"),
        ("ALIYUN_ACCESS_KEY_ID_FILE", "/nonexistent/key", "ALIYUN_ACCESS_KEY_ID_FILE"),
    ],
)
def test_a_bad_variable_is_named(env, name, value, message):
    env.setenv("GATEWAY_SANDBOX", "1")
    env.setenv(name, value)

    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_the_wsgi_entry_point_fails_with_one_clear_line(env):
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("configuration error: ALIYUN_ACCESS_KEY_ID")
    )


class _Watched(dict):
    """An environment that remembers every name asked of it."""

    def __init__(self, values, asked):
        super().__init__(values)
        self.asked = asked

    def __getitem__(self, name):
        self.asked.add(name)
        return super().__getitem__(name)

    def __contains__(self, name):
        self.asked.add(name)
        return super().__contains__(name)

    def get(self, name, default=None):
        self.asked.add(name)
        return super().get(name, default)

    def setdefault(self, name, default=None):
        self.asked.add(name)
        return super().setdefault(name, default)


def test_env_example_lists_every_variable_read(monkeypatch, tmp_path):
    """An operator learns the gateway's settings from .env.example: a variable the code reads
    that the file leaves out is a setting nobody knows to set."""
    asked: set[str] = set()
    environ = {"GATEWAY_SANDBOX": "1", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    monkeypatch.setattr(os, "environ", _Watched(environ, asked))

    load_settings()
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    server.linger_ms()
    server.pin_workers()
    server.batch_scheduling()
    access_keys_from_env(os.environ)

    listed = set(
        re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )
    assert len(asked) > 20
    assert asked - listed == set()
