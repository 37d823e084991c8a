"""`python -m bench.app_cpu`: the gateway's own CPU per request, without the noise of load.

`bench.load` answers the issue's questions, but on two shared cores its CPU per request moves
by ±10 % from run to run (other processes, GIL contention, which worker took which
connection). To tell whether a change to the request path helped, this measures the path
alone: one thread calls the WSGI app in process (no gunicorn, no concurrency), POST then
DELETE, against the emulator over HTTP and a fresh PostgreSQL database, and then makes the
same BindAxb + UnbindSubscription calls through the SDK directly, as `bench.load` does.
Repeats alternate the two and the medians are reported; the last stdout line is JSON:
`{"app_cpu_ms_per_req", "sdk_cpu_ms_per_call", "own_cpu_ms_per_req", "pairs", "repeats"}`.

Even alone, seconds drift by ±25 % on some days (a shared host's caches and clocks).
`--instructions` counts instead: each path runs in a child under valgrind's callgrind, once
with no measured pairs and once with `--pairs`, and the difference is divided out, so start-up
and warm-up cancel. Two counts of one tree agree to within about 1 % of the app path
(25–50k instructions per request) whatever else the machine does: a request's data differ
from run to run (numbers, ids, times). Count a change of less than that twice. It weighs
a change to the path, not a wall-clock target. The last line is then
`{"app_instructions_per_req", "sdk_instructions_per_call", "own_instructions_per_req",
"own_share", "pairs"}`. `--instructions --server` also counts the pairs through gunicorn
(one worker of the production configuration, one keep-alive client), which the in-process
path leaves out, and adds `"server_instructions_per_req"` and `"server_adds_per_req"`.

`--calls` counts Python and built-in function calls instead (cProfile), in a few seconds and
the same from run to run: per request, the app path's, the SDK's alone and the difference,
and the functions and packages of the own path that are called most. It says where a
change to the path went; tests/api/test_request_cost.py holds the path to its budget. The
last line is then `{"app_calls_per_req", "sdk_calls_per_call", "own_calls_per_req", "pairs"}`.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from bench.load_direct import DirectSdk
from bench.load_plan import TTL_SECONDS, PhoneNumbers
from bench.load_stack import (
    OUT,
    ROOT,
    Service,
    clean_environment,
    free_port,
    fresh_database,
    log_tail,
    migrate_with_client,
    start_emulator,
    wait_until_answering,
)
from bench.load_stats import BenchFailed
from emulator import DEFAULT_POOL_KEY

WARMUP_PAIRS = 30
TIMED_PAIRS = 300
# Under callgrind a pair takes about 0.2 s; 100 pairs make start-up noise negligible.
INSTRUCTION_PAIRS = 100
CALL_PAIRS = 50
TOKEN_VARIABLE = "APP_CPU_TOKEN"
PORT_VARIABLE = "APP_CPU_EMULATOR_PORT"
COLLECTED = re.compile(r"Collected : (\d+)")
PROCESS_COLLECTED = re.compile(r"^==(\d+)== Collected : (\d+)", re.MULTILINE)
# A preloading gunicorn under callgrind imports the app ten times slower than without.
SERVER_START_TIMEOUT_S = 600
# The 2-second token cache would expire every few pairs of a count, at points that vary
# from run to run (up to 50k instructions per request apart under callgrind, where a pair
# takes a fifth of a second or more); under load it expires once in hundreds of requests.
# An hour keeps it from expiring during a count.
STEADY_TOKEN_CACHE = {"TOKEN_CACHE_SECONDS": "3600"}


class Caller:
    """POST then DELETE, as `bench.load`'s clients send them; `_call` says how they travel."""

    def __init__(self, token: str) -> None:
        self._auth = f"Bearer {token}"
        self._phones = PhoneNumbers()

    def _call(self, method: str, path: str, body: bytes = b"") -> tuple[str, bytes]:
        raise NotImplementedError

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


class InProcessCaller(Caller):
    """WSGI calls straight into the app: what a request costs minus the HTTP server."""

    def __init__(self, app: Any, token: str) -> None:
        super().__init__(token)
        self._app = app

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


class HttpCaller(Caller):
    """The same requests over one keep-alive HTTP/1.1 connection, as one load client sends
    them; the timeout allows for a gateway running under callgrind."""

    def __init__(self, port: int, token: str) -> None:
        super().__init__(token)
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def _call(self, method: str, path: str, body: bytes = b"") -> tuple[str, bytes]:
        headers = {"Authorization": self._auth, "Content-Type": "application/json"}
        self._connection.request(method, path, body=body, headers=headers)
        response = self._connection.getresponse()
        return f"{response.status} {response.reason}", response.read()

    def close(self) -> None:
        self._connection.close()


def _cpu_ms_per_unit(work: Callable[[], Any], pairs: int) -> float:
    started = time.process_time()
    for _ in range(pairs):
        work()
    return (time.process_time() - started) * 1000 / (2 * pairs)


def _prepare(stack: ExitStack) -> dict[str, str]:
    """Emulator, fresh database, migrations and a client: the environment the app reads,
    with the bench client's token and the emulator's port beside it."""
    emulator = start_emulator(stack, 0)
    database_url = stack.enter_context(fresh_database())
    env = clean_environment(
        DATABASE_URL=database_url,
        GATEWAY_SANDBOX="1",
        DYPLS_ENDPOINT=f"http://127.0.0.1:{emulator.port}",
        DYPLS_POOL_SIZE="1",
        DB_POOL_SIZE="2",
    )
    token = migrate_with_client(env, f"app-cpu-{os.getpid()}")
    return env | {TOKEN_VARIABLE: token, PORT_VARIABLE: str(emulator.port)}


def _warm_paths(stack: ExitStack, env: dict[str, str]) -> dict[str, Callable[[], Any]]:
    """The two paths, warmed up, in this process: `app` is one POST + DELETE through the
    WSGI app, `sdk` one BindAxb + UnbindSubscription through the SDK alone."""
    os.environ.clear()
    os.environ.update(env)
    # One line per request goes to stderr as in production, but into a file: the app's
    # log handler takes sys.stderr as it is when the app is made.
    OUT.mkdir(parents=True, exist_ok=True)
    sys.stderr = stack.enter_context((OUT / "app-cpu.log").open("w"))
    stack.callback(setattr, sys, "stderr", sys.__stderr__)
    from app import create_app  # reads the environment set just above

    caller = InProcessCaller(create_app(), env[TOKEN_VARIABLE])
    sdk = DirectSdk(int(env[PORT_VARIABLE]), DEFAULT_POOL_KEY, 1)
    paths = {"app": caller.pair, "sdk": lambda: sdk.unbind(sdk.bind())}
    for work in paths.values():
        for _ in range(WARMUP_PAIRS):
            work()
    return paths


def measure(pairs: int, repeats: int) -> dict[str, Any]:
    with ExitStack() as stack:
        paths = _warm_paths(stack, _prepare(stack))
        app_ms, sdk_ms = [], []
        for _ in range(repeats):
            app_ms.append(_cpu_ms_per_unit(paths["app"], pairs))
            sdk_ms.append(_cpu_ms_per_unit(paths["sdk"], pairs))
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


def _under_callgrind(env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The command prefix that runs Python under callgrind, and the environment to run it in."""
    valgrind = shutil.which("valgrind")
    if not valgrind:
        raise BenchFailed("--instructions needs valgrind (Debian package valgrind)")
    # A fixed hash seed: dict and set layouts, and so the instruction count, repeat.
    command = [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable]
    return command, env | STEADY_TOKEN_CACHE | {"PYTHONHASHSEED": "0"}


def _instructions(env: dict[str, str], path: str, pairs: int) -> int:
    """Instructions a child spends running `path` for `pairs` pairs after its start-up."""
    command, env = _under_callgrind(env)
    command += ["-m", "bench.app_cpu", "--child", path, "--pairs", str(pairs)]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    collected = COLLECTED.search(done.stderr)
    if done.returncode != 0 or not collected:
        raise BenchFailed(f"callgrind child failed:\n{done.stdout}{done.stderr[-2000:]}")
    return int(collected.group(1))


def _server_instructions(env: dict[str, str], pairs: int) -> int:
    """Instructions the one worker of a gunicorn (the production configuration, preloaded)
    spends on `pairs` pairs from one keep-alive client after a warm-up: the count forks
    with the worker, so it holds the master's start-up too, which another count with no
    pairs cancels. The worker's idle ticks (its heartbeat, the metrics sampler every 5 s)
    are counted as well: a few thousand instructions per request under callgrind, where a
    pair takes most of a second."""
    # The pools as gunicorn.conf.py sizes them, not as the in-process count does.
    env = {k: v for k, v in env.items() if k not in ("DYPLS_POOL_SIZE", "DB_POOL_SIZE")}
    command, env = _under_callgrind(env)
    command += ["-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    port = free_port()
    env |= {"GUNICORN_WORKERS": "1", "GUNICORN_BIND": f"127.0.0.1:{port}"}
    service = Service("app-cpu-server", command, env)
    try:
        wait_until_answering(service, port, "/readyz", SERVER_START_TIMEOUT_S)
        caller = HttpCaller(port, env[TOKEN_VARIABLE])
        for _ in range(WARMUP_PAIRS + pairs):
            caller.pair()
        caller.close()
    finally:
        service.stop()
    counts = dict(PROCESS_COLLECTED.findall(service.log.read_text()))
    counts.pop(str(service.pid), None)  # the master's
    if len(counts) != 1:
        raise BenchFailed(f"no count for gunicorn's worker:\n{log_tail(service.log)}")
    return int(counts.popitem()[1])


def count_instructions(pairs: int, server: bool = False) -> dict[str, Any]:
    """Each path's instructions per request: its count with `pairs` pairs less its count
    with none."""
    with ExitStack() as stack:
        env = _prepare(stack)
        per_unit = {
            path: (_instructions(env, path, pairs) - _instructions(env, path, 0)) / (2 * pairs)
            for path in ("app", "sdk")
        }
        if server:
            counted = _server_instructions(env, pairs) - _server_instructions(env, 0)
            per_unit["server"] = counted / (2 * pairs)
    own = per_unit["app"] - per_unit["sdk"]
    result = {
        "app_instructions_per_req": round(per_unit["app"]),
        "sdk_instructions_per_call": round(per_unit["sdk"]),
        "own_instructions_per_req": round(own),
        "own_share": round(own / per_unit["app"], 3),
        "pairs": pairs,
    }
    if server:
        result["server_instructions_per_req"] = round(per_unit["server"])
        result["server_adds_per_req"] = round(per_unit["server"] - per_unit["app"])
    return result


def _calls(work: Callable[[], Any], pairs: int) -> Counter[str]:
    """Calls per unit of `work` (a request or an SDK call), by function."""
    profile = cProfile.Profile()
    for _ in range(pairs):
        profile.runcall(work)
    counts: Counter[str] = Counter()
    for (file, line, name), (_, calls, *_rest) in pstats.Stats(profile).stats.items():
        site = f"{package_path(file)}:{line}({name})" if line else name
        counts[site] += calls / (2 * pairs)
    return counts


def package_path(file: str) -> str:
    """`flask/app.py` for a file in site-packages, `json/encoder.py` for the standard
    library's, the path in the repository for the gateway's own."""
    if file.startswith("<"):
        return file
    for marker in ("site-packages/", f"python{sys.version_info[0]}.{sys.version_info[1]}/"):
        if marker in file:
            return file.rsplit(marker, 1)[1]
    return os.path.relpath(file, ROOT)


def count_calls(pairs: int) -> dict[str, Any]:
    """Each path's calls per request, and the own path's (app less SDK) by function."""
    with ExitStack() as stack:
        paths = _warm_paths(stack, _prepare(stack) | STEADY_TOKEN_CACHE)
        app, sdk = _calls(paths["app"], pairs), _calls(paths["sdk"], pairs)
    own = Counter(app)
    own.subtract(sdk)
    return {
        "app_calls_per_req": round(sum(app.values())),
        "sdk_calls_per_call": round(sum(sdk.values())),
        "own_calls_per_req": round(sum(own.values())),
        "pairs": pairs,
        "own_by_function": own,
    }


def by_package(calls: Counter[str]) -> Counter[str]:
    """Calls by function (as `count_calls` names them) summed by package: `flask`,
    `json`, `app`, and `built-in` for functions written in C."""
    packages: Counter[str] = Counter()
    for site, count in calls.items():
        file = site.split(":", 1)[0] if site.endswith(")") else "built-in"
        packages[file.split("/", 1)[0].removesuffix(".py")] += count
    return packages


def _print_calls(own: Counter[str], top: int = 40) -> None:
    print("own calls per request, by package:")
    for package, count in by_package(own).most_common(top // 2):
        print(f"  {count:8.1f}  {package}")
    print("own calls per request, by function:")
    for site, count in own.most_common(top):
        print(f"  {count:8.1f}  {site}")


def _child(path: str, pairs: int) -> None:
    """Under callgrind: the app reads the environment the parent prepared."""
    with ExitStack() as stack:
        work = _warm_paths(stack, dict(os.environ))[path]
        for _ in range(pairs):
            work()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.app_cpu", description=__doc__)
    parser.add_argument("--pairs", type=int, help="POST + DELETE pairs per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions under callgrind"
    )
    parser.add_argument(
        "--server",
        action="store_true",
        help="with --instructions: count a request through gunicorn too (one worker of the"
        " production configuration, one keep-alive client)",
    )
    parser.add_argument(
        "--calls",
        action="store_true",
        help="count Python and built-in calls per request (cProfile): quick and repeatable",
    )
    parser.add_argument("--child", choices=("app", "sdk"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.server and not args.instructions:
        parser.error("--server is a count: give --instructions too")
    if args.calls and args.instructions:
        parser.error("--calls counts calls, not instructions: give one of them")
    if args.child:
        _child(args.child, args.pairs)
        return 0
    if args.calls:
        result = count_calls(args.pairs or CALL_PAIRS)
        _print_calls(result.pop("own_by_function"))
        print(
            f"in process, one thread: app {result['app_calls_per_req']} calls/req,"
            f" SDK alone {result['sdk_calls_per_call']}/call, own {result['own_calls_per_req']}/req"
        )
    elif args.instructions:
        result = count_instructions(args.pairs or INSTRUCTION_PAIRS, args.server)
        print(
            f"in process, one thread: app {result['app_instructions_per_req'] / 1e6:.2f} M"
            f" instructions/req, SDK alone {result['sdk_instructions_per_call'] / 1e6:.2f} M/call,"
            f" own {result['own_instructions_per_req'] / 1e6:.2f} M/req"
        )
        if args.server:
            print(
                f"through gunicorn, one worker, one client: app"
                f" {result['server_instructions_per_req'] / 1e6:.2f} M instructions/req, of"
                f" which the server {result['server_adds_per_req'] / 1e6:.2f} M"
            )
    else:
        result = measure(args.pairs or TIMED_PAIRS, args.repeats)
        print(
            f"in process, one thread: app {result['app_cpu_ms_per_req']:.3f} ms/req,"
            f" SDK alone {result['sdk_cpu_ms_per_call']:.3f} ms/call,"
            f" own {result['own_cpu_ms_per_req']:.3f} ms/req (medians of {args.repeats})"
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
