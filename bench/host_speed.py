"""`python -m bench.host_speed`: how fast this machine's vCPUs run now; `bench.load --host-speed`
reads the same beside a run.

On this machine (a KVM guest with two vCPUs) a fixed piece of Python runs at a quick speed or
1.3–1.7 × slower, and each vCPU switches between the two on its own, within seconds, with no
stolen time to show for it. Every number in milliseconds moves with that,
and so do `own_cpu_ms_per_req` and `ratio`, which set a phase that ran on one machine
against a phase that may have run on the other. A probe process pinned to each vCPU runs a
fixed unit of work and notes the CPU time it took: `host_unit_ms` is a window's mean over
every vCPU, about 0.9 ms where the vCPUs ran quick throughout and 1.2–1.6 where slow.

Standalone, the probes run their units back to back for `--seconds` (on an otherwise idle
machine: they keep every vCPU busy), and the last stdout line is JSON: `{"seconds", "cpus":
[{"cpu", "units", "unit_ms", "quickest_ms", "slowest_ms"}]}`, the quickest and slowest being
the 5th and 95th percentiles. Beside a load each probe measures one unit every 200 ms, about
1 % of a vCPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.load_stats import percentile

ROOT = Path(__file__).resolve().parent.parent
UNIT_STEPS = 10_000
BESIDE_LOAD_EVERY_S = 0.2


def unit() -> int:
    """Dictionary stores and lookups, as the interpreter spends most of a request on them."""
    table: dict[int, int] = {}
    total = 0
    for step in range(UNIT_STEPS):
        table[step & 1023] = step
        total += table.get(step & 511, 0)
    return total


def _probe(every_s: float) -> None:
    """In the child: units on the vCPU it was pinned to, each line `monotonic_s unit_ms`, until
    the bench that started it is gone, however it ended. Between spaced units one more runs
    first, unmeasured: the first unit after a pause costs about 6 % more (its caches and a
    vCPU that may have halted), and a vCPU halts in a half-idle phase, not in a full one."""
    parent = os.getppid()
    while os.getppid() == parent:
        if every_s:
            unit()
        started = time.thread_time()
        unit()
        spent_ms = (time.thread_time() - started) * 1000
        print(f"{time.monotonic():.4f} {spent_ms:.4f}", flush=True)
        if every_s:
            time.sleep(every_s)


class HostSpeed:
    """One probe process per vCPU, from its making until `close()`, each writing its units
    to a file in `directory`."""

    def __init__(self, every_s: float, directory: Path) -> None:
        self._probes: dict[int, tuple[subprocess.Popen, Path]] = {}
        for cpu in sorted(os.sched_getaffinity(0)):
            path = directory / f"cpu{cpu}.txt"
            with path.open("w") as out:
                command = [sys.executable, "-m", "bench.host_speed", "--probe", str(cpu)]
                command += ["--every", str(every_s)]
                self._probes[cpu] = (subprocess.Popen(command, stdout=out, cwd=ROOT), path)

    def close(self) -> None:
        for process, _ in self._probes.values():
            process.terminate()
        for process, _ in self._probes.values():
            process.wait()

    @property
    def cpus(self) -> list[int]:
        return list(self._probes)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process, _ in self._probes.values()]

    def units(self, cpu: int, start: float, stop: float) -> list[float]:
        """The CPU milliseconds of each unit `cpu`'s probe finished between two monotonic times."""
        found = []
        for line in self._probes[cpu][1].read_text().splitlines():
            at, _, spent = line.partition(" ")
            if spent and start <= float(at) <= stop:
                found.append(float(spent))
        return found

    def unit_ms(self, start: float, stop: float) -> float | None:
        """A window's mean unit cost over every vCPU; None when no probe finished a unit in it."""
        found = [ms for cpu in self.cpus for ms in self.units(cpu, start, stop)]
        return round(statistics.fmean(found), 3) if found else None


@contextmanager
def probes(every_s: float) -> Iterator[HostSpeed]:
    """The probes for as long as the context lasts, their files removed with them."""
    with tempfile.TemporaryDirectory(prefix="host-speed-") as directory:
        speed = HostSpeed(every_s, Path(directory))
        try:
            yield speed
        finally:
            speed.close()


def measure(seconds: float) -> dict:
    with probes(every_s=0) as speed:
        start = time.monotonic()
        time.sleep(seconds)
        stop = time.monotonic()
        cpus = []
        for cpu in speed.cpus:
            found = sorted(speed.units(cpu, start, stop))
            if not found:
                continue
            cpus.append(
                {
                    "cpu": cpu,
                    "units": len(found),
                    "unit_ms": round(statistics.fmean(found), 3),
                    "quickest_ms": round(percentile(found, 0.05), 3),
                    "slowest_ms": round(percentile(found, 0.95), 3),
                }
            )
    return {"seconds": seconds, "cpus": cpus}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.host_speed", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="how long to probe")
    parser.add_argument("--probe", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--every", type=float, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe is not None:
        os.sched_setaffinity(0, {args.probe})
        _probe(args.every)
    result = measure(args.seconds)
    for cpu in result["cpus"]:
        print(
            f"vCPU {cpu['cpu']}: {cpu['units']} units, mean {cpu['unit_ms']:.2f} ms"
            f" (quickest {cpu['quickest_ms']:.2f}, slowest {cpu['slowest_ms']:.2f})"
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
