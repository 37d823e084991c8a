"""The emulator as a plain WSGI callable: no framework, since every microsecond shows in benchmarks.

Run it with `python -m emulator`, under gunicorn (`gunicorn 'emulator.app:create_app()'`), or in a
test thread with `emulator.server.serve_in_background(create_app())`.
"""

import json
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from http import HTTPStatus
from typing import Any

from emulator import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET
from emulator.actions import Action, find_action
from emulator.calls import CallLog
from emulator.clock import ShiftedClock
from emulator.control import CONTROL_PREFIX, ControlPanel
from emulator.faults import Fault, FaultBook
from emulator.http11 import ConnectionDropped
from emulator.pools import Catalog, load_catalog
from emulator.pop import Gatekeeper
from emulator.protocol import JSON_CONTENT_TYPE, PlatformError, Reply, parse_params, platform_reply
from emulator.rules import Registry

log = logging.getLogger(__name__)

ACCESS_KEYS_ENV = "EMULATOR_ACCESS_KEYS"
SOCKET_KEYS = ("emulator.socket", "gunicorn.socket")
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}

StartResponse = Callable[..., Any]


class EmulatorApp:
    """Platform checks, then faults, then business rules, for every call; control endpoints aside."""

    def __init__(
        self,
        catalog: Catalog,
        access_keys: Mapping[str, str],
        latency_ms: int,
        clock: Callable[[], float],
        rng: random.Random,
    ) -> None:
        self.catalog = catalog
        self.access_key_ids = list(access_keys)
        self._latency_s = latency_ms / 1000
        self._clock = clock
        self._binding_clock = ShiftedClock(clock)
        self._registry = Registry(catalog, self._binding_clock, rng)
        self._gatekeeper = Gatekeeper(access_keys, clock)
        self._calls = CallLog()
        self._faults = FaultBook(rng)
        self._control = ControlPanel(
            self._calls,
            self._faults,
            self._binding_clock,
            self._registry.dial_advice,
            self.reset,
        )

    def reset(self) -> None:
        """Forget bindings, calls, faults, nonces and time travel: a fresh emulator, no restart."""
        self._registry.reset()
        self._binding_clock.reset()
        self._calls.clear()
        self._faults.clear()
        self._gatekeeper.nonces.clear()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        body = _read_body(environ)
        if path.startswith(CONTROL_PREFIX):
            status, answer = self._control.handle(
                environ["REQUEST_METHOD"], path, environ.get("QUERY_STRING", ""), body
            )
            payload = json.dumps(answer, ensure_ascii=False).encode()
            return _respond(start_response, status, payload, [])
        if self._latency_s:
            time.sleep(self._latency_s)
        params = parse_params(
            environ.get("QUERY_STRING", ""), body, environ.get("CONTENT_TYPE") or ""
        )
        reply = self._answer(environ, params)
        extra = [("x-acs-request-id", str(reply.body["RequestId"]))]
        return _respond(start_response, reply.status, reply.encode(), extra)

    def _answer(self, environ: dict[str, Any], params: dict[str, str]) -> Reply:
        received_at = self._clock()
        fault = None
        try:
            action = self._admit(environ["REQUEST_METHOD"], params)
            fault = self._faults.draw(params["Action"])
            if fault is not None:
                self._stall_or_drop(fault, params, environ, received_at)
            injected = fault.reply() if fault is not None else None
            reply = injected or action.perform(self._registry, params)
        except PlatformError as error:
            reply = error.reply()
        except ConnectionDropped:
            raise
        except Exception:
            log.exception("emulator failed on %s", params.get("Action"))
            reply = platform_reply(
                500, "InternalError", "The request processing has failed due to some unknown error."
            )
        self._calls.record(received_at, params, reply.status, reply.code, fault and fault.id)
        return reply

    def _admit(self, method: str, params: Mapping[str, str]) -> Action:
        """Alibaba's gateway order: parameters, API, credentials, then the API's own parameters."""
        self._gatekeeper.require_common(params)
        action = find_action(params)
        self._gatekeeper.authenticate(method, params)
        action.require(params)
        return action

    def _stall_or_drop(
        self, fault: Fault, params: Mapping[str, str], environ: dict[str, Any], received_at: float
    ) -> None:
        """A dropped call leaves state alone; a stall alone then serves the call as usual."""
        if fault.stall_ms:
            time.sleep(fault.stall_ms / 1000)
        if fault.drop:
            self._calls.record(received_at, params, None, None, fault.id)
            _drop_connection(environ)


def create_app(
    pools: str | os.PathLike[str] | Mapping[str, object] | None = None,
    access_keys: Mapping[str, str] | None = None,
    latency_ms: int = 0,
    clock: Callable[[], float] = time.time,
    seed: int | None = None,
) -> EmulatorApp:
    """`pools`: a pools-file path or its parsed JSON (None: the built-in pool). `access_keys`:
    id → secret (None: `EMULATOR_ACCESS_KEYS`, else the sandbox pair). `clock` lets tests move
    time forward; `seed` makes X selection and fault probabilities repeatable."""
    keys = access_keys if access_keys is not None else access_keys_from_env(os.environ)
    return EmulatorApp(load_catalog(pools), keys, latency_ms, clock, random.Random(seed))


def access_keys_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """`id:secret,id2:secret2`; the secret may itself hold colons."""
    text = environ.get(ACCESS_KEYS_ENV, "").strip()
    if not text:
        return {SANDBOX_ACCESS_KEY_ID: SANDBOX_ACCESS_KEY_SECRET}
    keys = {}
    for entry in text.split(","):
        key_id, sep, secret = entry.strip().partition(":")
        if not (key_id and sep and secret):
            raise ValueError(f"{ACCESS_KEYS_ENV}: expected id:secret, got {entry.strip()!r}")
        keys[key_id] = secret
    return keys


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _respond(
    start_response: StartResponse, status: int, body: bytes, extra: list[tuple[str, str]]
) -> list[bytes]:
    headers = [("Content-Type", JSON_CONTENT_TYPE), ("Content-Length", str(len(body))), *extra]
    start_response(_STATUS_LINES.get(status, f"{status} Error"), headers)
    return [body]


def _drop_connection(environ: dict[str, Any]) -> None:
    """Shut the socket down under whichever server runs us, so the client sees no answer at all."""
    for key in SOCKET_KEYS:
        sock = environ.get(key)
        if isinstance(sock, socket.socket):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionDropped
