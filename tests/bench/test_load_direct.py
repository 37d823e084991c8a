"""The direct phases of bench.load: the SDK against the emulator, as the gateway calls it."""

import os
from urllib.parse import urlsplit

from bench.load_direct import DirectSdk, open_loop
from bench.load_plan import OpenLoopPlan
from emulator import DEFAULT_POOL_KEY


def test_the_fixed_rate_direct_half_reports_the_machine_over_its_measured_window(emulator):
    """Its latencies and the machine's readings cover the same seconds: the measured slots,
    not the warm-up before them nor the unbinds after."""
    emulator.reset()
    sdk = DirectSdk(urlsplit(emulator.url).port, DEFAULT_POOL_KEY, pool_size=4)
    plan = OpenLoopPlan(rate=40, warmup_s=0.5, duration_s=1.0)

    tally, cpu = open_loop(sdk, plan, threads=4, watched=(os.getpid(),))

    summary = tally.summary()
    assert (summary["requests"], summary["errors"]) == (40, 0)
    assert 0.95 <= cpu.wall_s <= 1.2
    assert cpu.per_pid[os.getpid()] > 0
    assert set(cpu.machine()) == {
        "host_busy_share",
        "host_stolen_share",
        "host_io_stalled_share",
        "host_io_longest_wait_ms",
        "other_load_cores",
    }
