"""The gunicorn worker the gateway runs under: gthread, keeping a busy connection on its thread.

gthread hands every request from its main loop to a pool thread and back: the main loop
wakes, waits for the GIL behind the busy request threads and passes the connection on; the
thread answers and hands the connection back through a pipe, and the main loop wakes again
to watch it. With an upstream that takes 80 ms that was about a third of the gateway's
context switches (docs/performance.md, fifth round). Here the thread that answered keeps a
kept-alive connection for up to `GUNICORN_KEEPALIVE_LINGER_MS` and serves the next request
on it itself. A caller that keeps its connection busy sends that request within a
millisecond or two; one that does not gets its connection watched by the main loop again.

Lingering never holds up work another connection brought: a thread does not start when
every thread is taken and a request waits, and a lingering thread lets go at once when the
main loop queues a request that no idle thread can take.

Each worker also runs on a core of its own (`GUNICORN_PIN_WORKERS`, on by default): its
threads pass the GIL to one another on that core instead of waking each other across
cores, which cost about a tenth of the gateway's CPU per request (docs/performance.md).
And its threads run under Linux's batch policy (`GUNICORN_BATCH_SCHEDULING`, on by
default). Under the default policy a thread woken by its socket or by a GIL hand-over
preempts the running thread, which mostly holds the GIL, and goes back to sleep; under the
batch policy it waits for the running thread to block. That saves a fifth to a quarter of
the worker's context switches and in most comparisons shortens the tail, though it saves no
CPU (docs/performance.md, sixteenth round). The tick still preempts a thread that runs on.

Between two requests on a connection gthread sets its socket's mode three times and
restores it once, whether or not anything changes: four `ioctl` calls, each letting go of
the GIL and waking a thread that waits for it. Here a connection's socket asks the system
only for a change (`SteadySocket`), and a body read to its end is not drained under a
timeout set for the purpose.

And each worker reads its settings as plain attributes (`SettledConfig`): gunicorn reads
about 25 of them per request (the parser's limits once per request, `strip_header_spaces`
once per header), and its `Config` answers each through `__getattr__`, after a failed
lookup that builds and drops an AttributeError: 7.1k instructions a read, against 0.6k.
"""

from __future__ import annotations

import gc
import os
import select
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import suppress

from gunicorn.config import Config
from gunicorn.http.body import LengthReader
from gunicorn.http.message import Message
from gunicorn.workers.base import Worker
from gunicorn.workers.gthread import TConn, ThreadWorker

LINGER_VARIABLE = "GUNICORN_KEEPALIVE_LINGER_MS"
DEFAULT_LINGER_MS = 20
PIN_VARIABLE = "GUNICORN_PIN_WORKERS"
BATCH_VARIABLE = "GUNICORN_BATCH_SCHEDULING"


def linger_ms() -> int:
    """How long a thread waits on its connection for the next request; 0 turns it off."""
    raw = os.environ.get(LINGER_VARIABLE, str(DEFAULT_LINGER_MS))
    with suppress(ValueError):
        if (value := int(raw)) >= 0:
            return value
    raise ValueError(f"{LINGER_VARIABLE} must be a whole number of milliseconds, not {raw!r}")


def _switched_on(variable: str) -> bool:
    """An on/off setting, on unless set to 0."""
    raw = os.environ.get(variable, "1")
    if raw not in ("0", "1"):
        raise ValueError(f"{variable} must be 1 or 0, not {raw!r}")
    return raw == "1"


def pin_workers() -> bool:
    """Whether each worker is held to one core (where the system can do that)."""
    return _switched_on(PIN_VARIABLE) and hasattr(os, "sched_setaffinity")


def batch_scheduling() -> bool:
    """Whether each worker's threads run under the batch policy (where the system has one)."""
    return _switched_on(BATCH_VARIABLE) and hasattr(os, "SCHED_BATCH")


def least_used_cpu(allowed: Iterable[int], taken: Iterable[int]) -> int:
    """The allowed CPU that the fewest live workers are held to; the lowest on a tie."""
    load = Counter(taken)
    return min(sorted(allowed), key=lambda cpu: load[cpu])


def freeze_startup_objects() -> None:
    """In the master, before a worker forks: every object alive now leaves the cyclic
    collector's sight. The app that `preload_app` built is some 130k tracked objects that
    live as long as the process, and a worker's full collection walked them all: 65 ms with
    the GIL held (docs/performance.md, eighteenth round), a stall for every request that
    worker was serving, and a write to each object's page that undid what fork shared.
    Garbage is collected first, so no dead cycle is frozen with the living."""
    gc.collect()
    gc.freeze()


def assign_cpu(worker: Worker, siblings: Iterable[Worker]) -> None:
    """In the master, before a worker forks: the core it will run on. A worker that
    replaces one that died takes the core the dead one left."""
    if pin_workers():
        taken = (cpu for sibling in siblings if (cpu := getattr(sibling, "cpu", None)) is not None)
        worker.cpu = least_used_cpu(os.sched_getaffinity(0), taken)


class SettledConfig(Config):
    """A worker's configuration, every setting's value an attribute of its own.

    A worker's settings do not change after it forks (a reload starts new workers), so
    their values are read once. `Config.__init__` would make a fresh set of settings, so
    it is not called; the original's attributes come along instead. Properties such as
    `is_ssl` still compute, from these attributes."""

    def __init__(self, cfg: Config) -> None:
        # Config.__setattr__ refuses a setting's name: the values go into the dict directly.
        self.__dict__.update(vars(cfg))
        self.__dict__.update((name, setting.get()) for name, setting in cfg.settings.items())


class SteadySocket(socket.socket):
    """A socket that makes no system call to set the timeout, or the blocking mode, it
    already has. Same layout as `socket.socket`, so an accepted socket can become one."""

    __slots__ = ()

    def settimeout(self, value: float | None) -> None:
        if value != self.gettimeout():
            super().settimeout(value)

    def setblocking(self, flag: bool) -> None:
        self.settimeout(None if flag else 0.0)


def read_to_end(message: Message) -> bool:
    """Whether the request's body left nothing on the connection before the next request."""
    body = message.body
    return isinstance(body.reader, LengthReader) and body.reader.length == 0 and not body.failed


class KeepAliveThreadWorker(ThreadWorker):
    """gthread, but a thread that just answered waits briefly on that connection."""

    @classmethod
    def check_config(cls, cfg, log) -> None:
        """Run by the arbiter before any worker starts: a bad setting stops it there."""
        super().check_config(cfg, log)
        linger_ms()
        pin_workers()
        batch_scheduling()

    def init_process(self) -> None:
        # After the fork, so each worker has its own pipe and counts, and before its
        # threads start, so they run on its core, under its policy, and read the settled
        # configuration.
        self.cfg = SettledConfig(self.cfg)
        if (cpu := getattr(self, "cpu", None)) is not None:
            try:
                os.sched_setaffinity(0, {cpu})
            except OSError as exc:  # the CPU left the allowed set since the master looked
                self.log.warning("worker runs unpinned: CPU %s: %s", cpu, exc)
        if batch_scheduling():
            # The policy is a thread's own; the threads started after this inherit it.
            try:
                os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
            except OSError as exc:  # a sandbox that filters the call
                self.log.warning("worker runs under the default policy: %s", exc)
        self._linger_ms = linger_ms()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._busy = 0  # threads serving a connection, lingering ones included
        self._lingering = 0
        self._counts = threading.Lock()
        super().init_process()

    def enqueue_req(self, conn: TConn) -> None:
        """Queue the request; if no thread is idle to take it, a lingering one lets go."""
        super().enqueue_req(conn)
        if self._lingering and self._no_idle_thread():
            with suppress(BlockingIOError):
                os.write(self._wake_write, b"\0")

    def handle(self, conn: TConn) -> bool:
        if type(conn.sock) is socket.socket:  # not yet steady, and not TLS
            conn.sock.__class__ = SteadySocket
        with self._counts:
            self._busy += 1
        try:
            keep = super().handle(conn)
            while keep is True and self.alive and self._next_request_soon(conn):
                keep = super().handle(conn)
            return keep
        finally:
            with self._counts:
                self._busy -= 1

    def _keepalive_after(self, conn: TConn, keepalive: bool) -> bool:
        """gthread drains what the app left unread of a body, under a timeout it sets and
        then restores, even when nothing is left."""
        if keepalive and read_to_end(conn.parser.mesg):
            return True
        return super()._keepalive_after(conn, keepalive)

    def _next_request_soon(self, conn: TConn) -> bool:
        """Whether the connection's next request is here, or came while this thread
        lingered on it without another request needing the thread."""
        if conn.is_http2 or not self._linger_ms:
            return False
        if conn.parser.unreader.buf.getvalue():
            return True  # it came in with the last one
        # Counted as lingering before looking at the queue, as `enqueue_req` queues before
        # looking at the count: a request queued meanwhile is seen by one side or the other.
        with self._counts:
            self._lingering += 1
        try:
            if self._no_idle_thread() and self._requests_waiting():
                return False
            return self._wait_for_request(conn)
        finally:
            with self._counts:
                self._lingering -= 1

    def _wait_for_request(self, conn: TConn) -> bool:
        """Poll the connection and the wake-up pipe until the next request comes (True), or
        the linger runs out or this thread takes a wake-up (False). Every lingering thread
        sees a wake-up; only the one that reads its byte lets go."""
        poller = select.poll()
        poller.register(conn.sock, select.POLLIN)
        poller.register(self._wake_read, select.POLLIN)
        deadline = time.monotonic() + self._linger_ms / 1000
        while (left_ms := (deadline - time.monotonic()) * 1000) > 0:
            ready = {fd for fd, _ in poller.poll(left_ms)}
            if conn.sock.fileno() in ready:
                return True
            if not ready:
                return False
            try:
                os.read(self._wake_read, 1)
            except BlockingIOError:
                continue  # another lingering thread took it
            return False
        return False

    def _no_idle_thread(self) -> bool:
        """Every thread serves or lingers on a connection: a queued request waits."""
        return self._busy >= self.cfg.threads

    def _requests_waiting(self) -> bool:
        """Requests the main loop queued that no thread has taken yet (the executor keeps
        its queue without a public accessor)."""
        return not self.tpool._work_queue.empty()
