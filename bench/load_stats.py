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
        self.unanswered_ms: list[float] = []
        self.stalled = 0
        self._in_flight: dict[int, float] = {}
        self._lock = threading.Lock()

    def sending(self, key: int, sent: float) -> None:
        """A request left (keyed by whatever identifies it); `answered` takes it back."""
        with self._lock:
            self._in_flight[key] = sent

    def answered(self, key: int) -> None:
        with self._lock:
            self._in_flight.pop(key, None)

    def close_window(self) -> None:
        """At the window's end: a request still unanswered counts in the percentiles with
        the time it has waited so far, and one sent before the window opened has stalled
        through all of it (a connection no worker accepted, say). Without this, such a
        request would never show: it completes after the window, or never."""
        with self._lock:
            for sent in self._in_flight.values():
                if sent < self.end:
                    self.unanswered_ms.append((self.end - sent) * 1000)
                    self.stalled += sent < self.start

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
        """rps counts successful requests only; latencies cover every request, failed or
        not, and those still unanswered when the window closed."""
        ordered = sorted(self.latencies_ms + self.unanswered_ms)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "outcomes": dict(self.outcomes),
            "unanswered_at_end": len(self.unanswered_ms),
            "stalled_through_window": self.stalled,
            "rps": round((self.requests - self.errors) / (self.end - self.start), 1),
            "p50_ms": round(percentile(ordered, 0.50), 3),
            "p99_ms": round(percentile(ordered, 0.99), 3),
            # A stall too rare for p99 (a slow flush of the database's disk) shows here.
            "max_ms": round(percentile(ordered, 1.0), 3),
        }


def require_few_errors(phase: str, summary: dict) -> None:
    """Above 1 % failures the throughput would flatter the code under test: stop the run."""
    requests, errors = summary["requests"], summary["errors"]
    if summary.get("stalled_through_window"):
        raise BenchFailed(
            f"{phase}: {summary['stalled_through_window']} requests waited through the whole"
            " window without an answer (a connection no worker accepted?)"
        )
    if requests == 0:
        raise BenchFailed(f"{phase}: no request completed inside the measurement window")
    if errors / requests > MAX_ERROR_RATE:
        raise BenchFailed(
            f"{phase}: {errors} of {requests} requests failed ({errors / requests:.1%},"
            f" limit {MAX_ERROR_RATE:.0%}); outcomes {summary['outcomes']}"
        )
