"""Alibaba's business rules for bindings (reference §3), over state guarded by one lock.

Every refusal is a `BusinessError`, which the wire layer turns into an HTTP 200 envelope with
`Code != "OK"`: that is how Dyplsapi reports business failures, and the SDK raises nothing for it.
"""

import copy
import itertools
import random
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from emulator.advice import DialAdvice
from emulator.bindings import AXB, Binding, XLine
from emulator.formats import is_phone_number, parse_bool, parse_china_time
from emulator.pools import Catalog, Pool

MIN_LEAD_S = 60
EXPIRED_MEMORY = 100_000
CALL_RESTRICTIONS = frozenset({"CONTROL_AX_DISABLE", "CONTROL_BX_DISABLE"})
CLEAR_RESTRICTION = "CONTROL_CLEAR_DISABLE"


class BusinessError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class BindOrder:
    """What BindAxb/BindAxn ask for, as text straight from the request."""

    kind: str
    pool_key: str
    phone_a: str
    phone_b: str | None
    expiration: str
    phone_x: str | None = None
    expect_city: str | None = None
    need_record: bool = False
    call_restrict: str | None = None
    out_id: str | None = None


class Registry:
    """All bindings of all pools. Methods return snapshots, so callers never see a torn binding."""

    def __init__(self, catalog: Catalog, clock: Callable[[], float], rng: random.Random) -> None:
        self.catalog = catalog
        self._clock = clock
        self._rng = rng
        self._lock = threading.Lock()
        self._ids = itertools.count(rng.randrange(10**15, 9 * 10**15))
        self._lines: dict[tuple[str, str], XLine] = {}
        self._live: dict[str, Binding] = {}
        self._expired: OrderedDict[str, Binding] = OrderedDict()
        self.dial_advice = DialAdvice()

    def reset(self) -> None:
        self.dial_advice.clear()
        with self._lock:
            self._lines.clear()
            self._live.clear()
            self._expired.clear()

    def bind(self, order: BindOrder) -> Binding:
        pool = self._pool(order.pool_key)
        _check_parties(order)
        restriction = _bind_restriction(order.call_restrict)
        now = self._clock()
        expires_at = _expiry(order.expiration, now)
        with self._lock:
            line, phone_x = self._choose_x(pool, order, now)
            binding = Binding(
                subs_id=str(next(self._ids)),
                kind=order.kind,
                pool_key=pool.key,
                phone_x=phone_x,
                phone_a=order.phone_a,
                phone_b=order.phone_b,
                expires_at=expires_at,
                created_at=now,
                need_record=order.need_record,
                call_restrict=restriction,
                out_id=order.out_id,
            )
            line.add(binding)
            self._live[binding.subs_id] = binding
            return copy.copy(binding)

    def unbind(self, pool_key: str, subs_id: str, phone_x: str) -> None:
        self._pool(pool_key)
        now = self._clock()
        with self._lock:
            binding, line = self._find(pool_key, subs_id, phone_x, now)
            if binding.is_expired(now):
                raise BusinessError("isv.SUBS_NOT_EXIST", "binding has expired")
            line.remove(binding)
            del self._live[subs_id]

    def update(self, pool_key: str, subs_id: str, phone_x: str, operation: str, value: str) -> None:
        self._pool(pool_key)
        update = _UPDATES.get(operation)
        if update is None:
            raise BusinessError("isv.INVALID_PARAMETERS", f"OperateType {operation} unsupported")
        if not value:
            raise BusinessError(
                "isv.INVALID_PARAMETERS", f"{update.param} is required for {operation}"
            )
        now = self._clock()
        with self._lock:
            binding, line = self._find(pool_key, subs_id, phone_x, now)
            if binding.is_expired(now):
                raise BusinessError("isv.FORBIDDEN_ACTION", "binding expired")
            update.apply(binding, line, value, now)

    def detail(self, pool_key: str, subs_id: str, phone_x: str) -> tuple[Binding, bool]:
        """The binding and whether it is still active (expired ones are still reported)."""
        self._pool(pool_key)
        now = self._clock()
        with self._lock:
            binding, _ = self._find(pool_key, subs_id, phone_x, now)
            return copy.copy(binding), not binding.is_expired(now)

    def call_status(self, pool_key: str, subs_id: str, call_no: str) -> tuple[str, bool]:
        """X to dial and whether the binding is still active."""
        self._pool(pool_key)
        if call_no and not is_phone_number(call_no):
            raise BusinessError("isv.MOBILE_NUMBER_ILLEGAL", f"{call_no} is not a phone number")
        now = self._clock()
        with self._lock:
            binding = self._live.get(subs_id) or self._expired.get(subs_id)
            if binding is None or binding.pool_key != pool_key:
                raise BusinessError("isv.SUBS_NOT_EXIST", "binding does not exist")
            return binding.phone_x, not binding.is_expired(now)

    def subs_ids(self, pool_key: str, phone_x: str) -> list[str]:
        pool = self._pool(pool_key)
        if pool.find(phone_x) is None:
            raise BusinessError("isv.NO_NOT_EXIST", f"{phone_x} is not in this pool")
        now = self._clock()
        with self._lock:
            return list(self._fresh_line(pool_key, phone_x, now).bindings)

    def _pool(self, key: str) -> Pool:
        pool = self.catalog.pools.get(key)
        if pool is None:
            raise BusinessError("isv.POOLKEY_NOT_EXISTS", "poolKey does not exist")
        return pool

    def _choose_x(self, pool: Pool, order: BindOrder, now: float) -> tuple[XLine, str]:
        parties = (order.phone_a,) if order.phone_b is None else (order.phone_a, order.phone_b)
        if order.phone_x:
            if pool.find(order.phone_x) is None:
                raise BusinessError(
                    "isv.FORBIDDEN_ACTION", "createSubs: X does not exist or is not in this pool"
                )
            line = self._fresh_line(pool.key, order.phone_x, now)
            if not line.accepts(order.kind, parties):
                raise BusinessError("isv.BIND_CONFLICT", "A or B is already bound with this X")
            return line, order.phone_x
        preferred = pool.selectable(order.expect_city) if order.expect_city else ()
        for candidates in (preferred, pool.selectable()):
            found = self._first_accepting(pool.key, candidates, order.kind, parties, now)
            if found is not None:
                return found
        raise BusinessError("isv.NO_AVAILABLE_NUMBER", "no X in this pool can take the binding")

    def _first_accepting(
        self,
        pool_key: str,
        candidates: tuple[str, ...],
        kind: str,
        parties: tuple[str, ...],
        now: float,
    ) -> tuple[XLine, str] | None:
        """Scan from a random start so that bindings spread over the pool as Alibaba's do."""
        if not candidates:
            return None
        start = self._rng.randrange(len(candidates))
        for number in itertools.chain(candidates[start:], candidates[:start]):
            line = self._fresh_line(pool_key, number, now)
            if line.accepts(kind, parties):
                return line, number
        return None

    def _fresh_line(self, pool_key: str, phone_x: str, now: float) -> XLine:
        """The X's line with its expired bindings retired, which is what frees capacity."""
        line = self._lines.get((pool_key, phone_x))
        if line is None:
            line = self._lines[(pool_key, phone_x)] = XLine()
        for binding in line.prune(now):
            self._live.pop(binding.subs_id, None)
            self._expired[binding.subs_id] = binding
            if len(self._expired) > EXPIRED_MEMORY:
                self._expired.popitem(last=False)
        return line

    def _find(self, pool_key: str, subs_id: str, phone_x: str, now: float) -> tuple[Binding, XLine]:
        """SubsId, pool and X must all match, or Alibaba answers as if the binding did not exist."""
        binding = self._live.get(subs_id) or self._expired.get(subs_id)
        if binding is None or binding.pool_key != pool_key or binding.phone_x != phone_x:
            raise BusinessError("isv.SUBS_NOT_EXIST", "pool, X and SubsId do not match a binding")
        return binding, self._fresh_line(pool_key, phone_x, now)


def _check_parties(order: BindOrder) -> None:
    if order.kind == AXB and not order.phone_b:
        raise BusinessError("isv.INVALID_PARAMETERS", "PhoneNoB is required for BindAxb")
    for number in (order.phone_a, order.phone_b):
        if number is not None and not is_phone_number(number):
            raise BusinessError("isv.MOBILE_NUMBER_ILLEGAL", f"{number} is not a phone number")
    if order.phone_a == order.phone_b:
        raise BusinessError("isv.ILLEGAL_ARGUMENT", "PhoneNoA and PhoneNoB must differ")


def _bind_restriction(value: str | None) -> str | None:
    if not value or value == CLEAR_RESTRICTION:
        return None
    if value not in CALL_RESTRICTIONS:
        raise BusinessError("isv.INVALID_PARAMETERS", f"CallRestrict {value} is not valid")
    return value


def _expiry(text: str, now: float) -> float:
    expires_at = parse_china_time(text)
    if expires_at is None:
        raise BusinessError("isv.EXPIRE_DATE_ILLEGAL", "expireDate must be yyyy-MM-dd HH:mm:ss")
    if expires_at <= now + MIN_LEAD_S:
        raise BusinessError("isv.EXPIRE_DATE_ILLEGAL", "expireDate less than 1 minutes from now")
    return expires_at


def _update_party(binding: Binding, line: XLine, field: str, number: str) -> None:
    if not is_phone_number(number):
        raise BusinessError("isv.MOBILE_NUMBER_ILLEGAL", f"{number} is not a phone number")
    current = getattr(binding, field)
    if line.is_taken(number, binding, current):
        raise BusinessError("isv.UPDATE_CONFLICT", f"{number} is already bound with this X")
    line.replace_party(binding, current, number)
    setattr(binding, field, number)


def _update_a(binding: Binding, line: XLine, value: str, now: float) -> None:
    _update_party(binding, line, "phone_a", value)


def _update_b(binding: Binding, line: XLine, value: str, now: float) -> None:
    _update_party(binding, line, "phone_b", value)


def _update_expire(binding: Binding, line: XLine, value: str, now: float) -> None:
    binding.expires_at = _expiry(value, now)
    line.schedule(binding)


def _update_restriction(binding: Binding, line: XLine, value: str, now: float) -> None:
    binding.call_restrict = _bind_restriction(value)


def _update_out_id(binding: Binding, line: XLine, value: str, now: float) -> None:
    binding.out_id = value


def _update_recording(binding: Binding, line: XLine, value: str, now: float) -> None:
    flag = parse_bool(value)
    if flag is None:
        raise BusinessError("isv.INVALID_PARAMETERS", "IsRecordingEnabled must be true or false")
    binding.need_record = flag


class _Update(NamedTuple):
    param: str
    apply: Callable[[Binding, XLine, str, float], None]


_UPDATES = {
    "updateNoA": _Update("PhoneNoA", _update_a),
    "updateNoB": _Update("PhoneNoB", _update_b),
    "updateExpire": _Update("Expiration", _update_expire),
    "updateCallRestrict": _Update("CallRestrict", _update_restriction),
    "updateOutId": _Update("OutId", _update_out_id),
    "updateIsRecordingEnabled": _Update("IsRecordingEnabled", _update_recording),
}


def update_parameter(operation: str) -> str | None:
    """The request parameter an UpdateSubscription OperateType reads its new value from."""
    update = _UPDATES.get(operation)
    return update.param if update else None
