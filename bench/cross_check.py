"""`python -m bench.cross_check`: one gateway under bench.loadgen, then wrk, then loadgen again.

The issue asks that an independent load generator confirm the throughput and latency
bench.load reports. This starts one stack as bench.load does (the emulator with
`--latency-ms`, a fresh database, the gateway under its production gunicorn.conf.py) and
drives it in turn with bench.loadgen's closed loop and with wrk (bench/load_wrk.lua: each of
C wrk threads holds one keep-alive connection, POST then DELETE), each for `--duration`
seconds after a warm-up of its own. The loadgen runs before and after wrk, so drift of the
machine shows. Needs wrk (Debian package wrk). The last stdout line is JSON:
`{"loadgen_before", "wrk", "loadgen_after"}`, each `{"rps", "p50_ms", "p99_ms", "errors"}`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys

from bench import load_gateway
from bench.load import run_main
from bench.load_stack import ROOT, Stack, running_stack
from bench.load_stats import BenchFailed, require_few_errors
from emulator import DEFAULT_POOL_KEY

SCRIPT = ROOT / "bench" / "load_wrk.lua"
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
PERCENTILE = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
COUNTED = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
# The script counts answers that are neither 200 nor 201; wrk counts the non-2xx among them.
UNEXPECTED = re.compile(r"unexpected statuses: (\d+)|Non-2xx or 3xx responses: (\d+)")
SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def parse_wrk(output: str) -> dict:
    """wrk's report as the same four numbers bench.loadgen gives."""
    rate, counted = RATE.search(output), COUNTED.search(output)
    percentiles = {p: float(v) * UNITS_MS[unit] for p, v, unit in PERCENTILE.findall(output)}
    if not rate or not counted or set(percentiles) != {"50", "99"}:
        raise BenchFailed(f"could not read wrk's report:\n{output}")
    errors = max((int(a or b) for a, b in UNEXPECTED.findall(output)), default=0)
    sockets = SOCKET_ERRORS.search(output)
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    return {
        "rps": float(rate.group(1)),
        "p50_ms": round(percentiles["50"], 3),
        "p99_ms": round(percentiles["99"], 3),
        "errors": errors,
        "requests": int(counted.group(1)),
    }


def run_wrk(stack: Stack, concurrency: int, seconds: float) -> dict:
    wrk = shutil.which("wrk")
    if not wrk:
        raise BenchFailed("bench.cross_check needs wrk (apt-get install -y wrk)")
    command = [
        wrk,
        f"-t{concurrency}",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
    ]
    command += ["-s", str(SCRIPT), f"http://127.0.0.1:{stack.gateway.port}"]
    env = os.environ | {"TOKEN": stack.gateway.token, "POOL_KEY": DEFAULT_POOL_KEY}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchFailed(f"wrk failed:\n{done.stdout}{done.stderr}")
    result = parse_wrk(done.stdout)
    require_few_errors("wrk", {**result, "outcomes": "see wrk's report"})
    return result


def loadgen(stack: Stack, concurrency: int, warmup: float, duration: float) -> dict:
    stack.emulator.reset()
    result = load_gateway.closed_loop(stack, DEFAULT_POOL_KEY, concurrency, warmup, duration)
    require_few_errors("loadgen", result)
    return {k: result[k] for k in ("rps", "p50_ms", "p99_ms", "errors", "requests")}


def cross_check(args: argparse.Namespace) -> dict:
    with running_stack(args.latency_ms, {}) as stack:
        before = loadgen(stack, args.concurrency, args.warmup, args.duration)
        print(f"loadgen: {before}", flush=True)
        stack.emulator.reset()
        run_wrk(stack, args.concurrency, args.warmup)  # warm-up: new connections, warm workers
        checked = run_wrk(stack, args.concurrency, args.duration)
        print(f"wrk:     {checked}", flush=True)
        after = loadgen(stack, args.concurrency, args.warmup, args.duration)
        print(f"loadgen: {after}", flush=True)
    return {
        "loadgen_before": before,
        "wrk": checked,
        "loadgen_after": after,
        "concurrency": args.concurrency,
        "latency_ms": args.latency_ms,
        "duration_s": args.duration,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cross_check", description=__doc__)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--latency-ms", type=int, default=0)
    return run_main(cross_check, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
