"""What both load sources send, and when: the same bindings through the gateway and directly.

Shared by the in-process direct phase and the `bench.loadgen` subprocess, so the two sides of
every comparison bind the same kind of numbers on the same schedule.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

TTL_SECONDS = 3600
BIND_TO_UNBIND_LAG = 5
"""Open loop: a binding is deleted 2 × LAG + 1 slots after it was created, long enough for
its POST to have answered, so the DELETE rarely waits on it."""


class PhoneNumbers:
    """Distinct mainland mobile numbers (13 + 9 digits): bindings never conflict upstream.

    A counter from a random start rather than random draws: no two bindings of one run
    share a number. `next()` on itertools.count is atomic under the GIL, so threads share one.
    """

    def __init__(self) -> None:
        self._counter = itertools.count(random.randrange(10**9))

    def pair(self) -> tuple[str, str]:
        first, second = next(self._counter), next(self._counter)
        return f"13{first % 10**9:09d}", f"13{second % 10**9:09d}"


@dataclass(frozen=True)
class OpenLoopPlan:
    """Fixed-rate slots: even slots create a binding, odd slots delete an earlier one.

    Slot i is due `i / rate` seconds after the start whatever happened before (open loop);
    latency is measured from that due time, so queueing behind a slow request shows instead
    of being hidden (coordinated omission). Slots due inside the window are measured; the tail
    after it only deletes what is left, unmeasured.
    """

    rate: float
    warmup_s: float
    duration_s: float
    lag: int = BIND_TO_UNBIND_LAG

    @property
    def _binding_slots(self) -> int:
        count = round(self.rate * (self.warmup_s + self.duration_s))
        return count + count % 2

    @property
    def slots(self) -> range:
        return range(self._binding_slots + 2 * self.lag + 1)

    def due(self, slot: int) -> float:
        return slot / self.rate

    def binds(self, slot: int) -> bool:
        return slot % 2 == 0 and slot < self._binding_slots

    def deleted_binding(self, slot: int) -> int | None:
        """The bind slot whose binding `slot` deletes, or None if `slot` deletes nothing."""
        if slot % 2 == 0:
            return None
        target = slot - 1 - 2 * self.lag
        return target if target >= 0 else None

    def window(self, start: float) -> tuple[float, float]:
        """Absolute [start, end) of the measured slots when slot 0 is due at `start`."""
        return start + self.warmup_s, start + self.warmup_s + self.duration_s
