"""`python -m bench.load`: what the gateway adds to the one SDK call it wraps, under load.

One run starts the emulator, a fresh PostgreSQL database and the gateway under gunicorn (see
`bench.load_stack`), then measures, each for `--duration` seconds after `--warmup`:
  1. direct: C threads of this process sharing one AcsClient, BindAxb then UnbindSubscription;
  2. gateway: C keep-alive clients (`bench.loadgen`) doing POST /v1/bindings then DELETE;
  3. fixed rate: `--rate` requests per second, open loop, through the gateway and directly.
One unit on either side is one upstream call: a BindAxb or an UnbindSubscription directly, a
POST or a DELETE through the gateway. Progress goes to stdout line by line; the last line is the
result as one JSON object. More than 1 % failed requests in any phase fails the run (exit 1).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from types import FrameType

from bench import load_direct, load_gateway, load_profile
from bench.host_speed import BESIDE_LOAD_EVERY_S, HostSpeed, probes
from bench.load_plan import OpenLoopPlan
from bench.load_plot import plot_sweep
from bench.load_proc import MACHINE_FIELDS
from bench.load_stack import OUT, Stack, running_stack
from bench.load_stats import BenchFailed, require_few_errors
from emulator import DEFAULT_POOL_KEY

SWEEP_CONCURRENCY = (1, 8, 32, 64)
OPEN_LOOP_THREADS = 32
OTHER_LOAD_WARNING_CORES = 0.15
STOLEN_WARNING_SHARE = 0.05
IO_STALL_WARNING_SHARE = 0.15
IO_WAIT_WARNING_MS = 100


def progress(message: str) -> None:
    print(message, flush=True)


def _timing(summary: dict) -> str:
    return (
        f"p50 {summary['p50_ms']:.2f} ms  p99 {summary['p99_ms']:.2f} ms"
        f"  max {summary['max_ms']:.1f} ms"
    )


def _note_speed(result: dict, speed: HostSpeed | None, window: tuple[float, float]) -> None:
    """With `--host-speed`: how fast the vCPUs ran in the window (bench/host_speed.py)."""
    if speed is not None:
        result["host_unit_ms"] = speed.unit_ms(*window)


def measure_direct(
    stack: Stack, concurrency: int, args: argparse.Namespace, speed: HostSpeed | None
) -> dict:
    """Closed-loop SDK calls from this process; its CPU and the emulator's per call."""
    stack.emulator.reset()
    sdk = load_direct.DirectSdk(stack.emulator.port, DEFAULT_POOL_KEY, pool_size=concurrency)
    emulator_pid = stack.emulator.service.pid
    watched = _run_processes(stack)
    tally, cpu = load_direct.closed_loop(sdk, concurrency, args.warmup, args.duration, watched)
    result = tally.summary()
    require_few_errors("direct", result)
    calls = result["requests"]
    result["cpu_ms_per_call"] = round(cpu.per_pid[os.getpid()] * 1000 / calls, 3)
    result["emulator_cpu_ms_per_call"] = round(cpu.per_pid[emulator_pid] * 1000 / calls, 3)
    result.update(cpu.machine())
    _note_speed(result, speed, cpu.window)
    progress(
        f"direct   C={concurrency}: {result['rps']:.1f} calls/s  {_timing(result)}"
        f"  cpu {result['cpu_ms_per_call']:.3f} ms/call"
        f"  emulator {result['emulator_cpu_ms_per_call']:.3f} ms/call"
    )
    progress(f"         {calls} calls, {result['errors']} failed {result['outcomes']}")
    _report_machine("direct", result)
    return result


def _run_processes(stack: Stack) -> tuple[int, ...]:
    """The run's own processes while the SDK is called directly: this one and the emulator,
    and the idle gateway and its database, which are not other processes either."""
    gateway = (stack.gateway.master, *stack.gateway.workers())
    database = load_gateway.backends(stack.gateway.database)
    return (os.getpid(), stack.emulator.service.pid, *gateway, *database)


def _report_machine(phase: str, machine: dict, side: str = "") -> None:
    """How busy the machine was, and a warning when someone else's processes or another
    guest shared it, or its disk stalled."""
    progress(
        f"         {side}host busy {machine['host_busy_share']:.0%}"
        f" (stolen by other guests {machine['host_stolen_share']:.0%});"
        f" other processes used {machine['other_load_cores']:.2f} cores;"
        f" something waited on the disk {_share(machine['host_io_stalled_share'])} of the time,"
        f" {_milliseconds(machine['host_io_longest_wait_ms'])} on end at most"
        + _speed(machine.get("host_unit_ms"))
    )
    for warning in machine_warnings(machine):
        progress(f"WARNING: {phase}: {warning}")


def machine_warnings(machine: dict) -> list[str]:
    """What in a window's machine readings makes its numbers not the code's alone."""
    warnings = []
    if machine["other_load_cores"] > OTHER_LOAD_WARNING_CORES:
        warnings.append(
            f"other processes used {machine['other_load_cores']:.2f} cores during the window;"
            " these numbers are disturbed, run again on a quiet machine"
        )
    if machine["host_stolen_share"] > STOLEN_WARNING_SHARE:
        warnings.append(
            f"{machine['host_stolen_share']:.0%} of the machine was lent to other guests; this"
            " phase reads slower than its code, and a comparison with another phase reads wrong"
        )
    stalled = machine["host_io_stalled_share"]
    if stalled is not None and stalled > IO_STALL_WARNING_SHARE:
        warnings.append(
            f"something waited on the disk {stalled:.0%} of the window (durable commits alone"
            " take a few per cent); a slow disk is in these latencies"
        )
    longest = machine["host_io_longest_wait_ms"]
    if longest is not None and longest >= IO_WAIT_WARNING_MS:
        warnings.append(
            f"something waited on the disk for {longest} ms on end; every durable commit in"
            " flight waited with it, which max_ms and the tail show"
        )
    return warnings


def measure_gateway(
    stack: Stack,
    concurrency: int,
    args: argparse.Namespace,
    direct_cpu_ms: float,
    speed: HostSpeed | None,
) -> dict:
    """Closed-loop HTTP through the gateway; its CPU per request beyond the direct SDK's."""
    stack.emulator.reset()
    sampling = (
        load_profile.sampling(stack.gateway.master, args.warmup + args.duration)
        if args.profile
        else nullcontext()
    )
    with sampling as profile:
        result = load_gateway.closed_loop(
            stack,
            DEFAULT_POOL_KEY,
            concurrency,
            args.warmup,
            args.duration,
            bystanders=profile.sampler_pids if profile else (),
        )
    require_few_errors("gateway", result)
    _note_speed(result, speed, result["window"])
    result["own_cpu_ms_per_req"] = round(result["cpu_ms_per_req"] - direct_cpu_ms, 3)
    progress(
        f"gateway  C={concurrency}: {result['rps']:.1f} req/s  {_timing(result)}"
        f"  cpu {result['cpu_ms_per_req']:.3f} ms/req (own {result['own_cpu_ms_per_req']:.3f})"
        f"  database {_database_cpu(result['db_cpu_ms_per_req'])}  rss {result['rss_mb']} MB"
    )
    progress(
        f"         {result['requests']} requests, {result['errors']} failed {result['outcomes']},"
        f" {result['unanswered_at_end']} unanswered when the window closed (in p50/p99);"
        f" load generator {result['loadgen_cpu_ms_per_req']:.3f} ms CPU/req"
    )
    progress(
        f"         gunicorn: {_share(result['system_cpu_share'])} of its CPU in the kernel,"
        f" {result['context_switches_per_req']} context switches per request"
    )
    spread = ", ".join(
        f"pid {w['pid']} {w['connections']} conn {w['cpu_share']:.0%} cpu"
        for w in result["workers"]
    )
    progress(
        f"         workers: {spread}; {result['unaccepted_connections']} connections"
        " not yet accepted by any worker"
    )
    _report_machine("gateway", result)
    if args.latency_ms:
        bound = concurrency * 1000 / args.latency_ms
        result["latency_bound_share"] = round(result["rps"] / bound, 3)
        progress(f"         {result['latency_bound_share']:.0%} of C ÷ latency = {bound:.0f} req/s")
    if profile is not None:
        for line in load_profile.report(profile, result["cpu_ms_per_req"]):
            progress(f"         {line}")
    return result


def measure_fixed_rate(stack: Stack, args: argparse.Namespace, speed: HostSpeed | None) -> dict:
    """Open loop at `--rate`: what the gateway adds to each call's latency, queueing included."""
    stack.emulator.reset()
    through = load_gateway.open_loop(stack, DEFAULT_POOL_KEY, args.rate, args.warmup, args.duration)
    require_few_errors("fixed rate through the gateway", through)
    stack.emulator.reset()
    sdk = load_direct.DirectSdk(stack.emulator.port, DEFAULT_POOL_KEY, OPEN_LOOP_THREADS)
    plan = OpenLoopPlan(args.rate, args.warmup, args.duration)
    tally, cpu = load_direct.open_loop(sdk, plan, OPEN_LOOP_THREADS, _run_processes(stack))
    direct = tally.summary()
    require_few_errors("fixed rate direct", direct)
    machine = {"gateway": {k: through[k] for k in MACHINE_FIELDS}, "direct": cpu.machine()}
    _note_speed(machine["gateway"], speed, through["window"])
    _note_speed(machine["direct"], speed, cpu.window)
    result = {
        "added_p50_ms": round(through["p50_ms"] - direct["p50_ms"], 3),
        "added_p99_ms": round(through["p99_ms"] - direct["p99_ms"], 3),
        "rate": args.rate,
        "gateway_p50_ms": through["p50_ms"],
        "gateway_p99_ms": through["p99_ms"],
        "direct_p50_ms": direct["p50_ms"],
        "direct_p99_ms": direct["p99_ms"],
        "gateway_max_ms": through["max_ms"],
        "direct_max_ms": direct["max_ms"],
        "machine": machine,
    }
    progress(
        f"fixed    {args.rate:g} req/s: gateway {_timing(through)}, direct {_timing(direct)}"
        f" → added p50 {result['added_p50_ms']:.2f} ms, p99 {result['added_p99_ms']:.2f} ms"
        f" ({through['requests']} + {direct['requests']} requests)"
    )
    for side, numbers in machine.items():
        _report_machine(f"fixed rate, {side}", numbers, f"{side}: ")
    return result


PUBLIC_DIRECT = (
    "rps",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "cpu_ms_per_call",
    "requests",
    "errors",
    *MACHINE_FIELDS,
    "host_unit_ms",
)
PUBLIC_GATEWAY = (
    "rps",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "cpu_ms_per_req",
    "own_cpu_ms_per_req",
    "rss_mb",
    "requests",
    "errors",
    "db_cpu_ms_per_req",
    "system_cpu_share",
    "context_switches_per_req",
    *MACHINE_FIELDS,
    "host_unit_ms",
    "latency_bound_share",
    "unanswered_at_end",
    "unaccepted_connections",
    "workers",
)


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _milliseconds(value: int | None) -> str:
    return "n/a" if value is None else f"{value} ms"


def _speed(unit_ms: float | None) -> str:
    return "" if unit_ms is None else f"; a probe unit took {unit_ms:.2f} ms of CPU"


def _database_cpu(ms_per_req: float | None) -> str:
    if ms_per_req is None:
        return "n/a (a backend ended in the window)"
    return f"{ms_per_req:.3f} ms/req"


def measure(
    stack: Stack, concurrency: int, args: argparse.Namespace, speed: HostSpeed | None
) -> dict:
    """Direct then gateway at one concurrency; `fixed_rate` is filled in by the caller."""
    direct = measure_direct(stack, concurrency, args, speed)
    gateway = measure_gateway(stack, concurrency, args, direct["cpu_ms_per_call"], speed)
    return {
        "direct": {k: direct[k] for k in PUBLIC_DIRECT if k in direct},
        "gateway": {k: gateway[k] for k in PUBLIC_GATEWAY if k in gateway},
        "emulator": {"cpu_ms_per_call": direct["emulator_cpu_ms_per_call"]},
        "fixed_rate": None,
        "ratio": round(gateway["rps"] / direct["rps"], 3),
        "loadgen": {"cpu_ms_per_req": gateway["loadgen_cpu_ms_per_req"]},
        "concurrency": concurrency,
    }


def run(args: argparse.Namespace) -> dict:
    """Start the stack, measure, stop it; one run's result, or the sweep's."""
    overrides = dict(args.gateway_env)
    settings = {
        "latency_ms": args.latency_ms,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        # Every process of the run is this interpreter, and its build moves every number.
        "python": f"{platform.python_version()} {os.path.realpath(sys.executable)}",
    }
    if overrides:
        settings["gateway_env"] = overrides
    with ExitStack() as probing, running_stack(args.latency_ms, overrides) as stack:
        speed = probing.enter_context(probes(BESIDE_LOAD_EVERY_S)) if args.host_speed else None
        workers = stack.gateway.workers()
        progress(
            f"stack up: emulator :{stack.emulator.port} (latency {args.latency_ms} ms),"
            f" gateway :{stack.gateway.port} with {len(workers)} workers {workers},"
            f" database {stack.gateway.database}"
            + (f", gateway env {overrides}" if overrides else "")
        )
        levels = SWEEP_CONCURRENCY if args.sweep else (args.concurrency,)
        runs = [measure(stack, concurrency, args, speed) for concurrency in levels]
        fixed_rate = measure_fixed_rate(stack, args, speed)
    for result in runs:
        result.update(fixed_rate=fixed_rate, **settings)
    if not args.sweep:
        return runs[0]
    sweep = {**settings, "runs": runs}
    (OUT / "load-sweep.json").write_text(json.dumps(sweep, indent=2) + "\n")
    plot_sweep(runs, args.latency_ms, OUT / "load-sweep.png")
    progress(f"wrote {OUT / 'load-sweep.json'} and {OUT / 'load-sweep.png'}")
    return sweep


def environment_setting(text: str) -> tuple[str, str]:
    """NAME=VALUE as a pair, so the option's list of them makes a dict."""
    name, sep, value = text.partition("=")
    if not (name and sep):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description="Gateway vs direct SDK under load; the last stdout line is JSON.",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="clients (default 32)")
    parser.add_argument("--duration", type=float, default=20, help="seconds measured per phase")
    parser.add_argument("--latency-ms", type=int, default=0, help="emulator latency per call")
    parser.add_argument("--warmup", type=float, default=3, help="seconds before each window")
    parser.add_argument(
        "--sweep", action="store_true", help=f"concurrency {SWEEP_CONCURRENCY}, plot and JSON"
    )
    parser.add_argument("--rate", type=float, default=100, help="fixed-rate phase, req/s")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the workers during the gateway phase"
    )
    parser.add_argument(
        "--host-speed",
        action="store_true",
        help="probe each vCPU's speed beside the load (bench/host_speed.py; 1 %% of each)",
    )
    parser.add_argument(
        "--gateway-env",
        action="append",
        default=[],
        type=environment_setting,
        metavar="NAME=VALUE",
        help="set a gateway variable on purpose (recorded in the result); repeatable",
    )
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.duration <= 0 or args.warmup < 0 or args.rate <= 0:
        parser.error("concurrency, duration and rate must be positive, warmup not negative")
    return args


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_main(run: Callable[[argparse.Namespace], dict], args: argparse.Namespace) -> int:
    """`run` as a command: its result as the last stdout line, exit 1 when it cannot give
    honest numbers, and what it started stopped on Ctrl-C or SIGTERM alike."""
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        result = run(args)
    except BenchFailed as failure:
        print(f"BENCH FAILED: {failure}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("interrupted; everything started was stopped", file=sys.stderr)
        return 130
    print(json.dumps(result), flush=True)
    return 0


def main() -> int:
    return run_main(run, parse_args(sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
