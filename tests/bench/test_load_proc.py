"""What the bench reads from /proc about the gateway's processes."""

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from bench.load_proc import (
    CpuUse,
    DiskWatch,
    connections_per_pid,
    context_switches,
    cpu_seconds,
    host_cpu_seconds,
    host_io_stalled_seconds,
    longest_wait,
    system_seconds,
)


def test_context_switches_count_the_sleeps_of_every_live_thread():
    sleeps = 50
    slept, finish = threading.Event(), threading.Event()

    def sleeper() -> None:
        for _ in range(sleeps):
            time.sleep(0.001)
        slept.set()
        finish.wait()

    before = context_switches(os.getpid())
    worker = threading.Thread(target=sleeper)
    worker.start()
    slept.wait()
    after = context_switches(os.getpid())
    finish.set()
    worker.join()

    assert after - before >= sleeps


def test_system_time_is_the_kernel_part_of_the_cpu_time():
    system_before, cpu_before = system_seconds(os.getpid()), cpu_seconds(os.getpid())
    with open("/dev/zero", "rb", buffering=0) as zeros:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            zeros.read(1 << 20)  # the kernel fills a megabyte: system time
    system = system_seconds(os.getpid()) - system_before
    cpu = cpu_seconds(os.getpid()) - cpu_before

    assert system >= 0.05
    # Whole clock ticks each, so equal when the loop ran only in the kernel; the floats
    # they are differenced in can round either way by one part in 10^16.
    assert system <= cpu + 1e-9


def test_a_process_that_has_gone_reads_as_nothing():
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(gone.stdout)

    assert (context_switches(pid), system_seconds(pid), cpu_seconds(pid)) == (0, 0.0, 0.0)


HOLDER = """
import os, socket
files = [os.open(os.devnull, os.O_RDONLY) for _ in range(100)]  # listed before the sockets
listener = socket.create_server(("127.0.0.1", 0))
clients = [socket.create_connection(listener.getsockname()) for _ in range(3)]
accepted = [listener.accept()[0] for _ in range(2)]
print(listener.getsockname()[1], flush=True)
while True:
    for fd in files:
        os.close(fd)
    files = [os.open(os.devnull, os.O_RDONLY) for _ in files]
"""


def test_connections_are_counted_per_holder_while_other_descriptors_come_and_go():
    """The accept() spread the bench prints: two connections a process took and one left in
    its listen backlog, counted right even while that process opens and closes other files
    as fast as it can (as a busy worker does with its sockets)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(holder.stdout.readline())
        counts = [connections_per_pid([holder.pid], port) for _ in range(300)]
    finally:
        holder.kill()
        holder.wait()

    expected = ({holder.pid: 2}, 1)
    assert [count for count in counts if count != expected] == []


def test_time_stolen_by_other_guests_is_not_counted_as_other_processes():
    """On a virtual machine the hypervisor's other guests show as stolen time: the window
    reports it as such, and does not warn of other processes on our own machine."""
    window = CpuUse(
        per_pid={1: 1.2, 2: 0.3}, host_busy_s=2.0, host_stolen_s=0.4, host_total_s=2.0, wall_s=1.0
    )

    assert window.host_stolen_share == 0.2
    assert round(window.other_cores, 3) == 0.1


def test_the_host_readings_grow_and_stolen_is_part_of_busy():
    busy, stolen, total = host_cpu_seconds()
    time.sleep(0.05)
    later = host_cpu_seconds()

    assert 0 <= stolen <= busy <= total
    assert later[2] > total


def test_a_window_reports_the_machine_as_every_phase_does():
    window = CpuUse(
        per_pid={1: 1.2},
        host_busy_s=1.5,
        host_stolen_s=0.1,
        host_total_s=2.0,
        wall_s=1.0,
        host_io_stalled_s=0.25,
        host_io_longest_wait_s=0.15,
    )

    assert window.machine() == {
        "host_busy_share": 0.75,
        "host_stolen_share": 0.05,
        "host_io_stalled_share": 0.25,
        "host_io_longest_wait_ms": 150,
        "other_load_cores": 0.2,
    }


def test_a_kernel_without_pressure_readings_leaves_the_disk_share_unknown(tmp_path):
    window = CpuUse(per_pid={}, host_busy_s=1, host_stolen_s=0, host_total_s=2, wall_s=1)

    assert host_io_stalled_seconds(str(tmp_path / "no-such-file")) is None
    assert window.machine()["host_io_stalled_share"] is None
    assert window.machine()["host_io_longest_wait_ms"] is None


def test_the_disk_stall_reading_is_the_kernels_some_total(tmp_path):
    pressure = tmp_path / "io"
    pressure.write_text(
        "some avg10=0.00 avg60=1.43 avg300=1.17 total=16166877\n"
        "full avg10=0.00 avg60=0.66 avg300=0.45 total=8517767\n"
    )

    assert host_io_stalled_seconds(str(pressure)) == 16.166877


def _scratch_file() -> IO[bytes]:
    """A file where the bench's database keeps its own: the repository's disk, not a tmpfs."""
    scratch = Path(__file__).resolve().parents[2] / "bench" / "out"
    scratch.mkdir(parents=True, exist_ok=True)
    return tempfile.NamedTemporaryFile(dir=scratch)


def _needs_pressure_readings() -> float:
    stalled = host_io_stalled_seconds()
    if stalled is None:
        pytest.skip("this kernel keeps no pressure stall information")
    return stalled


def test_waiting_for_a_disk_flush_shows_as_a_disk_stall():
    before = _needs_pressure_readings()
    with _scratch_file() as file:
        for _ in range(20):
            file.write(os.urandom(1 << 16))
            file.flush()
            os.fsync(file.fileno())

    assert host_io_stalled_seconds() > before


def test_the_longest_wait_is_the_longest_run_of_intervals_waited_through():
    """Intervals of 50 ms: a 30 ms wait inside one is a commit's flush, not a stall; two
    waited through on end are a 100 ms stall, and a busy interval between ends a run."""
    samples = [(0.05, 0.03), (0.05, 0.045), (0.05, 0.05), (0.05, 0.01), (0.05, 0.049)]

    assert longest_wait(samples) == pytest.approx(0.1)
    assert longest_wait([(0.05, 0.03), (0.05, 0.002)]) == 0.0


class _PressureFile:
    """A pressure file like the kernel's, whose "some" total grows with the clock while a
    stall lasts: what /proc/pressure/io shows while a task waits on a slow flush. Each
    reading is written whole and renamed into place, as a reader of /proc sees it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._total_us = 16_000_000
        self._write()

    def _write(self) -> None:
        staged = self.path.with_suffix(".new")
        staged.write_text(f"some avg10=0.00 avg60=0.00 avg300=0.00 total={self._total_us}\n")
        staged.replace(self.path)

    def stall(self, seconds: float) -> None:
        base, started = self._total_us, time.monotonic()
        while (waited := time.monotonic() - started) < seconds:
            self._total_us = base + int(waited * 1_000_000)
            self._write()
            time.sleep(0.002)
        self._total_us = base + int(seconds * 1_000_000)
        self._write()


def test_a_half_second_flush_shows_as_the_longest_wait_and_idle_time_does_not(tmp_path):
    """A disk that holds a writer for half a second, between two quiet spells: the watch
    reports those seconds, and a wait on end of most of them, not the quiet around it.
    (Whether a real flush reads as a stall is the kernel's part, tested above.)"""
    pressure = _PressureFile(tmp_path / "io")
    watch = DiskWatch(interval_s=0.1, pressure=str(pressure.path))

    time.sleep(0.3)
    pressure.stall(0.5)
    time.sleep(0.3)
    stalled, longest = watch.stop()

    assert stalled == pytest.approx(0.5, abs=0.001)
    assert 0.2 <= longest <= 0.6
