"""bench.load's reading of the machine beside each phase's numbers."""

from bench.load import machine_warnings

QUIET = {
    "host_busy_share": 0.82,
    "host_stolen_share": 0.0,
    "host_io_stalled_share": 0.03,
    "host_io_longest_wait_ms": 0,
    "other_load_cores": 0.04,
}


def test_a_quiet_window_with_its_own_commits_on_the_disk_warns_of_nothing():
    assert machine_warnings(QUIET) == []


def test_a_window_lent_out_or_held_by_the_disk_says_so():
    """The fixed-rate direct half at 16:01 lost 16 % of the machine to other guests and read
    an added p99 of −19.6 ms; a flush that holds the disk 150 ms holds every commit."""
    lent = machine_warnings(QUIET | {"host_stolen_share": 0.16})
    held = machine_warnings(QUIET | {"host_io_longest_wait_ms": 150})
    shared = machine_warnings(QUIET | {"other_load_cores": 0.5, "host_io_stalled_share": 0.4})

    assert len(lent) == 1 and "16% of the machine was lent to other guests" in lent[0]
    assert len(held) == 1 and "waited on the disk for 150 ms on end" in held[0]
    assert len(shared) == 2
    assert "other processes used 0.50 cores" in shared[0]
    assert "waited on the disk 40% of the window" in shared[1]


def test_a_kernel_without_pressure_readings_warns_of_nothing_it_cannot_see():
    unknown = QUIET | {"host_io_stalled_share": None, "host_io_longest_wait_ms": None}

    assert machine_warnings(unknown) == []
