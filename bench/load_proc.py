"""What the benchmark reads from /proc: CPU time, memory and sockets of the processes it started.

Reading /proc costs nothing on the measured processes (no agent, no signal), and it sees all
of a process's threads at once, which `time.process_time()` cannot do from the outside.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
ESTABLISHED = "01"
IO_PRESSURE = "/proc/pressure/io"
DISK_SAMPLE_S = 0.05
WAITING_THROUGHOUT = 0.8


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from its third field (state) on; None once the process has gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read().decode()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name may hold spaces and parentheses: fields start after the last ")".
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of every thread of `pid` so far; 0 once it has gone."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S if fields else 0.0


def system_seconds(pid: int) -> float:
    """The kernel's part of `cpu_seconds`: system calls, and waking and sleeping threads."""
    fields = _stat_fields(pid)
    return int(fields[12]) / TICKS_PER_S if fields else 0.0


def context_switches(pid: int) -> int:
    """Times the threads of `pid` now alive were switched off a CPU, voluntarily (to wait for
    a socket, a lock, the GIL) or not: each is a sleep and a wake, whose cost shows as CPU."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return 0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/status") as status:
                for line in status:
                    if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                        total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total


def rss_mb(pid: int) -> float:
    """Resident memory (VmRSS) in MiB; 0 once the process has gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def children(parent: int) -> list[int]:
    """Direct children of `parent` (gunicorn's workers when `parent` is its master)."""
    found = []
    for pid in _all_pids():
        fields = _stat_fields(pid)
        if fields and int(fields[1]) == parent:
            found.append(pid)
    return sorted(found)


def pids_with_cmdline(fragment: str) -> list[int]:
    """Processes whose command line contains `fragment`: PostgreSQL backends of one database
    show it in their title (`postgres: … postgres bench_load_42 127.0.0.1(51234) idle`)."""
    found = []
    for pid in _all_pids():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                text = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fragment in text:
            found.append(pid)
    return found


def host_cpu_seconds() -> tuple[float, float, float]:
    """(busy, stolen, total) CPU seconds of the whole machine since boot, from /proc/stat.
    Stolen is the time a virtual machine's vCPUs wanted to run and the hypervisor ran
    another guest: busy, but for nobody here."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    stolen = values[7] if len(values) > 7 else 0
    return (sum(values) - idle) / TICKS_PER_S, stolen / TICKS_PER_S, sum(values) / TICKS_PER_S


def host_io_stalled_seconds(pressure: str = IO_PRESSURE) -> float | None:
    """Wall seconds since boot in which at least one task of the machine waited on a disk
    (the kernel's pressure stall information, "some"); None where the kernel keeps none.
    PostgreSQL's durable commits wait on the disk all the time, briefly; a disk that stalls
    shows as a share of the window far above their usual few per cent."""
    try:
        with open(pressure) as lines:
            some = next(line for line in lines if line.startswith("some "))
    except (OSError, StopIteration):
        return None
    fields = dict(field.split("=", 1) for field in some.split()[1:])
    return int(fields["total"]) / 1_000_000


def longest_wait(samples: Iterable[tuple[float, float]]) -> float:
    """The longest run of consecutive intervals in which something waited on the disk
    throughout (for 80 % of the interval or more), in seconds. `samples` holds each
    interval's (elapsed, stalled) seconds."""
    longest = run = 0.0
    for elapsed, stalled in samples:
        run = run + elapsed if stalled >= WAITING_THROUGHOUT * elapsed else 0.0
        longest = max(longest, run)
    return longest


class DiskWatch:
    """Waits on the disk in a window, read every 50 ms on a thread of its own.

    One slow flush holds every durable commit in flight, and every request with it; 100 ms
    of it is half a per cent of a 20-second window's share, so only the longest wait on end
    shows it. The thread sleeps between readings: 20 reads of a /proc file a second."""

    def __init__(self, interval_s: float = DISK_SAMPLE_S, pressure: str = IO_PRESSURE) -> None:
        self._interval_s = interval_s
        self._pressure = pressure
        self._samples: list[tuple[float, float]] = []
        self._last = (time.monotonic(), host_io_stalled_seconds(pressure))
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="disk-watch", daemon=True)
        if self._last[1] is not None:
            self._thread.start()

    def _sample(self) -> None:
        at, stalled = time.monotonic(), host_io_stalled_seconds(self._pressure)
        if stalled is not None and self._last[1] is not None:
            self._samples.append((at - self._last[0], stalled - self._last[1]))
            self._last = (at, stalled)

    def _watch(self) -> None:
        while not self._done.wait(self._interval_s):
            self._sample()

    def stop(self) -> tuple[float | None, float | None]:
        """Seconds of the window in which something waited on the disk, and the longest such
        wait on end; None for both where the kernel keeps no pressure readings."""
        if self._last[1] is None:
            return None, None
        self._done.set()
        self._thread.join()
        self._sample()
        return sum(stalled for _, stalled in self._samples), longest_wait(self._samples)


def _fd_targets(pid: int) -> Iterator[str]:
    """What `pid`'s open sockets point at. A descriptor closed between the listing and its
    look-up is skipped, not the rest of the list: workers close sockets all the time (most
    at the end of a window, as clients finish), and a count cut short there would put the
    worker's remaining connections among the unaccepted."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except (FileNotFoundError, PermissionError):
        return
    for fd in fds:
        with suppress(FileNotFoundError, PermissionError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                yield target


def established_tcp(port: int, remote: bool = False) -> Iterator[list[str]]:
    """The kernel's rows (/proc/net/tcp and tcp6, split into columns) of the established
    TCP connections whose local port, or remote port when `remote`, is `port`."""
    address = 2 if remote else 1
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as lines:
                next(lines)
                for line in lines:
                    cols = line.split()
                    if cols[3] == ESTABLISHED and int(cols[address].rsplit(":", 1)[1], 16) == port:
                        yield cols
        except FileNotFoundError:
            continue


def connections_per_pid(pids: Iterable[int], local_port: int) -> tuple[dict[int, int], int]:
    """Established TCP connections to `local_port` held by each pid, and how many no pid holds
    yet (still in the listen backlog): how the accept() race spread keep-alive clients over
    gunicorn's workers, and how many wait for any worker to take them."""
    inodes = [cols[9] for cols in established_tcp(local_port)]
    wanted = set(inodes)
    counts = {}
    for pid in pids:
        counts[pid] = sum(1 for target in _fd_targets(pid) if target[8:-1] in wanted)
    return counts, len(inodes) - sum(counts.values())


# What every phase reports of the machine besides its own numbers (`CpuUse.machine`).
MACHINE_FIELDS = (
    "host_busy_share",
    "host_stolen_share",
    "host_io_stalled_share",
    "host_io_longest_wait_ms",
    "other_load_cores",
)


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds per pid over a window, and the whole machine's over the same wall time."""

    per_pid: dict[int, float]
    host_busy_s: float
    host_stolen_s: float
    host_total_s: float
    wall_s: float
    host_io_stalled_s: float | None = None
    host_io_longest_wait_s: float | None = None
    started_at: float = 0.0

    @property
    def window(self) -> tuple[float, float]:
        """When the window opened and closed, in `time.monotonic()` seconds."""
        return self.started_at, self.started_at + self.wall_s

    def total(self, pids: Iterable[int]) -> float:
        return sum(self.per_pid[pid] for pid in pids)

    @property
    def host_busy_share(self) -> float:
        return self.host_busy_s / self.host_total_s if self.host_total_s > 0 else 0.0

    @property
    def host_stolen_share(self) -> float:
        """The share of the machine's time the hypervisor gave other guests: well above zero,
        every number of the window was taken on a host busy with someone else."""
        return self.host_stolen_s / self.host_total_s if self.host_total_s > 0 else 0.0

    @property
    def other_cores(self) -> float:
        """Cores kept busy by processes outside the window's pids: other people's tests, say.
        Anything well above zero means the numbers were taken on a shared machine."""
        mine = sum(self.per_pid.values()) + self.host_stolen_s
        return max(0.0, (self.host_busy_s - mine) / self.wall_s)

    @property
    def host_io_stalled_share(self) -> float | None:
        """The share of the window's wall time in which something waited on a disk."""
        if self.host_io_stalled_s is None or self.wall_s <= 0:
            return None
        return self.host_io_stalled_s / self.wall_s

    def machine(self) -> dict[str, float | None]:
        """What else the machine did in the window, as every phase's result reports it."""
        stalled, longest = self.host_io_stalled_share, self.host_io_longest_wait_s
        values = (
            round(self.host_busy_share, 3),
            round(self.host_stolen_share, 3),
            None if stalled is None else round(stalled, 3),
            None if longest is None else round(longest * 1000),
            round(self.other_cores, 2),
        )
        return dict(zip(MACHINE_FIELDS, values, strict=True))


class CpuWindow:
    """Starts counting when created; `stop()` gives the CPU used since, per pid and host-wide."""

    def __init__(self, pids: Iterable[int]) -> None:
        self._started = time.monotonic()
        self._before = {pid: cpu_seconds(pid) for pid in pids}
        self._host_before = host_cpu_seconds()
        self._disk = DiskWatch()

    def stop(self) -> CpuUse:
        busy, stolen, total = host_cpu_seconds()
        stalled, longest = self._disk.stop()
        return CpuUse(
            per_pid={pid: cpu_seconds(pid) - before for pid, before in self._before.items()},
            host_busy_s=busy - self._host_before[0],
            host_stolen_s=stolen - self._host_before[1],
            host_total_s=total - self._host_before[2],
            wall_s=time.monotonic() - self._started,
            host_io_stalled_s=stalled,
            host_io_longest_wait_s=longest,
            started_at=self._started,
        )
