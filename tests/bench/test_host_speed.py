"""The probe that says how fast the machine's vCPUs ran in a window."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.host_speed import ROOT, probes


def test_each_vcpu_reports_the_cpu_time_of_the_units_it_finished_in_a_window():
    with probes(every_s=0.02) as speed:
        time.sleep(0.3)  # the probes start
        start = time.monotonic()
        time.sleep(1.0)
        stop = time.monotonic()
        units = {cpu: speed.units(cpu, start, stop) for cpu in os.sched_getaffinity(0)}
        mean = speed.unit_ms(start, stop)
        before = speed.unit_ms(start - 3600, start - 3599)

    assert all(len(found) >= 10 for found in units.values()), units
    everything = [ms for found in units.values() for ms in found]
    assert all(0 < ms < 1000 for ms in everything)
    assert mean == pytest.approx(sum(everything) / len(everything), abs=0.0006)
    assert before is None


def test_probes_stop_when_the_bench_that_started_them_dies_without_cleaning_up(tmp_path: Path):
    orphaning = (
        "import os, sys, time; from pathlib import Path; from bench.host_speed import HostSpeed\n"
        "speed = HostSpeed(0.01, Path(sys.argv[1])); time.sleep(0.5)\n"
        "print(*speed.pids, flush=True); os._exit(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", orphaning, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    pids = [int(pid) for pid in done.stdout.split()]
    assert pids

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False
