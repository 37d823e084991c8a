"""The record of API calls received, for tests and operators (`GET /__emulator/calls`)."""

import threading
from collections import deque
from collections.abc import Mapping

from emulator.formats import format_utc

CALL_MEMORY = 10_000


class CallLog:
    """The last 10,000 calls; older ones fall off so a benchmark cannot exhaust memory."""

    def __init__(self, limit: int = CALL_MEMORY) -> None:
        self._calls: deque[
            tuple[float, str | None, dict[str, str], int | None, str | None, str | None]
        ]
        self._calls = deque(maxlen=limit)
        self._lock = threading.Lock()

    def record(
        self,
        at: float,
        params: Mapping[str, str],
        status: int | None,
        code: str | None,
        fault: str | None = None,
    ) -> None:
        """`status` and `code` are None when a fault dropped the connection."""
        kept = {k: v for k, v in params.items() if k != "Signature"}
        with self._lock:
            self._calls.append((at, params.get("Action"), kept, status, code, fault))

    def entries(self, action: str | None = None) -> list[dict[str, object]]:
        with self._lock:
            calls = list(self._calls)
        return [
            {
                "action": name,
                "params": params,
                "status": status,
                "code": code,
                "fault": fault,
                "at": format_utc(at),
            }
            for at, name, params, status, code, fault in calls
            if action is None or name == action
        ]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
