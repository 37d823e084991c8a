"""Counting requests inside a measurement window, and the numbers reported for it."""

from __future__ import annotations

import math
import threading
from collections import Counter

MAX_ERROR_RATE = 0.01


class BenchFailed(Exception):
    """The run cannot produce honest numbers (errors, a crashed process); the message says why."""


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an already sorted list (`share` 0.99 → p99)."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Tally:
    """Latencies and outcomes of the requests that belong to [start, end).

    Membership is decided by the time the caller passes: completion time for closed-loop load,
    scheduled send time for open-loop load (so a late request still counts, with its wait).
    """

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end
        self.latencies_ms: list[float] = []
        self.outcomes: Counter[str] = Counter()
        self.errors = 0
        self._lock = threading.Lock()

    def record(self, sent: float, done: float, due: float | None, outcome: str, ok: bool) -> None:
        """One request; with a `due` time (open loop) it counts by, and is timed from, that."""
        at, latency_s = (done, done - sent) if due is None else (due, done - due)
        if not self.start <= at < self.end:
            return
        with self._lock:
            self.latencies_ms.append(latency_s * 1000)
            self.outcomes[outcome] += 1
            self.errors += not ok

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    def summary(self) -> dict[str, object]:
        """rps counts successful requests only; latencies cover every request, failed or not."""
        ordered = sorted(self.latencies_ms)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "outcomes": dict(self.outcomes),
            "rps": round((self.requests - self.errors) / (self.end - self.start), 1),
            "p50_ms": round(percentile(ordered, 0.50), 3),
            "p99_ms": round(percentile(ordered, 0.99), 3),
        }


def require_few_errors(phase: str, summary: dict) -> None:
    """Above 1 % failures the throughput would flatter the code under test: stop the run."""
    requests, errors = summary["requests"], summary["errors"]
    if requests == 0:
        raise BenchFailed(f"{phase}: no request completed inside the measurement window")
    if errors / requests > MAX_ERROR_RATE:
        raise BenchFailed(
            f"{phase}: {errors} of {requests} requests failed ({errors / requests:.1%},"
            f" limit {MAX_ERROR_RATE:.0%}); outcomes {summary['outcomes']}"
        )
