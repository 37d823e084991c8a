"""A circuit breaker around the upstream, so a dead Alibaba costs milliseconds, not workers.

Consecutive transport failures or 5xx-class answers open it; while open, calls fail
fast; after the cool-down one probe is let through (half-open) and its outcome
closes or re-opens the circuit. State is per process, like the SDK's connections.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(
        self,
        threshold: int = 5,
        cooldown_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return CLOSED
            if self._probing or self._clock() - self._opened_at >= self.cooldown_s:
                return HALF_OPEN
            return OPEN

    def blocked_for(self) -> int | None:
        """Whole seconds the circuit stays open, without taking the half-open probe."""
        with self._lock:
            if self._opened_at is None:
                return None
            remaining = self.cooldown_s - (self._clock() - self._opened_at)
            return max(1, math.ceil(remaining)) if remaining > 0 else None

    def wait_s(self) -> int | None:
        """None if a call may go now (closed, or this is the half-open probe); else the
        whole seconds to wait, for Retry-After."""
        with self._lock:
            if self._opened_at is None:
                return None
            remaining = self.cooldown_s - (self._clock() - self._opened_at)
            if remaining <= 0 and not self._probing:
                self._probing = True
                return None
            return max(1, math.ceil(remaining))

    def record(self, healthy: bool) -> None:
        with self._lock:
            if healthy:
                self._failures, self._opened_at, self._probing = 0, None, False
                return
            self._failures += 1
            if self._probing or self._failures >= self.threshold:
                self._opened_at = self._clock()
            self._probing = False
