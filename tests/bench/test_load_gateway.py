"""What bench.load reads about the gateway's database while the load generator runs."""

import time

import psycopg

from bench.load_gateway import backends, database_cpu
from bench.load_proc import CpuWindow
from bench.load_stack import fresh_database


def _busy(connection: psycopg.Connection) -> None:
    """A few tenths of a second of the backend's CPU: /proc counts it in 10 ms ticks."""
    connection.execute("select count(*) from generate_series(1, 1000000)").fetchone()


def _gone(pid: int, database: str) -> bool:
    """A backend exits a moment after its client hangs up."""
    deadline = time.monotonic() + 5
    while pid in backends(database) and time.monotonic() < deadline:
        time.sleep(0.02)
    return pid not in backends(database)


def test_a_backend_opened_inside_the_window_counts_whole_and_one_that_ended_voids_the_sum():
    with fresh_database("probe") as url:
        name = url.rsplit("/", 1)[1]
        conninfo = f"host=127.0.0.1 user=postgres dbname={name}"
        with psycopg.connect(conninfo, autocommit=True) as first:
            at_start = backends(name)
            window = CpuWindow(at_start)
            with psycopg.connect(conninfo, autocommit=True) as second:
                _busy(first)
                _busy(second)
                cpu = window.stop()

                assert at_start == [first.info.backend_pid]
                assert cpu.total(at_start) >= 0.05
                assert database_cpu(name, at_start, cpu) >= cpu.total(at_start) + 0.05

                ended = second.info.backend_pid
                at_start = backends(name)
                window = CpuWindow(at_start)
            _busy(first)

            assert _gone(ended, name)
            assert database_cpu(name, at_start, window.stop()) is None
