"""A binding, and the set of bindings one X number carries at a time.

Expiry is derived from the clock rather than swept: each X keeps a heap of expiry times and drops
what has expired whenever it is looked at, so capacity frees up without a background thread.
"""

import heapq
from dataclasses import dataclass

AXB = "AXB"
AXN = "AXN"
AXB_PAIRS_PER_X = 200


@dataclass(slots=True)
class Binding:
    subs_id: str
    kind: str
    pool_key: str
    phone_x: str
    phone_a: str
    phone_b: str | None
    expires_at: float
    created_at: float
    need_record: bool = False
    call_restrict: str | None = None
    out_id: str | None = None

    def parties(self) -> tuple[str, ...]:
        return (self.phone_a,) if self.phone_b is None else (self.phone_a, self.phone_b)

    def is_expired(self, now: float) -> bool:
        return self.expires_at <= now


class XLine:
    """The live bindings on one X, and which A/B numbers they use on it (a number once per X)."""

    __slots__ = ("_expiries", "bindings", "parties")

    def __init__(self) -> None:
        self.bindings: dict[str, Binding] = {}
        self.parties: dict[str, str] = {}
        self._expiries: list[tuple[float, str]] = []

    def accepts(self, kind: str, parties: tuple[str, ...]) -> bool:
        """AXN holds X alone; AXB shares it, up to 200 pairs, with no number repeating."""
        if not self.bindings:
            return True
        if kind == AXN or self._holds_axn() or len(self.bindings) >= AXB_PAIRS_PER_X:
            return False
        return not any(number in self.parties for number in parties)

    def is_taken(self, number: str, binding: Binding, replacing: str | None) -> bool:
        """Whether `binding` can't take `number` in place of `replacing` without a repeat on X."""
        owner = self.parties.get(number)
        return owner is not None and (owner != binding.subs_id or number != replacing)

    def add(self, binding: Binding) -> None:
        self.bindings[binding.subs_id] = binding
        for number in binding.parties():
            self.parties[number] = binding.subs_id
        self.schedule(binding)

    def remove(self, binding: Binding) -> None:
        del self.bindings[binding.subs_id]
        for number in binding.parties():
            self.parties.pop(number, None)

    def replace_party(self, binding: Binding, old: str | None, new: str) -> None:
        if old is not None:
            self.parties.pop(old, None)
        self.parties[new] = binding.subs_id

    def schedule(self, binding: Binding) -> None:
        """Called again after an expiry change; stale heap entries are skipped when they pop."""
        heapq.heappush(self._expiries, (binding.expires_at, binding.subs_id))
        if len(self._expiries) > 2 * len(self.bindings) + 64:
            self._expiries = [(b.expires_at, b.subs_id) for b in self.bindings.values()]
            heapq.heapify(self._expiries)

    def prune(self, now: float) -> list[Binding]:
        """Drop the bindings that have expired by `now` and return them."""
        expired = []
        while self._expiries and self._expiries[0][0] <= now:
            _, subs_id = heapq.heappop(self._expiries)
            binding = self.bindings.get(subs_id)
            if binding is not None and binding.is_expired(now):
                self.remove(binding)
                expired.append(binding)
        return expired

    def _holds_axn(self) -> bool:
        """An AXN binding is always alone on its X, so looking at one binding is enough."""
        return next(iter(self.bindings.values())).kind == AXN
