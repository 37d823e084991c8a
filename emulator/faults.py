"""Faults injected through `POST /__emulator/faults`, to rehearse upstream failures on demand.

A fault answers with a code, stalls, or drops the connection, for the next `count` calls of an
action (or of every action, `"*"`) or at random with a `probability`.
"""

import random
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from emulator.actions import ACTIONS
from emulator.protocol import Reply, business_reply, platform_reply

ANY_ACTION = "*"
DEFAULT_MESSAGE = "Injected by the Dyplsapi emulator."
_FIELDS = {"action", "code", "http_status", "message", "stall_ms", "drop", "count", "probability"}


@dataclass
class Fault:
    id: int
    action: str
    code: str | None = None
    http_status: int = 200
    message: str = DEFAULT_MESSAGE
    stall_ms: int = 0
    drop: bool = False
    count: int | None = 1
    probability: float | None = None

    def reply(self) -> Reply | None:
        """A 200 answer is a business envelope; any other status is the platform's envelope."""
        if self.code is None:
            return None
        if self.http_status == 200:
            return business_reply(self.code, self.message)
        return platform_reply(self.http_status, self.code, self.message)


def fault_from_json(fault_id: int, data: object) -> Fault:
    """Validate a control-API body; ValueError says what is wrong, for a 400 answer."""
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    unknown = set(data) - _FIELDS
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
    fault = Fault(
        id=fault_id,
        action=_typed(data, "action", str, None),
        code=_typed(data, "code", str, None),
        http_status=_typed(data, "http_status", int, 200),
        message=_typed(data, "message", str, DEFAULT_MESSAGE),
        stall_ms=_typed(data, "stall_ms", int, 0),
        drop=_typed(data, "drop", bool, False),
        count=_typed(data, "count", int, None),
        probability=_typed(data, "probability", float, None),
    )
    _check(fault)
    if fault.count is None and fault.probability is None:
        fault.count = 1
    return fault


def _typed(data: Mapping[str, object], name: str, kind: type, default: object) -> object:
    if name not in data:
        return default
    value = data[name]
    if value is None and default is None:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{name} must be of type {kind.__name__}")
    return value


def _check(fault: Fault) -> None:
    if fault.action != ANY_ACTION and fault.action not in ACTIONS:
        raise ValueError("action must be '*' or an action the emulator serves, e.g. BindAxb")
    if fault.code is None and not fault.stall_ms and not fault.drop:
        raise ValueError("a fault needs a code, a stall_ms or drop")
    if fault.code is None and fault.http_status != 200:
        raise ValueError("http_status needs a code to answer with")
    if not 200 <= fault.http_status <= 599 or fault.stall_ms < 0:
        raise ValueError("http_status must be 200-599 and stall_ms not negative")
    if fault.count is not None and fault.count < 1:
        raise ValueError("count must be at least 1")
    if fault.probability is not None and not 0 < fault.probability <= 1:
        raise ValueError("probability must be in (0, 1]")


class FaultBook:
    """Active faults in the order they were added; the first one that fires takes the call."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._faults: list[Fault] = []
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, data: object) -> Fault:
        with self._lock:
            fault = fault_from_json(self._next_id, data)
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def active(self) -> list[dict[str, object]]:
        with self._lock:
            return [asdict(fault) for fault in self._faults]

    def clear(self) -> int:
        with self._lock:
            cleared = len(self._faults)
            self._faults.clear()
            return cleared

    def draw(self, action: str) -> Fault | None:
        """The fault that takes this call, if any, counting it down."""
        if not self._faults:
            return None
        with self._lock:
            for fault in self._faults:
                if fault.action not in (action, ANY_ACTION):
                    continue
                if fault.probability is not None and self._rng.random() >= fault.probability:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                return fault
        return None
