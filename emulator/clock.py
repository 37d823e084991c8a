"""Bindings' time, which the control API can move forward so that expiry needs no waiting."""

from collections.abc import Callable


class ShiftedClock:
    """Another clock plus an offset that only grows (until a reset).

    Only the business rules read it: signature timestamps stay on the real clock, or moving time
    forward by more than 15 minutes would make every SDK call fail `InvalidTimeStamp.Expired`.
    """

    def __init__(self, base: Callable[[], float]) -> None:
        self._base = base
        self.offset_s = 0.0

    def __call__(self) -> float:
        return self._base() + self.offset_s

    def advance(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("advance_s must be a positive number of seconds")
        self.offset_s += seconds

    def reset(self) -> None:
        self.offset_s = 0.0
