"""`python -m bench.app_cpu`: the gateway's own CPU per request, without the noise of load.

`bench.load` answers the issue's questions, but on two shared cores its CPU per request moves
by ±10 % from run to run (other processes, GIL contention, which worker took which
connection). To tell whether a change to the request path helped, this measures the path
alone: one thread calls the WSGI app in process (no gunicorn, no concurrency), POST then
DELETE, against the emulator over HTTP and a fresh PostgreSQL database, and then makes the
same BindAxb + UnbindSubscription calls through the SDK directly, as `bench.load` does.
Repeats alternate the two and the medians are reported; the last stdout line is JSON:
`{"app_cpu_ms_per_req", "sdk_cpu_ms_per_call", "own_cpu_ms_per_req", "pairs", "repeats"}`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from contextlib import ExitStack
from typing import Any

from bench.load_direct import DirectSdk
from bench.load_plan import TTL_SECONDS, PhoneNumbers
from bench.load_stack import OUT, _flask, clean_environment, fresh_database, start_emulator
from emulator import DEFAULT_POOL_KEY

WARMUP_PAIRS = 30


class InProcessCaller:
    """WSGI calls straight into the app: what a request costs minus the HTTP server."""

    def __init__(self, app: Any, token: str) -> None:
        self._app = app
        self._auth = f"Bearer {token}"
        self._phones = PhoneNumbers()

    def _call(self, method: str, path: str, body: bytes = b"") -> tuple[str, bytes]:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_AUTHORIZATION": self._auth,
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        started: list[str] = []

        def start_response(status: str, headers: list, exc_info: Any = None) -> None:
            started.append(status)

        answer = b"".join(self._app(environ, start_response))
        return started[0], answer

    def pair(self) -> None:
        phone_a, phone_b = self._phones.pair()
        body = {"type": "AXB", "pool_key": DEFAULT_POOL_KEY, "phone_a": phone_a}
        body |= {"phone_b": phone_b, "ttl_seconds": TTL_SECONDS}
        status, answer = self._call("POST", "/v1/bindings", json.dumps(body).encode())
        if not status.startswith("201"):
            raise RuntimeError(f"POST answered {status}: {answer[:200]!r}")
        binding_id = json.loads(answer)["id"]
        status, answer = self._call("DELETE", f"/v1/bindings/{binding_id}")
        if not status.startswith("200"):
            raise RuntimeError(f"DELETE answered {status}: {answer[:200]!r}")


def _cpu_ms_per_unit(work: Any, pairs: int) -> float:
    started = time.process_time()
    for _ in range(pairs):
        work()
    return (time.process_time() - started) * 1000 / (2 * pairs)


def measure(pairs: int, repeats: int) -> dict[str, Any]:
    OUT.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        emulator = start_emulator(stack, 0)
        database_url = stack.enter_context(fresh_database())
        env = clean_environment(
            DATABASE_URL=database_url,
            GATEWAY_SANDBOX="1",
            DYPLS_ENDPOINT=f"http://127.0.0.1:{emulator.port}",
            DYPLS_POOL_SIZE="1",
            DB_POOL_SIZE="2",
        )
        _flask(env, "db", "upgrade")
        scopes = ("--scope", "bindings:write", "--scope", "bindings:read")
        token = _flask(env, "clients", "create", f"app-cpu-{os.getpid()}", *scopes)
        os.environ.clear()
        os.environ.update(env)
        # One line per request goes to stderr as in production, but into a file: the app's
        # log handler takes sys.stderr as it is when the app is made.
        sys.stderr = stack.enter_context((OUT / "app-cpu.log").open("w"))
        stack.callback(setattr, sys, "stderr", sys.__stderr__)
        from app import create_app  # reads the environment set just above

        app = create_app()
        caller = InProcessCaller(app, token.strip().splitlines()[-1])
        sdk = DirectSdk(emulator.port, DEFAULT_POOL_KEY, 1)
        for _ in range(WARMUP_PAIRS):
            caller.pair()
            sdk.unbind(sdk.bind())
        app_ms, sdk_ms = [], []
        for _ in range(repeats):
            app_ms.append(_cpu_ms_per_unit(caller.pair, pairs))
            sdk_ms.append(_cpu_ms_per_unit(lambda: sdk.unbind(sdk.bind()), pairs))
    app_cpu, sdk_cpu = statistics.median(app_ms), statistics.median(sdk_ms)
    return {
        "app_cpu_ms_per_req": round(app_cpu, 3),
        "sdk_cpu_ms_per_call": round(sdk_cpu, 3),
        "own_cpu_ms_per_req": round(app_cpu - sdk_cpu, 3),
        "app_runs_ms": [round(v, 3) for v in app_ms],
        "sdk_runs_ms": [round(v, 3) for v in sdk_ms],
        "pairs": pairs,
        "repeats": repeats,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.app_cpu", description=__doc__)
    parser.add_argument("--pairs", type=int, default=300, help="POST + DELETE pairs per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    result = measure(args.pairs, args.repeats)
    print(
        f"in process, one thread: app {result['app_cpu_ms_per_req']:.3f} ms/req,"
        f" SDK alone {result['sdk_cpu_ms_per_call']:.3f} ms/call,"
        f" own {result['own_cpu_ms_per_req']:.3f} ms/req (medians of {args.repeats})"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
