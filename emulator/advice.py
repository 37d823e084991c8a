"""Dial advice Alibaba gives when a binding's X is abnormal: QueryCallStatus 2 or 3.

The real platform decides this from carrier health; the emulator lets a test or an
operator decide it per binding through `POST /__emulator/call-status`.
"""

import threading

TEMPORARY_X, DEGRADE = 2, 3


class DialAdvice:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_subs: dict[str, tuple[int, str | None]] = {}

    def set(self, subs_id: str, status: int, called_no: str | None) -> None:
        """Status 1 restores normal advice; 2 needs the temporary X; 3 has no number."""
        if status not in (1, TEMPORARY_X, DEGRADE):
            raise ValueError("status must be 1, 2 or 3")
        if status == TEMPORARY_X and not called_no:
            raise ValueError("status 2 needs called_no, the temporary X")
        with self._lock:
            if status == 1:
                self._by_subs.pop(subs_id, None)
            else:
                self._by_subs[subs_id] = (status, called_no if status == TEMPORARY_X else None)

    def get(self, subs_id: str) -> tuple[int, str | None] | None:
        with self._lock:
            return self._by_subs.get(subs_id)

    def clear(self) -> None:
        with self._lock:
            self._by_subs.clear()
