"""The emulator's own JSON endpoints under `/__emulator/`: unsigned, for tests and operators."""

import json
from collections.abc import Callable
from dataclasses import asdict
from urllib.parse import parse_qs

from emulator.advice import DialAdvice
from emulator.calls import CallLog
from emulator.clock import ShiftedClock
from emulator.faults import FaultBook
from emulator.formats import format_china_time

CONTROL_PREFIX = "/__emulator/"

Answer = tuple[int, object]


class ControlPanel:
    """Routes `(method, name)` to a handler; every answer is a status and a JSON-able body."""

    def __init__(
        self,
        calls: CallLog,
        faults: FaultBook,
        binding_clock: ShiftedClock,
        advice: DialAdvice,
        reset: Callable[[], None],
    ) -> None:
        self._calls = calls
        self._faults = faults
        self._binding_clock = binding_clock
        self._advice = advice
        self._reset = reset
        self._routes: dict[tuple[str, str], Callable[[str, bytes], Answer]] = {
            ("GET", "health"): lambda query, body: (200, {"status": "ok"}),
            ("GET", "calls"): self._list_calls,
            ("GET", "faults"): lambda query, body: (200, self._faults.active()),
            ("POST", "faults"): self._add_fault,
            ("DELETE", "faults"): lambda query, body: (200, {"cleared": self._faults.clear()}),
            ("GET", "clock"): lambda query, body: (200, self._clock_state()),
            ("POST", "clock"): self._advance_clock,
            ("POST", "call-status"): self._set_dial_advice,
            ("POST", "reset"): self._reset_all,
        }

    def handle(self, method: str, path: str, query: str, body: bytes) -> Answer:
        name = path.removeprefix(CONTROL_PREFIX).strip("/")
        route = self._routes.get((method, name))
        if route is not None:
            return route(query, body)
        if any(known == name for _, known in self._routes):
            return 405, {"error": f"{method} is not allowed on {path}"}
        return 404, {"error": f"no control endpoint {path}"}

    def _list_calls(self, query: str, body: bytes) -> Answer:
        action = parse_qs(query).get("action", [None])[0]
        return 200, self._calls.entries(action)

    def _add_fault(self, query: str, body: bytes) -> Answer:
        try:
            fault = self._faults.add(json.loads(body or b"null"))
        except ValueError as error:
            return 400, {"error": str(error)}
        return 201, asdict(fault)

    def _set_dial_advice(self, query: str, body: bytes) -> Answer:
        """{"subs_id": …, "status": 2, "called_no": temporary X} or {"status": 3} (degrade)."""
        try:
            data = json.loads(body or b"null")
            self._advice.set(str(data["subs_id"]), data["status"], data.get("called_no"))
        except (ValueError, TypeError, KeyError) as error:
            return 400, {"error": f'expected {{"subs_id", "status", "called_no"?}}: {error}'}
        return 200, {"subs_id": data["subs_id"], "status": data["status"]}

    def _advance_clock(self, query: str, body: bytes) -> Answer:
        try:
            seconds = json.loads(body or b"null")["advance_s"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise ValueError("advance_s must be a number")
            self._binding_clock.advance(seconds)
        except (ValueError, TypeError, KeyError) as error:
            return 400, {"error": f'expected {{"advance_s": seconds}}: {error}'}
        return 200, self._clock_state()

    def _clock_state(self) -> dict[str, object]:
        """`now` is what bindings see, in the China time `Expiration` is written in."""
        return {
            "offset_s": self._binding_clock.offset_s,
            "now": format_china_time(self._binding_clock()),
        }

    def _reset_all(self, query: str, body: bytes) -> Answer:
        self._reset()
        return 200, {"reset": True}
