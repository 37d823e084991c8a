"""The gateway phases: `bench.loadgen` drives it from another process while /proc is read here.

The load generator announces when its measurement window opens and closes; the CPU of every
gunicorn process (master and workers) and of the database's backends is read at those two
moments, so CPU and request counts cover the same seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

from bench.load_proc import (
    CpuUse,
    CpuWindow,
    connections_per_pid,
    context_switches,
    cpu_seconds,
    pids_with_cmdline,
    rss_mb,
    system_seconds,
)
from bench.load_stack import ROOT, Gateway, Stack
from bench.load_stats import BenchFailed
from bench.loadgen import WINDOW_END, WINDOW_START


def _run_loadgen(
    gateway: Gateway,
    pool_key: str,
    mode: list[str],
    warmup_s: float,
    duration_s: float,
    on_start: Callable[[int], None] = lambda pid: None,
    on_end: Callable[[], None] = lambda: None,
) -> dict:
    """Run `python -m bench.loadgen` to completion; its results. `on_start` gets its pid."""
    command = [
        sys.executable,
        "-m",
        "bench.loadgen",
        "--port",
        str(gateway.port),
        "--pool-key",
        pool_key,
        *mode,
        "--warmup",
        str(warmup_s),
        "--duration",
        str(duration_s),
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "LOADGEN_TOKEN": gateway.token},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        lines = []
        for line in process.stdout:  # type: ignore[union-attr]
            line = line.strip()
            if line == WINDOW_START:
                on_start(process.pid)
            elif line == WINDOW_END:
                on_end()
            elif line:
                lines.append(line)
        if process.wait() != 0 or not lines:
            raise BenchFailed(f"the load generator failed (exit {process.returncode})")
        result = json.loads(lines[-1])
        result["loadgen_cpu_ms_per_req"] = result.pop("cpu_ms_per_req")
        return result
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


class WindowProbe:
    """What /proc says when the load generator opens and closes its measurement window."""

    def __init__(self, stack: Stack, bystanders: tuple[int, ...]) -> None:
        self._stack = stack
        self._bystanders = bystanders
        self.workers = stack.gateway.workers()
        self.gunicorn = (stack.gateway.master, *self.workers)
        self.database: list[int] = []
        self.database_cpu_s: float | None = None
        self._window: CpuWindow | None = None
        self.cpu: CpuUse | None = None
        self.connections: dict[int, int] = {}
        self.unaccepted = 0
        self.system_s = 0.0
        self.switches = 0

    def open(self, loadgen_pid: int) -> None:
        # The backends the pools opened in the warm-up; any opened later is found at the close.
        self.database = backends(self._stack.gateway.database)
        ours = (self._stack.emulator.service.pid, loadgen_pid, os.getpid(), *self._bystanders)
        self.system_s = -sum(system_seconds(pid) for pid in self.gunicorn)
        self.switches = -sum(context_switches(pid) for pid in self.gunicorn)
        self._window = CpuWindow((*self.gunicorn, *self.database, *ours))
        # Where the keep-alive clients landed, read as the window opens: they stay there all
        # through it. At its close they finish and hang up, and a snapshot taken then put the
        # connections of whichever worker closed first among the unaccepted.
        port = self._stack.gateway.port
        self.connections, self.unaccepted = connections_per_pid(self.workers, port)

    def close(self) -> None:
        if self._window is None:
            raise BenchFailed("the load generator closed a window it never opened")
        self.cpu = self._window.stop()
        self.system_s += sum(system_seconds(pid) for pid in self.gunicorn)
        self.switches += sum(context_switches(pid) for pid in self.gunicorn)
        self.database_cpu_s = database_cpu(self._stack.gateway.database, self.database, self.cpu)


def backends(database: str) -> list[int]:
    """The PostgreSQL backends connected to `database`, by their process titles."""
    return pids_with_cmdline(f" {database} ")


def database_cpu(database: str, at_start: list[int], cpu: CpuUse) -> float | None:
    """The CPU of `database`'s backends over a window that watched `at_start`. A pool opens a
    connection when its concurrent statements first need one, so a backend may start inside
    the window: all its CPU is the window's. One that ends takes its CPU with it, and then
    none is given."""
    now = set(backends(database))
    if not now.issuperset(at_start):
        return None
    started = now.difference(at_start)
    return cpu.total(at_start) + sum(cpu_seconds(pid) for pid in started)


def closed_loop(
    stack: Stack,
    pool_key: str,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    bystanders: tuple[int, ...] = (),
) -> dict:
    """`concurrency` keep-alive clients doing POST then DELETE; the gateway's CPU per request,
    its largest worker's RSS and how clients and work spread over the workers. `bystanders`:
    more of the bench's own processes (py-spy), kept out of "other processes"."""
    probe = WindowProbe(stack, bystanders)
    mode = ["--concurrency", str(concurrency)]
    result = _run_loadgen(
        stack.gateway, pool_key, mode, warmup_s, duration_s, probe.open, probe.close
    )
    workers, cpu = probe.workers, probe.cpu
    if cpu is None or stack.gateway.workers() != workers:
        raise BenchFailed(
            f"gunicorn replaced workers during the run ({workers} → {stack.gateway.workers()}),"
            f" so their CPU is lost; see {stack.gateway.service.log}"
        )
    requests = max(result["requests"], 1)
    worker_cpu = cpu.total(workers) or 1.0
    gunicorn_cpu = cpu.total(probe.gunicorn)
    return {
        **result,
        "cpu_ms_per_req": round(gunicorn_cpu * 1000 / requests, 3),
        "system_cpu_share": round(probe.system_s / gunicorn_cpu, 3) if gunicorn_cpu else None,
        "context_switches_per_req": round(probe.switches / requests, 1),
        "rss_mb": round(max(rss_mb(pid) for pid in workers), 1),
        "db_cpu_ms_per_req": (
            None
            if probe.database_cpu_s is None
            else round(probe.database_cpu_s * 1000 / requests, 3)
        ),
        **cpu.machine(),
        "window": cpu.window,
        "unaccepted_connections": probe.unaccepted,
        "workers": [
            {
                "pid": pid,
                "connections": probe.connections.get(pid, 0),
                "cpu_share": round(cpu.per_pid[pid] / worker_cpu, 3),
            }
            for pid in workers
        ],
    }


def open_loop(stack: Stack, pool_key: str, rate: float, warmup_s: float, duration_s: float) -> dict:
    """The fixed-rate schedule through the gateway; latencies count from each due time, and
    what else the machine did in the window beside the run's own processes."""
    probe = WindowProbe(stack, ())
    mode = ["--rate", str(rate)]
    result = _run_loadgen(
        stack.gateway, pool_key, mode, warmup_s, duration_s, probe.open, probe.close
    )
    if probe.cpu is None:
        raise BenchFailed("the load generator never closed its window")
    return {**result, **probe.cpu.machine(), "window": probe.cpu.window}
